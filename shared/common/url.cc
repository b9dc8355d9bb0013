#include "shared/common/url.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"

namespace bitrouter {

std::string Url::HostHeader() const {
  std::string h = host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host;
  if ((tls && port == 443) || (!tls && port == 80)) return h;
  return absl::StrCat(h, ":", port);
}

std::string Url::Origin() const {
  return absl::StrCat(tls ? "https://" : "http://", host, ":", port);
}

absl::Status ParseHostPort(std::string_view text, std::string* host, uint16_t* port) {
  std::string_view h, p;
  const bool bracketed = !text.empty() && text.front() == '[';
  if (bracketed) {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("bad address '", AV(text), "': want [ipv6]:port"));
    }
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad address '", AV(text), "': want host:port"));
    }
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  uint32_t value = 0;
  // An IPv6 literal needs brackets: "fe80::1" is not host "fe80:" port 1.
  bool bad_host = h.empty() || h.find_first_of("[]") != std::string_view::npos ||
                  (!bracketed && h.find(':') != std::string_view::npos);
  if (bad_host || !absl::SimpleAtoi(AV(p), &value) || value > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad address '", AV(text), "': want host:port"));
  }
  *host = std::string(h);
  *port = static_cast<uint16_t>(value);
  return absl::OkStatus();
}

absl::StatusOr<Url> ParseUrl(std::string_view text) {
  Url url;
  std::string_view rest;
  if (text.substr(0, 8) == "https://") {
    url.tls = true;
    rest = text.substr(8);
  } else if (text.substr(0, 7) == "http://") {
    rest = text.substr(7);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid URL '", AV(text), "': must start with http:// or https://"));
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid URL '", AV(text), "': query strings and fragments are not allowed"));
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid URL '", AV(text), "': credentials in URLs are not allowed"));
  }
  if (authority.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid URL '", AV(text), "': missing host"));
  }
  uint16_t default_port = url.tls ? 443 : 80;
  bool has_port = false;
  if (authority.front() == '[') {
    has_port = authority.find("]:") != std::string_view::npos;
  } else {
    has_port = authority.find(':') != std::string_view::npos;
  }
  if (has_port) {
    absl::Status s = ParseHostPort(authority, &url.host, &url.port);
    if (!s.ok() || url.port == 0) {
      return absl::InvalidArgumentError(absl::StrCat("invalid URL '", AV(text), "': bad port"));
    }
  } else {
    std::string_view h = authority;
    if (h.front() == '[') {
      if (h.back() != ']') {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid URL '", AV(text), "': bad IPv6 host"));
      }
      h = h.substr(1, h.size() - 2);
    }
    url.host = std::string(h);
    url.port = default_port;
  }
  if (url.host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid URL '", AV(text), "': bad host"));
  }
  for (char c : url.host) {
    if (c <= ' ' || c == '/' || c == '\\' || c == '[' || c == ']') {
      return absl::InvalidArgumentError(absl::StrCat("invalid URL '", AV(text), "': bad host"));
    }
  }
  // The path goes into the request line: no spaces or control bytes.
  for (char c : path) {
    if ((c >= 0 && c <= ' ') || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat("invalid URL '", AV(text), "': bad path"));
    }
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.path = std::string(path);
  return url;
}

}  // namespace bitrouter
