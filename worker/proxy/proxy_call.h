#pragma once
// The proxy pipeline for one inference request, whatever the client's wire
// protocol: resolve the model to an ordered list of endpoints, then try them
// until one answers.
//
// Same protocol in and out is a passthrough: the body is forwarded with only
// the `model` value spliced (Gemini: the model is in the path) and the answer
// relayed byte for byte. Otherwise the request goes through the canonical
// form once (parsed lazily, on the first endpoint that needs it) and is
// rendered for each endpoint's protocol; JSON answers are translated whole,
// streams event by event (shared/protocol/stream_translator.h).
//
// Failover that never lies:
//  - 5xx, 408, 429, connect errors, resets, timeouts and a 2xx whose body is
//    not valid for its protocol (or whose first stream event is not) move to
//    the next endpoint; any other status is relayed (in the client's error
//    shape when translating);
//  - nothing reaches the client until an answer is accepted ("commit"); a
//    JSON answer is validated whole, a stream by its first event;
//  - after the commit there is no failover: a failure ends the response with
//    the client protocol's in-band error and without its terminator, and a
//    stream that ends without its terminal event is a failure too; except
//    that a broken stream is continued on the next endpoint when it can be
//    (upstream.stream_recovery, proxy_rescue.h);
//  - when every endpoint failed, one aggregate error (429 / 504 / 503 / 502).

#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "worker/loop/timer.h"

#include "shared/protocol/adapters.h"
#include "shared/protocol/stream_translator.h"
#include "shared/routing/failover.h"
#include "shared/routing/route_table.h"
#include "shared/usage/stream_usage_tap.h"
#include "worker/http/http_connection.h"
#include "worker/proxy/proxy_rescue.h"
#include "worker/stages/guardrails/guard_sink.h"
#include "worker/stages/stage.h"
#include "worker/upstream/upstream.h"

namespace bitrouter::worker {

// Runs the request through the chain of stages (worker/stages/chain.h); the
// "route" stage starts a ProxyCall on `conn`. Answers errors itself.
void StartProxy(HttpConnection* conn, InboundCall in);

class ProxyCall : public RequestHandler, public UpstreamHandler, public StageResponse {
 public:
  ProxyCall(HttpConnection* conn, InboundCall in, routing::Resolution resolution,
            std::vector<size_t> order);
  ~ProxyCall() override;
  void Start();

  // StageResponse (what the chain's response side sees of this request)
  const InboundRequest& request() const override { return *request_; }
  const InboundCall& call() const override { return in_; }
  const WorkerSnapshot& snapshot() const override { return *snapshot_; }
  const CallReport& report() const override { return report_; }
  Server* server() const override { return server_; }
  // RequestHandler
  void OnClientGone() override;
  void OnClientWritable() override;
  // UpstreamHandler
  void OnUpstreamHeaders(const UpstreamHead& head) override;
  void OnUpstreamBody(const char* data, size_t len) override;
  void OnUpstreamComplete() override;
  void OnUpstreamFailure(UpstreamFailure kind, const std::string& detail) override;
  void OnUpstreamReadBegin() override;
  void OnUpstreamReadEnd() override;

 private:
  enum class Phase {
    kTrying,        // request sent, no head yet
    kBufferJson,    // 2xx JSON held until complete (validated / translated)
    kBufferSse,     // passthrough stream held until its first event
    kBufferError,   // translated 4xx held until complete (reshaped)
    kTranslateSse,  // translated stream (before and after the commit)
    kRelay,         // committed passthrough
    kDone,
  };

