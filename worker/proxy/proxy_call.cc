#include "worker/proxy/proxy_call.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "shared/common/log.h"
#include "shared/common/strings.h"
#include "shared/common/wall_clock.h"
#include "shared/protocol/errors.h"
#include "shared/protocol/openai_errors.h"
#include "shared/protocol/openai_request.h"
#include "shared/protocol/scratch_parser.h"
#include "shared/protocol/sse.h"
#include "shared/usage/answer_usage.h"
#include "worker/http/inbound.h"
#include "worker/http/server.h"
#include "worker/loop/timer.h"
#include "worker/stages/chain.h"

namespace bitrouter::worker {
namespace {

// Upstream response headers relayed to the client; everything else
// (hop-by-hop, framing, cookies) stays behind.
constexpr std::string_view kRelayedHeaders[] = {"content-type",
                                                "retry-after",
                                                "openai-processing-ms",
                                                "openai-version",
                                                "x-request-id",
                                                "x-ratelimit-limit-requests",
                                                "x-ratelimit-limit-tokens",
                                                "x-ratelimit-remaining-requests",
                                                "x-ratelimit-remaining-tokens",
                                                "x-ratelimit-reset-requests",
                                                "x-ratelimit-reset-tokens"};

// A JSON answer above this is relayed unvalidated rather than held in memory.
constexpr size_t kMaxValidatedBody = 32u << 20;
// Longest model name accepted (provider ids plus model ids are far shorter).
// A passthrough stream is held until its first data event; an upstream that
// sends more than this without completing one is broken (same cap as the
// translated path's largest event).
constexpr size_t kMaxFirstEventBytes = 16u << 20;

// Parses in place: the string's spare capacity serves as simdjson's padding,
// so the body is not copied (reserve() only reallocates when it is short).
bool ValidJsonObject(std::string& body) {
  thread_local protocol::ScratchDomParser parser;
  body.reserve(body.size() + protocol::kJsonPadding);
  simdjson::dom::element root;
  if (parser.parse(reinterpret_cast<const uint8_t*>(body.data()), body.size(), false).get(root)) {
    return false;
  }
  return root.is_object();
}

// A passthrough JSON answer: valid, and its usage read from the same parse.
bool ValidJsonAnswer(std::string& body, protocol::Protocol p, std::optional<protocol::Usage>* u) {
  thread_local protocol::ScratchDomParser parser;
  body.reserve(body.size() + protocol::kJsonPadding);
  simdjson::dom::object root;
  if (parser.parse(reinterpret_cast<const uint8_t*>(body.data()), body.size(), false).get(root)) {
    return false;
  }
  *u = usage::AnswerUsage(p, root);
  return true;
}

// The first SSE event must be a data line carrying a JSON object (or the
// terminal [DONE]); comments and other fields before it are allowed.
bool ValidFirstEvent(std::string_view event) {
  size_t pos = 0;
  bool saw_data = false;
  std::string data;
  while (pos < event.size()) {
    size_t nl = event.find('\n', pos);
    std::string_view line =
        event.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl == std::string_view::npos ? event.size() : nl + 1;
    if (line.substr(0, 5) == "data:") {
      std::string_view v = line.substr(5);
      if (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      data.append(v);
      saw_data = true;
    }
  }
  if (!saw_data) return true;  // a comment/keep-alive event: judge the next one
  if (data == "[DONE]") return true;
  return ValidJsonObject(data);
}

routing::Attempt::Kind KindOf(UpstreamFailure f) {
  switch (f) {
    case UpstreamFailure::kTimeout:
      return routing::Attempt::Kind::kTimeout;
    case UpstreamFailure::kConnect:
      return routing::Attempt::Kind::kConnect;
    case UpstreamFailure::kTls:
      return routing::Attempt::Kind::kTls;
    case UpstreamFailure::kReset:
      return routing::Attempt::Kind::kReset;
    case UpstreamFailure::kProtocol:
      return routing::Attempt::Kind::kInvalidBody;
  }
  return routing::Attempt::Kind::kReset;
}

}  // namespace

ProxyCall::ProxyCall(HttpConnection* conn, InboundCall in, routing::Resolution resolution,
                     std::vector<size_t> order)
    : conn_(conn),
      server_(conn->server()),
      loop_(conn->server()->loop()),
      snapshot_(conn->snapshot()),
      in_(std::move(in)),
      resolution_(std::move(resolution)),
      order_(std::move(order)),
      request_(&conn->request()) {
  // A key's token limit and budget settle from the report: it is filled for
  // them even with metering off.
  metering_ = snapshot_->limits.metering ||
              (in_.key != nullptr && (in_.key->has_budget || in_.key->tpm != 0));
  const std::vector<Stage*>& responders = RequestJourney().response_side();
  if (!responders.empty()) responders_ = &responders;
}

ProxyCall::~ProxyCall() {
  if (stream_counted_) server_->metrics().StreamEnded();
  if (retry_timer_ != nullptr) retry_timer_->Cancel();
  if (keepalive_timer_ != nullptr) keepalive_timer_->Cancel();
  // However the call ended (client gone, response relayed, never sent), a
  // probe slot it still holds goes back: a breaker can never stick open.
  ReleaseProbe();
}

void ProxyCall::ReleaseProbe() {
  if (probe_ && target_ != nullptr) server_->health().ReleaseProbe(target_->id);
  probe_ = false;
}

uint64_t ProxyCall::NowMs() const { return uv_now(loop_); }

std::string ProxyCall::EndpointName() const {
  if (target_ == nullptr) return {};
  std::string name = absl::StrCat(target_->provider, ":", target_->model_id);
  if (target_->key_index >= 0) absl::StrAppend(&name, " (key ", target_->key_index + 1, ")");
  return name;
}

void ProxyCall::Start() {
  start_ns_ = uv_hrtime();
  start_unix_ms_ = UnixMillis();
  conn_->access().model = in_.model;
  conn_->access().route_category = in_.route_category;
  conn_->access().route_model = std::string(CurrentRouteModel(false));
  NextAttempt();
}

void ProxyCall::StartAttempt() {
  phase_ = Phase::kTrying;
  buffer_.clear();
  sse_scanned_ = 0;
  sse_event_start_ = 0;
  saw_terminal_ = false;
  content_started_ = false;
  tail_.assign("\n");  // the stream starts at a line start (markers begin with one)
  paused_ = false;     // a new upstream call is reading
  translator_.reset();
  UpstreamRequest up;
  if (!BuildRequest(&up)) {
    // Never sent: a half-open breaker's probe slot goes back unused.
    ReleaseProbe();
    if (conn_ != nullptr) NextAttempt();  // skipped; else the client was answered
    return;
  }
  conn_->access().endpoint = EndpointName();
  if (!in_.route_category.empty())
    conn_->access().route_model = std::string(CurrentRouteModel(true));
  ++conn_->access().attempts;
  usage_tap_.Reset(upstream_);
  json_usage_.reset();
  strip_hold_.clear();
  head_ns_ = 0;
  // The pool never calls back from inside Start (failures are deferred to the
  // loop), so call_ is set before any handler callback can run.
  sent_ns_ = uv_hrtime();
  call_ = server_->pool().Start(std::move(up), this);
}

void ProxyCall::OnClientGone() {
  if (!committed_ && client_status_ == 0) client_status_ = 499;  // the client closed first
  ResponseEnded(false);  // no-op when the response already ended
  ReleaseProbe();
  conn_ = nullptr;
  phase_ = Phase::kDone;
  call_.reset();  // cancels the upstream request; its connection is not reused
  if (retry_timer_ != nullptr) {
    retry_timer_->Cancel();
    retry_timer_ = nullptr;
  }
}

void ProxyCall::OnClientWritable() {
  if (paused_ && call_ != nullptr) {
    paused_ = false;
    call_->ResumeReading();
  }
}

void ProxyCall::Accepted() {
  server_->health().OnSuccess(target_->id);
  probe_ = false;
}

void ProxyCall::OnUpstreamHeaders(const UpstreamHead& head) {
  if (conn_ == nullptr) return;
  head_ns_ = uv_hrtime();
  upstream_head_ = head;
  std::string_view type = head.Header("content-type");
  sse_response_ = type.substr(0, 17) == "text/event-stream";
  if (Rescuing() && RescueHeaders(head)) return;
  routing::StatusClass status_class = routing::ClassifyStatus(head.status);
  const bool candidate_moves_on =
      status_class == routing::StatusClass::kRelay && CandidateMovesOn(head.status);
  if (candidate_moves_on) status_class = routing::StatusClass::kFailover;
  switch (status_class) {
    case routing::StatusClass::kFailover: {
      routing::Attempt a{routing::Attempt::Kind::kStatus, EndpointName(), head.status, std::nullopt,
                         ""};
      std::string_view ra = head.Header("retry-after");
      if (!ra.empty()) a.retry_after_ms = routing::ParseRetryAfterMs(ra, std::time(nullptr));
      // 429 is the upstream protecting itself, and a candidate's 404 a model
      // it does not serve: neither is a broken endpoint.
      AttemptFailed(std::move(a), head.status != 429 && !candidate_moves_on);
      return;
    }
    case routing::StatusClass::kRelay:
      // The client's own mistake (400, 401, ...): back to it, in its shape.
      Accepted();
      // Translated errors are reshaped whole; a 400 may be a context-length
      // error that a larger window down the route can still serve.
      if (translate_ || (head.status == 400 && ContextFitsElsewhere())) {
        phase_ = Phase::kBufferError;
        return;
      }
      Commit(-1);
      return;
    case routing::StatusClass::kSuccess: {
      if (translate_ && sse_response_) {
        if (!in_.stream) {
          AttemptFailed({routing::Attempt::Kind::kInvalidBody, EndpointName(), head.status,
                         std::nullopt, "answered a non-streaming request with a stream"},
                        true);
          return;
        }
        phase_ = Phase::kTranslateSse;
        translator_ =
            std::make_unique<protocol::StreamTranslator>(upstream_, in_.client, EncoderOpts());
        WatchTranslated();
        GuardStream();  // in front of the rescue's record: it sees what the client sees
        return;
      }
      phase_ = sse_response_ ? Phase::kBufferSse : Phase::kBufferJson;
      // A JSON answer to a streamed request: its body is timed by the idle
      // gap, not by the wait for a stream's first content event.
      if (!sse_response_ && call_ != nullptr) call_->ContentStarted();
      // Size the hold buffer once, padding for the in-place validation included.
      int64_t n = 0;
      std::string_view cl = head.Header("content-length");
      if (!sse_response_ && absl::SimpleAtoi(AV(cl), &n) && n > 0 &&
          static_cast<size_t>(n) <= kMaxValidatedBody) {
        buffer_.reserve(static_cast<size_t>(n) + protocol::kJsonPadding);
      }
      return;
    }
  }
}

void ProxyCall::OnUpstreamBody(const char* data, size_t len) {
  if (conn_ == nullptr) return;
  switch (phase_) {
    case Phase::kRelay:
      RelayBody(data, len);
      return;
    case Phase::kTranslateSse:
      FeedTranslated(data, len);
      return;
    case Phase::kBufferError:
      if (!translate_ && buffer_.size() + len > kMaxValidatedBody) {
        // A passthrough error body too large to hold (it was held only to
        // look for a context-length error): relay it as it is.
        Commit(-1);
        // buffer_ stays untouched from here on: a corked write points into it.
        RelayBody(buffer_.data(), buffer_.size());
        if (conn_ != nullptr) RelayBody(data, len);
        return;
      }
      if (buffer_.size() < kMaxValidatedBody) buffer_.append(data, len);
      return;
    default:
      break;
  }
  buffer_.append(data, len);
  if (phase_ == Phase::kBufferJson) {
    if (buffer_.size() > kMaxValidatedBody && !translate_) {
      Commit(-1);
      // buffer_ stays untouched from here on: a corked write points into it.
      RelayBody(buffer_.data(), buffer_.size());
    } else if (buffer_.size() > kMaxValidatedBody) {
      AttemptFailed({routing::Attempt::Kind::kInvalidBody, EndpointName(), upstream_head_.status,
                     std::nullopt, "answer too large to translate"},
                    true);
    }
    return;
  }
  if (phase_ == Phase::kBufferSse) {
    // Judge the stream by its first data event, then commit and relay. Only
    // new bytes are searched (a separator may straddle reads: back up 3).
    std::string_view all(buffer_);
    while (true) {
      size_t search = std::max(sse_event_start_, sse_scanned_ > 3 ? sse_scanned_ - 3 : 0);
      size_t rel = protocol::SseEventEnd(all.substr(search));
      if (rel == std::string_view::npos) break;
      size_t end = search + rel;
      std::string_view event = all.substr(sse_event_start_, end - sse_event_start_);
      if (!ValidFirstEvent(event)) {
        AttemptFailed({routing::Attempt::Kind::kInvalidBody, EndpointName(), 200, std::nullopt,
                       "first stream event is not valid JSON"},
                      true);
        return;
      }
      if (event.find("data:") != std::string_view::npos) {
        Accepted();
        Commit(-1);
        WatchRelay();
        // buffer_ stays untouched from here on: a corked write points into it.
        RelayBody(buffer_.data(), buffer_.size());
        return;
      }
      sse_event_start_ = end;  // a comment/keep-alive event: judge the next one
      sse_scanned_ = end;
    }
    sse_scanned_ = buffer_.size();
    if (buffer_.size() > kMaxFirstEventBytes) {
      AttemptFailed(
          {routing::Attempt::Kind::kInvalidBody, EndpointName(), 200, std::nullopt,
           absl::StrCat("no complete stream event in the first ", kMaxFirstEventBytes, " bytes")},
          true);
    }
  }
}

void ProxyCall::OnUpstreamComplete() {
  if (conn_ == nullptr) return;
  call_.reset();
  switch (phase_) {
    case Phase::kTrying:
      // llhttp reports the head before completion, so this is a broken upstream.
      AttemptFailed({routing::Attempt::Kind::kInvalidBody, EndpointName(), 0, std::nullopt,
                     "response ended without a head"},
                    true);
      return;
    case Phase::kBufferError:
      if (upstream_head_.status == 400 && ContextFitsElsewhere() &&
          routing::IsContextLengthError(buffer_)) {
        context_floor_ = std::max(context_floor_, ContextWindow(*target_));
        if (!context_error_) {
          context_error_ =
              HeldError{upstream_head_, std::move(buffer_), upstream_, translate_, target_};
          buffer_.clear();
        }
        AttemptFailed({routing::Attempt::Kind::kStatus, EndpointName(), 400, std::nullopt,
                       "context length exceeded"},
                      false);
        return;
      }
      if (translate_) {
        CompleteTranslatedError();
        return;
      }
      Commit(static_cast<int64_t>(buffer_.size()));
      SendBody(conn_, buffer_.data(), buffer_.size());
      FinishOk();
      return;
    case Phase::kBufferJson:
      if (translate_) {
        CompleteTranslatedJson();
        return;
      }
      if (!ValidJsonAnswer(buffer_, upstream_, &json_usage_)) {
        AttemptFailed({routing::Attempt::Kind::kInvalidBody, EndpointName(), upstream_head_.status,
                       std::nullopt, "2xx answer is not a JSON object"},
                      true);
        return;
      }
      if (!GuardAnswer(&buffer_)) return;
      Accepted();
      Commit(static_cast<int64_t>(buffer_.size()));
      SendBody(conn_, buffer_.data(), buffer_.size());
      FinishOk();
      return;
    case Phase::kBufferSse:
      AttemptFailed({routing::Attempt::Kind::kInvalidBody, EndpointName(), upstream_head_.status,
                     std::nullopt, "stream ended before its first event"},
                    true);
      return;
    case Phase::kTranslateSse:
      CompleteTranslatedStream();
      return;
    default:
      break;
  }
  // Relaying.
  if (sse_response_) usage_tap_.End();
  if (!strip_hold_.empty() && conn_ != nullptr) {
    // The last event ended with the body rather than a blank line.
    std::string last = std::move(strip_hold_);
    strip_hold_.clear();
    conn_->Uncork();
    ScanRelayed(last.data(), last.size());
    WriteStripped(last);
    if (conn_ == nullptr) return;
  }
  if (rescue_ != nullptr && rescue_->watch != nullptr) {
    RelayWatchedEnd();
    if (conn_ == nullptr || phase_ != Phase::kRelay) return;  // failed, or being continued
  }
  if (sse_response_ &&
      routing::ClassifyStatus(upstream_head_.status) == routing::StatusClass::kSuccess &&
      !saw_terminal_) {
    FailAfterCommit("stream_truncated",
                    absl::StrCat("provider ", target_->provider,
                                 ": the stream ended without its terminal event"));
    return;
  }
  FinishOk();
}

void ProxyCall::OnUpstreamFailure(UpstreamFailure kind, const std::string& detail) {
  if (conn_ == nullptr) return;
  call_.reset();
  if (!committed_) {
    AttemptFailed({KindOf(kind), EndpointName(), 0, std::nullopt, detail}, true);
    return;
  }
  if (sse_response_ && saw_terminal_ && translator_ == nullptr) {
    // The stream already carried its terminal event (an answer, or the
    // upstream's own error): the client has all there is; add nothing.
    FinishOk();
    return;
  }
  server_->health().OnFailure(target_->id, NowMs());
  probe_ = false;  // settled: the destructor must not release it again
  std::string_view code = kind == UpstreamFailure::kTimeout ? "upstream_timeout" : "upstream_error";
  FailAfterCommit(std::string(code), absl::StrCat("provider ", target_->provider, ": ", detail));
}

void ProxyCall::OnUpstreamReadBegin() {
  last_read_ns_ = uv_hrtime();  // upstream bytes arrived: the wait for them ends here
  if (conn_ != nullptr) conn_->Cork();
}

void ProxyCall::OnUpstreamReadEnd() {
  if (conn_ == nullptr) return;
  // Translated output gathers in the translator's buffer during the read and
  // leaves with the response head (if it was committed now) in one writev.
  if (translate_ && committed_ && phase_ == Phase::kTranslateSse) {
    FlushTranslated();
    return;
  }
  conn_->Uncork();
}

void ProxyCall::Commit(int64_t content_length, std::string_view content_type) {
  if (phase_ != Phase::kTranslateSse) phase_ = Phase::kRelay;
  committed_ = true;
  std::string lines;
  for (const auto& [name, value] : upstream_head_.headers) {
    if (!content_type.empty() && EqualsIgnoreCase(name, "content-type")) continue;
    for (std::string_view relayed : kRelayedHeaders) {
      if (EqualsIgnoreCase(name, relayed)) {
        absl::StrAppend(&lines, name, ": ", value, "\r\n");
        break;
      }
    }
  }
  if (!content_type.empty()) absl::StrAppend(&lines, "Content-Type: ", AV(content_type), "\r\n");
  if (translate_) AppendTranslationHeaders(&lines);
  lines.append(AttemptsHeader(upstream_head_.status));
  if (target_ != nullptr) {
    absl::StrAppend(&lines, "x-bitrouter-provider: ", target_->provider, ":", target_->model_id,
                    "\r\n");
  }
  absl::StrAppend(&lines, "x-bitrouter-overhead-us: ", OverheadUs(), "\r\n");
  bool stream = content_type.empty() ? sse_response_ : content_type == "text/event-stream";
  if (stream || phase_ == Phase::kTranslateSse) {
    lines.append("Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n");
  }
  if (content_length < 0 && content_type.empty()) {
    std::string_view cl = upstream_head_.Header("content-length");
    int64_t n = 0;
    if (!cl.empty() && upstream_head_.Header("transfer-encoding").empty() &&
        absl::SimpleAtoi(AV(cl), &n) && n >= 0 && buffer_.empty()) {
      content_length = n;
    }
  }
  conn_->StartResponse(upstream_head_.status, lines, content_length);
  NoteCommit();
  MaybeStartKeepalive();
  if (responders_ != nullptr) {
    std::string endpoint = EndpointName();
    ResponseHead seen{upstream_head_.status, sse_response_ || phase_ == Phase::kTranslateSse,
                      endpoint};
    for (Stage* s : *responders_) s->OnResponseHead(*this, seen);
  }
}

void ProxyCall::SendBody(HttpConnection* conn, const char* data, size_t len) {
  conn->WriteBody(data, len);
  bytes_out_ += static_cast<int64_t>(len);
  last_write_ms_ = NowMs();
  if (responders_ == nullptr) return;
  for (Stage* s : *responders_) s->OnResponseBody(*this, std::string_view(data, len));
}

void ProxyCall::ResponseEnded(bool ok) {
  if (stream_counted_) {
    stream_counted_ = false;
    server_->metrics().StreamEnded();
  }
  if (responders_ == nullptr || response_ended_) return;
  response_ended_ = true;
  if (metering_) FillReport(ok);
  for (Stage* s : *responders_) s->OnResponseEnd(*this, ok);
}

void ProxyCall::FinishOk() {
  HttpConnection* conn = conn_;
  conn_ = nullptr;
  phase_ = Phase::kDone;
  ResponseEnded(true);
  conn->EndResponse();  // releases (deferred-deletes) this handler
}

void ProxyCall::FailAfterCommit(const std::string& code, const std::string& message) {
  if (TryRescue(code, message)) return;
  if (Rescuing()) {
    rescue_->code = code;
    rescue_->message = message;
    return EndRescueFailed();
  }
  HttpConnection* conn = conn_;
  LOG_WARN("request ", conn->request().request_id, ": ", message);
  if (translator_ != nullptr) {
    translator_->Fail({502, code, message});
    FlushTranslated();
  } else {
    // Only upstream bytes are ever corked: flush them before writing our own.
    conn->Uncork();
    if (sse_response_) {
      std::string event =
          protocol::RenderStreamError(in_.client, {502, "upstream_error", code, message});
      SendBody(conn, event.data(), event.size());
    }
  }
  conn_ = nullptr;
  phase_ = Phase::kDone;
  ResponseEnded(false);
  conn->AbortResponse();
}

}  // namespace bitrouter::worker
