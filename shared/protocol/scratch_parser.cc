#include "shared/protocol/scratch_parser.h"

namespace bitrouter::protocol {
namespace {

thread_local ScratchNode* g_head = nullptr;

}  // namespace

ScratchNode::ScratchNode() {
  next_ = g_head;
  if (g_head != nullptr) g_head->prev_ = this;
  g_head = this;
}

ScratchNode::~ScratchNode() {
  if (prev_ != nullptr) prev_->next_ = next_;
  if (next_ != nullptr) next_->prev_ = prev_;
  if (g_head == this) g_head = next_;
}

void TrimScratchParsers(size_t keep_bytes) {
  for (ScratchNode* n = g_head; n != nullptr; n = n->next_) n->Trim(keep_bytes);
}

}  // namespace bitrouter::protocol
