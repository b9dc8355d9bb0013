#include "controld/mcp_host/control_protocol.h"

#include <rapidjson/document.h>

#include "absl/strings/str_cat.h"
#include "shared/mcp/jsonrpc.h"

namespace bitrouter::mcphost {
namespace {

std::string Str(const rapidjson::Value& v) {
  return std::string(v.GetString(), v.GetStringLength());
}

}  // namespace

std::string DesiredSetLine(const DesiredSet& set) {
  std::string out = "{\"servers\":{";
  bool first = true;
  for (const auto& [id, spec] : set) {
    absl::StrAppend(&out, first ? "" : ",", mcp::JsonString(id),
                    ":{\"command\":", mcp::JsonString(spec.command), ",\"args\":[");
    first = false;
    for (size_t i = 0; i < spec.args.size(); ++i) {
      absl::StrAppend(&out, i ? "," : "", mcp::JsonString(spec.args[i]));
    }
    absl::StrAppend(&out, "],\"env\":{");
    bool first_env = true;
    for (const auto& [k, v] : spec.env) {
      absl::StrAppend(&out, first_env ? "" : ",", mcp::JsonString(k), ":", mcp::JsonString(v));
      first_env = false;
    }
    absl::StrAppend(&out, "},\"cwd\":", mcp::JsonString(spec.cwd), "}");
  }
  absl::StrAppend(&out, "}}\n");
  return out;
}

absl::StatusOr<DesiredSet> ParseDesiredSet(std::string_view line) {
  rapidjson::Document d;
  d.Parse(line.data(), line.size());
  if (d.HasParseError() || !d.IsObject()) return absl::InvalidArgumentError("not a JSON object");
  auto servers = d.FindMember("servers");
  if (servers == d.MemberEnd() || !servers->value.IsObject()) {
    return absl::InvalidArgumentError("no \"servers\" object");
  }
  DesiredSet set;
  for (const auto& m : servers->value.GetObject()) {
    const std::string id = Str(m.name);
    if (!m.value.IsObject()) return absl::InvalidArgumentError(absl::StrCat(id, ": not an object"));
    ServerSpec spec;
    auto command = m.value.FindMember("command");
    if (command == m.value.MemberEnd() || !command->value.IsString() ||
        command->value.GetStringLength() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(id, ": no command"));
    }
    spec.command = Str(command->value);
    if (auto args = m.value.FindMember("args"); args != m.value.MemberEnd()) {
      if (!args->value.IsArray()) return absl::InvalidArgumentError(absl::StrCat(id, ": bad args"));
      for (const auto& a : args->value.GetArray()) {
        if (!a.IsString()) return absl::InvalidArgumentError(absl::StrCat(id, ": bad args"));
        spec.args.push_back(Str(a));
      }
    }
    if (auto env = m.value.FindMember("env"); env != m.value.MemberEnd()) {
      if (!env->value.IsObject()) return absl::InvalidArgumentError(absl::StrCat(id, ": bad env"));
      for (const auto& e : env->value.GetObject()) {
        if (!e.value.IsString()) return absl::InvalidArgumentError(absl::StrCat(id, ": bad env"));
        spec.env[Str(e.name)] = Str(e.value);
      }
    }
    if (auto cwd = m.value.FindMember("cwd"); cwd != m.value.MemberEnd()) {
      if (!cwd->value.IsString()) return absl::InvalidArgumentError(absl::StrCat(id, ": bad cwd"));
      spec.cwd = Str(cwd->value);
    }
    set[id] = std::move(spec);
  }
  return set;
}

std::string StatusLine(const std::vector<ServerStatus>& status) {
  std::string out = "{\"status\":[";
  for (size_t i = 0; i < status.size(); ++i) {
    const ServerStatus& s = status[i];
    absl::StrAppend(&out, i ? "," : "", "{\"id\":", mcp::JsonString(s.id), ",\"pid\":", s.pid,
                    ",\"restarts\":", s.restarts, ",\"state\":", mcp::JsonString(s.state),
                    ",\"last_error\":", mcp::JsonString(s.last_error), "}");
  }
  absl::StrAppend(&out, "]}\n");
  return out;
}

absl::StatusOr<std::vector<ServerStatus>> ParseStatus(std::string_view line) {
  rapidjson::Document d;
  d.Parse(line.data(), line.size());
  if (d.HasParseError() || !d.IsObject()) return absl::InvalidArgumentError("not a JSON object");
  auto list = d.FindMember("status");
  if (list == d.MemberEnd() || !list->value.IsArray()) {
    return absl::InvalidArgumentError("no \"status\" array");
  }
  std::vector<ServerStatus> out;
  for (const auto& v : list->value.GetArray()) {
    if (!v.IsObject()) return absl::InvalidArgumentError("a status is not an object");
    ServerStatus s;
    auto id = v.FindMember("id");
    auto pid = v.FindMember("pid");
    auto restarts = v.FindMember("restarts");
    auto state = v.FindMember("state");
    auto err = v.FindMember("last_error");
    if (id == v.MemberEnd() || !id->value.IsString() || pid == v.MemberEnd() ||
        !pid->value.IsInt() || restarts == v.MemberEnd() || !restarts->value.IsUint() ||
        state == v.MemberEnd() || !state->value.IsString() || err == v.MemberEnd() ||
        !err->value.IsString()) {
      return absl::InvalidArgumentError("a status lacks a field");
    }
    s.id = Str(id->value);
    s.pid = pid->value.GetInt();
    s.restarts = restarts->value.GetUint();
    s.state = Str(state->value);
    s.last_error = Str(err->value);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace bitrouter::mcphost
