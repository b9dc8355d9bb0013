#pragma once
// The node's metrics: per-process counters in the node region, summed by
// whichever process renders /metrics (shared/node/metrics_render.h). Three
// tables:
//
//   kMetricSlots   one MetricsSlot per worker slot plus one for bitrouterd
//                  (the last): owner, gauges, the unlabeled counters and
//                  histograms, and how many series the slot has claimed.
//   kMetricSeries  `series_per_slot` MetricSeries per slot, in slot order:
//                  labeled series (a family and its label values, inline).
//   kMetricIndex   2 x `series_per_slot` cells per slot: an open-addressing
//                  index (linear probing, at most kMaxProbe cells) from a
//                  hash of family + label values to 1 + the series' index.
//
// Writers: a process writes only to the slot it claimed (ClaimWorkerSlot, or
// the daemon slot), with relaxed atomic adds; readers sum every slot at
// scrape time. Adds and claims are atomic read-modify-writes, so processes
// sharing a slot (more live workers than slots) still count exactly; only
// the gauges lose their reset on attach.
//
// Series are handed out in order (a bump counter per slot), so a reader
// scans only the claimed prefix and the sparse table's untouched pages stay
// unbacked. The last kSeriesFamilies series of a slot are its overflow
// series, one per family, with every label "other": a label set that gets
// no series (the slot is full, its probe run is, or its values do not fit
// kSeriesKeyBytes) is counted there. The count is never dropped and the
// cardinality never exceeds the slot's capacity.
//
// Publication: a series' family, hash and key bytes are written, it is
// entered in the index (a CAS with release: writers that find it there see
// its identity), then its `state` is stored kPublished with release. A
// reader acquires `state` and reads nothing of a series that is not
// published. Nothing is ever given back: counters are monotonic for the
// region's life (a restarted worker keeps adding to its slot).

#include <sys/types.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "shared/node/node_shm.h"

