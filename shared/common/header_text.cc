#include "shared/common/header_text.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"

namespace bitrouter {

bool IsHeaderValueText(std::string_view value) {
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool IsHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::string HeaderValueProblem(std::string_view value) {
  if (IsHeaderValueText(value)) return "";
  return "contains a byte not allowed in an HTTP header (CR, LF, NUL or another control "
         "character); the value is not shown";
}

std::string HeaderNameProblem(std::string_view name) {
  if (IsHeaderName(name)) return "";
  std::string shown;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    shown += (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  return absl::StrCat("'", shown,
                      "' is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)");
}

absl::Status CheckHeaderValue(std::string_view field, std::string_view value) {
  std::string problem = HeaderValueProblem(value);
  if (problem.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(AV(field), ": ", problem));
}

absl::Status CheckHeaderName(std::string_view field, std::string_view name) {
  std::string problem = HeaderNameProblem(name);
  if (problem.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(AV(field), ": ", problem));
}

}  // namespace bitrouter
