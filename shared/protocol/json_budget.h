#pragma once
// A bound on the work one request can cost the event loop. Translating or
// counting a request builds one canonical object per JSON object, so a body
// of tiny objects (16 MiB of `{"type":"text","text":"a"}`) would hold the
// loop for a second. Before that work starts, the objects are counted with a
// cheap scan (strings skipped, ~1 GB/s) and a request above the budget is
// refused with a clear 400.

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"

namespace bitrouter::protocol {

inline constexpr size_t kMaxJsonObjects = 100'000;

// InvalidArgument when `json` holds more than `max_objects` objects (a
// malformed body is left to the real parser).
absl::Status CheckJsonObjectBudget(std::string_view json, size_t max_objects = kMaxJsonObjects);

}  // namespace bitrouter::protocol
