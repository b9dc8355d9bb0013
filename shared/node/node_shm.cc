#include "shared/node/node_shm.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"
#include "shared/common/wall_clock.h"
#include "shared/node/health_table.h"
#include "shared/node/key_table.h"
#include "shared/node/metrics_table.h"

namespace bitrouter::node {
namespace {

constexpr uint64_t kAlign = 64;
// Keeps the region's fd clear of 0-9: the supervisor moves the listen socket
// and this fd onto fixed low numbers in the child and must not clobber one
// with the other.
constexpr int kMinFd = 10;

uint64_t AlignUp(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<NodeShm>> NodeShm::Create(const NodeShmSpec& spec) {
  struct Want {
    TableKind kind;
    uint32_t entry_size;
    uint64_t capacity;
  };
  const uint64_t metric_slots =
      spec.metrics_worker_slots == 0 ? 0 : uint64_t{spec.metrics_worker_slots} + 1;
  if (metric_slots != 0 && spec.metrics_series_per_slot <= kSeriesFamilies) {
    return absl::InvalidArgumentError(
        absl::StrCat("node region: metrics_series_per_slot must exceed ", kSeriesFamilies));
  }
  const Want all[] = {
      {TableKind::kEndpointHealth, sizeof(HealthSlot), spec.health_slots},
      {TableKind::kMetricSlots, sizeof(MetricsSlot), metric_slots},
      {TableKind::kMetricSeries, sizeof(MetricSeries), metric_slots * spec.metrics_series_per_slot},
      {TableKind::kMetricIndex, sizeof(std::atomic<uint32_t>),
       metric_slots * spec.metrics_series_per_slot * kIndexCellsPerSeries},
      {TableKind::kKeyLimits, sizeof(KeySlot), spec.key_slots},
  };
  Want wants[std::size(all)];
  size_t count = 0;
  for (const Want& w : all) {
    if (w.capacity != 0) wants[count++] = w;
  }
  uint64_t offset = AlignUp(sizeof(NodeShmHeader));
  uint64_t offsets[std::size(all)];
  for (size_t i = 0; i < count; ++i) {
    offsets[i] = offset;
    offset = AlignUp(offset + wants[i].entry_size * wants[i].capacity);
  }
  const uint64_t size = offset;

  int raw = memfd_create("bitrouter-node", MFD_CLOEXEC);
  if (raw < 0) return Errno("memfd_create(node region)");
  int fd = fcntl(raw, F_DUPFD_CLOEXEC, kMinFd);
  close(raw);
  if (fd < 0) return Errno("fcntl(F_DUPFD_CLOEXEC)");
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    absl::Status s = Errno("ftruncate(node region)");
    close(fd);
    return s;
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    absl::Status s = Errno("mmap(node region)");
    close(fd);
    return s;
  }
  // The memory is zeroed; constructing the atomics in place makes their
  // lifetime begin here (no other process maps the region yet).
  auto* h = new (base) NodeShmHeader();
  h->layout_version.store(kNodeShmLayoutVersion);
  h->total_size.store(size);
  h->table_count.store(static_cast<uint32_t>(count));
  for (size_t i = 0; i < count; ++i) {
    TableDesc& t = h->tables[i];
    t.kind.store(static_cast<uint32_t>(wants[i].kind));
    t.entry_size.store(wants[i].entry_size);
    t.offset.store(offsets[i]);
    t.capacity.store(wants[i].capacity);
    if (wants[i].kind == TableKind::kEndpointHealth) {
      auto* slots = reinterpret_cast<HealthSlot*>(static_cast<char*>(base) + offsets[i]);
      for (uint64_t j = 0; j < wants[i].capacity; ++j) new (&slots[j]) HealthSlot();
    } else if (wants[i].kind == TableKind::kMetricSlots) {
      auto* slots = reinterpret_cast<MetricsSlot*>(static_cast<char*>(base) + offsets[i]);
      for (uint64_t j = 0; j < wants[i].capacity; ++j) new (&slots[j]) MetricsSlot();
      // The daemon's slot (the last) dates the node: /v1/metrics' uptime.
      if (wants[i].capacity > 0) {
        slots[wants[i].capacity - 1].node_started_unix_ms.store(
            static_cast<uint64_t>(UnixMillis()));
      }
    }
    // Metric series and index cells are left as the zero pages they are (a
    // valid, empty entry, as every attaching process sees them):
    // constructing them would touch, and so back, every page of tables that
    // stay mostly unused.
  }
  h->magic.store(kNodeShmMagic);
  return std::unique_ptr<NodeShm>(new NodeShm(base, size, fd));
}

absl::StatusOr<std::unique_ptr<NodeShm>> NodeShm::Attach(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    absl::Status s = Errno(absl::StrCat("fstat(node region fd ", fd, ")"));
    close(fd);
    return s;
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < sizeof(NodeShmHeader)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat("node region fd ", fd, " is too small"));
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);  // the mapping keeps the memory alive
  if (base == MAP_FAILED) return Errno("mmap(node region)");
  std::unique_ptr<NodeShm> shm(new NodeShm(base, size, -1));
  const NodeShmHeader* h = shm->header();
  if (h->magic.load() != kNodeShmMagic) {
    return absl::InvalidArgumentError("node region: bad magic");
  }
  if (h->layout_version.load() != kNodeShmLayoutVersion) {
    return absl::InvalidArgumentError(absl::StrCat("node region: layout version ",
                                                   h->layout_version.load(), ", expected ",
                                                   kNodeShmLayoutVersion));
  }
  if (h->total_size.load() != size || h->table_count.load() > kMaxTables) {
    return absl::InvalidArgumentError("node region: header does not match its size");
  }
  for (uint32_t i = 0; i < h->table_count.load(); ++i) {
    const TableDesc& t = h->tables[i];
    uint64_t offset = t.offset.load(), capacity = t.capacity.load();
    uint64_t entry = t.entry_size.load();
    if (offset % kAlign != 0 || offset < sizeof(NodeShmHeader) || offset > size || entry == 0 ||
        capacity > (size - offset) / entry) {
      return absl::InvalidArgumentError(absl::StrCat("node region: table ", i, " out of bounds"));
    }
  }
  return shm;
}

NodeShm::~NodeShm() {
  munmap(base_, size_);
  if (fd_ >= 0) close(fd_);
}

TableView NodeShm::Table(TableKind kind, uint32_t entry_size) const {
  const NodeShmHeader* h = header();
  for (uint32_t i = 0; i < h->table_count.load() && i < kMaxTables; ++i) {
    const TableDesc& t = h->tables[i];
    if (t.kind.load() != static_cast<uint32_t>(kind)) continue;
    if (t.entry_size.load() != entry_size) return {};
    return {static_cast<char*>(base_) + t.offset.load(), t.capacity.load()};
  }
  return {};
}

void NodeShm::ReleaseClaimsOf(pid_t pid) const {
  TableView health = Table(TableKind::kEndpointHealth, sizeof(HealthSlot));
  if (health.base != nullptr) HealthTable(health).ReleaseAllOf(pid);
  if (MetricsTable metrics(*this); metrics.valid()) metrics.ReleaseAllOf(pid);
}

}  // namespace bitrouter::node
