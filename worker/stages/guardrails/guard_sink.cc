#include "worker/stages/guardrails/guard_sink.h"

namespace bitrouter::worker {

using guardrails::Action;
using guardrails::Direction;

void GuardSink::OnStart(const protocol::StreamStart& start) {
  if (!blocked_) next_->OnStart(start);
}

void GuardSink::OnBlockStart(const protocol::BlockStart& block) {
  if (blocked_) return;
  scanner_.reset();
  switch (block.kind) {
    case protocol::BlockKind::kText:
      delta_kind_ = protocol::DeltaKind::kText;
      scanner_.emplace(guard_, Direction::kDowngoing);
      break;
    case protocol::BlockKind::kThinking:
      delta_kind_ = protocol::DeltaKind::kThinking;
      scanner_.emplace(guard_, Direction::kDowngoing);
      break;
    case protocol::BlockKind::kToolCall:
      delta_kind_ = protocol::DeltaKind::kArguments;
      scanner_.emplace(guard_, Direction::kDowngoing);
      break;
    case protocol::BlockKind::kRedactedThinking:
      break;  // opaque: nothing readable
  }
  next_->OnBlockStart(block);
}

bool GuardSink::Note(Action action) {
  for (const guardrails::Match& m : matches_) {
    hits_->push_back({m.rule, Direction::kDowngoing, guard_->rules()[m.rule].action[1]});
  }
  if (action != Action::kBlock) return false;
  // What came before the blocked match may still go (emit_ holds none of it).
  if (!emit_.empty()) next_->OnDelta(delta_kind_, emit_);
  blocked_ = true;
  next_->OnError({422, "guardrail_blocked", guard_->BlockMessage(Direction::kDowngoing, matches_)});
  return true;
}

void GuardSink::OnDelta(protocol::DeltaKind kind, std::string_view text) {
  if (blocked_) return;
  if (!scanner_ || kind == protocol::DeltaKind::kSignature) {
    next_->OnDelta(kind, text);
    return;
  }
  emit_.clear();
  matches_.clear();
  Action action = scanner_->Feed(text, &emit_, &matches_);
  if (Note(action)) return;
  if (!emit_.empty()) next_->OnDelta(kind, emit_);
}

void GuardSink::OnBlockStop() {
  if (blocked_) return;
  if (scanner_) {
    emit_.clear();
    matches_.clear();
    Action action = scanner_->Finish(&emit_, &matches_);
    scanner_.reset();
    if (Note(action)) return;
    if (!emit_.empty()) next_->OnDelta(delta_kind_, emit_);
  }
  next_->OnBlockStop();
}

void GuardSink::OnFinish(const protocol::StreamFinish& finish) {
  if (!blocked_) next_->OnFinish(finish);
}

void GuardSink::OnError(const protocol::StreamError& error) {
  if (!blocked_) next_->OnError(error);
}

}  // namespace bitrouter::worker
