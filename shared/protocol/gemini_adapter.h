#pragma once
// Google Gemini (generateContent) <-> canonical form.
// Wire format: Gemini API reference, "models.generateContent", "models.streamGenerateContent" and
// "GenerateContentResponse".
//
// Parse* take the body bytes (need not be padded; copied internally) and
// return InvalidArgument with a client-facing message on bad input.
// Render* return JSON text with absent fields omitted (never null), or
// InvalidArgument when the canonical value cannot be expressed here.
// Thread: thread-local parsers; call from any thread.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "shared/protocol/canonical.h"
#include "shared/protocol/stream.h"

namespace bitrouter::protocol::gemini {

absl::StatusOr<CanonicalRequest> ParseRequest(std::string_view json);
absl::StatusOr<std::string> RenderRequest(const CanonicalRequest& req,
                                          std::string_view upstream_model);

absl::StatusOr<CanonicalResponse> ParseResponse(std::string_view json);
absl::StatusOr<std::string> RenderResponse(const CanonicalResponse& resp,
                                           std::string_view client_model);

// Streams (gemini_stream.cc): the decoder reads this protocol's upstream SSE
// events into `sink`; the encoder renders canonical events as this
// protocol's client SSE.
std::unique_ptr<StreamDecoder> MakeStreamDecoder(StreamSink* sink);
std::unique_ptr<StreamEncoder> MakeStreamEncoder(const EncoderOptions& options);

}  // namespace bitrouter::protocol::gemini
