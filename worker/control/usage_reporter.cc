#include "worker/control/usage_reporter.h"

#include <grpcpp/grpcpp.h>

#include <memory>

#include "bitrouter/v1/control.grpc.pb.h"
#include "shared/common/log.h"
#include "shared/usage/record_wire.h"

namespace bitrouter::worker {
namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr std::chrono::milliseconds kRetryPause{500};

}  // namespace

UsageReporter::UsageReporter(std::string socket_path, UsageOutbox* outbox)
    : socket_path_(std::move(socket_path)), outbox_(outbox) {}

UsageReporter::~UsageReporter() { Stop(std::chrono::milliseconds(0)); }

void UsageReporter::Start() {
  thread_ = std::thread([this] { Run(); });
}

void UsageReporter::Stop(std::chrono::milliseconds flush) {
  if (!thread_.joinable()) return;
  give_up_at_ms_ = SteadyMs() + flush.count();
  stopping_ = true;
  outbox_->Close();
  // A batch may be waiting on a stalled store: past the deadline, cancel it.
  while (!done_ && SteadyMs() < give_up_at_ms_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  {
    std::lock_guard<std::mutex> lock(ctx_mu_);
    if (ctx_ != nullptr) ctx_->TryCancel();
  }
  thread_.join();
}

void UsageReporter::Run() {
  auto channel = grpc::CreateChannel("unix:" + socket_path_, grpc::InsecureChannelCredentials());
  auto stub = bitrouter::v1::WorkerControl::NewStub(channel);
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<grpc::ClientReaderWriter<bitrouter::v1::UsageBatch, bitrouter::v1::UsageAck>>
      stream;
  std::vector<usage::UsageRecord> batch;
  while (true) {
    if (batch.empty()) {
      batch = outbox_->Take(kMaxBatch, kFlushEvery);
      if (batch.empty()) {
        if (stopping_) break;  // closed and drained
        continue;
      }
    }
    if (stopping_ && SteadyMs() >= give_up_at_ms_) break;
    if (stream == nullptr) {
      {
        std::lock_guard<std::mutex> lock(ctx_mu_);
        ctx = std::make_unique<grpc::ClientContext>();
        ctx_ = ctx.get();
        if (stopping_ && SteadyMs() >= give_up_at_ms_) ctx->TryCancel();
      }
      // Fails fast while bitrouterd is away (the batch is kept and retried).
      ctx->set_wait_for_ready(false);
      stream = stub->ReportUsage(ctx.get());
    }
    bitrouter::v1::UsageBatch out;
    out.set_seq(++seq_);
    out.set_dropped_total(outbox_->dropped());
    for (const usage::UsageRecord& r : batch) usage::ToWire(r, out.add_records());
    bitrouter::v1::UsageAck ack;
    if (stream->Write(out) && stream->Read(&ack)) {
      if (ack.stored()) {
        batch.clear();
        continue;
      }
      LOG_DEBUG("usage: bitrouterd did not take a batch (", ack.error(), "); retrying");
    } else {
      // The stream broke (bitrouterd restarting): open a new one next time.
      ctx->TryCancel();
      (void)stream->Finish();
      stream.reset();
      {
        std::lock_guard<std::mutex> lock(ctx_mu_);
        ctx_ = nullptr;
        ctx.reset();
      }
    }
    if (stopping_ && SteadyMs() >= give_up_at_ms_) break;
    std::this_thread::sleep_for(kRetryPause);
  }
  size_t lost = batch.size() + outbox_->size();
  if (lost > 0) LOG_WARN("usage: ", lost, " record(s) not delivered before exit");
  if (stream != nullptr) {
    stream->WritesDone();
    ctx->TryCancel();
    (void)stream->Finish();
  }
  {
    std::lock_guard<std::mutex> lock(ctx_mu_);
    ctx_ = nullptr;
  }
  done_ = true;
}

}  // namespace bitrouter::worker
