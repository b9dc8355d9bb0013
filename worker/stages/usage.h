#pragma once
// The usage stage (response side): when a request ends, however it ended,
// turns the router's CallReport into one usage record (tokens, cost from
// the snapshot's catalog prices, attempts, timings) and hands it to the
// worker's bounded outbox, which never blocks (worker/usage/outbox.h).
//
// Cost: nullopt (unknown, never $0) when a bucket with tokens has no known
// price, including a model outside its provider's catalog.

#include <string_view>

#include "shared/node/metrics.h"
#include "shared/usage/usage_record.h"
#include "worker/stages/stage.h"

namespace bitrouter::worker {

class UsageStage final : public Stage {
 public:
  std::string_view name() const override { return "usage"; }
  unsigned sides() const override { return kResponse; }
  void OnResponseEnd(StageResponse& resp, bool ok) override;
};

// (With server.metering: false the stage does nothing: the router skips the
// usage bookkeeping too. Only for measuring what metering costs.)

// The record for a request the router never took (answered by an earlier
// stage, e.g. an unknown model): tokens none, no attempts.
void RecordUnrouted(Server& server, const InboundRequest& request, const InboundCall& call,
                    int status, int64_t latency_us);

// The request's counters in /metrics (the same facts as its record).
void RecordMetrics(node::WorkerMetrics& metrics, const WorkerSnapshot& snapshot,
                   const CallReport& report, const usage::UsageRecord& record);

// The record a report makes (separate for tests).
usage::UsageRecord BuildUsageRecord(const InboundRequest& request, const InboundCall& call,
                                    const WorkerSnapshot& snapshot, const CallReport& report);

}  // namespace bitrouter::worker
