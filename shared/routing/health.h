#pragma once
// Per-endpoint health: a circuit breaker (after N consecutive failures the
// endpoint is skipped for a cool-down, then one probe request decides) and
// Retry-After windows. Mutable runtime state, kept outside snapshots and
// keyed by stable target ids. Single-threaded (one per worker loop); time is
// passed in, so it is deterministic under test.

#include <cstdint>
#include <iterator>
#include <string>
#include <unordered_map>

namespace bitrouter::routing {

struct BreakerPolicy {
  uint32_t failures = 5;
  uint64_t cooldown_ms = 30'000;
};

class EndpointHealth {
 public:
  enum class Gate {
    kAllow,           // closed breaker: go
    kProbe,           // half-open: this request is the single probe
    kSkipOpen,        // breaker open (or a probe already in flight)
    kSkipRetryAfter,  // the upstream asked us to wait
  };

  void set_policy(BreakerPolicy policy) { policy_ = policy; }
  Gate Check(const std::string& id, uint64_t now_ms);
  void OnSuccess(const std::string& id);
  void OnFailure(const std::string& id, uint64_t now_ms);
  // The endpoint answered 429/503 with Retry-After: skip it until `until_ms`.
  void OnRetryAfter(const std::string& id, uint64_t until_ms);
  // The request that held the probe slot ended without an outcome (client left).
  void ReleaseProbe(const std::string& id);
  // Milliseconds until the endpoint may be tried again (0 if now).
  uint64_t WaitMs(const std::string& id, uint64_t now_ms) const;
  // Drops the state of every endpoint id for which `pred` is true (its
  // definition changed on reload).
  template <typename Pred>
  void Forget(Pred pred) {
    for (auto it = states_.begin(); it != states_.end();) {
      it = pred(it->first) ? states_.erase(it) : std::next(it);
    }
  }
  static const char* Describe(Gate gate);

 private:
  struct State {
    uint32_t consecutive_failures = 0;
    uint64_t open_until_ms = 0;  // breaker open until
    bool probing = false;
    uint64_t retry_after_until_ms = 0;
  };
  BreakerPolicy policy_;
  std::unordered_map<std::string, State> states_;
};

}  // namespace bitrouter::routing
