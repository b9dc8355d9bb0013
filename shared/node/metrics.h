#pragma once
// The writer side of the node's metrics (metrics_table.h): a worker's
// WorkerMetrics and bitrouterd's DaemonMetrics, each a view onto its own
// slot of the node region's metrics table, or onto a process-private table
// when there is no region (unit tests; region creation failed), so every
// call is always valid.
//
// Cost: no allocation and no lock on any call. Recording a sample looks its
// series up by a hash of its label values in the slot's open-addressing
// table (claimed on first use, then found), and adds with relaxed atomics.
//
// Label values (the caller's contract): configured names from the snapshot
// (routes, providers, catalog models), protocol names and fixed outcome
// words, never raw client input. The table still bounds cardinality: label
// sets beyond a slot's capacity are counted under labels "other".

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "shared/node/metrics_table.h"
#include "shared/node/node_shm.h"

namespace bitrouter::node {

// One upstream attempt of a request.
struct AttemptSample {
  std::string_view provider;  // "" -> "none"
  // "ok", "status_4xx", "status_5xx", "rate_limited", "timeout", "connect",
  // "tls", "reset", "invalid_body", "skipped", "context_length" ("" -> "unknown").
  std::string_view outcome;
};

// One endpoint a request tried (skipped ones excluded), for the per-route view.
struct EndpointSample {
  std::string_view provider;
  std::string_view model;  // a catalog id, or "other"
  bool error = false;      // the attempt failed (or the served answer was >= 400)
  int64_t latency_us = 0;  // request sent -> outcome
};

// One finished request, as the client saw it.
struct RequestSample {
  std::string_view client_protocol;  // "chat" | "responses" | "messages" | "gemini"
  std::string_view route;            // configured route / virtual model; "" -> "direct"
  std::string_view provider;         // the provider that served; "" = none served ("none")
  std::string_view model;            // the serving upstream model id; "" -> "none"
  int status = 0;                    // the HTTP status the client got (label: the exact code)
  bool streamed = false;
  std::span<const AttemptSample> attempts;
  int failovers = 0;  // attempts beyond the first that were actually tried
  // The serving attempt: request sent -> first byte; nullopt = none.
  std::optional<int64_t> upstream_ttfb_us;
  int64_t upstream_latency_us = 0;  // the serving attempt, total
  int64_t overhead_us = 0;          // time in the router, upstream waits excluded
  int64_t prompt_tokens = 0, completion_tokens = 0, reasoning_tokens = 0, cache_read_tokens = 0,
          cache_write_tokens = 0;
  std::optional<int64_t> cost_micro_usd;  // nullopt = unknown (counted apart, never as $0)
  // The per-route view (kRouteRequests and kin), for requests that were
  // routed: the name as requested when it is a configured route or resolves
  // to a catalog model, else "other" ("" = not routed: nothing recorded).
  std::string_view requested;
  std::span<const EndpointSample> endpoints;
  int64_t total_latency_us = 0;  // as the client saw it
  bool tokens_counted = false;   // prompt/completion tokens above are the request's
  int64_t finished_unix_s = 0;
};

// One per worker process. Any thread (everything is atomic), meant for the
// loop thread. Lives as long as the process's server; the region (when
// shared) must outlive it.
class WorkerMetrics {
 public:
  // A process-private table until UseShared.
  WorkerMetrics();
  ~WorkerMetrics();
  WorkerMetrics(const WorkerMetrics&) = delete;
  WorkerMetrics& operator=(const WorkerMetrics&) = delete;

  // Switches to the node region's table, in the slot ClaimWorkerSlot gives
  // `worker_id` (its own slot after a restart: its counters keep adding;
  // its gauges restart at 0). Call before serving: what was recorded in the
  // private table is not carried over. `self` is the calling process (0 =
  // getpid(); tests pass fake pids). False, and still private, when the
  // region has no metrics table.
  bool UseShared(const NodeShm& shm, uint32_t worker_id, pid_t self = 0);
  bool shared() const { return private_ == nullptr; }
  // True when every slot had a live owner and this process shares its slot
  // (counts stay exact; gauges are no longer reset for it).
  bool slot_shared() const { return slot_shared_; }
  uint32_t slot() const { return slot_; }
  // The whole table (every worker's slot and bitrouterd's): what /metrics renders.
  const MetricsTable& table() const { return *table_; }

  // A request finished (success or failure): one call per request.
  void RecordRequest(const RequestSample& s);
  // Gauges.
  void ConnectionOpened();
  void ConnectionClosed();
  void StreamStarted();  // a streamed response to a client began
  void StreamEnded();
  void SetSnapshotVersion(uint64_t version);
  // Usage records the bounded queue refused (counter).
  void UsageRecordsDropped(uint64_t n);
  // One guardrail match: the pattern's configured name, "upgoing" or
  // "downgoing", and what it did ("warn", "redact", "block").
  void GuardrailMatch(std::string_view pattern, std::string_view direction,
                      std::string_view action);
  // One MCP request the gateway relayed: the configured server id (or
  // "aggregate" / a virtual tool's server), the JSON-RPC method from the
  // relayed set, its outcome ("ok", "tool_error", "rpc_error", "timeout",
  // "failed", "cancelled") and how long it took.
  void McpRequest(std::string_view server, std::string_view method, std::string_view outcome,
                  int64_t latency_us);

 private:
  MetricsSlot& slot_state() const { return table_->slot(slot_); }
  void RecordRoute(const RequestSample& s);
  void Add(SeriesFamily family, const LabelKey& key, uint32_t value, uint64_t n);

  std::unique_ptr<MetricsTable> private_;
  std::unique_ptr<MetricsTable> shared_;
  MetricsTable* table_;
  uint32_t slot_ = 0;
  bool slot_shared_ = false;
};

// bitrouterd's writer: its own slot (the table's last). Any thread.
class DaemonMetrics {
 public:
  // The region's table; a private one when `shm` is null or has none.
  explicit DaemonMetrics(const NodeShm* shm);
  ~DaemonMetrics();
  DaemonMetrics(const DaemonMetrics&) = delete;
  DaemonMetrics& operator=(const DaemonMetrics&) = delete;

  bool shared() const { return private_ == nullptr; }
  const MetricsTable& table() const { return *table_; }

  // One store write (a batched transaction): its outcome, the rows it wrote
  // (counted when ok) and how long it took.
  void StoreWrite(bool ok, int64_t rows, int64_t latency_us);
  // The store's health (status shows the same): up or not, and the usage
  // records waiting for it.
  void StoreHealth(bool up, uint64_t queued_records);

 private:
  std::unique_ptr<MetricsTable> private_;
  std::unique_ptr<MetricsTable> shared_;
  MetricsTable* table_;
};

}  // namespace bitrouter::node
