#include "worker/mcp/mcp_exchange.h"

#include "shared/common/wall_clock.h"
#include "worker/loop/timer.h"
#include "worker/mcp/mcp_cache.h"

namespace bitrouter::worker {
namespace {

// The timeout around one transport request. Shared by the caller's handle
// and the transport's callbacks; whichever finishes first wins.
class TimedRequest final : public McpInFlight, public std::enable_shared_from_this<TimedRequest> {
 public:
  TimedRequest(uv_loop_t* loop, uint32_t timeout_ms, McpNotify notify, McpDone done)
      : loop_(loop), timeout_ms_(timeout_ms), notify_(std::move(notify)), done_(std::move(done)) {}
  ~TimedRequest() override { StopTimer(); }

  void Start(const McpContext& ctx, const McpServerRuntime& server, McpSendArgs args) {
    // The transport holds the request until it reports (the caller may
    // drop its handle); Finish and Cancel break that cycle.
    std::shared_ptr<TimedRequest> self = shared_from_this();
    args.notify = [self](std::string message) {
      if (self->finished_) return;
      self->Arm();  // progress resets the timeout
      if (self->notify_) self->notify_(std::move(message));
    };
    args.done = [self](McpReply reply) {
      if (self->finished_) return;
      self->Finish(std::move(reply));
    };
    Arm();
    auto inner = server.stdio ? McpStdioSend(ctx, server, std::move(args))
                              : McpHttpSend(ctx, server, std::move(args));
    if (!finished_) inner_ = std::move(inner);
  }

  void Cancel(const std::string& reason) override {
    if (finished_) return;
    finished_ = true;
    StopTimer();
    done_ = nullptr;
    notify_ = nullptr;
    if (inner_ != nullptr) inner_->Cancel(reason);
    inner_.reset();
  }

 private:
  void Arm() {
    StopTimer();
    if (loop_ == nullptr || timeout_ms_ == 0) return;
    std::weak_ptr<TimedRequest> weak = weak_from_this();
    timer_ = OneShotTimer::Start(loop_, timeout_ms_, [weak] {
      auto self = weak.lock();
      if (self == nullptr || self->finished_) return;
      self->timer_ = nullptr;
      McpDone done = std::move(self->done_);
      auto keep = self;  // Cancel may drop the last other reference
      self->Cancel("timed out");
      McpReply reply;
      reply.failure = "the server timed out";
      reply.timed_out = true;
      if (done) done(std::move(reply));
    });
  }
  void StopTimer() {
    if (timer_ != nullptr) timer_->Cancel();
    timer_ = nullptr;
  }
  void Finish(McpReply reply) {
    finished_ = true;
    StopTimer();
    inner_.reset();
    McpDone done = std::move(done_);
    notify_ = nullptr;
    if (done) done(std::move(reply));
  }

  uv_loop_t* loop_;
  uint32_t timeout_ms_;
  McpNotify notify_;
  McpDone done_;
  OneShotTimer* timer_ = nullptr;
  bool finished_ = false;
  std::shared_ptr<McpInFlight> inner_;
};

class Answered final : public McpInFlight {
 public:
  void Cancel(const std::string&) override {}
};

// notifications/tools/list_changed and its resources/prompts siblings.
bool IsListChanged(std::string_view message) {
  return message.find("/list_changed\"") != std::string_view::npos;
}

}  // namespace

std::shared_ptr<McpInFlight> McpSend(const McpContext& ctx, const McpServerRuntime& server,
                                     McpSendArgs args) {
  const uint32_t ttl = ctx.mcp != nullptr ? McpListCache::TtlFor(*ctx.mcp, args.method) : 0;
  if (ttl > 0) {
    const uint64_t now = static_cast<uint64_t>(UnixMillis());
    if (auto hit = McpListCache::Get(server.id, args.method, args.params, ctx.mcp->version, now)) {
      args.done(McpReply{std::move(*hit), "", "", false});
      return std::make_shared<Answered>();
    }
    args.done = [done = std::move(args.done), id = server.id, method = args.method,
                 params = args.params, version = ctx.mcp->version, ttl,
                 cap = ctx.mcp->cache_max_entries_per_server](McpReply reply) {
      if (!reply.result.empty()) {
        McpListCache::Put(id, method, params, reply.result, version, ttl, cap,
                          static_cast<uint64_t>(UnixMillis()));
      }
      done(std::move(reply));
    };
  }
  // Any request may carry a list_changed notification on its stream.
  args.notify = [notify = std::move(args.notify), id = server.id](std::string message) {
    if (IsListChanged(message)) McpListCache::EvictServer(id);
    if (notify) notify(std::move(message));
  };
  auto request = std::make_shared<TimedRequest>(ctx.loop, server.timeout_ms, std::move(args.notify),
                                                std::move(args.done));
  request->Start(ctx, server, McpSendArgs{std::move(args.method), std::move(args.params), {}, {}});
  return request;
}

}  // namespace bitrouter::worker
