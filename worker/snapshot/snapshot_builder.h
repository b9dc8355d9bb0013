#pragma once
// Turns a control-plane Snapshot (proto) into the data plane's immutable
// WorkerSnapshot. Runs on the control thread: it may read files (CA bundle).

#include "absl/status/statusor.h"
#include "worker/snapshot/snapshot.h"

namespace bitrouter::v1 {
class Snapshot;
}

namespace bitrouter::worker {

// Errors (bad URL, unreadable CA file) become a NACK; the old snapshot stays.
absl::StatusOr<SnapshotPtr> BuildWorkerSnapshot(const bitrouter::v1::Snapshot& proto);

}  // namespace bitrouter::worker
