#pragma once
// What a finished request really cost: its token usage (CallReport::usage)
// priced at the catalog price the snapshot lists for the model that served it
// (shared/usage/cost.h does the arithmetic). One definition for the budget
// stage (settling a reservation) and the usage stage (the usage record).
//
// Unknown is never $0: nullopt when the cost cannot be counted. No usage means
// nothing was spent: 0.
//
// Thread: pure function of its arguments; any thread.

#include <cstdint>
#include <optional>

#include "worker/snapshot/snapshot.h"
#include "worker/stages/call_report.h"

namespace bitrouter::worker {

// A request with usage whose served model has no price in the snapshot (nothing
// served, or its provider or model missing from the catalog):
enum class UnpricedModel {
  // the cost is unknown, whatever the token counts (budget settling);
  kUnknown,
  // each bucket is priced as unknown, so all-zero token counts cost 0 and any
  // token makes the cost unknown (the usage record).
  kPriceEachBucket,
};

// The request's real cost in micro-USD; nullopt when unknown.
std::optional<int64_t> ActualCostMicroUsd(const WorkerSnapshot& snapshot, const CallReport& report,
                                          UnpricedModel unpriced);

}  // namespace bitrouter::worker
