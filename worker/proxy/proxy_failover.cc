// ProxyCall, choosing what happens after an attempt failed before the
// commit: retry the same endpoint, fail over to the next, or give the client
// one aggregate error. The policy (README "Failover"):
//  - a timeout never retries the same silent endpoint while another endpoint
//    of the route can still serve;
//  - a 5xx gets one same-endpoint retry (after a jittered backoff) when no
//    other endpoint can serve (up to `upstream.retries` when that is more);
//  - a 429 (or 503) whose Retry-After is at most `upstream.retry_after_wait`
//    is waited out on the same endpoint when no other endpoint can serve;
//    otherwise the route fails over at once;
//  - connection failures (connect, TLS, reset) retry the same endpoint as
//    configured (`upstream.retries`, default 0);
//  - an endpoint is never tried more than 1 + max(1, retries) times.
#include <algorithm>
#include <cstdint>
#include <random>

#include "absl/strings/str_cat.h"
#include "shared/common/log.h"
#include "shared/protocol/errors.h"
#include "worker/http/server.h"
#include "worker/loop/timer.h"
#include "worker/proxy/proxy_call.h"
#include "worker/stages/classify/classify_stage.h"

namespace bitrouter::worker {

void ProxyCall::NextAttempt() {
  routing::EndpointHealth& health = server_->health();
  while (next_ < order_.size()) {
    target_ = &resolution_.targets[order_[next_++]];
    tries_on_target_ = 0;
    provider_ = snapshot_->FindProvider(target_->provider);
    if (provider_ == nullptr) continue;  // resolution only yields active providers
    if (context_floor_ > 0) {
      uint32_t window = ContextWindow(*target_);
      if (window != 0 && window <= context_floor_) {
        attempts_.push_back({routing::Attempt::Kind::kSkipped, EndpointName(), 0, std::nullopt,
                             "context window not larger than the one exceeded"});
        continue;
      }
    }
    routing::EndpointHealth::Gate gate = health.Check(target_->id, NowMs());
    if (RecordIfGated(gate)) continue;
    probe_ = gate == routing::EndpointHealth::Gate::kProbe;
    StartAttempt();
    return;
  }
  target_ = nullptr;
  FailAll();
}

bool ProxyCall::RecordIfGated(routing::EndpointHealth::Gate gate) {
  using Gate = routing::EndpointHealth::Gate;
  if (gate != Gate::kSkipOpen && gate != Gate::kSkipRetryAfter) return false;
  attempts_.push_back({routing::Attempt::Kind::kSkipped, EndpointName(), 0,
                       server_->health().WaitMs(target_->id, NowMs()),
                       routing::EndpointHealth::Describe(gate), gate == Gate::kSkipRetryAfter});
  return true;
}

uint32_t ProxyCall::ContextWindow(const routing::Target& t) const {
  const ProviderRuntime* p = snapshot_->FindProvider(t.provider);
  if (p == nullptr) return 0;
  auto it = p->context_windows.find(t.model_id);
  return it == p->context_windows.end() ? 0 : it->second;
}

bool ProxyCall::OthersCanServe() const {
  for (size_t i = next_; i < order_.size(); ++i) {
    const routing::Target& t = resolution_.targets[order_[i]];
    if (snapshot_->FindProvider(t.provider) == nullptr) continue;
    if (server_->health().WaitMs(t.id, NowMs()) == 0) return true;
  }
  return false;
}

bool ProxyCall::ContextFitsElsewhere() const {
  uint32_t floor = ContextWindow(*target_);
  for (size_t i = next_; i < order_.size(); ++i) {
    const routing::Target& t = resolution_.targets[order_[i]];
    if (snapshot_->FindProvider(t.provider) == nullptr) continue;
    uint32_t window = ContextWindow(t);
    if (server_->health().WaitMs(t.id, NowMs()) != 0) continue;  // it would be skipped
    if (window == 0 || floor == 0 || window > floor) return true;
  }
  return false;
}

bool ProxyCall::CandidateMovesOn(int status) const {
  // Only while a later target can actually be tried (not all waiting out a
  // breaker or a Retry-After): otherwise this answer is the last one.
  return resolution_.source == "classified" && (status == 404 || status == 409 || status == 425) &&
         OthersCanServe();
}

void ProxyCall::AttemptFailed(routing::Attempt attempt, bool count_for_breaker) {
  Server* server = server_;
  conn_->Uncork();  // nothing of a failed attempt was written; do not leave the cork on
  if (count_for_breaker) {
    server->health().OnFailure(target_->id, NowMs());  // settles a probe as failed
    probe_ = false;
  } else {
    ReleaseProbe();  // e.g. a 429: no verdict on the endpoint's health
  }
  const Failover& policy = snapshot_->failover;
  if (attempt.retry_after_ms) {
    attempt.retry_after_ms = std::min<uint64_t>(*attempt.retry_after_ms, policy.max_retry_after_ms);
    server->health().OnRetryAfter(target_->id, NowMs() + *attempt.retry_after_ms);
  }
  LOG_DEBUG("request ", conn_->request().request_id, ": ", attempt.endpoint,
            " failed: ", attempt.detail.empty() ? std::to_string(attempt.status) : attempt.detail);
  // Retry the same endpoint? (see the policy at the top of this file)
  bool others = OthersCanServe();
  uint32_t cap = std::max<uint32_t>(1, policy.retries);
  bool retry_same = false;
  uint64_t delay = 0;
  using Kind = routing::Attempt::Kind;
  bool status = attempt.kind == Kind::kStatus;
  if (status && attempt.retry_after_ms && (attempt.status == 429 || attempt.status == 503)) {
    retry_same =
        !others && *attempt.retry_after_ms <= policy.retry_after_wait_ms && tries_on_target_ < cap;
    delay = *attempt.retry_after_ms + 5;  // just past the window the gate checks
  } else if (status && attempt.status >= 500) {
    retry_same = !others && tries_on_target_ < cap;
    delay = Backoff();
  } else if (attempt.kind == Kind::kTimeout || attempt.kind == Kind::kInvalidBody) {
    retry_same = !others && tries_on_target_ < policy.retries;
    delay = Backoff();
  } else if (!status) {
    retry_same = tries_on_target_ < policy.retries;
    delay = Backoff();
  }
  uint64_t waited = uv_hrtime() - sent_ns_;
  if (attempt.kind != Kind::kSkipped) attempt.latency_us = static_cast<int64_t>(waited / 1000);
  attempts_.push_back(std::move(attempt));
  upstream_wait_ns_ += waited;  // this attempt's wait, failure included
  call_.reset();
  translator_.reset();
  if (retry_same) {
    ++tries_on_target_;
    // The wait holds this endpoint: give back a half-open probe slot now.
    ReleaseProbe();
    retry_wait_from_ns_ = uv_hrtime();
    retry_timer_ = OneShotTimer::Start(server->loop(), delay, [this] {
      retry_timer_ = nullptr;
      if (conn_ == nullptr) return;
      upstream_wait_ns_ += uv_hrtime() - retry_wait_from_ns_;  // a backoff is a wait too
      // The endpoint's health may have changed meanwhile (this failure may
      // have opened its breaker, another worker may hold its probe): the
      // retry passes the same gate as a first try.
      routing::EndpointHealth& health = server_->health();
      routing::EndpointHealth::Gate gate = health.Check(target_->id, NowMs());
      if (RecordIfGated(gate)) return NextAttempt();
      probe_ = gate == routing::EndpointHealth::Gate::kProbe;
      StartAttempt();
    });
    return;
  }
  NextAttempt();
}

uint64_t ProxyCall::Backoff() const {
  // Jittered exponential backoff: base * 2^n * [0.5, 1.5).
  static thread_local std::mt19937 rng(std::random_device{}());
  uint64_t base = static_cast<uint64_t>(snapshot_->failover.retry_backoff_ms) << tries_on_target_;
  return base / 2 + std::uniform_int_distribution<uint64_t>(0, base)(rng);
}

bool ProxyCall::RelayHeldContextError() {
  if (!context_error_) return false;
  HeldError held = std::move(*context_error_);
  context_error_.reset();
  upstream_head_ = std::move(held.head);
  buffer_ = std::move(held.body);
  upstream_ = held.upstream;
  translate_ = held.translate;
  target_ = held.target;
  if (translate_) {
    CompleteTranslatedError();
    return true;
  }
  Commit(static_cast<int64_t>(buffer_.size()));
  SendBody(conn_, buffer_.data(), buffer_.size());
  FinishOk();
  return true;
}

void ProxyCall::FailAll() {
  if (Rescuing()) return EndRescueFailed();
  // A context-length 400 sent the request on and nothing later answered:
  // the client gets that 400, the real reason, not "every endpoint failed".
  if (RelayHeldContextError()) return;
  HttpConnection* conn = conn_;
  conn_ = nullptr;
  phase_ = Phase::kDone;
  bool all_untranslatable = !attempts_.empty();
  for (const auto& a : attempts_) {
    all_untranslatable = all_untranslatable && a.kind == routing::Attempt::Kind::kSkipped &&
                         a.detail.rfind("cannot carry", 0) == 0;
  }
  if (all_untranslatable) {
    // The request uses something no endpoint's protocol can express.
    client_status_ = 400;
    ResponseEnded(false);
    conn->SendError(
        {400, "invalid_request_error", "unsupported_for_model",
         absl::StrCat("'", resolution_.name, "' cannot serve this request: ", untranslatable_)},
        RouteHeaders(false));
    return;
  }
  routing::FinalError e = routing::Aggregate(attempts_);
  client_status_ = e.status;
  if (responders_ != nullptr) {
    ResponseHead seen{e.status, false, ""};
    for (Stage* s : *responders_) s->OnResponseHead(*this, seen);
    ResponseEnded(false);
  }
  LOG_WARN("request ", conn->request().request_id, " for '", resolution_.name, "': ", e.message);
  std::string extra = AttemptsHeader();
  if (e.retry_after_s) absl::StrAppend(&extra, "Retry-After: ", *e.retry_after_s, "\r\n");
  std::string_view type = e.status == 429 ? "rate_limit_error" : "upstream_error";
  conn->SendResponse(e.status, "application/json",
                     protocol::RenderError(in_.client, {e.status, type, e.code, e.message}), extra);
}

std::string_view ProxyCall::CurrentRouteModel(bool answered) const {
  if (in_.route_category.empty()) return {};
  size_t index = SIZE_MAX;
  if (answered && target_ != nullptr)
    index = static_cast<size_t>(target_ - resolution_.targets.data());
  return RouteModel(in_, index);
}

std::string ProxyCall::RouteHeaders(bool answered) const {
  return RouteHeaderLines(in_, CurrentRouteModel(answered));
}

std::string ProxyCall::AttemptsHeader(int serving_status) const {
  bool serving = serving_status != 0 && target_ != nullptr;
  if (attempts_.empty() && !serving) return RouteHeaders(serving);
  // Every response carries it: no copy of the attempt list, one string.
  std::string value = routing::AttemptsHeaderValue(attempts_);
  if (serving) {
    routing::Attempt served{routing::Attempt::Kind::kStatus, EndpointName(), serving_status,
                            std::nullopt, ""};
    absl::StrAppend(&value, value.empty() ? "" : ",", routing::AttemptsHeaderValue({served}));
  }
  return absl::StrCat("x-bitrouter-attempts: ", value, "\r\n", RouteHeaders(serving));
}

}  // namespace bitrouter::worker
