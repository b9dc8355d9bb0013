// bitrouterctl route list | add | rm | trace
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ctl/client.h"
#include "shared/protocol/openai_request.h"

namespace bitrouter::ctl {
namespace {

int ReportChange(const Context& ctx, const v1::RouteChangeResponse& resp, const std::string& what) {
  if (ctx.json) {
    std::string nacks;
    for (const auto& n : resp.nacks()) absl::StrAppend(&nacks, nacks.empty() ? "" : ",", Json(n));
    std::printf("{\"snapshot_version\":%llu,\"nacks\":[%s]}\n",
                static_cast<unsigned long long>(resp.snapshot_version()), nacks.c_str());
  } else {
    std::printf("%s (snapshot v%llu, active on every worker)\n", what.c_str(),
                static_cast<unsigned long long>(resp.snapshot_version()));
  }
  for (const auto& n : resp.nacks())
    std::fprintf(stderr, "bitrouterctl: not applied by %s\n", n.c_str());
  return resp.nacks().empty() ? 0 : 1;
}

}  // namespace

int RunRouteList(const Context& ctx) {
  v1::ListRoutesResponse resp;
  int rc = CallAdmin(ctx, 10, [&](v1::Admin::Stub& stub, grpc::ClientContext* rpc) {
    return stub.ListRoutes(rpc, v1::ListRoutesRequest(), &resp);
  });
  if (rc != 0) return rc;
  if (ctx.json) {
    std::string out = "{\"routes\":[";
    for (int i = 0; i < resp.routes_size(); ++i) {
      const auto& r = resp.routes(i);
      absl::StrAppend(
          &out, i ? "," : "", "{\"name\":", Json(r.name()), ",\"strategy\":", Json(r.strategy()),
          ",\"source\":", r.runtime() ? "\"runtime\"" : "\"config\"", ",\"endpoints\":[");
      for (int j = 0; j < r.endpoints_size(); ++j) {
        const auto& e = r.endpoints(j);
        absl::StrAppend(&out, j ? "," : "", "{\"provider\":", Json(e.provider()),
                        ",\"model_id\":", Json(e.model_id()), ",\"weight\":", e.weight(), "}");
      }
      out.append("]}");
    }
    out.append("]}\n");
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  if (resp.routes().empty()) {
    std::printf("no routes (add one with `bitrouterctl route add NAME provider:model ...`)\n");
    return 0;
  }
  for (const auto& r : resp.routes()) {
    std::printf("%-20s %-8s %-13s", r.name().c_str(), r.runtime() ? "runtime" : "config",
                r.strategy().c_str());
    for (const auto& e : r.endpoints()) {
      std::printf(" %s:%s", e.provider().c_str(), e.model_id().c_str());
      if (e.weight() > 1) std::printf("(w%u)", e.weight());
    }
    std::printf("\n");
  }
  return 0;
}

int RunRouteAdd(const Context& ctx, const std::string& name,
                const std::vector<std::string>& targets, const std::string& strategy) {
  v1::AddRouteRequest req;
  auto* route = req.mutable_route();
  route->set_name(name);
  route->set_strategy(strategy);
  route->set_runtime(true);
  for (const auto& t : targets) {
    size_t colon = t.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == t.size()) {
      std::fprintf(stderr, "bitrouterctl: '%s' is not provider:model_id\n", t.c_str());
      return 2;
    }
    auto* e = route->add_endpoints();
    e->set_provider(t.substr(0, colon));
    e->set_model_id(t.substr(colon + 1));
    e->set_weight(1);
  }
  v1::RouteChangeResponse resp;
  int rc = CallAdmin(ctx, 10, [&](v1::Admin::Stub& stub, grpc::ClientContext* rpc) {
    return stub.AddRoute(rpc, req, &resp);
  });
  return rc != 0 ? rc : ReportChange(ctx, resp, absl::StrCat("route '", name, "' set"));
}

int RunRouteRemove(const Context& ctx, const std::string& name) {
  v1::RemoveRouteRequest req;
  req.set_name(name);
  v1::RouteChangeResponse resp;
  int rc = CallAdmin(ctx, 10, [&](v1::Admin::Stub& stub, grpc::ClientContext* rpc) {
    return stub.RemoveRoute(rpc, req, &resp);
  });
  return rc != 0 ? rc : ReportChange(ctx, resp, absl::StrCat("route '", name, "' removed"));
}

int RunRouteTrace(const Context& ctx, const std::string& model) {
  v1::TraceRouteRequest req;
  req.set_model(model);
  v1::TraceRouteResponse resp;
  int rc = CallAdmin(ctx, 10, [&](v1::Admin::Stub& stub, grpc::ClientContext* rpc) {
    return stub.TraceRoute(rpc, req, &resp);
  });
  if (rc != 0) return rc;
  if (ctx.json) {
    std::string out =
        absl::StrCat("{\"model\":", Json(model), ",\"found\":", resp.found() ? "true" : "false");
    if (!resp.found()) absl::StrAppend(&out, ",\"error\":", Json(resp.error()));
    absl::StrAppend(&out, ",\"source\":", Json(resp.source()),
                    ",\"strategy\":", Json(resp.strategy()), ",\"hops\":[");
    for (int i = 0; i < resp.hops_size(); ++i) {
      const auto& h = resp.hops(i);
      absl::StrAppend(&out, i ? "," : "", "{\"provider\":", Json(h.provider()),
                      ",\"model_id\":", Json(h.model_id()), ",\"protocol\":", Json(h.protocol()),
                      ",\"base_url\":", Json(h.base_url()), ",\"key\":", Json(h.key()),
                      ",\"usable\":", h.usable() ? "true" : "false", ",\"note\":", Json(h.note()),
                      "}");
    }
    out.append("],\"skipped\":[");
    for (int i = 0; i < resp.skipped_size(); ++i)
      absl::StrAppend(&out, i ? "," : "", Json(resp.skipped(i)));
    out.append("]}\n");
    std::fputs(out.c_str(), stdout);
    return resp.found() ? 0 : 4;
  }
  if (!resp.found()) {
    std::printf("%s\n", resp.error().c_str());
    return 4;
  }
  std::printf("%s -> %s (%s)\n", model.c_str(), resp.source().c_str(), resp.strategy().c_str());
  int i = 0;
  for (const auto& h : resp.hops()) {
    std::printf("  %d. %s:%s  [%s] %s  key: %s  %s%s\n", ++i, h.provider().c_str(),
                h.model_id().c_str(), h.protocol().c_str(), h.base_url().c_str(), h.key().c_str(),
                h.usable() ? "" : "SKIPPED: ", h.note().c_str());
  }
  for (const auto& s : resp.skipped()) std::printf("  skipped: %s\n", s.c_str());
  return 0;
}

}  // namespace bitrouter::ctl
