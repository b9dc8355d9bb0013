#include "shared/routing/health.h"

#include <unistd.h>

#include "shared/common/log.h"

namespace bitrouter::routing {
namespace {

// A worker without the node region tracks only its own endpoints.
constexpr uint64_t kPrivateSlots = 1024;

}  // namespace

EndpointHealth::EndpointHealth()
    : private_(node::HealthTable::Private(kPrivateSlots)), table_(private_.get()), self_(getpid()) {
  set_policy({});
}

void EndpointHealth::UseShared(node::TableView view) {
  shared_ = std::make_unique<node::HealthTable>(view);
  if (!shared_->valid()) {
    shared_.reset();
    return;
  }
  table_ = shared_.get();
  private_.reset();
  seen_.clear();
}

void EndpointHealth::set_policy(BreakerPolicy policy) {
  limits_.failures = policy.failures;
  limits_.cooldown_ms = policy.cooldown_ms;
  limits_.probe_lease_ms = policy.probe_lease_ms != 0 ? policy.probe_lease_ms : policy.cooldown_ms;
}

void EndpointHealth::NoteFull(const std::string& id) {
  if (warned_full_) return;
  warned_full_ = true;
  // Degrade to "healthy": failover still works per request, only the
  // breaker and Retry-After memory are lost for endpoints without a slot.
  LOG_WARN("endpoint health table full near '", id, "': its breaker state is not kept (",
           table_->CountUsed(), " of ", table_->capacity(), " slots in use)");
}

EndpointHealth::Gate EndpointHealth::Check(const std::string& id, uint64_t now_ms) {
  uint64_t key = node::HashId(id);
  Gate gate = table_->Check(key, now_ms, limits_, self_);
  // Another worker may have recorded state this process must be able to forget.
  if (gate != Gate::kAllow && !seen_.contains(id)) seen_.insert(id);
  return gate;
}

void EndpointHealth::OnSuccess(const std::string& id) { table_->OnSuccess(node::HashId(id)); }

void EndpointHealth::OnFailure(const std::string& id, uint64_t now_ms) {
  if (!table_->OnFailure(node::HashId(id), now_ms, limits_, self_)) return NoteFull(id);
  seen_.insert(id);
}

void EndpointHealth::OnRetryAfter(const std::string& id, uint64_t until_ms) {
  if (!table_->OnRetryAfter(node::HashId(id), until_ms)) return NoteFull(id);
  seen_.insert(id);
}

void EndpointHealth::ReleaseProbe(const std::string& id) {
  table_->ReleaseProbe(node::HashId(id), self_);
}

uint64_t EndpointHealth::WaitMs(const std::string& id, uint64_t now_ms) const {
  return table_->WaitMs(node::HashId(id), now_ms, limits_);
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
