#pragma once
// Wire (bitrouter.v1.UsageRecord, as workers send it) <-> store record.
// Pure functions; any thread.

#include "bitrouter/v1/control.pb.h"
#include "controld/store/usage_store.h"

namespace bitrouter::controld {

store::UsageRecord FromWire(const v1::UsageRecord& in);
void ToWire(const store::UsageRecord& in, v1::UsageRecord* out);

}  // namespace bitrouter::controld
