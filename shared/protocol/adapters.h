#pragma once
// The four wire protocols and one table of adapter entry points per protocol,
// so the data plane picks "client side" and "upstream side" by value.
//
// Config mapping (providers.X.api_protocol): openai -> Chat Completions,
// openai_responses (alias responses) -> Responses, anthropic -> Messages,
// google -> Gemini.
//
// Thread: the table is immutable; every entry point may run on any thread.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "shared/protocol/canonical.h"
#include "shared/protocol/stream.h"

namespace bitrouter::protocol {

enum class Protocol { kChat, kResponses, kMessages, kGemini };

// "chat", "responses", "messages", "gemini".
std::string_view ProtocolName(Protocol p);
// A config api_protocol value; nullopt when it is not a served protocol.
std::optional<Protocol> ProtocolFromConfig(std::string_view api_protocol);

struct Adapter {
  // Parse* take body bytes (need not be padded) and return InvalidArgument
  // with a client-facing message; Render* omit absent fields.
  absl::StatusOr<CanonicalRequest> (*parse_request)(std::string_view json);
  absl::StatusOr<std::string> (*render_request)(const CanonicalRequest& req,
                                                std::string_view upstream_model);
  absl::StatusOr<CanonicalResponse> (*parse_response)(std::string_view json);
  absl::StatusOr<std::string> (*render_response)(const CanonicalResponse& resp,
                                                 std::string_view client_model);
  // `sink` must outlive the decoder.
  std::unique_ptr<StreamDecoder> (*make_decoder)(StreamSink* sink);
  std::unique_ptr<StreamEncoder> (*make_encoder)(const EncoderOptions& options);
};

const Adapter& AdapterFor(Protocol p);

// Gives a parsed answer the ids its upstream left out (Gemini may omit
// responseId and functionCall ids): `fallback_id` becomes the answer's id and
// a call without one gets "call_<id>_<n>". The caller draws `fallback_id`
// unique per answer, so ids never repeat across an agent's history.
void FillMissingIds(CanonicalResponse* resp, std::string_view fallback_id);

}  // namespace bitrouter::protocol