  void NextAttempt();
  // Gives back a half-open probe slot that ended without a breaker verdict.
  void ReleaseProbe();
  void StartAttempt();
  // Builds the upstream request for the current target into head_/body_;
  // false when this endpoint cannot carry the request (recorded as skipped)
  // or the client's request is invalid (answered; conn_ is null then).
  bool BuildRequest(UpstreamRequest* up);
  // The current attempt failed before the commit: record it and move on (or
  // retry the same endpoint after a backoff).
  void AttemptFailed(routing::Attempt attempt, bool count_for_breaker);
  void FailAll();
  // Failover policy helpers (proxy_failover.cc).
  uint64_t Backoff() const;
  // A gate that rules the current target out is recorded as a skipped
  // attempt (true); otherwise nothing happens (false).
  bool RecordIfGated(routing::EndpointHealth::Gate gate);
  // An endpoint after the current one is not ruled out by its breaker or a
  // Retry-After right now.
  bool OthersCanServe() const;
  // A catalog max_input_tokens for the target's model (0 = unknown).
  uint32_t ContextWindow(const routing::Target& t) const;
  // A later endpoint has a larger (or unknown) context window than the
  // current one: worth trying after a context-length 400.
  bool ContextFitsElsewhere() const;
  // A classified request's candidate list moves on as Rungate's does: a
  // 404, 409 or 425 (the model is not there, or not now) is the next
  // target's turn, while one is left; the last one's answer is relayed.
  bool CandidateMovesOn(int status) const;
  // "x-bitrouter-attempts: ...\r\n" for the attempts so far, plus the
  // serving endpoint with `serving_status` (0 = none served).
  std::string AttemptsHeader(int serving_status = 0) const;
  // Classified requests: the route header lines (classify_stage.h) naming
  // the candidate of the current target when `answered`, else the first.
  std::string RouteHeaders(bool answered) const;
  // The candidate model name the current target came from ("" when the
  // request was not classified).
  std::string_view CurrentRouteModel(bool answered) const;
  void Accepted();  // the endpoint answered usably: health bookkeeping
  // `content_type` empty: relay the upstream's.
  void Commit(int64_t content_length, std::string_view content_type = {});
  void RelayBody(const char* data, size_t len);
  // Every body byte the client gets goes through here: written, then shown
  // to the response side of the chain (when a stage takes part there).
  void SendBody(HttpConnection* conn, const char* data, size_t len);
  void ResponseEnded(bool ok);
  int64_t OverheadUs() const;
  // Keep-alive comments (server.stream_keepalive) while a committed SSE
  // stream has no event to send; only ever between whole events.
  void MaybeStartKeepalive();
  void ArmKeepalive(uint64_t ms);
  void OnKeepaliveTimer();
  bool AtEventBoundary() const;
  void FinishOk();
  // Guardrails on the answer (proxy_guard.cc). GuardAnswer: a JSON answer
  // about to be sent, in the client's protocol; false when a block rule
  // matched and the client got a 422 instead. GuardStream: puts a GuardSink
  // in front of the translator's encoder. GuardBlockedStream: after a feed,
  // true (and the stream ended in-band) when the sink blocked.
  bool GuardsAnswers() const;
  // The serving provider's guardrails.tools policy; null when it has none.
  const guardrails::ToolProviderPolicy* AnswerToolPolicy() const;
  // Ends a JSON answer with 422 guardrail_blocked in the client's shape.
  void RefuseAnswer(std::string message);
  bool GuardAnswer(std::string* body);
  void GuardStream();
  bool GuardBlockedStream();
  std::unique_ptr<GuardSink> guard_sink_;
  void FailAfterCommit(const std::string& code, const std::string& message);
  // Passthrough streams: notes the first content event (the upstream's
  // first_event clock stops) and the terminal event, in relayed bytes.
  void ScanRelayed(const char* data, size_t len);
  // Translated paths.
  void CompleteTranslatedJson();
  void CompleteTranslatedStream();
  // Before the commit: true (and the attempt recorded as failed) when the
  // translated stream is malformed or the upstream reported an error.
  bool TranslatedAttemptFailed(const absl::Status& s);
  std::string_view StreamContentType() const;
  void CompleteTranslatedError();
  void FeedTranslated(const char* data, size_t len);
  void FlushTranslated();
  protocol::EncoderOptions EncoderOpts() const;
  // The model id of the endpoint serving the current attempt.
  std::string ServedModel() const;
  // Translated answers: response header lines saying what the translation
  // left out (x-bitrouter-dropped-tools).
  void AppendTranslationHeaders(std::string* lines) const;
  std::string EndpointName() const;
  uint64_t NowMs() const;
  // Mid-stream rescue (proxy_rescue.cc).
  bool RescueEnabled() const;
  bool Rescuing() const { return rescue_ != nullptr && rescue_->active; }
  void WatchTranslated();  // a translated stream starts: record what the client gets
  void WatchRelay();       // a passthrough stream is committed: the same
  void RelayWatched(const char* data, size_t len);
  void RelayWatchedEnd();  // the relayed body ended: its last event may lack the blank line
  // The committed stream broke: true when a continuation is being sought.
  bool TryRescue(const std::string& code, const std::string& message);
  absl::StatusOr<std::string> RenderRescueRequest();
  // A continuation attempt's head: true when handled here.
  bool RescueHeaders(const UpstreamHead& head);
  void StartSplice();
  // No endpoint could continue the stream: the in-band error.
  void EndRescueFailed();

