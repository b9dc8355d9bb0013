#pragma once
// Inspection of an inbound OpenAI-protocol request body without
// re-serialising it: validates the JSON, reads `model` and `stream`, and
// records where the `model` value sits so it can be spliced in place.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace bitrouter::protocol {

// Readable bytes required after the body end (simdjson reads ahead).
inline constexpr size_t kJsonPadding = 64;

struct RequestView {
  std::string model;       // unescaped `model` value
  size_t model_begin = 0;  // offset of the opening quote of the value
  size_t model_end = 0;    // offset one past the closing quote
  bool stream = false;
  bool include_usage = false;       // stream_options.include_usage (Chat)
  bool has_stream_options = false;  // the body has a stream_options member at all
  int64_t max_output_tokens = 0;    // the client's output limit; 0 = none given
};

// `data[size .. size + kJsonPadding)` must be readable (contents ignored).
// Errors are InvalidArgument with a client-facing message.
// Thread: uses thread-local parsers; call from any thread.
absl::StatusOr<RequestView> InspectRequest(const char* data, size_t size);

// Writes `text` as a JSON string literal (with quotes) to `out`.
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace bitrouter::protocol
