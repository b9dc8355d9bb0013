#pragma once
// A one-shot timer that owns its uv_timer_t and frees itself in the close
// callback, so an owner can drop it at any time without handle-lifetime
// bookkeeping. Loop thread only. Used by the workers and the MCP host.

#include <uv.h>

#include <cstdint>
#include <functional>

namespace bitrouter {

class OneShotTimer {
 public:
  // Runs `fn` once after `ms` unless cancelled first.
  static OneShotTimer* Start(uv_loop_t* loop, uint64_t ms, std::function<void()> fn) {
    auto* t = new OneShotTimer(std::move(fn));
    uv_timer_init(loop, &t->timer_);
    t->timer_.data = t;
    uv_timer_start(&t->timer_, &OneShotTimer::OnFire, ms, 0);
    return t;
  }
  // No callback after this; the object frees itself.
  void Cancel() {
    fn_ = nullptr;
    Close();
  }
  // Cancels *slot (if set) and clears it.
  static void Drop(OneShotTimer** slot) {
    if (*slot != nullptr) (*slot)->Cancel();
    *slot = nullptr;
  }

 private:
  explicit OneShotTimer(std::function<void()> fn) : fn_(std::move(fn)) {}
  static void OnFire(uv_timer_t* handle) {
    auto* self = static_cast<OneShotTimer*>(handle->data);
    auto fn = std::move(self->fn_);
    self->fn_ = nullptr;
    self->Close();
    if (fn) fn();
  }
  void Close() {
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_))) return;
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_),
             [](uv_handle_t* h) { delete static_cast<OneShotTimer*>(h->data); });
  }
  uv_timer_t timer_;
  std::function<void()> fn_;
};

}  // namespace bitrouter
