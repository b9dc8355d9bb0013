// bitrouterctl mcp servers | tools [server]: the configured MCP servers as
// the gateway serves them (bitrouterd asks each for its tools).
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "ctl/client.h"
#include "shared/protocol/openai_request.h"

namespace bitrouter::ctl {
namespace {

int Fetch(const Context& ctx, const std::string& server, bool with_tools,
          v1::ListMcpResponse* resp) {
  v1::ListMcpRequest req;
  req.set_server(server);
  req.set_with_tools(with_tools);
  // Each server is asked in turn, under its own timeout.
  return CallAdmin(ctx, 600, [&](v1::Admin::Stub& stub, grpc::ClientContext* rpc) {
    return stub.ListMcp(rpc, req, resp);
  });
}

std::string ServerJson(const v1::McpServerStatus& s, bool with_tools) {
  std::string out = absl::StrCat(
      "{\"id\":", Json(s.id()), ",\"name\":", Json(s.name()),
      ",\"transport\":", Json(s.transport()), ",\"url\":", Json(s.url()),
      ",\"aggregate\":", s.aggregate() ? "true" : "false",
      ",\"tool_prefix\":", Json(s.tool_prefix()), ",\"timeout_ms\":", s.timeout_ms(),
      ",\"status\":", s.ok() ? "\"ok\"" : "\"error\"", ",\"tool_count\":", s.tool_count(),
      ",\"error\":", Json(s.error()), ",\"checked_unix_ms\":", s.checked_unix_ms(),
      ",\"latency_ms\":", s.latency_ms());
  if (s.transport() == "stdio") {
    absl::StrAppend(&out, ",\"pid\":", s.pid(), ",\"restarts\":", s.restarts(),
                    ",\"state\":", Json(s.state()), ",\"process_error\":", Json(s.process_error()));
  }
  if (with_tools) {
    out += ",\"tools\":[";
    for (int i = 0; i < s.tools_size(); ++i) {
      absl::StrAppend(&out, i ? "," : "", "{\"name\":", Json(s.tools(i).name()),
                      ",\"description\":", Json(s.tools(i).description()), "}");
    }
    out += "]";
  }
  return out + "}";
}

}  // namespace

int RunMcpServers(const Context& ctx) {
  v1::ListMcpResponse resp;
  if (int rc = Fetch(ctx, "", false, &resp); rc != 0) return rc;
  if (ctx.json) {
    std::string out = "{\"servers\":[";
    for (int i = 0; i < resp.servers_size(); ++i) {
      absl::StrAppend(&out, i ? "," : "", ServerJson(resp.servers(i), false));
    }
    std::printf("%s]}\n", out.c_str());
    return 0;
  }
  if (resp.servers_size() == 0) {
    std::printf("no MCP servers configured\n");
    return 0;
  }
  std::printf("%-20s %-9s %-6s %6s %8s  %s\n", "SERVER", "TRANSPORT", "STATUS", "TOOLS", "LATENCY",
              "WHERE / LAST ERROR");
  for (const auto& s : resp.servers()) {
    std::string where = s.ok() ? s.url() : s.error();
    if (s.transport() == "stdio") {
      where = absl::StrCat("pid ", s.pid(), ", ", s.state(), ", restarts ", s.restarts(),
                           s.process_error().empty() ? "" : ", last exit: " + s.process_error(),
                           s.ok() ? "" : "; " + s.error());
    }
    std::printf("%-20s %-9s %-6s %6s %6lldms  %s\n", s.id().c_str(), s.transport().c_str(),
                s.ok() ? "ok" : "error",
                s.tool_count() >= 0 ? std::to_string(s.tool_count()).c_str() : "-",
                static_cast<long long>(s.latency_ms()), where.c_str());
  }
  return 0;
}

int RunMcpTools(const Context& ctx, const std::string& server) {
  v1::ListMcpResponse resp;
  if (int rc = Fetch(ctx, server, true, &resp); rc != 0) return rc;
  if (ctx.json) {
    std::string out = "{\"servers\":[";
    for (int i = 0; i < resp.servers_size(); ++i) {
      absl::StrAppend(&out, i ? "," : "", ServerJson(resp.servers(i), true));
    }
    std::printf("%s]}\n", out.c_str());
    return 0;
  }
  int failed = 0;
  for (const auto& s : resp.servers()) {
    if (!s.ok()) {
      std::printf("%s: error: %s\n", s.id().c_str(), s.error().c_str());
      ++failed;
      continue;
    }
    std::printf("%s (%d tools)\n", s.id().c_str(), s.tool_count());
    for (const auto& t : s.tools()) {
      std::string d = t.description().substr(0, t.description().find('\n'));
      if (d.size() > 100) d = d.substr(0, 97) + "...";
      std::printf("  %-40s %s\n", t.name().c_str(), d.c_str());
    }
  }
  return failed > 0 ? 1 : 0;
}

}  // namespace bitrouter::ctl
