#pragma once
// The node region: one shared-memory block that bitrouterd creates at start
// and every worker maps, for state that must exist once per node rather than
// once per worker (circuit breakers and Retry-After windows, the metrics
// every worker renders, each virtual key's rate limits and budget
// reservations).
//
// Layout: a header (magic, layout version, total size, a directory of
// tables by kind with offset/entry size/capacity), then the tables, each
// 64-byte aligned. Everything in the region is a lock-free std::atomic: no
// pointers (each process maps it at its own address) and no locks (a worker
// that dies mid-update must not leave anything held). A region is created
// zeroed; a table's zero state must therefore mean "empty".
//
// Lifetime: the memfd lives as long as some process holds the fd or a
// mapping; bitrouterd keeps it for its whole run, so the state survives
// worker crashes and restarts and vanishes with the node. Thread safety: the
// tables are safe across processes and threads; NodeShm itself is immutable
// after Create/Attach.

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

namespace bitrouter::node {

static_assert(std::atomic<uint64_t>::is_always_lock_free, "node tables need lock-free 64-bit");
static_assert(std::atomic<uint32_t>::is_always_lock_free, "node tables need lock-free 32-bit");
static_assert(sizeof(std::atomic<uint64_t>) == 8 && sizeof(std::atomic<uint32_t>) == 4);

inline constexpr uint64_t kNodeShmMagic = 0x3130'4544'4f4e'5242ULL;  // "BRNODE01"
// Bump when a table's entry layout or meaning changes: a worker never maps a
// region of another layout (bitrouterd and its workers come from one install).
inline constexpr uint32_t kNodeShmLayoutVersion = 4;
inline constexpr uint32_t kMaxTables = 16;

enum class TableKind : uint32_t {
  kNone = 0,
  kEndpointHealth = 1,  // node::HealthSlot, see health_table.h
  kMetricSlots = 2,     // node::MetricsSlot, see metrics_table.h
  kMetricSeries = 3,    // node::MetricSeries, see metrics_table.h
  kMetricIndex = 4,     // std::atomic<uint32_t>, see metrics_table.h
  kKeyLimits = 5,       // node::KeySlot, see key_table.h
};

struct TableDesc {
  std::atomic<uint32_t> kind;
  std::atomic<uint32_t> entry_size;
  std::atomic<uint64_t> offset;    // from the start of the region, 64-byte aligned
  std::atomic<uint64_t> capacity;  // entries
};

struct NodeShmHeader {
  std::atomic<uint64_t> magic;  // written last by the creator
  std::atomic<uint32_t> layout_version;
  std::atomic<uint32_t> table_count;
  std::atomic<uint64_t> total_size;
  TableDesc tables[kMaxTables];
};

// The tables a region holds and their capacities (the creator's choice; an
// attaching process reads them back from the header).
struct NodeShmSpec {
  uint64_t health_slots = 4096;
  // Metrics: one slot per worker (a worker claims slot worker_id % this;
  // see metrics_table.h) plus one for bitrouterd, each with room for this
  // many labeled series. 0 worker slots = no metrics tables. The series
  // table is large but sparse: only the pages a process writes are backed.
  uint32_t metrics_worker_slots = 64;
  uint32_t metrics_series_per_slot = 1024;
  // Virtual keys with limits or a budget (64 bytes each, sparse): a key's
  // slot is assigned once per bitrouterd run and never reused.
  uint64_t key_slots = 65536;
};

// One table inside a mapped region: `capacity` entries of the caller's type
// starting at `base` (aligned to 64 bytes).
struct TableView {
  void* base = nullptr;
  uint64_t capacity = 0;
};

class NodeShm {
 public:
  // bitrouterd: creates a zeroed memfd region (close-on-exec; the supervisor
  // hands it to each worker at a fixed fd) and lays out the tables.
  static absl::StatusOr<std::unique_ptr<NodeShm>> Create(const NodeShmSpec& spec = {});
  // A worker: maps the region behind an inherited fd and checks its header.
  // Takes ownership of `fd` (closed here: the mapping keeps the region).
  static absl::StatusOr<std::unique_ptr<NodeShm>> Attach(int fd);

  ~NodeShm();
  NodeShm(const NodeShm&) = delete;
  NodeShm& operator=(const NodeShm&) = delete;

  // The creator's fd (to pass to children); -1 in an attached region.
  int fd() const { return fd_; }
  size_t size() const { return size_; }
  // The table of `kind` whose entries are `entry_size` bytes; empty if the
  // region has none (or one of another entry size).
  TableView Table(TableKind kind, uint32_t entry_size) const;
  // A worker died (bitrouterd reaped `pid`): releases every claim it held in
  // any table (half-open probe slots; its metrics slot, whose gauges drop to
  // 0), so none waits for a lease to expire. Safe at reap time: a pid is not
  // reused before it is reaped.
  void ReleaseClaimsOf(pid_t pid) const;

 private:
  NodeShm(void* base, size_t size, int fd) : base_(base), size_(size), fd_(fd) {}
  NodeShmHeader* header() const { return static_cast<NodeShmHeader*>(base_); }

  void* base_;
  size_t size_;
  int fd_;
};

}  // namespace bitrouter::node
