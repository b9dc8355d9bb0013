#pragma once
// What may go into an upstream request header. bitrouterd checks config and
// runtime routes with these before publishing, and the worker checks every
// snapshot with the same functions, so a value the worker would refuse is
// refused where it was written (with the field named) instead of becoming a
// NACK on every worker.

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace bitrouter {

// RFC 9110 field-value: visible ASCII, obs-text, SP and HTAB; no CR, LF, NUL
// or other control bytes (they would split or corrupt the request).
bool IsHeaderValueText(std::string_view value);
// RFC 9110 token (a header name): non-empty, tchar only.
bool IsHeaderName(std::string_view name);

// Why `value` / `name` cannot be sent in a header, or "" when it can. For
// callers that format their own errors (the config loader's file:line).
// Never contains the value.
std::string HeaderValueProblem(std::string_view value);
std::string HeaderNameProblem(std::string_view name);

// InvalidArgument "FIELD: contains a byte not allowed in an HTTP header (...)"
// when `value` is not header text. The message never contains the value:
// fields checked here are often secrets.
absl::Status CheckHeaderValue(std::string_view field, std::string_view value);
// InvalidArgument "FIELD: 'NAME' is not a valid header name ..." (names are not secret).
absl::Status CheckHeaderName(std::string_view field, std::string_view name);

}  // namespace bitrouter
