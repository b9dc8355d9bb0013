#pragma once
// Guardrails on a translated stream (downgoing): a canonical-event filter
// between the upstream's decoder and the client's encoder. Each text,
// reasoning and tool-call block is one channel of a StreamScanner, which
// holds back only as many bytes as the longest possible match needs, so a
// secret split across any number of deltas is still caught and no byte of a
// redacted match ever reaches the client. A block match ends the client's
// stream with its protocol's in-band error (never a clean end); nothing
// after it is forwarded.
//
// guardrails.tools for the provider that serves the stream: a tool call to a
// denied tool ends the stream the same way before any of it is sent; a call
// whose tool has an argument rule is held back whole (up to 1 MiB, more
// blocks) and sent as one delta once its arguments are complete and checked
// (tool_calls.h).
//
// Thread: one per request, on its loop.

#include <optional>
#include <string>
#include <vector>

#include "shared/guardrails/stream_scanner.h"
#include "shared/guardrails/tool_policy.h"
#include "shared/protocol/stream.h"
#include "worker/stages/stage.h"

namespace bitrouter::worker {

class GuardSink final : public protocol::StreamSink {
 public:
  // `next` receives the filtered events; `hits` collects every match (the
  // request's record and metrics). `guard` (patterns) and `tools` (the
  // serving provider's tool policy) may each be null. Everything must
  // outlive the sink.
  GuardSink(const guardrails::Guard* guard, const guardrails::ToolProviderPolicy* tools,
            std::string_view provider, protocol::StreamSink* next, std::vector<GuardHit>* hits)
      : guard_(guard != nullptr && guard->Applies(guardrails::Direction::kDowngoing) ? guard
                                                                                     : nullptr),
        tools_(tools),
        provider_(provider),
        next_(next),
        hits_(hits) {}

  static constexpr size_t kMaxHeldArguments = 1 << 20;

  // A block rule matched: the client's stream ended with an error event.
  bool blocked() const { return blocked_; }

  void OnStart(const protocol::StreamStart& start) override;
  void OnBlockStart(const protocol::BlockStart& block) override;
  void OnDelta(protocol::DeltaKind kind, std::string_view text) override;
  void OnBlockStop() override;
  void OnFinish(const protocol::StreamFinish& finish) override;
  void OnError(const protocol::StreamError& error) override;
  void OnServerToolSkipped() override { next_->OnServerToolSkipped(); }

 private:
  // Records the matches; true when one of them blocks (the stream is ended).
  bool Note(guardrails::Action action);
  // Ends the stream for the tool policy.
  void BlockTool(std::string message);
  // Scans (when patterns apply) and forwards a piece of the open block.
  void Forward(protocol::DeltaKind kind, std::string_view text);
  // The held-back arguments of a call under an argument rule, checked.
  void ReleaseArguments();

  const guardrails::Guard* guard_;  // null: no pattern acts downgoing
  const guardrails::ToolProviderPolicy* tools_;
  std::string provider_;
  protocol::StreamSink* next_;
  std::vector<GuardHit>* hits_;
  std::optional<guardrails::StreamScanner> scanner_;  // the open block's channel
  protocol::DeltaKind delta_kind_ = protocol::DeltaKind::kText;
  std::string emit_;
  std::vector<guardrails::Match> matches_;
  const guardrails::ToolParamRule* args_rule_ = nullptr;  // the open call's, when held
  std::string tool_;                                      // the open call's name
  std::string args_;                                      // its held-back arguments
  bool blocked_ = false;
};

}  // namespace bitrouter::worker
