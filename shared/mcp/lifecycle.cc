#include "shared/mcp/lifecycle.h"

#include <algorithm>
#include <cctype>

#include "shared/common/loopback.h"
#include "shared/mcp/jsonrpc.h"

namespace bitrouter::mcp {

bool SupportedVersion(std::string_view version) {
  return std::find(kSupportedVersions.begin(), kSupportedVersions.end(), version) !=
         kSupportedVersions.end();
}

std::string_view NegotiateVersion(std::string_view requested) {
  return SupportedVersion(requested) ? requested : kLatestVersion;
}

std::string CheckVersionHeader(std::string_view value, bool present) {
  if (!present || SupportedVersion(value)) return {};
  std::string out = "Bad Request: unsupported MCP-Protocol-Version; supported: ";
  for (size_t i = 0; i < kSupportedVersions.size(); ++i) {
    if (i > 0) out += ", ";
    out += kSupportedVersions[i];
  }
  return out;
}

std::string InitializeResult(std::string_view version, std::string_view server_version,
                             std::string_view instructions) {
  std::string out = "{\"protocolVersion\":";
  out += JsonString(version);
  out +=
      ",\"capabilities\":{\"tools\":{\"listChanged\":false}},\"serverInfo\":{\"name\":"
      "\"bitrouter\",";
  out += "\"version\":" + JsonString(server_version) + "}";
  if (!instructions.empty()) out += ",\"instructions\":" + JsonString(instructions);
  out += "}";
  return out;
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The host of "scheme://host[:port]" (brackets kept for IPv6); "" when the
// scheme is not http or https.
std::string_view OriginHost(std::string_view origin) {
  size_t at;
  if (origin.rfind("http://", 0) == 0) {
    at = 7;
  } else if (origin.rfind("https://", 0) == 0) {
    at = 8;
  } else {
    return {};
  }
  std::string_view rest = origin.substr(at);
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    return close == std::string_view::npos ? std::string_view() : rest.substr(0, close + 1);
  }
  size_t colon = rest.find_first_of(":/");
  return rest.substr(0, colon);
}

}  // namespace

bool OriginAllowed(std::string_view origin, bool present, const std::vector<std::string>& allowed) {
  if (!present) return true;
  const std::string lower = Lower(origin);
  if (allowed.empty()) {
    std::string_view host = OriginHost(lower);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    return !host.empty() && IsLoopbackHost(host);
  }
  return std::find(allowed.begin(), allowed.end(), lower) != allowed.end();
}

}  // namespace bitrouter::mcp
