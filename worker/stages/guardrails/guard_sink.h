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
// Thread: one per request, on its loop.

#include <optional>
#include <string>
#include <vector>

#include "shared/guardrails/stream_scanner.h"
#include "shared/protocol/stream.h"
#include "worker/stages/stage.h"

namespace bitrouter::worker {

class GuardSink final : public protocol::StreamSink {
 public:
  // `next` receives the filtered events; `hits` collects every match (the
  // request's record and metrics). Both must outlive the sink.
  GuardSink(const guardrails::Guard* guard, protocol::StreamSink* next, std::vector<GuardHit>* hits)
      : guard_(guard), next_(next), hits_(hits) {}

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

  const guardrails::Guard* guard_;
  protocol::StreamSink* next_;
  std::vector<GuardHit>* hits_;
  std::optional<guardrails::StreamScanner> scanner_;  // the open block's channel
  protocol::DeltaKind delta_kind_ = protocol::DeltaKind::kText;
  std::string emit_;
  std::vector<guardrails::Match> matches_;
  bool blocked_ = false;
};

}  // namespace bitrouter::worker
