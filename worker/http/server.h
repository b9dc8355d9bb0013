#pragma once
// The worker's HTTP server: accepts on the listen fd inherited from
// bitrouterd, owns the client connections, the upstream pool, the endpoint
// health view, the metrics writer and the current snapshot, answers its own
// endpoints (/, /health and /metrics) and hands every other request to the
// RequestDispatcher that the proxy room registers; drains on shutdown. Loop
// thread only.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include <unordered_map>

#include "absl/status/status.h"
#include "shared/node/key_table.h"
#include "shared/node/metrics.h"
#include "shared/routing/health.h"
#include "worker/snapshot/snapshot.h"

namespace bitrouter::worker {

class DeferredDeleter;
class HttpConnection;
class UpstreamPool;

// Who answers the requests that are not the server's own: registered once
// at start-up (worker/proxy/dispatch.h), so this room never includes the
// rooms above it.
class UsageOutbox;

class RequestDispatcher {
 public:
  virtual ~RequestDispatcher() = default;
  // True when the request was taken (answered or in progress); false lets
  // the server answer 404.
  virtual bool Dispatch(HttpConnection* conn) = 0;
};

class Server {
 public:
  Server(uv_loop_t* loop, int listen_fd, uint32_t worker_id);
  ~Server();

  uv_loop_t* loop() const { return loop_; }
  const SnapshotPtr& snapshot() const { return snapshot_; }
  // Swaps the snapshot; requests already admitted keep the one they took.
  // Health state (breaker, Retry-After windows) of endpoints whose provider
  // definition changed is forgotten: it described another upstream.
  void SetSnapshot(SnapshotPtr snapshot);
  // Runtime routing state (outside snapshots, keyed by stable ids/names).
  routing::EndpointHealth& health() { return health_; }
  // This worker's metrics slot (private until main attaches it to the node
  // region); /metrics renders the whole table.
  node::WorkerMetrics& metrics() { return metrics_; }
  // Per-key rate limits and budget reservations: the node's shared table
  // once main attached it (UseSharedKeys), else a private one.
  node::KeyTable& keys() { return *keys_; }
  void UseSharedKeys(node::TableView view) {
    auto shared = std::make_unique<node::KeyTable>(view);
    if (shared->valid()) keys_ = std::move(shared);
  }
  uint64_t NextCounter(const std::string& route) { return counters_[route]++; }
  absl::Status StartAccepting();
  bool accepting() const { return accepting_; }

  // Stops accepting, closes idle connections, lets busy ones finish; after
  // `deadline_ms` the rest are closed. `done` runs once all are gone.
  void Drain(uint32_t deadline_ms, std::function<void()> done);
  // Closes the server's own handles; call after Drain completed.
  void Close();

  DeferredDeleter& deleter() { return *deleter_; }
  UpstreamPool& pool() { return *pool_; }
  std::string NextRequestId();
  uint32_t worker_id() const { return worker_id_; }
  size_t connection_count() const { return connections_.size(); }

  void SetDispatcher(RequestDispatcher* dispatcher) { dispatcher_ = dispatcher; }
  // Where usage records go (null: none are kept, e.g. a test server).
  void SetUsageOutbox(UsageOutbox* outbox) { usage_outbox_ = outbox; }
  UsageOutbox* usage_outbox() const { return usage_outbox_; }
  void HandleRequest(HttpConnection* conn);
  void OnConnectionClosed(HttpConnection* conn);

 private:
  static void OnConnection(uv_stream_t* listener, int status);
  void MaybeDrained();

  uv_loop_t* loop_;
  int listen_fd_;
  uint32_t worker_id_;
  uv_tcp_t listener_;
  uv_timer_t drain_timer_;
  bool accepting_ = false;
  bool draining_ = false;
  bool listener_closed_ = false;
  std::function<void()> drained_;
  SnapshotPtr snapshot_;
  std::set<HttpConnection*> connections_;
  DeferredDeleter* deleter_;  // self-deleting handle owner
  std::unique_ptr<UpstreamPool> pool_;
  uint64_t request_counter_ = 0;
  routing::EndpointHealth health_;
  node::WorkerMetrics metrics_;
  std::unique_ptr<node::KeyTable> keys_ = node::KeyTable::Private(1024);
  std::unordered_map<std::string, uint64_t> counters_;
  std::string id_prefix_;
  RequestDispatcher* dispatcher_ = nullptr;  // not owned; outlives the server
  UsageOutbox* usage_outbox_ = nullptr;      // not owned; outlives the server
};

}  // namespace bitrouter::worker
