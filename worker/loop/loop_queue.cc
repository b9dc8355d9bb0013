#include "worker/loop/loop_queue.h"

namespace bitrouter::worker {

LoopQueue::LoopQueue(uv_loop_t* loop) {
  uv_async_init(loop, &async_, &LoopQueue::OnAsync);
  async_.data = this;
}

void LoopQueue::Post(std::function<void()> fn) {
  // The send happens under the lock so it can never race with Close().
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return;
  queue_.push_back(std::move(fn));
  uv_async_send(&async_);
}

void LoopQueue::OnAsync(uv_async_t* handle) { static_cast<LoopQueue*>(handle->data)->Drain(); }

void LoopQueue::Drain() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(queue_);
  }
  for (auto& fn : batch) fn();
}

void LoopQueue::Close() {
  Drain();
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    queue_.clear();
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
}

DeferredDeleter::DeferredDeleter(uv_loop_t* loop) {
  uv_check_init(loop, &check_);
  uv_idle_init(loop, &idle_);
  check_.data = this;
  idle_.data = this;
}

void DeferredDeleter::Arm() {
  if (armed_) return;
  armed_ = true;
  uv_check_start(&check_, &DeferredDeleter::OnCheck);
  uv_idle_start(&idle_, [](uv_idle_t*) {});
}

void DeferredDeleter::OnCheck(uv_check_t* handle) {
  static_cast<DeferredDeleter*>(handle->data)->Run();
}

void DeferredDeleter::Run() {
  // Deleting may queue more deletions; loop until quiet.
  while (!pending_.empty()) {
    std::vector<std::function<void()>> batch;
    batch.swap(pending_);
    for (auto& fn : batch) fn();
  }
  armed_ = false;
  uv_check_stop(&check_);
  uv_idle_stop(&idle_);
}

void DeferredDeleter::Close() {
  Run();
  // Two handles: the object goes when both have closed (libuv does not
  // promise an order for close callbacks).
  auto on_close = [](uv_handle_t* h) {
    auto* self = static_cast<DeferredDeleter*>(h->data);
    if (++self->closed_handles_ == 2) delete self;
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), on_close);
}

}  // namespace bitrouter::worker
