// ProxyCall: answers from an endpoint whose protocol differs from the
// client's, translated through the canonical form.

#include <ctime>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "shared/common/log.h"
#include "shared/common/strings.h"
#include "shared/protocol/errors.h"
#include "worker/http/server.h"
#include "worker/proxy/proxy_call.h"

namespace bitrouter::worker {

namespace {

int64_t UnixNow() { return static_cast<int64_t>(std::time(nullptr)); }

// An id base for an answer whose upstream gave no ids: random, so ids made up
// for two answers never collide in an agent's history.
std::string NewAnswerId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrCat("gen-", absl::Hex(rng(), absl::kZeroPad16));
}

}  // namespace

protocol::EncoderOptions ProxyCall::EncoderOpts() const {
  protocol::EncoderOptions o;
  // The answer names the endpoint that served it (as a passthrough answer
  // does), not the virtual name the client asked for: accounting and
  // debugging follow the model that really answered.
  o.client_model = ServedModel();
  o.created = UnixNow();
  o.include_usage = in_.include_usage;
  o.gemini_sse = in_.gemini_sse;
  // canonical_ lives as long as this call, which owns the encoder.
  if (canonical_) o.echo = &canonical_->responses_echo;
  o.now = &UnixNow;
  o.fallback_id = NewAnswerId();
  return o;
}

std::string ProxyCall::ServedModel() const {
  return target_ != nullptr ? target_->model_id : in_.model;
}

void ProxyCall::AppendTranslationHeaders(std::string* lines) const {
  if (!canonical_ || canonical_->dropped_tools.empty()) return;
  lines->append("x-bitrouter-dropped-tools: ");
  for (size_t i = 0; i < canonical_->dropped_tools.size(); ++i) {
    if (i > 0) lines->append(", ");
    // Header-safe: tool names from the client are printable, but never trust it.
    for (char c : canonical_->dropped_tools[i]) {
      lines->push_back(c == '\r' || c == '\n' ? ' ' : c);
    }
  }
  lines->append("\r\n");
}

void ProxyCall::FeedTranslated(const char* data, size_t len) {
  absl::Status s = translator_->Feed(std::string_view(data, len));
  if (!content_started_ && translator_->content_started() && call_ != nullptr) {
    content_started_ = true;
    call_->ContentStarted();
  }
  if (GuardBlockedStream()) return;
  if (!committed_) {
    if (TranslatedAttemptFailed(s)) return;
    if (translator_->out().empty()) return;  // no complete event yet
    Accepted();
    Commit(-1, StreamContentType());
  }
  if (!s.ok()) {
    FailAfterCommit("upstream_error",
                    absl::StrCat("provider ", target_->provider, ": ", s.message()));
    return;
  }
  // Written at the end of the read (OnUpstreamReadEnd): one writev per read.
}

std::string_view ProxyCall::StreamContentType() const {
  // A Gemini client without alt=sse reads one JSON array.
  return in_.client == protocol::Protocol::kGemini && !in_.gemini_sse ? "application/json"
                                                                      : "text/event-stream";
}

bool ProxyCall::TranslatedAttemptFailed(const absl::Status& s) {
  if (s.ok() && !translator_->upstream_failed()) return false;
  // Nothing reached the client yet: a malformed stream, or one the upstream
  // itself failed, is just a failed attempt.
  std::string why = !s.ok() ? std::string(s.message())
                            : absl::StrCat("stream error: ", translator_->upstream_error().message);
  AttemptFailed({routing::Attempt::Kind::kInvalidBody, EndpointName(), upstream_head_.status,
                 std::nullopt, std::move(why)},
                true);
  return true;
}

void ProxyCall::CompleteTranslatedStream() {
  absl::Status s = translator_->End();
  if (GuardBlockedStream()) return;
  if (!committed_) {
    if (TranslatedAttemptFailed(s)) return;
    Accepted();
    Commit(-1, StreamContentType());
  }
  if (!s.ok()) {
    FailAfterCommit("stream_truncated",
                    absl::StrCat("provider ", target_->provider, ": ", s.message()));
    return;
  }
  FlushTranslated();
  if (translator_->upstream_failed()) {
    // The encoder already wrote the client's error event: end without the
    // terminator.
    LOG_WARN("request ", conn_->request().request_id, ": provider ", target_->provider,
             " failed mid-stream: ", translator_->upstream_error().message);
    HttpConnection* conn = conn_;
    conn_ = nullptr;
    phase_ = Phase::kDone;
    ResponseEnded(false);
    conn->AbortResponse();
    return;
  }
  FinishOk();
}

