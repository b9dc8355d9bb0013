#pragma once
// What an inbound request says about itself before any routing: the client's
// wire protocol (from the path), its credential (whichever of the four
// places it came in), and for Gemini the model and method named in the path.

#include <optional>
#include <string>
#include <string_view>

#include "shared/protocol/adapters.h"
#include "worker/http/http_connection.h"

namespace bitrouter::worker {

// /v1/messages* -> Messages, /v1/responses -> Responses, /v1beta/... ->
// Gemini, anything else -> Chat (the shape of errors for unknown paths).
protocol::Protocol ProtocolForPath(std::string_view path);

// The client's credential: `Authorization: Bearer <k>`, `x-api-key`,
// `x-goog-api-key`, or the `key` query parameter, in that order; "" if none.
std::string ClientCredential(const InboundRequest& req);

// Percent-decoding; false on a malformed escape.
bool PercentDecode(std::string_view in, std::string* out);
// The value of query parameter `name` in `url` (percent-decoded), or nullopt.
std::optional<std::string> QueryParam(std::string_view url, std::string_view name);

// POST /v1beta/models/{model}:generateContent | :streamGenerateContent.
struct GeminiTarget {
  std::string model;  // percent-decoded; may itself contain ':' (provider:model)
  bool stream = false;
  bool sse = false;  // ?alt=sse (otherwise a stream is a JSON array)
};
// nullopt when the path is not a Gemini generate call; InvalidArgument-style
// message in `error` when it names one badly.
std::optional<GeminiTarget> ParseGeminiPath(const InboundRequest& req, std::string* error);

}  // namespace bitrouter::worker
