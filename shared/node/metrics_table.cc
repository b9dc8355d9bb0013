#include "shared/node/metrics_table.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "shared/common/wall_clock.h"
#include "shared/node/health_table.h"

namespace bitrouter::node {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

// Whether `pid` may still be running. A reused pid reads as alive: the slot
// is then left to its (unknown) owner, which costs a slot, never a count.
bool Alive(uint64_t pid) {
  if (pid == 0 || pid > static_cast<uint64_t>(INT32_MAX)) return false;
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

void ResetGauges(MetricsSlot& s) {
  s.active_connections.store(0, kRelaxed);
  s.active_streams.store(0, kRelaxed);
  s.snapshot_version.store(0, kRelaxed);
}

uint64_t SeriesHash(SeriesFamily family, std::string_view key) {
  uint64_t h = HashId(key) ^ (static_cast<uint64_t>(family) * 0x9e3779b97f4a7c15ULL);
  return h == 0 ? 1 : h;
}

// A series this caller claimed: its identity, not yet visible to readers.
void WriteIdentity(MetricSeries& e, SeriesFamily family, uint64_t hash, std::string_view key) {
  e.family.store(static_cast<uint32_t>(family), kRelaxed);
  e.hash.store(hash, kRelaxed);
  e.key_len.store(static_cast<uint32_t>(key.size()), kRelaxed);
  std::memcpy(e.key, key.data(), key.size());
}

void Publish(MetricSeries& e) {
  e.state.store(MetricSeries::kPublished, std::memory_order_release);
}

}  // namespace

void Observe(std::atomic<uint64_t>* buckets, std::atomic<uint64_t>& sum_us, const uint64_t* bounds,
             size_t bound_count, uint64_t value_us) {
  size_t i = 0;
  while (i < bound_count && value_us > bounds[i]) ++i;
  buckets[i].fetch_add(1, kRelaxed);
  sum_us.fetch_add(value_us, kRelaxed);
}

uint32_t LabelCount(SeriesFamily family) {
  switch (family) {
    case SeriesFamily::kRequests:
      return 6;
    case SeriesFamily::kGuardrails:
    case SeriesFamily::kMcpRequests:
    case SeriesFamily::kEndpointRequests:
    case SeriesFamily::kEndpointLatency:
      return 3;
    case SeriesFamily::kAttempts:
    case SeriesFamily::kUsage:
    case SeriesFamily::kMcpLatency:
      return 2;
    case SeriesFamily::kFailovers:
    case SeriesFamily::kUpstreamTtfb:
    case SeriesFamily::kUpstreamLatency:
    case SeriesFamily::kRouteRequests:
    case SeriesFamily::kRouteLatency:
      return 1;
    case SeriesFamily::kNone:
      break;
  }
  return 0;
}

void LabelKey::Add(std::string_view value) {
  if (!ok_ || value.size() > 255 || len_ + 1 + value.size() > sizeof(buf_)) {
    ok_ = false;
    return;
  }
  buf_[len_++] = static_cast<char>(value.size());
  std::memcpy(buf_ + len_, value.data(), value.size());
  len_ += static_cast<uint32_t>(value.size());
}

bool DecodeLabelKey(std::string_view key, std::string_view* values, uint32_t count) {
  size_t at = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (at >= key.size()) return false;
    size_t n = static_cast<unsigned char>(key[at++]);
    if (n > key.size() - at) return false;
    values[i] = key.substr(at, n);
    at += n;
  }
  return at == key.size();
}

MetricsTable::MetricsTable(const NodeShm& shm) {
  TableView slots = shm.Table(TableKind::kMetricSlots, sizeof(MetricsSlot));
  TableView series = shm.Table(TableKind::kMetricSeries, sizeof(MetricSeries));
  TableView index = shm.Table(TableKind::kMetricIndex, sizeof(std::atomic<uint32_t>));
  if (slots.base == nullptr || series.base == nullptr || index.base == nullptr ||
      slots.capacity < 2 || slots.capacity > UINT32_MAX) {
    return;
  }
  const uint64_t per_slot = series.capacity / slots.capacity;
  if (per_slot <= kSeriesFamilies || per_slot > UINT32_MAX / kIndexCellsPerSeries ||
      index.capacity / slots.capacity < per_slot * kIndexCellsPerSeries) {
    return;
  }
  slots_ = static_cast<MetricsSlot*>(slots.base);
  series_ = static_cast<MetricSeries*>(series.base);
  index_ = static_cast<std::atomic<uint32_t>*>(index.base);
  slot_count_ = static_cast<uint32_t>(slots.capacity);
  series_per_slot_ = static_cast<uint32_t>(per_slot);
  index_per_slot_ = static_cast<uint32_t>(per_slot * kIndexCellsPerSeries);
}

MetricsTable::MetricsTable(Owned owned, uint32_t slot_count, uint32_t series_per_slot)
    : owned_(std::move(owned)),
      slots_(owned_.slots.get()),
      series_(owned_.series.get()),
      index_(owned_.index.get()),
      slot_count_(slot_count),
      series_per_slot_(series_per_slot),
      index_per_slot_(series_per_slot * kIndexCellsPerSeries) {}

