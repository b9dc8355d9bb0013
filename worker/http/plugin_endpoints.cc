#include "worker/http/plugin_endpoints.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "shared/common/wall_clock.h"
#include "shared/node/route_stats.h"
#include "shared/protocol/adapters.h"
#include "shared/protocol/openai_errors.h"

namespace bitrouter::worker {
namespace {

using W = rapidjson::Writer<rapidjson::StringBuffer>;

void S(W& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

std::string Done(const rapidjson::StringBuffer& buf) {
  return std::string(buf.GetString(), buf.GetSize());
}

// The plugin's protocol family of a wire protocol.
std::string_view Family(protocol::Protocol p) {
  switch (p) {
    case protocol::Protocol::kChat:
    case protocol::Protocol::kResponses:
      return "openai";
    case protocol::Protocol::kMessages:
      return "anthropic";
    case protocol::Protocol::kGemini:
      return "google";
  }
  return "openai";
}

// A route's first endpoint: its provider and the protocol it is spoken to
// in (an endpoint's api_protocol override wins over the provider's).
std::pair<std::string_view, std::string_view> FirstEndpoint(const WorkerSnapshot& snapshot,
                                                            const routing::RouteSpec& route) {
  if (route.endpoints.empty()) return {"", "openai"};
  const routing::Target& e = route.endpoints.front();
  if (auto p = protocol::ProtocolFromConfig(e.api_protocol)) return {e.provider, Family(*p)};
  const ProviderRuntime* provider = snapshot.FindProvider(e.provider);
  return {e.provider, provider != nullptr ? Family(provider->wire) : "openai"};
}

// Milliseconds, rounded to the microsecond the histograms count in.
void Millis(W& w, std::optional<double> ms) {
  if (ms) w.Double(std::round(*ms * 1000.0) / 1000.0);
}

void Average(W& w, uint64_t total, uint64_t samples) {
  w.Double(std::round(static_cast<double>(total) * 100.0 / static_cast<double>(samples)) / 100.0);
}

void RenderEndpoints(W& w, const std::map<std::string, node::EndpointStats>& endpoints) {
  w.StartObject();
  for (const auto& [name, ep] : endpoints) {
    S(w, name);
    w.StartObject();
    S(w, "total_requests"), w.Uint64(ep.requests);
    S(w, "total_errors"), w.Uint64(ep.errors);
    // Absent, not null, when nothing was timed (the plugin reads them as optional).
    if (auto p50 = node::QuantileMs(ep.latency, 0.5)) S(w, "latency_p50_ms"), Millis(w, p50);
    if (auto p99 = node::QuantileMs(ep.latency, 0.99)) S(w, "latency_p99_ms"), Millis(w, p99);
    w.EndObject();
  }
  w.EndObject();
}

bool OneOfOurs(std::string_view path) {
  return path == "/v1/routes" || path == "/v1/metrics" || path == "/v1/agents" ||
         path == "/v1/skills";
}

}  // namespace

std::string RenderRoutes(const WorkerSnapshot& snapshot) {
  rapidjson::StringBuffer buf;
  W w(buf);
  w.StartObject();
  S(w, "routes");
  w.StartArray();
  // routes() is a map by name: sorted, one entry per name (a runtime route
  // shadows the config route of the same name).
  for (const auto& [name, route] : snapshot.routes.routes()) {
    auto [provider, family] = FirstEndpoint(snapshot, route);
    w.StartObject();
    S(w, "model"), S(w, name);
    S(w, "provider"), S(w, provider);
    S(w, "protocol"), S(w, family);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Done(buf);
}

std::string RenderRouteMetrics(const node::MetricsTable& table, int64_t now_unix_ms) {
  const uint64_t started = node::NodeStartedUnixMs(table);
  const uint64_t now = now_unix_ms > 0 ? static_cast<uint64_t>(now_unix_ms) : 0;
  rapidjson::StringBuffer buf;
  W w(buf);
  w.StartObject();
  S(w, "uptime_seconds"), w.Uint64(started != 0 && now > started ? (now - started) / 1000 : 0);
  S(w, "routes");
  w.StartObject();
  for (const auto& [name, r] : node::CollectRouteStats(table)) {
    S(w, name);
    w.StartObject();
    S(w, "total_requests"), w.Uint64(r.requests);
    S(w, "total_errors"), w.Uint64(r.errors);
    S(w, "error_rate");
    w.Double(r.requests == 0 ? 0.0
                             : std::round(static_cast<double>(r.errors) * 10000.0 /
                                          static_cast<double>(r.requests)) /
                                   10000.0);
    if (auto p50 = node::QuantileMs(r.latency, 0.5)) S(w, "latency_p50_ms"), Millis(w, p50);
    if (auto p99 = node::QuantileMs(r.latency, 0.99)) S(w, "latency_p99_ms"), Millis(w, p99);
    if (r.token_samples > 0) {
      S(w, "avg_input_tokens"), Average(w, r.prompt_tokens, r.token_samples);
      S(w, "avg_output_tokens"), Average(w, r.completion_tokens, r.token_samples);
    }
    if (r.last_used_unix_s != 0) S(w, "last_used"), w.Uint64(r.last_used_unix_s);
    S(w, "by_endpoint");
    RenderEndpoints(w, r.endpoints);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return Done(buf);
}

bool HandlePluginEndpoint(Server& server, HttpConnection* conn) {
  const InboundRequest& req = conn->request();
  const std::string_view path = req.Path();
  if (!OneOfOurs(path)) return false;
  if (req.method != HTTP_GET && req.method != HTTP_HEAD) {
    conn->SendResponse(
        405, "application/json",
        protocol::RenderOpenAIError({405, "invalid_request_error", "method_not_allowed",
                                     absl::StrCat("use GET ", std::string(path))}),
        "Allow: GET, HEAD\r\n");
    return true;
  }
  std::string body;
  if (path == "/v1/routes") {
    body = server.snapshot() != nullptr ? RenderRoutes(*server.snapshot()) : R"({"routes":[]})";
  } else if (path == "/v1/metrics") {
    body = RenderRouteMetrics(server.metrics().table(), UnixMillis());
  } else if (path == "/v1/agents") {
    body = R"({"agents":[]})";
  } else {
    body = R"({"skills":[]})";
  }
  conn->SendResponse(200, "application/json", body);
  return true;
}

}  // namespace bitrouter::worker