  // Usage (proxy_usage.cc): what the answer reported, read on the side of
  // every path, and the report the response side gets at the end.
  // `ok`: the answer ended as it should (else the client left or it broke).
  void FillReport(bool ok);
  // The current attempt's usage: its translator's, its JSON answer's, or
  // what the tap read from the relayed stream.
  std::optional<protocol::Usage> AttemptUsage() const;
  int64_t AttemptOutputBytes() const;
  int64_t EstimatePromptTokens();
  // An answer cut short: the input side as reported (else estimated), the
  // output the larger of reported and estimated from what was sent.
  protocol::Usage CutShortUsage(const std::optional<protocol::Usage>& u);
  // A broken stream is being continued elsewhere: what its attempt spent
  // (reported, else estimated) is carried into the request's total.
  void NoteRescuedUsage();
  // The serving attempt's response head and commit (client status, TTFB).
  void NoteCommit();
  // Passthrough Chat stream with include_usage added by us: the usage-only
  // chunk is withheld from the client (proxy_relay.cc).
  void RelayStripped(const char* data, size_t len);
  // Writes the whole events of `events` except usage-only chunks.
  void WriteStripped(std::string_view events);
  bool strip_usage_chunk_ = false;
  bool metering_ = true;         // the snapshot's server.metering
  bool stream_counted_ = false;  // in the active-streams gauge (until the end)
  std::string strip_hold_;       // an event that straddles reads
  usage::StreamUsageTap usage_tap_{protocol::Protocol::kChat};
  std::optional<protocol::Usage> json_usage_;     // the current attempt's JSON answer
  std::optional<protocol::Usage> rescued_usage_;  // attempts a rescued stream continued from
  bool rescued_estimated_ = false;
  int64_t start_unix_ms_ = 0;
  uint64_t head_ns_ = 0;        // the current attempt's response head arrived
  uint64_t first_byte_ns_ = 0;  // the client's response head was written
  int64_t commit_overhead_us_ = -1;
  int64_t bytes_out_ = 0;
  int client_status_ = 0;  // 0 = not decided yet
  CallReport report_;

  HttpConnection* conn_;  // null once the client is gone or the response ended
  Server* server_;        // outlives every call
  uv_loop_t* loop_;
  SnapshotPtr snapshot_;  // keeps the resolution's providers alive
  InboundCall in_;
  routing::Resolution resolution_;
  std::vector<size_t> order_;
  size_t next_ = 0;
  const routing::Target* target_ = nullptr;
  const ProviderRuntime* provider_ = nullptr;
  bool probe_ = false;  // holds the endpoint's half-open probe slot (settled exactly once)
  uint32_t tries_on_target_ = 0;
  // After a context-length 400: endpoints whose known window is not larger
  // than this are skipped (0 = no floor).
  uint32_t context_floor_ = 0;
  // The context-length 400 that sent the request on: if nothing later
  // answers, the client gets this (the real reason) rather than a 502.
  struct HeldError {
    UpstreamHead head;
    std::string body;
    protocol::Protocol upstream = protocol::Protocol::kChat;
    bool translate = false;
    const routing::Target* target = nullptr;
  };
  std::optional<HeldError> context_error_;
  // Relays context_error_ as the answer (FailAll); false when none is held.
  bool RelayHeldContextError();
  std::vector<routing::Attempt> attempts_;

  // The current attempt.
  protocol::Protocol upstream_ = protocol::Protocol::kChat;
  bool translate_ = false;
  std::string head_;         // upstream request line + headers
  std::string model_token_;  // passthrough: the spliced JSON string for the model
  std::string body_;         // translated: the rendered upstream body
  // Lazily parsed client request (translation only); parse errors answer 400.
  std::optional<protocol::CanonicalRequest> canonical_;
  std::string untranslatable_;  // why the last endpoint could not carry the request

  Phase phase_ = Phase::kTrying;
  bool committed_ = false;
  UpstreamHead upstream_head_;  // kept until the commit
  std::string buffer_;          // body held back until it is validated
  size_t sse_scanned_ = 0;      // kBufferSse: bytes of buffer_ already searched for an event end
  size_t sse_event_start_ = 0;  // kBufferSse: where the event being judged starts
  std::string out_body_;        // translated JSON / error body (written once)
  bool sse_response_ = false;
  bool saw_terminal_ = false;
  bool content_started_ = false;  // a stream's first content event arrived
  std::string tail_;              // last bytes of the relayed stream (markers that straddle reads)
  bool paused_ = false;
  std::unique_ptr<StreamRescue> rescue_;  // declared before translator_: outlives it
  std::unique_ptr<protocol::StreamTranslator> translator_;
  std::unique_ptr<UpstreamCall> call_;
  // The chain's response side (reverse journey order); empty = skip.
  const std::vector<Stage*>* responders_ = nullptr;
  bool response_ended_ = false;  // the response side heard the end
  // Router overhead (x-bitrouter-overhead-us): time from Start to the
  // commit minus the waits for upstreams and backoffs (uv_hrtime, ns).
  uint64_t start_ns_ = 0;
  uint64_t sent_ns_ = 0;           // the current attempt's request was handed to the pool
  uint64_t last_read_ns_ = 0;      // the latest upstream read began
  uint64_t upstream_wait_ns_ = 0;  // finished attempts' and backoffs' waits
  uint64_t retry_wait_from_ns_ = 0;
  // SSE keep-alive comments on a committed client stream (proxy_keepalive.cc).
  OneShotTimer* keepalive_timer_ = nullptr;
  uint64_t last_write_ms_ = 0;
  // The connection's request: valid until this handler is destroyed (the
  // connection outlives it), also after conn_ was reset.
  const InboundRequest* request_;
  OneShotTimer* retry_timer_ = nullptr;
};

}  // namespace bitrouter::worker
