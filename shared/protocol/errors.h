#pragma once
// Error bodies in the client's own protocol:
//   Chat, Responses: {"error":{"message","type","code"}}
//   Messages:        {"type":"error","error":{"type","message"}}
//   Gemini:          {"error":{"code","message","status"}}
// and the same error as an in-stream event for a response that already
// started: Chat `data: {"error":...}`, Messages `event: error`, Responses
// `event: response.failed`, Gemini `data: {"error":...}`.

#include <string>
#include <string_view>

#include "shared/protocol/adapters.h"
#include "shared/protocol/openai_errors.h"

namespace bitrouter::protocol {

std::string RenderError(Protocol p, const HttpError& error);
// `response_id` names the failed response for Responses ("" -> "resp_failed").
std::string RenderStreamError(Protocol p, const HttpError& error,
                              std::string_view response_id = "");

// Anthropic error type for an HTTP status (400 invalid_request_error, 401
// authentication_error, 403 permission_error, 404 not_found_error, 413
// request_too_large, 429 rate_limit_error, 529 overloaded_error, other 5xx
// api_error).
std::string_view AnthropicErrorType(int status);
// Google RPC status name for an HTTP status (400 INVALID_ARGUMENT, ...).
std::string_view GeminiStatus(int status);

// What an upstream error body says, whatever its protocol: error.message
// (or a top-level message) and error.type / error.status / error.code.
// Empty fields when the body is not a recognisable error.
struct UpstreamErrorInfo {
  std::string message;
  std::string type;
};
UpstreamErrorInfo ParseUpstreamError(std::string_view body);

}  // namespace bitrouter::protocol
