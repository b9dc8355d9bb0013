// ProxyCall, the quiet parts of a committed response: SSE keep-alive
// comments while a stream has nothing to send (a long reasoning pause must
// not look like a dead connection to proxies and clients), and the router
// overhead figure sent with the response head.
#include <algorithm>

#include "worker/loop/timer.h"
#include "worker/proxy/proxy_call.h"

namespace bitrouter::worker {
namespace {

constexpr std::string_view kKeepalive = ": keep-alive\n\n";

}  // namespace

int64_t ProxyCall::OverheadUs() const {
  // The current attempt waited from its send to the read that carried what
  // committed it (or, for a JSON answer, completed it).
  uint64_t now = uv_hrtime();
  uint64_t current = last_read_ns_ > sent_ns_ ? last_read_ns_ - sent_ns_ : 0;
  uint64_t waits = upstream_wait_ns_ + current;
  uint64_t spent = now > start_ns_ ? now - start_ns_ : 0;
  return static_cast<int64_t>((spent > waits ? spent - waits : 0) / 1000);
}

void ProxyCall::MaybeStartKeepalive() {
  uint32_t interval = snapshot_->limits.stream_keepalive_ms;
  bool sse = sse_response_ || phase_ == Phase::kTranslateSse;
  // A Gemini client without alt=sse reads one JSON array: no comments there.
  bool gemini_array = in_.client == protocol::Protocol::kGemini && !in_.gemini_sse;
  if (interval == 0 || !in_.stream || !sse || gemini_array || keepalive_timer_ != nullptr) return;
  last_write_ms_ = NowMs();
  ArmKeepalive(interval);
}

void ProxyCall::ArmKeepalive(uint64_t ms) {
  keepalive_timer_ = OneShotTimer::Start(loop_, std::max<uint64_t>(ms, 1), [this] {
    keepalive_timer_ = nullptr;
    OnKeepaliveTimer();
  });
}

bool ProxyCall::AtEventBoundary() const {
  // Translated streams and watched relays write whole events only; a plain
  // relay may stop mid-event, and its last bytes say where it stands.
  if (translator_ != nullptr || (rescue_ != nullptr && rescue_->watch != nullptr)) return true;
  std::string_view t(tail_);
  return t.size() >= 2 && t.substr(t.size() - 2) == "\n\n";
}

void ProxyCall::OnKeepaliveTimer() {
  if (conn_ == nullptr || phase_ == Phase::kDone) return;
  uint64_t interval = snapshot_->limits.stream_keepalive_ms;
  uint64_t idle = NowMs() - last_write_ms_;
  if (idle < interval) return ArmKeepalive(interval - idle);
  if (!paused_ && AtEventBoundary()) {
    conn_->Uncork();  // nothing of ours may sit behind corked upstream bytes
    SendBody(conn_, kKeepalive.data(), kKeepalive.size());
    if (conn_ == nullptr) return;
  }
  ArmKeepalive(interval);
}

}  // namespace bitrouter::worker
