#include "worker/stages/guardrails/guard_sink.h"

#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"
#include "worker/stages/guardrails/tool_calls.h"

namespace bitrouter::worker {

using guardrails::Action;
using guardrails::Direction;

void GuardSink::OnStart(const protocol::StreamStart& start) {
  if (!blocked_) next_->OnStart(start);
}

void GuardSink::OnBlockStart(const protocol::BlockStart& block) {
  if (blocked_) return;
  scanner_.reset();
  args_rule_ = nullptr;
  switch (block.kind) {
    case protocol::BlockKind::kText:
      delta_kind_ = protocol::DeltaKind::kText;
      break;
    case protocol::BlockKind::kThinking:
      delta_kind_ = protocol::DeltaKind::kThinking;
      break;
    case protocol::BlockKind::kToolCall:
      delta_kind_ = protocol::DeltaKind::kArguments;
      if (tools_ != nullptr) {
        if (!tools_->Allows(block.name)) {
          BlockTool(DeniedCallMessage(block.name, provider_));
          return;
        }
        args_rule_ = tools_->Params(block.name);
        tool_ = block.name;
        args_.clear();
      }
      break;
    case protocol::BlockKind::kRedactedThinking:
      next_->OnBlockStart(block);
      return;  // opaque: nothing readable
  }
  if (guard_ != nullptr) {
    scanner_.emplace(guard_, Direction::kDowngoing,
                     /*json_text=*/block.kind == protocol::BlockKind::kToolCall);
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

void GuardSink::BlockTool(std::string message) {
  hits_->push_back({GuardHit::kToolPolicy, Direction::kDowngoing, Action::kBlock});
  blocked_ = true;
  next_->OnError({422, "guardrail_blocked", std::move(message)});
}

void GuardSink::Forward(protocol::DeltaKind kind, std::string_view text) {
  if (!scanner_) {
    next_->OnDelta(kind, text);
    return;
  }
  emit_.clear();
  matches_.clear();
  Action action = scanner_->Feed(text, &emit_, &matches_);
  if (Note(action)) return;
  if (!emit_.empty()) next_->OnDelta(kind, emit_);
}

void GuardSink::OnDelta(protocol::DeltaKind kind, std::string_view text) {
  if (blocked_) return;
  if (kind == protocol::DeltaKind::kSignature) {
    next_->OnDelta(kind, text);
    return;
  }
  if (args_rule_ != nullptr && kind == protocol::DeltaKind::kArguments) {
    if (args_.size() + text.size() > kMaxHeldArguments) {
      BlockTool(absl::StrCat("guardrail blocked downgoing tool call '", AV(tool_),
                             "': its arguments are too long to check"));
      return;
    }
    args_.append(text);
    return;
  }
  Forward(kind, text);
}

void GuardSink::ReleaseArguments() {
  const guardrails::ToolParamRule* rule = args_rule_;
  args_rule_ = nullptr;
  ToolCallVerdict v = ApplyParamRule(tool_, provider_, *rule, args_);
  if (!v.blocked.empty()) {
    BlockTool(std::move(v.blocked));
    return;
  }
  if (v.stripped > 0) {
    hits_->push_back({GuardHit::kToolPolicy, Direction::kDowngoing, Action::kRedact});
  }
  const std::string& args = v.body.empty() ? args_ : v.body;
  if (!args.empty()) Forward(protocol::DeltaKind::kArguments, args);
}

void GuardSink::OnBlockStop() {
  if (blocked_) return;
  if (args_rule_ != nullptr) {
    ReleaseArguments();
    if (blocked_) return;
  }
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
