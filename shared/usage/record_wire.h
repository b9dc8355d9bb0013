#pragma once
// A usage record on the control link (bitrouter.v1.UsageRecord) and back.
// Pure functions; any thread. Off the request path: a worker converts on its
// control thread, bitrouterd on the stream thread that received the batch.

#include "bitrouter/v1/control.pb.h"
#include "shared/usage/usage_record.h"

namespace bitrouter::usage {

UsageRecord FromWire(const v1::UsageRecord& in);
void ToWire(const UsageRecord& in, v1::UsageRecord* out);

}  // namespace bitrouter::usage
