#include "shared/routing/health.h"

#include <algorithm>

namespace bitrouter::routing {

EndpointHealth::Gate EndpointHealth::Check(const std::string& id, uint64_t now_ms) {
  auto it = states_.find(id);
  if (it == states_.end()) return Gate::kAllow;
  State& s = it->second;
  if (s.retry_after_until_ms > now_ms) return Gate::kSkipRetryAfter;
  if (s.consecutive_failures < policy_.failures) return Gate::kAllow;
  if (s.open_until_ms > now_ms || s.probing) return Gate::kSkipOpen;
  s.probing = true;  // half-open: exactly one request decides
  return Gate::kProbe;
}

void EndpointHealth::OnSuccess(const std::string& id) {
  auto it = states_.find(id);
  if (it == states_.end()) return;
  uint64_t retry_after = it->second.retry_after_until_ms;
  it->second = State();
  it->second.retry_after_until_ms = retry_after;
  if (retry_after == 0) states_.erase(it);
}

void EndpointHealth::OnFailure(const std::string& id, uint64_t now_ms) {
  State& s = states_[id];
  s.probing = false;
  if (++s.consecutive_failures >= policy_.failures) s.open_until_ms = now_ms + policy_.cooldown_ms;
}

void EndpointHealth::OnRetryAfter(const std::string& id, uint64_t until_ms) {
  State& s = states_[id];
  s.retry_after_until_ms = std::max(s.retry_after_until_ms, until_ms);
}

void EndpointHealth::ReleaseProbe(const std::string& id) {
  auto it = states_.find(id);
  if (it != states_.end()) it->second.probing = false;
}

uint64_t EndpointHealth::WaitMs(const std::string& id, uint64_t now_ms) const {
  auto it = states_.find(id);
  if (it == states_.end()) return 0;
  const State& s = it->second;
  uint64_t until = s.retry_after_until_ms;
  if (s.consecutive_failures >= policy_.failures) until = std::max(until, s.open_until_ms);
  return until > now_ms ? until - now_ms : 0;
}

const char* EndpointHealth::Describe(Gate gate) {
  switch (gate) {
    case Gate::kAllow:
      return "available";
    case Gate::kProbe:
      return "half-open probe";
    case Gate::kSkipOpen:
      return "circuit breaker open";
    case Gate::kSkipRetryAfter:
      return "waiting out Retry-After";
  }
  return "?";
}

}  // namespace bitrouter::routing
