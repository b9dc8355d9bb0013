#include "controld/mcp_host/mux.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "absl/strings/str_cat.h"
#include "shared/mcp/jsonrpc.h"

namespace bitrouter::mcphost {
namespace {

using rapidjson::Document;
using rapidjson::Value;

std::string Json(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

bool ValidId(const Value& id) { return id.IsString() || id.IsInt64() || id.IsUint64(); }

// The parsed message, or null when it is not a JSON-RPC 2.0 object.
bool Parse(std::string_view text, Document* d) {
  d->Parse(text.data(), text.size());
  if (d->HasParseError() || !d->IsObject()) return false;
  auto v = d->FindMember("jsonrpc");
  return v != d->MemberEnd() && v->value.IsString() &&
         std::string_view(v->value.GetString()) == "2.0";
}

std::string_view MethodOf(const Document& d) {
  auto m = d.FindMember("method");
  if (m == d.MemberEnd() || !m->value.IsString()) return {};
  return std::string_view(m->value.GetString(), m->value.GetStringLength());
}

}  // namespace

bool Multiplexer::Refuse(ConnId conn, std::string_view message, std::string_view why, MuxOut* out) {
  Document d;
  if (!Parse(message, &d)) return false;
  auto id = d.FindMember("id");
  if (id == d.MemberEnd() || !ValidId(id->value) || MethodOf(d).empty()) return false;
  out->to_conns.push_back({conn, mcp::ErrorBody(Json(id->value), mcp::kInternalError, why), ""});
  return true;
}

void Multiplexer::FromConn(ConnId conn, std::string_view message, MuxOut* out) {
  Document d;
  if (!Parse(message, &d)) {
    out->to_conns.push_back(
        {conn, mcp::ErrorBody("null", mcp::kInvalidRequest, "not a JSON-RPC 2.0 message"), ""});
    return;
  }
  const std::string_view method = MethodOf(d);
  auto id = d.FindMember("id");
  const bool has_id = id != d.MemberEnd();
  if (method.empty()) {
    out->dropped.push_back("a response from a worker");
    return;
  }
  if (!has_id) {
    if (method != "notifications/cancelled") {
      out->dropped.push_back(absl::StrCat("a worker's ", std::string(method)));
      return;
    }
    auto params = d.FindMember("params");
    if (params == d.MemberEnd() || !params->value.IsObject()) return;
    auto rid = params->value.FindMember("requestId");
    if (rid == params->value.MemberEnd() || !ValidId(rid->value)) return;
    auto it = by_caller_.find({conn, Json(rid->value)});
    if (it == by_caller_.end()) return;  // answered already, or never sent
    const int64_t host_id = it->second;
    by_caller_.erase(it);
    pending_.erase(host_id);
    rid->value.SetInt64(host_id);
    out->to_child.push_back(Json(d));
    return;
  }
  if (!ValidId(id->value)) {
    out->to_conns.push_back({conn,
                             mcp::ErrorBody("null", mcp::kInvalidRequest,
                                            "a request id must be a string or an integer"),
                             ""});
    return;
  }
  std::string caller_id = Json(id->value);
  if (method == "initialize") {
    // The host initialized the child once; a second initialize would reset it.
    out->to_conns.push_back({conn,
                             mcp::ErrorBody(caller_id, mcp::kInvalidRequest,
                                            "the MCP host initializes the server itself"),
                             ""});
    return;
  }
  if (by_caller_.count({conn, caller_id}) != 0) {
    out->to_conns.push_back(
        {conn,
         mcp::ErrorBody(caller_id, mcp::kInvalidRequest, "a request with this id is in flight"),
         ""});
    return;
  }
  const int64_t host_id = next_id_++;
  Pending p{conn, caller_id, ""};
  auto params = d.FindMember("params");
  if (params != d.MemberEnd() && params->value.IsObject()) {
    auto meta = params->value.FindMember("_meta");
    if (meta != params->value.MemberEnd() && meta->value.IsObject()) {
      auto token = meta->value.FindMember("progressToken");
      if (token != meta->value.MemberEnd() && ValidId(token->value)) {
        p.token = Json(token->value);
        const std::string host_token = absl::StrCat("bitrouter-", host_id);
        token->value.SetString(host_token.data(),
                               static_cast<rapidjson::SizeType>(host_token.size()),
                               d.GetAllocator());
      }
    }
  }
  id->value.SetInt64(host_id);
  by_caller_[{conn, caller_id}] = host_id;
  pending_.emplace(host_id, std::move(p));
  out->to_child.push_back(Json(d));
}

void Multiplexer::FromChild(std::string_view message, MuxOut* out) {
  Document d;
  if (!Parse(message, &d)) {
    out->dropped.push_back("a line that is not a JSON-RPC 2.0 message");
    return;
  }
  const std::string_view method = MethodOf(d);
  auto id = d.FindMember("id");
  const bool has_id = id != d.MemberEnd();
  if (method.empty()) {
    if (!has_id || !id->value.IsInt64()) {
      out->dropped.push_back("a response to no request of the host");
      return;
    }
    auto it = pending_.find(id->value.GetInt64());
    if (it == pending_.end()) {
      out->dropped.push_back("a response to a request no longer waited for");
      return;
    }
    Pending p = std::move(it->second);
    pending_.erase(it);
    by_caller_.erase({p.conn, p.id});
    Document caller_id;
    caller_id.Parse(p.id.data(), p.id.size());
    id->value.CopyFrom(caller_id, d.GetAllocator());
    out->to_conns.push_back({p.conn, Json(d), ""});
    return;
  }
  if (has_id) {
    // sampling, elicitation, roots/list...: no caller can answer them here.
    if (ValidId(id->value)) {
      out->to_child.push_back(
          mcp::ErrorBody(Json(id->value), mcp::kMethodNotFound,
                         absl::StrCat(std::string(method), " is not supported by the gateway")));
    }
    return;
  }
  if (method != "notifications/progress") {
    out->dropped.push_back(absl::StrCat("the server's ", std::string(method)));
    return;
  }
  auto params = d.FindMember("params");
  if (params == d.MemberEnd() || !params->value.IsObject()) return;
  auto token = params->value.FindMember("progressToken");
  if (token == params->value.MemberEnd() || !token->value.IsString()) return;
  std::string_view t(token->value.GetString(), token->value.GetStringLength());
  constexpr std::string_view kPrefix = "bitrouter-";
  if (t.substr(0, kPrefix.size()) != kPrefix) return;
  int64_t host_id = 0;
  for (char c : t.substr(kPrefix.size())) {
    if (c < '0' || c > '9' || host_id > (INT64_MAX - 9) / 10) return;
    host_id = host_id * 10 + (c - '0');
  }
  auto it = pending_.find(host_id);
  if (it == pending_.end() || it->second.token.empty()) return;
  Document caller_token;
  caller_token.Parse(it->second.token.data(), it->second.token.size());
  token->value.CopyFrom(caller_token, d.GetAllocator());
  out->to_conns.push_back({it->second.conn, Json(d), it->second.id});
}

void Multiplexer::ConnClosed(ConnId conn, MuxOut* out) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.conn != conn) {
      ++it;
      continue;
    }
    out->to_child.push_back(mcp::NotificationBody(
        "notifications/cancelled",
        absl::StrCat("{\"requestId\":", it->first, ",\"reason\":\"the caller went away\"}")));
    by_caller_.erase({it->second.conn, it->second.id});
    it = pending_.erase(it);
  }
}

void Multiplexer::FailAll(std::string_view why, MuxOut* out) {
  for (auto& [host_id, p] : pending_) {
    out->to_conns.push_back({p.conn, mcp::ErrorBody(p.id, mcp::kInternalError, why), ""});
  }
  pending_.clear();
  by_caller_.clear();
}

}  // namespace bitrouter::mcphost
