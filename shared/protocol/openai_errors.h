#pragma once
// OpenAI-shaped error bodies: {"error":{"message","type","code"}}.

#include <string>
#include <string_view>

namespace bitrouter::protocol {

struct HttpError {
  int status;
  std::string_view type;  // e.g. invalid_request_error
  std::string_view code;  // e.g. model_not_found
  std::string message;
};

std::string RenderOpenAIError(const HttpError& error);
// The same error as one SSE event ("data: {...}\n\n"), for a stream that failed
// after its headers were sent.
std::string RenderOpenAIStreamError(const HttpError& error);

// Reason phrase for a status code ("Bad Request"); "Unknown" if not listed.
std::string_view ReasonPhrase(int status);

}  // namespace bitrouter::protocol
