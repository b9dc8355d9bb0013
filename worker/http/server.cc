#include "worker/http/server.h"

#include <unistd.h>

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "shared/common/log.h"
#include "worker/http/http_connection.h"
#include "worker/http/metrics_endpoint.h"
#include "worker/http/plugin_endpoints.h"
#include "worker/loop/loop_queue.h"
#include "worker/upstream/upstream.h"

namespace bitrouter::worker {

Server::Server(uv_loop_t* loop, int listen_fd, uint32_t worker_id)
    : loop_(loop), listen_fd_(listen_fd), worker_id_(worker_id) {
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  uv_timer_init(loop_, &drain_timer_);
  drain_timer_.data = this;
  deleter_ = new DeferredDeleter(loop_);
  pool_ = std::make_unique<UpstreamPool>(loop_);
  std::random_device rd;
  id_prefix_ = absl::StrCat("br-", absl::Hex(rd(), absl::kZeroPad8), "-", worker_id_, "-");
}

Server::~Server() = default;

absl::Status Server::StartAccepting() {
  if (int rc = uv_tcp_open(&listener_, listen_fd_); rc != 0) {
    return absl::InternalError(absl::StrCat("uv_tcp_open(listen fd): ", uv_strerror(rc)));
  }
  if (int rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 1024, &Server::OnConnection);
      rc != 0) {
    return absl::InternalError(absl::StrCat("uv_listen: ", uv_strerror(rc)));
  }
  accepting_ = true;
  return absl::OkStatus();
}

void Server::OnConnection(uv_stream_t* listener, int status) {
  auto* self = static_cast<Server*>(listener->data);
  if (status != 0 || self->draining_) return;
  auto* conn = new HttpConnection(self);
  self->connections_.insert(conn);
  self->metrics_.ConnectionOpened();
  conn->Accept(listener);  // on failure the connection closes and removes itself
}

namespace {

bool SameUpstream(const ProviderRuntime& a, const ProviderRuntime& b) {
  return a.protocol == b.protocol && a.base.Origin() == b.base.Origin() &&
         a.base.path == b.base.path && a.keys == b.keys && a.header_lines == b.header_lines;
}

}  // namespace

void Server::SetSnapshot(SnapshotPtr snapshot) {
  if (snapshot_ != nullptr) {
    for (const auto& [name, old_provider] : snapshot_->providers) {
      const ProviderRuntime* now = snapshot->FindProvider(name);
      if (now != nullptr && SameUpstream(old_provider, *now)) continue;
      std::string prefix = absl::StrCat(name, "/");
      health_.Forget(snapshot->version,
                     [&](const std::string& id) { return id.rfind(prefix, 0) == 0; });
    }
  }
  snapshot_ = std::move(snapshot);
  metrics_.SetSnapshotVersion(snapshot_->version);
  routing::BreakerPolicy policy = snapshot_->failover.breaker;
  // A probe settles once its upstream answers (or times out): until then
  // no other worker may probe, unless its owner hangs past this lease.
  const Timeouts& t = snapshot_->timeouts;
  policy.probe_lease_ms =
      std::max<uint64_t>(policy.cooldown_ms, uint64_t{t.connect_ms} + t.first_byte_ms);
  health_.set_policy(policy);
}

std::string Server::NextRequestId() {
  return absl::StrCat(id_prefix_, absl::Hex(++request_counter_));
}

void Server::HandleRequest(HttpConnection* conn) {
  const InboundRequest& req = conn->request();
  std::string_view path = req.Path();
  bool get = req.method == HTTP_GET || req.method == HTTP_HEAD;
  if (path == "/" && get) {
    // Clients probe the base URL before their first call (Claude Code: HEAD /).
    conn->SendResponse(200, "application/json", "{\"service\":\"bitrouter\",\"status\":\"ok\"}");
    return;
  }
  if (path == "/health") {
    if (!get) {
      conn->SendResponse(405, "application/json",
                         protocol::RenderOpenAIError({405, "invalid_request_error",
                                                      "method_not_allowed", "use GET /health"}),
                         "Allow: GET\r\n");
      return;
    }
    conn->SendResponse(200, "application/json", "{\"status\":\"ok\"}");
    return;
  }
  if (path == "/metrics") return HandleMetrics(*this, conn);
  // The plugin's node-level endpoints: open like /health (before any key check).
  if (HandlePluginEndpoint(*this, conn)) return;
  if (dispatcher_ != nullptr && dispatcher_->Dispatch(conn)) return;
  conn->SendError(
      {404, "invalid_request_error", "unknown_endpoint",
       absl::StrCat("no route for ", llhttp_method_name(req.method), " ", std::string(path))});
}

void Server::OnConnectionClosed(HttpConnection* conn) {
  if (connections_.erase(conn) != 0) metrics_.ConnectionClosed();
  MaybeDrained();
}

void Server::Drain(uint32_t deadline_ms, std::function<void()> done) {
  if (draining_) return;
  draining_ = true;
  drained_ = std::move(done);
  if (accepting_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    listener_closed_ = true;
    accepting_ = false;
  }
  pool_->CloseIdle();
  // Copy: BeginDrain may close (and erase) connections while we iterate.
  std::vector<HttpConnection*> conns(connections_.begin(), connections_.end());
  for (HttpConnection* c : conns) c->BeginDrain();
  if (!connections_.empty()) {
    LOG_INFO("draining ", connections_.size(), " connection(s), deadline ", deadline_ms, " ms");
    uv_timer_start(
        &drain_timer_,
        [](uv_timer_t* t) {
          auto* self = static_cast<Server*>(t->data);
          LOG_WARN("drain deadline reached; closing ", self->connections_.size(),
                   " connection(s) still busy");
          std::vector<HttpConnection*> rest(self->connections_.begin(), self->connections_.end());
          for (HttpConnection* c : rest) c->Close();
        },
        deadline_ms, 0);
  }
  MaybeDrained();
}

void Server::MaybeDrained() {
  if (!draining_ || !connections_.empty() || !drained_) return;
  auto done = std::move(drained_);
  drained_ = nullptr;
  uv_timer_stop(&drain_timer_);
  done();
}

void Server::Close() {
  if (!listener_closed_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    listener_closed_ = true;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&drain_timer_), nullptr);
  pool_->CloseIdle();
  deleter_->Close();
}

}  // namespace bitrouter::worker
