#pragma once
// Per-thread scratch JSON parsers that can give their memory back.
//
// A simdjson parser keeps the capacity of the largest document it has seen
// (for a 16 MiB body, well over 100 MiB of tape and string buffers), and every
// parse site keeps its own thread_local parser. Declaring them as
//   thread_local ScratchDomParser parser;
// registers them on the thread, so that after a large request the worker can
// call TrimScratchParsers() and return to its idle footprint.
//
// Only for call-scoped use: nothing parsed may be held across a trim.

#include <simdjson.h>

#include <cstddef>

namespace bitrouter::protocol {

class ScratchNode {
 public:
  ScratchNode();
  virtual ~ScratchNode();
  ScratchNode(const ScratchNode&) = delete;
  ScratchNode& operator=(const ScratchNode&) = delete;
  virtual void Trim(size_t keep_bytes) = 0;

 private:
  friend void TrimScratchParsers(size_t keep_bytes);
  ScratchNode* prev_ = nullptr;
  ScratchNode* next_ = nullptr;
};

template <typename Parser>
class ScratchParser : public Parser, private ScratchNode {
 public:
  ScratchParser() = default;
  void Trim(size_t keep_bytes) override {
    if (this->capacity() > keep_bytes) static_cast<Parser&>(*this) = Parser();
  }
};

using ScratchDomParser = ScratchParser<simdjson::dom::parser>;
using ScratchOnDemandParser = ScratchParser<simdjson::ondemand::parser>;

// Drops the buffers of this thread's scratch parsers whose capacity exceeds
// `keep_bytes` (they grow again on demand). Call between requests.
void TrimScratchParsers(size_t keep_bytes);

}  // namespace bitrouter::protocol
