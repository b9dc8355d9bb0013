#pragma once
// The wall clock in Unix milliseconds (record times, key expiry, budget
// periods). Any thread; a vDSO call, cheap enough for the request path.

#include <chrono>
#include <cstdint>

namespace bitrouter {

inline int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace bitrouter
