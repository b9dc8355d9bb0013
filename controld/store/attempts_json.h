#pragma once
// UsageRecord::attempts as one JSON text column: attempts are only ever read
// back with their request, and the same text goes into a PostgreSQL jsonb
// column later, so both backends share this codec.
//
// Format: [{"endpoint":"p/m","status":200,"failure":"","latency_us":123}, ...]
// Thread: pure functions; any thread.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "controld/store/usage_store.h"

namespace bitrouter::store {

std::string AttemptsToJson(const std::vector<UsageAttempt>& attempts);

// DataLossError when the stored text is not what AttemptsToJson writes.
absl::StatusOr<std::vector<UsageAttempt>> AttemptsFromJson(std::string_view json);

}  // namespace bitrouter::store
