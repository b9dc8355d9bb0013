#pragma once
// A one-shot timer that owns its uv_timer_t and frees itself in the close
// callback, so an owner can drop it at any time. Loop thread only.

#include <uv.h>

#include <cstdint>
#include <functional>

namespace bitrouter::mcphost {

class Timer {
 public:
  // Runs `fn` once after `ms` unless cancelled first.
  static Timer* Start(uv_loop_t* loop, uint64_t ms, std::function<void()> fn) {
    auto* t = new Timer(std::move(fn));
    uv_timer_init(loop, &t->timer_);
    t->timer_.data = t;
    uv_timer_start(&t->timer_, &Timer::OnFire, ms, 0);
    return t;
  }
  // No callback after this; the object frees itself.
  void Cancel() {
    fn_ = nullptr;
    Close();
  }
  // Cancels *slot (if set) and clears it.
  static void Drop(Timer** slot) {
    if (*slot != nullptr) (*slot)->Cancel();
    *slot = nullptr;
  }

 private:
  explicit Timer(std::function<void()> fn) : fn_(std::move(fn)) {}
  static void OnFire(uv_timer_t* handle) {
    auto* self = static_cast<Timer*>(handle->data);
    auto fn = std::move(self->fn_);
    self->fn_ = nullptr;
    self->Close();
    if (fn) fn();
  }
  void Close() {
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_))) return;
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_),
             [](uv_handle_t* h) { delete static_cast<Timer*>(h->data); });
  }
  uv_timer_t timer_;
  std::function<void()> fn_;
};

}  // namespace bitrouter::mcphost
