// Fuzzes StreamUsageTap (usage read on the side of relayed streams) and
// IsChatUsageOnlyChunk: no crashes, and the same usage and output count
// whatever the read boundaries (byte 0 picks the protocol, byte 1 the read
// size, the rest is the stream).

#include <cstdint>
#include <string_view>

#include "shared/usage/stream_usage_tap.h"
#include "tests/fuzz/fuzz_check.h"

using bitrouter::protocol::Protocol;
using bitrouter::usage::StreamUsageTap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const Protocol protocols[] = {Protocol::kChat, Protocol::kMessages, Protocol::kResponses,
                                Protocol::kGemini};
  Protocol p = protocols[data[0] % 4];
  size_t step = 1 + data[1] % 64;
  std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  StreamUsageTap whole(p);
  whole.Feed(stream);
  whole.End();
  StreamUsageTap pieces(p);
  for (size_t i = 0; i < stream.size(); i += step) pieces.Feed(stream.substr(i, step));
  pieces.End();

  FUZZ_CHECK(whole.output_bytes() == pieces.output_bytes());
  FUZZ_CHECK(whole.output_bytes() >= 0);
  auto a = whole.usage();
  auto b = pieces.usage();
  FUZZ_CHECK(a.has_value() == b.has_value());
  if (a && b) {
    FUZZ_CHECK(a->prompt_tokens == b->prompt_tokens);
    FUZZ_CHECK(a->completion_tokens == b->completion_tokens);
    FUZZ_CHECK(a->reasoning_tokens == b->reasoning_tokens);
    FUZZ_CHECK(a->cache_read_tokens == b->cache_read_tokens);
    FUZZ_CHECK(a->cache_write_tokens == b->cache_write_tokens);
  }
  (void)bitrouter::usage::IsChatUsageOnlyChunk(stream);
  return 0;
}