namespace bitrouter::node {

// Histogram bucket upper bounds, in microseconds (exact; rendered as seconds).
inline constexpr std::array<uint64_t, 13> kOverheadBoundsUs = {
    10, 25, 50, 100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000};
inline constexpr std::array<uint64_t, 12> kUpstreamBoundsUs = {
    50'000,    100'000,    250'000,    500'000,    1'000'000,   2'500'000,
    5'000'000, 10'000'000, 30'000'000, 60'000'000, 120'000'000, 300'000'000};
inline constexpr std::array<uint64_t, 16> kStoreWriteBoundsUs = {
    100,    250,     500,     1'000,   2'500,     5'000,     10'000,    25'000,
    50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};

// A histogram's cells: one non-cumulative count per finite bucket, then the
// count above the last bound, then the sum in microseconds. The total count
// is the sum of the buckets, so a render is always self-consistent
// (+Inf == _count) even when it races with a writer.
template <size_t kBounds>
struct HistogramCells {
  std::atomic<uint64_t> buckets[kBounds + 1];
  std::atomic<uint64_t> sum_us;
};

// Adds one observation: the first bucket whose bound is >= `value_us` (or
// the one above the last bound) and the sum. `buckets` holds
// `bound_count + 1` cells.
void Observe(std::atomic<uint64_t>* buckets, std::atomic<uint64_t>& sum_us, const uint64_t* bounds,
             size_t bound_count, uint64_t value_us);
template <size_t kBounds>
void Observe(HistogramCells<kBounds>& cells, const std::array<uint64_t, kBounds>& bounds,
             uint64_t value_us) {
  Observe(cells.buckets, cells.sum_us, bounds.data(), kBounds, value_us);
}

struct alignas(64) MetricsSlot {
  std::atomic<uint64_t> owner_pid;  // the live process writing here; 0 = none
  std::atomic<uint64_t> worker_id;  // the owner's --worker-id (labels)
  std::atomic<uint64_t> attaches;   // processes that claimed the slot so far
  // Gauges: reset when a new process claims the slot or bitrouterd reaps
  // its owner (the old process's connections are gone).
  std::atomic<int64_t> active_connections;
  std::atomic<int64_t> active_streams;
  std::atomic<uint64_t> snapshot_version;
  std::atomic<uint64_t> series_claimed;  // series handed out (may exceed the capacity)
  // Counters.
  std::atomic<uint64_t> usage_records_dropped;
  std::atomic<uint64_t> series_overflowed;  // samples counted in an "other" series
  HistogramCells<kOverheadBoundsUs.size()> overhead;
  // bitrouterd's slot only.
  HistogramCells<kStoreWriteBoundsUs.size()> store_write;
  std::atomic<uint64_t> store_write_errors;
  std::atomic<uint64_t> store_rows_written;
  std::atomic<uint64_t> store_down;            // 1 while the store fails (0 = up)
  std::atomic<uint64_t> store_queued_records;  // usage records waiting for the store
  // When bitrouterd created the node region (unix ms): the node's uptime,
  // whichever worker answers.
  std::atomic<uint64_t> node_started_unix_ms;
};

enum class SeriesFamily : uint32_t {
  kNone = 0,
  kRequests = 1,         // client_protocol, route, provider, model, status, streamed: [count]
  kAttempts = 2,         // provider, outcome: [count]
  kFailovers = 3,        // route: [count]
  kUsage = 4,            // provider, model: UsageValue
  kUpstreamTtfb = 5,     // provider: histogram over kUpstreamBoundsUs
  kUpstreamLatency = 6,  // provider: histogram over kUpstreamBoundsUs
  kGuardrails = 7,       // pattern, direction, action: [count]
  kMcpRequests = 8,      // server, method, outcome: [count]
  kMcpLatency = 9,       // server, method: histogram over kUpstreamBoundsUs
  // Per route as the client asked for it (GET /v1/metrics, the OpenClaw
  // plugin's view): the model name as requested, and each endpoint tried.
  kRouteRequests = 10,     // requested: RouteValue
  kRouteLatency = 11,      // requested: histogram over kUpstreamBoundsUs (client-seen total)
  kEndpointRequests = 12,  // requested, provider, model: RouteValue (count and errors only)
  kEndpointLatency = 13,   // requested, provider, model: histogram over kUpstreamBoundsUs
};
inline constexpr uint32_t kSeriesFamilies = 13;
// How many label values a family's key holds.
uint32_t LabelCount(SeriesFamily family);

// Value cells of a kUsage series.
enum UsageValue : uint32_t {
  kPromptTokens = 0,
  kCompletionTokens,
  kReasoningTokens,
  kCacheReadTokens,
  kCacheWriteTokens,
  kCostMicroUsd,
  kCostUnknown,
};

// Value cells of a kRouteRequests / kEndpointRequests series.
enum RouteValue : uint32_t {
  kRouteCount = 0,
  kRouteErrors,            // the client got a status >= 400 (endpoint: the attempt failed)
  kRoutePromptTokens,      // route only
  kRouteCompletionTokens,  // route only
  kRouteTokenSamples,      // route only: requests whose tokens were counted
  kRouteLastUsedUnixS,     // route only: the latest finish, unix seconds (a max, not a sum)
};

inline constexpr size_t kSeriesKeyBytes = 184;
inline constexpr uint32_t kIndexCellsPerSeries = 2;  // the index stays at most half full
inline constexpr size_t kSeriesValues = 14;          // a histogram over kUpstreamBoundsUs needs 14
static_assert(kSeriesValues >= kUpstreamBoundsUs.size() + 2);

struct alignas(64) MetricSeries {
  // kClaiming: an overflow series being published by one writer of its slot.
  static constexpr uint32_t kFree = 0, kClaiming = 1, kPublished = 2;
  std::atomic<uint32_t> state;
  std::atomic<uint32_t> family;  // SeriesFamily
  std::atomic<uint64_t> hash;
  std::atomic<uint32_t> key_len;
  uint32_t padding;
  // The label values, each as one length byte and its bytes. Plain bytes:
  // written before `state` is published (release), read after it is seen
  // published (acquire).
  char key[kSeriesKeyBytes];
  std::atomic<uint64_t> values[kSeriesValues];
};
static_assert(sizeof(MetricSeries) == 320);

// The encoded label values of one series, built on the stack (no
// allocation). `ok()` is false when the values do not fit: the caller then
// counts the sample in the family's overflow series.
class LabelKey {
 public:
  void Add(std::string_view value);
  bool ok() const { return ok_; }
  std::string_view bytes() const { return {buf_, len_}; }

