#include "shared/protocol/errors.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <ctime>

#include "absl/strings/str_cat.h"
#include "shared/protocol/json_fields.h"
#include "shared/protocol/openai_request.h"
#include "shared/protocol/responses_internal.h"
#include "shared/protocol/scratch_parser.h"

namespace bitrouter::protocol {
namespace {

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

std::string MessagesError(const HttpError& e) {
  return absl::StrCat(R"({"type":"error","error":{"type":)", Quoted(AnthropicErrorType(e.status)),
                      R"(,"message":)", Quoted(e.message), "}}");
}

std::string GeminiError(const HttpError& e) {
  return absl::StrCat(R"({"error":{"code":)", e.status, R"(,"message":)", Quoted(e.message),
                      R"(,"status":)", Quoted(GeminiStatus(e.status)), "}}");
}

}  // namespace

std::string_view AnthropicErrorType(int status) {
  switch (status) {
    case 400:
    case 405:
    case 408:
    case 415:
    case 422:
    case 431:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 504:
      return "timeout_error";
    case 529:
    case 503:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

std::string_view GeminiStatus(int status) {
  switch (status) {
    case 400:
    case 405:
    case 411:
    case 413:
    case 415:
    case 422:
    case 431:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
    case 402:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 408:
    case 504:
      return "DEADLINE_EXCEEDED";
    case 409:
      return "ABORTED";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 501:
      return "UNIMPLEMENTED";
    case 503:
    case 529:  // Anthropic "overloaded"
      return "UNAVAILABLE";
    default:
      return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

std::string RenderError(Protocol p, const HttpError& error) {
  switch (p) {
    case Protocol::kMessages:
      return MessagesError(error);
    case Protocol::kGemini:
      return GeminiError(error);
    case Protocol::kChat:
    case Protocol::kResponses:
      break;
  }
  return RenderOpenAIError(error);
}

std::string RenderStreamError(Protocol p, const HttpError& error, std::string_view response_id) {
  switch (p) {
    case Protocol::kMessages:
      return absl::StrCat("event: error\ndata: ", MessagesError(error), "\n\n");
    case Protocol::kGemini:
      return absl::StrCat("data: ", GeminiError(error), "\n\n");
    case Protocol::kResponses: {
      // A complete response object (every member the specification
      // requires), failed, with what is known here.
      responses::internal::ResponseObject r;
      r.id = response_id.empty() ? std::string_view("resp_failed") : response_id;
      r.created_at = static_cast<int64_t>(std::time(nullptr));
      r.status = "failed";
      r.error_code = error.code.empty() ? std::string_view("server_error") : error.code;
      r.error_message = error.message;
      rapidjson::StringBuffer buf;
      json::Writer w(buf);
      w.StartObject();
      json::Str(w, "type"), json::Str(w, "response.failed"), json::Str(w, "response");
      responses::internal::WriteResponse(w, r);
      w.EndObject();
      return absl::StrCat("event: response.failed\ndata: ",
                          absl::string_view(buf.GetString(), buf.GetSize()), "\n\n");
    }
    case Protocol::kChat:
      break;
  }
  return RenderOpenAIStreamError(error);
}

UpstreamErrorInfo ParseUpstreamError(std::string_view body) {
  UpstreamErrorInfo info;
  thread_local protocol::ScratchDomParser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root)) return info;
  simdjson::dom::element err;
  if (root.is_array()) {
    // Gemini streamGenerateContent without alt=sse wraps errors in an array.
    simdjson::dom::array arr = root.get_array().value_unsafe();
    if (arr.size() == 0) return info;
    root = arr.at(0).value_unsafe();
  }
  simdjson::dom::element scope = root;
  if (!root["error"].get(err) && err.is_object()) scope = err;
  std::string_view s;
  if (!scope["message"].get(s)) info.message = std::string(s);
  if (!scope["type"].get(s) || !scope["status"].get(s) || !scope["code"].get(s)) {
    info.type = std::string(s);
  }
  if (info.message.empty() && !root["error"].get(s)) info.message = std::string(s);
  return info;
}

}  // namespace bitrouter::protocol
