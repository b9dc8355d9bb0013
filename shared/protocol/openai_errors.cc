#include "shared/protocol/openai_errors.h"

#include "shared/protocol/openai_request.h"

namespace bitrouter::protocol {

std::string RenderOpenAIError(const HttpError& error) {
  std::string out = "{\"error\":{\"message\":";
  AppendJsonString(error.message, &out);
  out.append(",\"type\":");
  AppendJsonString(error.type, &out);
  if (!error.code.empty()) {
    out.append(",\"code\":");
    AppendJsonString(error.code, &out);
  }
  out.append("}}");
  return out;
}

std::string RenderOpenAIStreamError(const HttpError& error) {
  return "data: " + RenderOpenAIError(error) + "\n\n";
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

}  // namespace bitrouter::protocol