 private:
  char buf_[kSeriesKeyBytes];
  uint32_t len_ = 0;
  bool ok_ = true;
};

// Splits an encoded key into its label values; false if it is malformed.
bool DecodeLabelKey(std::string_view key, std::string_view* values, uint32_t count);

class MetricsTable {
 public:
  static constexpr uint32_t kMaxProbe = 64;

  // A view of the node region's tables (which must outlive it); invalid if
  // the region has none.
  explicit MetricsTable(const NodeShm& shm);
  // A process-local table: `worker_slots` worker slots and the daemon's
  // (tests; a process started without a node region).
  static std::unique_ptr<MetricsTable> Private(uint32_t worker_slots, uint32_t series_per_slot);

  bool valid() const { return slots_ != nullptr; }
  uint32_t worker_slots() const { return slot_count_ - 1; }
  uint32_t daemon_slot() const { return slot_count_ - 1; }
  uint32_t slot_count() const { return slot_count_; }
  uint32_t series_per_slot() const { return series_per_slot_; }
  MetricsSlot& slot(uint32_t i) const { return slots_[i]; }
  MetricSeries* series_of(uint32_t slot) const {
    return series_ + static_cast<uint64_t>(slot) * series_per_slot_;
  }
  // Calls `fn(const MetricSeries&)` for each published series of `slot`
  // (acquired: its identity may be read), overflow series included.
  template <typename Fn>
  void ForEachSeries(uint32_t slot, Fn fn) const {
    const MetricSeries* entries = series_of(slot);
    const uint64_t ordinary = series_per_slot_ - kSeriesFamilies;
    const uint64_t claimed = std::min(slots_[slot].series_claimed.load(), ordinary);
    for (uint64_t i = 0; i < series_per_slot_; ++i) {
      if (i == claimed) i = ordinary;  // skip the never-claimed middle
      if (entries[i].state.load(std::memory_order_acquire) == MetricSeries::kPublished) {
        fn(entries[i]);
      }
    }
  }

  // Claims a worker slot for process `pid`: slot `worker_id % worker_slots`
  // when it is free or its owner is dead (a restarted worker thus keeps its
  // counters' slot), else any such slot. The new owner's gauges start at 0.
  // When every slot has a live owner, returns the preferred slot shared
  // (its gauges are left alone) and sets *shared.
  uint32_t ClaimWorkerSlot(uint32_t worker_id, pid_t pid, bool* shared);
  // A process died (bitrouterd reaped it): the slots it owned lose their
  // owner and their gauges.
  void ReleaseAllOf(pid_t pid);

  // The series of `family` with `key` in `slot`: found, claimed, or the
  // family's overflow series. Never null on a valid table.
  MetricSeries& Series(uint32_t slot, SeriesFamily family, const LabelKey& key);

 private:
  struct Owned {
    std::unique_ptr<MetricsSlot[]> slots;
    std::unique_ptr<MetricSeries[]> series;
    std::unique_ptr<std::atomic<uint32_t>[]> index;
  };
  MetricsTable(Owned owned, uint32_t slot_count, uint32_t series_per_slot);
  MetricSeries& Overflow(uint32_t slot, SeriesFamily family);
  bool TakeSlot(uint32_t i, uint32_t worker_id, pid_t pid);

  Owned owned_;
  MetricsSlot* slots_ = nullptr;
  MetricSeries* series_ = nullptr;
  std::atomic<uint32_t>* index_ = nullptr;
  uint32_t slot_count_ = 0;
  uint32_t series_per_slot_ = 0;
  uint32_t index_per_slot_ = 0;
};

}  // namespace bitrouter::node
