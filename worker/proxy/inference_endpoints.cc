#include "worker/proxy/inference_endpoints.h"

#include <simdjson.h>

#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"
#include "shared/protocol/errors.h"
#include "shared/protocol/json_budget.h"
#include "shared/protocol/messages_adapter.h"
#include "shared/protocol/openai_request.h"
#include "shared/protocol/scratch_parser.h"
#include "shared/usage/estimate.h"
#include "worker/http/inbound.h"
#include "worker/proxy/proxy_call.h"

namespace bitrouter::worker {
namespace {

using protocol::Protocol;

void MethodNotAllowed(HttpConnection* conn, std::string_view what) {
  conn->SendResponse(405, "application/json",
                     protocol::RenderError(conn->request().protocol,
                                           {405, "invalid_request_error", "method_not_allowed",
                                            absl::StrCat("use POST ", AV(what))}),
                     "Allow: POST\r\n");
}

// Chat, Responses and Messages name the model in the body.
void StartBodyModel(HttpConnection* conn, Protocol client) {
  const InboundRequest& req = conn->request();
  auto view = protocol::InspectRequest(req.body.data(), req.body.size());
  if (!view.ok()) {
    conn->SendError(
        {400, "invalid_request_error", "invalid_request", std::string(view.status().message())});
    return;
  }
  InboundCall in;
  in.client = client;
  in.model = std::move(view->model);
  in.stream = view->stream;
  in.model_begin = view->model_begin;
  in.model_end = view->model_end;
  in.include_usage = view->include_usage;
  in.has_stream_options = view->has_stream_options;
  in.max_output_tokens = view->max_output_tokens;
  StartProxy(conn, std::move(in));
}

void StartGemini(HttpConnection* conn, GeminiTarget target) {
  const InboundRequest& req = conn->request();
  // The body is forwarded as is to a Gemini upstream: it must at least be a
  // JSON object (the body capacity leaves simdjson's padding).
  thread_local protocol::ScratchDomParser parser;
  simdjson::dom::element root;
  if (parser.parse(reinterpret_cast<const uint8_t*>(req.body.data()), req.body.size(), false)
          .get(root) ||
      !root.is_object()) {
    conn->SendError(
        {400, "invalid_request_error", "invalid_request", "request body must be a JSON object"});
    return;
  }
  InboundCall in;
  in.client = Protocol::kGemini;
  in.model = std::move(target.model);
  in.stream = target.stream;
  in.gemini_sse = target.sse;
  int64_t limit = 0;
  if (!root["generationConfig"]["maxOutputTokens"].get_int64().get(limit) && limit > 0) {
    in.max_output_tokens = limit;
  }
  StartProxy(conn, std::move(in));
}

void CountTokens(HttpConnection* conn) {
  const InboundRequest& req = conn->request();
  if (absl::Status s = protocol::CheckJsonObjectBudget(req.body); !s.ok()) {
    conn->SendError({400, "invalid_request_error", "invalid_request", std::string(s.message())});
    return;
  }
  auto parsed = protocol::messages::ParseRequest(req.body);
  if (!parsed.ok()) {
    conn->SendError(
        {400, "invalid_request_error", "invalid_request", std::string(parsed.status().message())});
    return;
  }
  conn->SendResponse(200, "application/json",
                     absl::StrCat("{\"input_tokens\":", usage::EstimateTokens(*parsed), "}"));
}

}  // namespace

bool HandleInference(HttpConnection* conn) {
  const InboundRequest& req = conn->request();
  std::string_view path = req.Path();
  bool post = req.method == HTTP_POST;
  Protocol client;
  if (path == "/v1/chat/completions") {
    client = Protocol::kChat;
  } else if (path == "/v1/responses") {
    client = Protocol::kResponses;
  } else if (path == "/v1/messages") {
    client = Protocol::kMessages;
  } else if (path == "/v1/messages/count_tokens") {
    if (!post) {
      MethodNotAllowed(conn, path);
    } else {
      CountTokens(conn);
    }
    return true;
  } else {
    std::string error;
    std::optional<GeminiTarget> gemini = ParseGeminiPath(req, &error);
    if (!gemini) return false;
    if (!post) {
      MethodNotAllowed(conn, path);
    } else if (!error.empty()) {
      conn->SendError({400, "invalid_request_error", "invalid_request", error});
    } else {
      StartGemini(conn, std::move(*gemini));
    }
    return true;
  }
  if (!post) {
    MethodNotAllowed(conn, path);
    return true;
  }
  StartBodyModel(conn, client);
  return true;
}

}  // namespace bitrouter::worker