std::unique_ptr<MetricsTable> MetricsTable::Private(uint32_t worker_slots,
                                                    uint32_t series_per_slot) {
  const uint32_t slots = std::max<uint32_t>(1, worker_slots) + 1;
  const uint32_t per_slot = std::max<uint32_t>(series_per_slot, 2 * kSeriesFamilies);
  const uint64_t series = uint64_t{slots} * per_slot;
  // make_unique value-initialises: every cell starts at 0, like a new region.
  Owned owned{std::make_unique<MetricsSlot[]>(slots), std::make_unique<MetricSeries[]>(series),
              std::make_unique<std::atomic<uint32_t>[]>(series * kIndexCellsPerSeries)};
  auto table = std::unique_ptr<MetricsTable>(new MetricsTable(std::move(owned), slots, per_slot));
  // A private table is its own node: it dates from now.
  table->slot(table->daemon_slot()).node_started_unix_ms.store(static_cast<uint64_t>(UnixMillis()));
  return table;
}

bool MetricsTable::TakeSlot(uint32_t i, uint32_t worker_id, pid_t pid) {
  MetricsSlot& s = slots_[i];
  uint64_t owner = s.owner_pid.load();
  if (owner != 0 && owner != static_cast<uint64_t>(pid) && Alive(owner)) return false;
  if (!s.owner_pid.compare_exchange_strong(owner, static_cast<uint64_t>(pid))) return false;
  // The previous owner is gone, and so are its connections and streams.
  ResetGauges(s);
  s.worker_id.store(worker_id, kRelaxed);
  s.attaches.fetch_add(1, kRelaxed);
  return true;
}

uint32_t MetricsTable::ClaimWorkerSlot(uint32_t worker_id, pid_t pid, bool* shared) {
  *shared = false;
  const uint32_t n = worker_slots();
  const uint32_t preferred = worker_id % n;
  if (TakeSlot(preferred, worker_id, pid)) return preferred;
  for (uint32_t i = 1; i < n; ++i) {
    uint32_t at = (preferred + i) % n;
    if (TakeSlot(at, worker_id, pid)) return at;
  }
  *shared = true;
  return preferred;
}

void MetricsTable::ReleaseAllOf(pid_t pid) {
  for (uint32_t i = 0; i < worker_slots(); ++i) {
    MetricsSlot& s = slots_[i];
    uint64_t owner = static_cast<uint64_t>(pid);
    if (s.owner_pid.load() != owner) continue;
    ResetGauges(s);
    s.owner_pid.compare_exchange_strong(owner, 0);
  }
}

MetricSeries& MetricsTable::Overflow(uint32_t slot, SeriesFamily family) {
  uint32_t f = std::clamp<uint32_t>(static_cast<uint32_t>(family), 1, kSeriesFamilies);
  MetricSeries& e = series_of(slot)[series_per_slot_ - kSeriesFamilies + (f - 1)];
  uint32_t st = e.state.load(std::memory_order_acquire);
  if (st == MetricSeries::kFree &&
      e.state.compare_exchange_strong(st, MetricSeries::kClaiming, std::memory_order_acq_rel)) {
    LabelKey other;
    for (uint32_t i = 0; i < LabelCount(family); ++i) other.Add("other");
    WriteIdentity(e, family, SeriesHash(family, other.bytes()), other.bytes());
    Publish(e);
  }
  // Being published by another writer of this slot: its adds count once it is.
  return e;
}

MetricSeries& MetricsTable::Series(uint32_t slot, SeriesFamily family, const LabelKey& key) {
  MetricsSlot& owner = slots_[slot];
  if (key.ok()) {
    const std::string_view bytes = key.bytes();
    const uint64_t hash = SeriesHash(family, bytes);
    const uint32_t f = static_cast<uint32_t>(family);
    MetricSeries* entries = series_of(slot);
    std::atomic<uint32_t>* index = index_ + static_cast<uint64_t>(slot) * index_per_slot_;
    const uint32_t ordinary = series_per_slot_ - kSeriesFamilies;
    const uint32_t limit = std::min(kMaxProbe, index_per_slot_);
    uint32_t mine = 0;  // 1 + the series this call claimed and has yet to enter
    for (uint32_t i = 0, at = static_cast<uint32_t>(hash % index_per_slot_); i < limit;
         ++i, at = (at + 1) % index_per_slot_) {
      uint32_t cell = index[at].load(std::memory_order_acquire);
      if (cell == 0) {
        if (mine == 0) {
          const uint64_t n = owner.series_claimed.fetch_add(1, kRelaxed);
          if (n >= ordinary) break;  // the slot is full
          mine = static_cast<uint32_t>(n) + 1;
          entries[n].state.store(MetricSeries::kClaiming, kRelaxed);
          WriteIdentity(entries[n], family, hash, bytes);
        }
        // The CAS releases the identity to writers that find it in the
        // index; the state store then releases it to readers.
        if (index[at].compare_exchange_strong(cell, mine, std::memory_order_acq_rel)) {
          Publish(entries[mine - 1]);
          return entries[mine - 1];
        }
        // Another writer of this slot entered a series here first: `cell`
        // is its value; compare it below. If it is our label set, the series
        // we claimed is never published (readers never see it).
      }
      if (cell == 0 || cell > ordinary) continue;
      const MetricSeries& e = entries[cell - 1];
      if (e.hash.load(kRelaxed) == hash && e.family.load(kRelaxed) == f &&
          e.key_len.load(kRelaxed) == bytes.size() &&
          std::memcmp(e.key, bytes.data(), bytes.size()) == 0) {
        return entries[cell - 1];
      }
    }
    // The probe run is full (a series claimed here, if any, is never
    // published).
  }
  owner.series_overflowed.fetch_add(1, kRelaxed);
  return Overflow(slot, family);
}

}  // namespace bitrouter::node
