#include "worker/http/metrics_endpoint.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "shared/protocol/openai_errors.h"

namespace bitrouter::worker {
namespace {

// A scrape stays bounded whatever the configuration lists.
constexpr size_t kMaxBreakers = 4096;

}  // namespace

std::vector<node::BreakerSample> SnapshotBreakers(const WorkerSnapshot& snapshot,
                                                  const routing::EndpointHealth& health,
                                                  uint64_t now_ms) {
  std::map<std::string, node::BreakerSample> by_id;
  auto add = [&](std::string_view model) {
    absl::StatusOr<routing::Resolution> resolved = snapshot.routes.Resolve(model);
    if (!resolved.ok()) return;
    for (const routing::Target& t : resolved->targets) {
      if (by_id.size() >= kMaxBreakers) return;
      if (by_id.contains(t.id)) continue;
      by_id[t.id] = {t.id, t.provider, t.model_id, health.State(t.id, now_ms)};
    }
  };
  for (const auto& [name, route] : snapshot.routes.routes()) add(name);
  for (const routing::ProviderSpec& p : snapshot.routes.providers()) {
    if (!p.active) continue;
    for (const std::string& m : p.models) add(absl::StrCat(p.name, ":", m));
  }
  std::vector<node::BreakerSample> out;
  out.reserve(by_id.size());
  for (auto& [id, sample] : by_id) out.push_back(std::move(sample));
  return out;
}

void HandleMetrics(Server& server, HttpConnection* conn) {
  llhttp_method_t method = conn->request().method;
  if (method != HTTP_GET && method != HTTP_HEAD) {
    conn->SendResponse(405, "application/json",
                       protocol::RenderOpenAIError({405, "invalid_request_error",
                                                    "method_not_allowed", "use GET /metrics"}),
                       "Allow: GET\r\n");
    return;
  }
  node::RenderContext context;
  if (server.snapshot() != nullptr) {
    context.breakers = SnapshotBreakers(*server.snapshot(), server.health(), uv_now(server.loop()));
  }
  conn->SendResponse(200, node::kPrometheusContentType,
                     node::RenderPrometheus(server.metrics().table(), context));
}

}  // namespace bitrouter::worker
