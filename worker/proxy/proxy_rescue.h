#pragma once
// Mid-stream rescue, the worker half (the ProxyCall members are in
// proxy_rescue.cc; the protocol half is shared/protocol/stream_splice.h).
//
// A committed stream that breaks (cut, stalled, malformed tail, no terminal
// event) while the route still has endpoints to try is continued there:
//  - while a stream that could be rescued is relayed, what the client got is
//    recorded as canonical events (a PartialAnswer in front of the
//    translator's encoder; for a passthrough stream a RelayWatch that runs
//    the client protocol's decoder over the relayed events and relays only
//    whole events it accepted, so a malformed tail never reaches the client);
//  - on the break, the client's encoder is kept (a passthrough stream gets
//    one rebuilt by replaying the record and adopting the upstream's
//    numbering), and the next endpoints are tried, in order, with the
//    original request plus the partial answer (stream_splice.h:
//    ContinuationRequest; a target that answers a prefill with a 4xx gets
//    the instruction form once more);
//  - the first that answers 2xx with a stream is spliced into the client's
//    stream (SpliceSink); if it breaks too, the next one continues;
//  - when none can, the stream ends with the client protocol's in-band
//    error and no terminator, as without a rescue.
// Each broken stream and each refused continuation is an attempt in the
// call's attempt list.
//
// Thread: the call's loop.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "shared/protocol/adapters.h"
#include "shared/protocol/sse.h"
#include "shared/protocol/stream_splice.h"

namespace bitrouter::worker {

// A relayed (passthrough) stream, event by event: complete events the
// client protocol's decoder accepts are released to out(); an unfinished
// event is held back (capped at SseParser::kMaxEventBytes).
class RelayWatch {
 public:
  // `record` receives the decoded events and must outlive the watch.
  RelayWatch(protocol::Protocol client, protocol::StreamSink* record);

  // Relayed bytes in. An error: an event is malformed (it and what follows
  // are withheld) or an event outgrew the cap.
  absl::Status Feed(std::string_view bytes);
  // Bytes of an unfinished event are held.
  bool holding() const { return !pending_.empty(); }
  // A Chat stream's usage-only chunk is decoded but not written (the router
  // asked for usage the client did not).
  void DropUsageOnlyChunks(bool drop) { drop_usage_only_ = drop; }
  // Whole events to write to the client; the caller writes and clears it.
  std::string& out() { return out_; }
  // The upstream's numbering as the client saw it.
  const protocol::StreamPosition& position() const { return position_; }

 private:
  // Notes the numbering an event carries (Responses sequence numbers and
  // output indexes, Messages block indexes, creation times).
  void Peek(std::string_view event, std::string_view data);

  protocol::Protocol client_;
  std::unique_ptr<protocol::StreamDecoder> decoder_;
  protocol::SseParser sse_;
  std::string pending_;  // bytes of the unfinished event
  size_t scanned_ = 0;   // bytes of pending_ already searched for an event end
  std::string out_;
  protocol::StreamPosition position_;
  bool drop_usage_only_ = false;
};

// The rescue state of one call.
struct StreamRescue {
  protocol::PartialAnswer partial;    // what the client got, as canonical events
  std::unique_ptr<RelayWatch> watch;  // passthrough streams until they break
  // The client's encoder between attempts (during a splice the translator
  // holds it).
  std::unique_ptr<protocol::StreamEncoder> encoder;
  std::unique_ptr<protocol::SpliceSink> splice;  // the current continuation's
  bool active = false;                           // the stream broke: continuing it
  const void* mode_target = nullptr;             // the target `mode` was chosen for
  protocol::ContinuationMode mode = protocol::ContinuationMode::kPrefill;
  bool trimmed = false;  // the prefill lost trailing whitespace
  std::string code;      // the last break, for the error if nothing continues
  std::string message;
};

}  // namespace bitrouter::worker
