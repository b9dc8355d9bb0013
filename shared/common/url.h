#pragma once
// Parsing of upstream base URLs (http/https only).

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace bitrouter {

struct Url {
  bool tls = false;
  std::string host;  // without brackets for IPv6 literals
  uint16_t port = 0;
  std::string path;  // no trailing slash; "" for root
  // "host" or "host:port" as sent in the Host header.
  std::string HostHeader() const;
  // Stable key for connection pooling: "https://host:port".
  std::string Origin() const;
};

// Accepts http://host[:port][/path] and https://...; rejects userinfo,
// queries, fragments and other schemes with a message naming the problem.
absl::StatusOr<Url> ParseUrl(std::string_view text);

// Parses "host:port" (IPv4, [IPv6] or name). Port 0 is allowed.
absl::Status ParseHostPort(std::string_view text, std::string* host, uint16_t* port);

}  // namespace bitrouter
