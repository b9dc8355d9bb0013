#pragma once
// The only way other threads reach a worker loop: post a closure, which runs
// on the loop thread. Sends coalesce, so each wakeup drains the whole queue.

#include <uv.h>

#include <functional>
#include <mutex>
#include <vector>

namespace bitrouter::worker {

class LoopQueue {
 public:
  // Registers an async handle on `loop`. Loop thread only. The owner must
  // keep the object alive until every posting thread has stopped and the
  // loop has run the close callback.
  explicit LoopQueue(uv_loop_t* loop);
  // Thread-safe. Closures posted after Close() are dropped.
  void Post(std::function<void()> fn);
  // Loop thread only: runs what is queued, then closes the handle.
  void Close();

 private:
  static void OnAsync(uv_async_t* handle);
  void Drain();

  uv_async_t async_;
  std::mutex mu_;
  std::vector<std::function<void()>> queue_;
  bool closed_ = false;
};

// Objects that must not be destroyed inside their own callbacks are handed
// here and destroyed after the current loop iteration's I/O (Envoy's
// deferred deletion).
class DeferredDeleter {
 public:
  explicit DeferredDeleter(uv_loop_t* loop);
  template <typename T>
  void Delete(T* object) {
    if (object == nullptr) return;
    pending_.push_back([object] { delete object; });
    Arm();
  }
  // Runs `fn` at the same point, after the deletions queued before it.
  void Defer(std::function<void()> fn) {
    pending_.push_back(std::move(fn));
    Arm();
  }
  // Runs pending deletions and closes the handle (self-deleting).
  void Close();

 private:
  ~DeferredDeleter() = default;
  void Arm();
  static void OnCheck(uv_check_t* handle);
  void Run();

  uv_check_t check_;
  uv_idle_t idle_;  // keeps the loop from blocking in poll while work is pending
  bool armed_ = false;
  int closed_handles_ = 0;
  std::vector<std::function<void()>> pending_;
};

}  // namespace bitrouter::worker
