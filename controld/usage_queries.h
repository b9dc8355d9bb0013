#pragma once
// The Admin usage RPCs (bitrouterctl usage / requests) behind the gRPC
// surface: wire request -> store query -> wire response.
//
// Thread: called on a gRPC thread; the store itself is only ever touched
// inside UsageIntake::Run, on the store thread. The conversions run on the
// calling thread, so the store thread is held only for the query.
//
// Errors: InvalidArgument for a malformed request (a status class outside
// 1..5), DeadlineExceeded / Unavailable from the intake, the store's own
// error otherwise.

#include "absl/status/status.h"
#include "bitrouter/v1/control.pb.h"
#include "controld/usage/intake.h"

namespace bitrouter::controld {

// The most rows one ListUsage answers (a record is a few hundred bytes on
// the wire; this keeps an answer well under gRPC's 4 MiB default).
inline constexpr uint32_t kMaxListUsageRows = 2000;
inline constexpr uint32_t kDefaultListUsageRows = 20;

absl::Status SummarizeUsage(UsageIntake& intake, const v1::SummarizeUsageRequest& request,
                            v1::SummarizeUsageResponse* response);

absl::Status ListUsage(UsageIntake& intake, const v1::ListUsageRequest& request,
                       v1::ListUsageResponse* response);

}  // namespace bitrouter::controld
