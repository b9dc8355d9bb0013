// Fuzzes the responses adapter: request, response and stream decoding into every
// protocol (see adapter_fuzz.h for the invariants).

#include <cstddef>
#include <cstdint>

#include "tests/fuzz/adapter_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bitrouter::protocol::fuzz::FuzzAdapter(bitrouter::protocol::Protocol::kResponses, data, size);
  return 0;
}
