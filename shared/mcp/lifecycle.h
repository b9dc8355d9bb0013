#pragma once
// What the gateway answers itself (never contacting an upstream): protocol
// version negotiation, the InitializeResult, and the checks every POST
// passes before anything else (MCP-Protocol-Version, Origin).
//
// Thread: any. Pure functions of the input.

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace bitrouter::mcp {

// Legacy-era versions the gateway speaks, newest first.
inline constexpr std::array<std::string_view, 4> kSupportedVersions = {"2025-11-25", "2025-06-18",
                                                                       "2025-03-26", "2024-11-05"};
inline constexpr std::string_view kLatestVersion = kSupportedVersions[0];

bool SupportedVersion(std::string_view version);
// The version to answer an initialize with: the client's when supported,
// else the latest (the client then decides whether it can speak it).
std::string_view NegotiateVersion(std::string_view requested);
// "" when a request may go on; else the 400 message (naming the supported
// versions). A missing header is fine (2025-03-26 clients send none).
std::string CheckVersionHeader(std::string_view value, bool present);

// The gateway's InitializeResult as JSON text: the negotiated version, tools
// with listChanged false (a stateless gateway has no stream to announce a
// change on), serverInfo {name: "bitrouter", version}.
std::string InitializeResult(std::string_view version, std::string_view server_version,
                             std::string_view instructions);

// Origin check against the configured allow-list (mcp.allowed_origins,
// lowercased "scheme://host[:port]" entries or "null"); an empty list means
// loopback origins only: http(s)://localhost, 127.x.y.z or [::1], any port.
// A request without an Origin header (not a browser) is allowed.
bool OriginAllowed(std::string_view origin, bool present, const std::vector<std::string>& allowed);

}  // namespace bitrouter::mcp
