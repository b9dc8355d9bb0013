#pragma once
// The fuzz body shared by the per-adapter targets (<protocol>_adapter_fuzz.cc).
// One input is tried three ways against the adapter of `p`:
//  - as a request body: parse, then render into every protocol;
//  - as a response body: parse, then render into every protocol;
//  - as an upstream SSE stream: framed, decoded by `p`'s decoder into every
//    protocol's encoder, split at an input-chosen point.
// Invariants: parse errors are InvalidArgument; what renders is valid JSON
// without null; a stream decoder that reports success has driven the encoder
// to its terminal event, and a failed one leaves it able to end with an error.

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "shared/protocol/adapters.h"
#include "shared/protocol/stream_translator.h"
#include "tests/fuzz/fuzz_check.h"

namespace bitrouter::protocol::fuzz {

inline constexpr Protocol kAllProtocols[] = {Protocol::kChat, Protocol::kResponses,
                                             Protocol::kMessages, Protocol::kGemini};

inline void CheckRendered(const absl::StatusOr<std::string>& out) {
  if (!out.ok()) {
    FUZZ_CHECK(out.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  rapidjson::Document d;
  FUZZ_CHECK(!d.Parse(out->c_str()).HasParseError());
}

inline void FuzzStream(Protocol up, std::string_view input, size_t split) {
  for (Protocol client : kAllProtocols) {
    EncoderOptions opts;
    opts.client_model = "fuzz-model";
    opts.created = 1700000000;
    opts.include_usage = (split & 1) != 0;
    opts.gemini_sse = (split & 2) == 0;
    // The worker's own pipeline: framing, decoder, encoder.
    StreamTranslator t(up, client, opts);
    absl::Status s = t.Feed(input.substr(0, split));
    if (s.ok()) s = t.Feed(input.substr(split));
    if (s.ok()) s = t.End();
    if (s.ok()) {
      FUZZ_CHECK(t.upstream_done());
      FUZZ_CHECK(t.done());
    } else {
      t.Fail({502, "upstream_error", std::string(s.message())});
      FUZZ_CHECK(t.done());
    }
  }
}

inline void FuzzAdapter(Protocol p, const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const Adapter& a = AdapterFor(p);
  auto req = a.parse_request(input);
  if (req.ok()) {
    for (Protocol into : kAllProtocols) CheckRendered(AdapterFor(into).render_request(*req, "m"));
  } else {
    FUZZ_CHECK(req.status().code() == absl::StatusCode::kInvalidArgument);
  }
  auto resp = a.parse_response(input);
  if (resp.ok()) {
    for (Protocol into : kAllProtocols) CheckRendered(AdapterFor(into).render_response(*resp, "m"));
  } else {
    FUZZ_CHECK(resp.status().code() == absl::StatusCode::kInvalidArgument);
  }
  FuzzStream(p, input, size == 0 ? 0 : data[0] % size);
}

}  // namespace bitrouter::protocol::fuzz
