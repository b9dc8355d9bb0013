#pragma once
// Reads token usage on the side of a stream that is relayed byte for byte
// (passthrough: the client's protocol is the upstream's), without touching
// what is relayed and without decoding every event.
//
// Only an event that carries a usage object is parsed (found by its key,
// `"usage":{` or Gemini's `"usageMetadata":{`; a key with its quotes never
// occurs inside JSON string content, where quotes are escaped):
//   Chat       the usage chunk (stream_options.include_usage), last one wins
//   Messages   message_start's message.usage (input, cache) merged with
//              message_delta's usage (cumulative output)
//   Responses  response.completed / incomplete / failed: response.usage
//   Gemini     usageMetadata of each chunk, last one wins (cumulative)
// Everything else only costs a substring search. Generated text is counted
// (bytes of text, reasoning and tool-argument strings) for an estimate when
// no usage arrives (a client that left, a stream cut short).
//
// Memory: an event that straddles reads is carried until it completes
// (capped; an event beyond the cap is skipped). Thread: one request's.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "shared/protocol/adapters.h"
#include "shared/protocol/canonical.h"

namespace bitrouter::usage {

class StreamUsageTap {
 public:
  explicit StreamUsageTap(protocol::Protocol upstream) : protocol_(upstream) {}

  // Starts over for another stream (a new attempt) of `upstream`.
  void Reset(protocol::Protocol upstream);
  // Relayed bytes, in order.
  void Feed(std::string_view bytes);
  // The body ended: a last event without its blank line still counts.
  void End();

  // The usage the stream reported so far (nullopt: none).
  std::optional<protocol::Usage> usage() const;
  // Bytes of generated text, reasoning and tool arguments seen.
  int64_t output_bytes() const { return output_bytes_; }

  // Longest event carried across reads.
  static constexpr size_t kMaxCarry = 16u << 20;

 private:
  void OnEvent(std::string_view event);
  void ReadUsage(std::string_view event);
  void CountOutput(std::string_view event);

  protocol::Protocol protocol_;
  std::string carry_;
  bool skipping_ = false;  // the carried event outgrew kMaxCarry: drop to its end
  std::string scratch_;    // an event's data, padded for the parser
  int64_t output_bytes_ = 0;
  // Fields as reported (Messages splits them over two events).
  std::optional<int64_t> input_, output_, reasoning_, cache_read_, cache_write_;
  std::optional<protocol::Usage> whole_;  // protocols that report one whole object
};

// A Chat stream's usage-only chunk (`"choices":[]` and a usage object): the
// extra event stream_options.include_usage adds before [DONE].
bool IsChatUsageOnlyChunk(std::string_view event);

}  // namespace bitrouter::usage
