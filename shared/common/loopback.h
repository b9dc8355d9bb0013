#pragma once
// Whether a host names this machine: localhost, 127.0.0.0/8, ::1 and
// ::ffff:127.x.y.z (IPv6 without brackets). Used for insecure-http checks,
// the auth mode and the MCP gateway's default Origin allow-list.

#include <string_view>

namespace bitrouter {

bool IsLoopbackHost(std::string_view host);

}  // namespace bitrouter
