#include "worker/control/control_client.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <future>

#include "absl/strings/numbers.h"
#include "bitrouter/v1/control.grpc.pb.h"
#include "shared/common/log.h"
#include "worker/loop/loop_queue.h"
#include "worker/snapshot/snapshot_builder.h"

namespace bitrouter::worker {
namespace {

// TEST-ONLY hook: BITROUTER_TEST_NACK_VERSION=N in bitrouterd's environment
// (inherited by the workers) makes every worker refuse snapshot version N.
// bitrouterd now rejects everything a worker would refuse before publishing
// it, so the end-to-end tests of the NACK paths (reload, route add, respawn)
// have no real trigger left. Unset in production: nothing changes.
uint64_t TestNackVersion() {
  const char* text = std::getenv("BITROUTER_TEST_NACK_VERSION");
  uint64_t version = 0;
  if (text == nullptr || !absl::SimpleAtoi(text, &version)) return 0;
  return version;
}

}  // namespace

ControlClient::ControlClient(std::string socket_path, uint32_t worker_id, LoopQueue* queue,
                             Callbacks cb)
    : socket_path_(std::move(socket_path)),
      worker_id_(worker_id),
      queue_(queue),
      cb_(std::move(cb)) {}

ControlClient::~ControlClient() { Stop(); }

void ControlClient::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ControlClient::Stop() {
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lock(ctx_mu_);
    if (ctx_ != nullptr) ctx_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool ControlClient::ApplyOnLoop(SnapshotPtr snapshot) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> applied = done->get_future();
  queue_->Post([this, snapshot, done] {
    cb_.apply(snapshot);
    done->set_value();
  });
  while (applied.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    if (stopping_) return false;
  }
  return true;
}

void ControlClient::Run() {
  auto channel = grpc::CreateChannel("unix:" + socket_path_, grpc::InsecureChannelCredentials());
  std::string why = "control stream closed by bitrouterd";
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    why = "cannot reach bitrouterd at " + socket_path_;
  } else {
    auto stub = bitrouter::v1::WorkerControl::NewStub(channel);
    grpc::ClientContext ctx;
    {
      std::lock_guard<std::mutex> lock(ctx_mu_);
      ctx_ = &ctx;
      if (stopping_) ctx.TryCancel();
    }
    auto stream = stub->Connect(&ctx);
    bitrouter::v1::WorkerMessage hello;
    hello.mutable_hello()->set_worker_id(worker_id_);
    hello.mutable_hello()->set_pid(getpid());
    uint64_t current = 0;
    const uint64_t test_nack_version = TestNackVersion();
    if (stream->Write(hello)) {
      bitrouter::v1::ControlMessage msg;
      while (!stopping_ && stream->Read(&msg)) {
        if (!msg.has_snapshot()) continue;
        const auto& proto = msg.snapshot();
        bitrouter::v1::WorkerMessage reply;
        absl::StatusOr<SnapshotPtr> built =
            proto.version() == test_nack_version
                ? absl::StatusOr<SnapshotPtr>(absl::FailedPreconditionError(
                      "refused by BITROUTER_TEST_NACK_VERSION (test-only hook)"))
                : BuildWorkerSnapshot(proto);
        if (!built.ok()) {
          LOG_ERROR("rejecting snapshot v", proto.version(), ": ", built.status().message());
          auto* nack = reply.mutable_nack();
          nack->set_version(current);
          nack->set_rejected_version(proto.version());
          nack->set_error(std::string(built.status().message()));
        } else {
          if (!ApplyOnLoop(*built)) break;
          current = proto.version();
          reply.mutable_ack()->set_version(current);
        }
        if (!stream->Write(reply)) break;
      }
    }
    {
      std::lock_guard<std::mutex> lock(ctx_mu_);
      ctx_ = nullptr;
    }
    ctx.TryCancel();
    // Finish() only after the stream has ended or been cancelled.
    (void)stream->Finish();
  }
  if (!stopping_) {
    queue_->Post([this, why] { cb_.lost(why); });
  }
}

}  // namespace bitrouter::worker
