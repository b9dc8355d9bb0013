#pragma once
// Anthropic Messages <-> canonical form (non-streaming).
// Wire format: Anthropic API reference, "Messages" (request and response).
//
// Parse* take the body bytes (need not be padded; copied internally) and
// return InvalidArgument with a client-facing message on bad input.
// Render* return JSON text with absent fields omitted (never null), or
// InvalidArgument when the canonical value cannot be expressed in Messages.
// Thread: thread-local parsers; call from any thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "shared/protocol/canonical.h"
#include "shared/protocol/stream.h"

namespace bitrouter::protocol::messages {

inline constexpr int64_t kDefaultMaxTokens = 4096;

absl::StatusOr<CanonicalRequest> ParseRequest(std::string_view json);

// The system instruction a Chat `response_format: {"type":"json_object"}`
// becomes for a Messages upstream (which has no JSON mode), after the
// client's own system prompts.
inline constexpr std::string_view kJsonObjectInstruction =
    "Respond with a single valid JSON object and nothing else: no prose before or after it, "
    "no Markdown code fences.";

// Anthropic requires max_tokens: absent in `req` -> kDefaultMaxTokens.
// reasoning_effort without thinking becomes a thinking budget (low 1024,
// medium 8192, high 16384, xhigh/max 32768). Any budget is kept in
// [1024, max_tokens): with no client limit max_tokens is raised to
// budget + kDefaultMaxTokens; under a client limit the budget is capped (and
// thinking left out when 1024 does not fit).
// A Role::kSystem message is rendered in place as {"role":"system"}.
// A json_object response_format adds kJsonObjectInstruction to the system
// prompts; seed and the penalties have no Messages parameter and are left out.
absl::StatusOr<std::string> RenderRequest(const CanonicalRequest& req,
                                          std::string_view upstream_model);

absl::StatusOr<CanonicalResponse> ParseResponse(std::string_view json);
absl::StatusOr<std::string> RenderResponse(const CanonicalResponse& resp,
                                           std::string_view client_model);

// Streams (messages_stream.cc): the decoder reads this protocol's upstream SSE
// events into `sink`; the encoder renders canonical events as this
// protocol's client SSE.
std::unique_ptr<StreamDecoder> MakeStreamDecoder(StreamSink* sink);
std::unique_ptr<StreamEncoder> MakeStreamEncoder(const EncoderOptions& options);

}  // namespace bitrouter::protocol::messages