void ProxyCall::FlushTranslated() {
  if (conn_ == nullptr || translator_ == nullptr) return;
  std::string& out = translator_->out();
  // Uncork before clearing: a corked write points into `out`, and Uncork
  // writes it (or copies what the socket does not take). The connection
  // object outlives a close started by a failed write (freed in its close
  // callback), so `conn` stays usable here even if conn_ is reset.
  HttpConnection* conn = conn_;
  SendBody(conn, out.data(), out.size());
  conn->Uncork();
  out.clear();
  if (conn_ == nullptr) return;
  if (conn_ != nullptr && conn_->congested() && call_ != nullptr && !paused_) {
    paused_ = true;
    call_->PauseReading();
  }
}

void ProxyCall::CompleteTranslatedJson() {
  const protocol::Adapter& up = protocol::AdapterFor(upstream_);
  auto resp = up.parse_response(buffer_);
  if (!resp.ok()) {
    AttemptFailed(
        {routing::Attempt::Kind::kInvalidBody, EndpointName(), upstream_head_.status, std::nullopt,
         absl::StrCat("2xx answer is not a valid ", AV(protocol::ProtocolName(upstream_)),
                      " response: ", resp.status().message())},
        true);
    return;
  }
  if (!resp->created) resp->created = UnixNow();
  resp->completed_at = UnixNow();
  json_usage_ = resp->usage;
  protocol::NormalizeToolUseFinish(&*resp);
  protocol::FillMissingIds(&*resp, NewAnswerId());
  if (canonical_) resp->echo = &canonical_->responses_echo;
  if (in_.stream) {
    // Asked for a stream, got one JSON body: replay it as stream events.
    auto encoder = protocol::AdapterFor(in_.client).make_encoder(EncoderOpts());
    // Guarded like any stream: the replay goes through a GuardSink too.
    std::unique_ptr<GuardSink> guard;
    if (GuardsAnswers()) {
      guard = std::make_unique<GuardSink>(snapshot_->guard.get(), AnswerToolPolicy(),
                                          provider_->name, encoder.get(), &in_.guard_hits);
    }
    protocol::ReplayResponse(
        *resp, guard != nullptr ? static_cast<protocol::StreamSink*>(guard.get()) : encoder.get());
    out_body_ = std::move(encoder->out());
    Accepted();
    Commit(-1, StreamContentType());
    if (guard != nullptr && guard->blocked()) {
      // The encoder rendered the in-band error: never a clean end.
      SendBody(conn_, out_body_.data(), out_body_.size());
      HttpConnection* conn = conn_;
      conn_ = nullptr;
      phase_ = Phase::kDone;
      ResponseEnded(false);
      conn->AbortResponse();
      return;
    }
  } else {
    auto rendered = protocol::AdapterFor(in_.client).render_response(*resp, ServedModel());
    if (!rendered.ok()) {
      AttemptFailed({routing::Attempt::Kind::kInvalidBody, EndpointName(), upstream_head_.status,
                     std::nullopt,
                     absl::StrCat("answer cannot be expressed in the ",
                                  AV(protocol::ProtocolName(in_.client)),
                                  " protocol: ", rendered.status().message())},
                    true);
      return;
    }
    out_body_ = std::move(*rendered);
    if (!GuardAnswer(&out_body_)) return;
    Accepted();
    Commit(static_cast<int64_t>(out_body_.size()), "application/json");
  }
  SendBody(conn_, out_body_.data(), out_body_.size());
  FinishOk();
}

void ProxyCall::CompleteTranslatedError() {
  int status = upstream_head_.status;
  protocol::UpstreamErrorInfo info = protocol::ParseUpstreamError(buffer_);
  std::string message = info.message.empty()
                            ? absl::StrCat("provider ", target_->provider, " answered ", status,
                                           " ", AV(protocol::ReasonPhrase(status)))
                            : info.message;
  std::string type = info.type.empty() ? "invalid_request_error" : info.type;
  out_body_ = protocol::RenderError(in_.client, {status, type, "", std::move(message)});
  Commit(static_cast<int64_t>(out_body_.size()), "application/json");
  SendBody(conn_, out_body_.data(), out_body_.size());
  FinishOk();
}

}  // namespace bitrouter::worker
