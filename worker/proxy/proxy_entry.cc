// The chain's entry: runs a request through the stages (worker/stages/chain.h);
// the "route" stage hands it to a ProxyCall.
#include <uv.h>

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"
#include "shared/protocol/openai_request.h"
#include "worker/http/server.h"
#include "worker/proxy/proxy_call.h"
#include "worker/stages/chain.h"
#include "worker/stages/classify/classify_stage.h"
#include "worker/stages/usage.h"

namespace bitrouter::worker {

namespace {

// The chain's view of a request on a live connection.
class ConnStageRequest final : public StageRequest {
 public:
  ConnStageRequest(HttpConnection* conn, InboundCall* in) : conn_(conn), in_(in) {}
  const InboundRequest& request() const override { return conn_->request(); }
  InboundCall& call() override { return *in_; }
  const WorkerSnapshot& snapshot() const override { return *conn_->snapshot(); }
  void Answer(const protocol::HttpError& error, std::string_view header_lines) override {
    // Refused before routing: still one usage record (no tokens, no attempts).
    Server* server = conn_->server();
    int64_t waited_ms = static_cast<int64_t>(uv_now(server->loop()) - conn_->access().start_ms);
    RecordUnrouted(*server, conn_->request(), *in_, error.status, waited_ms * 1000);
    std::string route = RouteHeaderLines(*in_, RouteModel(*in_, SIZE_MAX));
    if (route.empty()) {
      conn_->SendError(error, header_lines);
    } else {
      conn_->SendError(error, absl::StrCat(AV(header_lines), route));
    }
  }
  Server* server() const override { return conn_->server(); }
  void ReplaceBody(std::string body) override {
    // Bodies keep simdjson's padding after their end.
    body.reserve(body.size() + protocol::kJsonPadding);
    conn_->mutable_request().body = std::move(body);
  }
  uint64_t NextCounter(const std::string& key) override {
    return conn_->server()->NextCounter(key);
  }
  void Route(routing::Resolution resolution, std::vector<size_t> order) override {
    auto* call = new ProxyCall(conn_, std::move(*in_), std::move(resolution), std::move(order));
    conn_->SetHandler(call);
    call->Start();
  }

 private:
  HttpConnection* conn_;
  InboundCall* in_;
};

}  // namespace

void StartProxy(HttpConnection* conn, InboundCall in) {
  ConnStageRequest req(conn, &in);
  if (RequestJourney().RunRequest(req) == Stage::Verdict::kContinue) {
    // The journey ends with the route stage; reaching here is a bug, and the
    // client must still get an answer.
    conn->SendError({500, "server_error", "no_route_stage", "the request was not routed"});
  }
}

}  // namespace bitrouter::worker
