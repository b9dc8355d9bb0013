#pragma once
// The worker's side of the WorkerControl stream, on its own thread: says
// hello, builds each pushed snapshot off the loop, hands it to the loop via
// the LoopQueue, and ACKs once the loop has swapped it in (NACK with the old
// version on a bad snapshot). When the stream ends, the loop is told.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "worker/snapshot/snapshot.h"

namespace grpc {
class ClientContext;
}

namespace bitrouter::worker {

class LoopQueue;

class ControlClient {
 public:
  struct Callbacks {
    std::function<void(SnapshotPtr)> apply;     // runs on the loop
    std::function<void(std::string why)> lost;  // runs on the loop
  };
  ControlClient(std::string socket_path, uint32_t worker_id, LoopQueue* queue, Callbacks cb);
  ~ControlClient();
  void Start();
  // Cancels the stream and joins the thread. Never call from the loop while
  // the loop must keep running (it blocks briefly).
  void Stop();

 private:
  void Run();
  bool ApplyOnLoop(SnapshotPtr snapshot);

  std::string socket_path_;
  uint32_t worker_id_;
  LoopQueue* queue_;
  Callbacks cb_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex ctx_mu_;
  grpc::ClientContext* ctx_ = nullptr;
};

}  // namespace bitrouter::worker
