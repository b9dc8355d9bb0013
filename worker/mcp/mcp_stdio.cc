// The stdio transport: a worker reaches bitrouterd's MCP host (the one
// process per node that owns the stdio servers' children) over its Unix
// socket. One connection per worker, shared by every request; frames are
// newline-delimited JSON (controld/mcp_host/frame.h):
//   -> {"server":"<id>","message":{JSON-RPC with this connection's id}}
//   <- {"server":"<id>","message":{the answer}} or, for a notification
//      about a request, {"server":..,"for":<its id>,"message":{..}}
// The host rewrites ids for the child; this side only numbers its requests.
// A connection that fails fails its requests; the next request reconnects.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "shared/common/log.h"
#include "shared/mcp/jsonrpc.h"
#include "worker/loop/timer.h"
#include "worker/mcp/mcp_exchange.h"

namespace bitrouter::worker {
namespace {

constexpr size_t kMaxFrameBytes = 32u << 20;   // one frame from the host
constexpr size_t kMaxQueuedBytes = 32u << 20;  // frames waiting for the connection
constexpr int kConnectAttempts = 4;            // 100, 200, 400 ms apart: ~0.7 s
constexpr uint64_t kFirstRetryMs = 100;

class StdioRequest;

// The connection to one host socket. Lives as long as the process.
class HostLink {
 public:
  static HostLink* For(uv_loop_t* loop, const std::string& path) {
    static auto* links = new std::map<std::string, HostLink*>();
    HostLink*& link = (*links)[path];
    if (link == nullptr) link = new HostLink(loop, path);
    return link;
  }

  // Sends the request (queued while connecting); false when over a bound.
  bool Send(const std::shared_ptr<StdioRequest>& request, const std::string& server,
            const std::string& method, const std::string& params, int64_t* id);
  void Cancel(int64_t id, const std::string& server, const std::string& reason);

 private:
  enum class State { kIdle, kConnecting, kConnected };
  struct Pipe {
    uv_pipe_t pipe;
    uv_connect_t connect;
    HostLink* owner = nullptr;
  };

  HostLink(uv_loop_t* loop, std::string path) : loop_(loop), path_(std::move(path)) {}
  void Write(std::string frame);
  void Connect();
  void OnConnected(int status);
  void OnData(const char* data, size_t len);
  void OnLine(std::string_view line);
  void Disconnect(const std::string& why);
  void FailAll(const std::string& why);

  uv_loop_t* loop_;
  std::string path_;
  State state_ = State::kIdle;
  Pipe* pipe_ = nullptr;
  int attempts_ = 0;
  OneShotTimer* retry_ = nullptr;
  std::string queued_;   // frames written once connected
  std::string partial_;  // an incomplete line from the host
  int64_t next_id_ = 1;
  std::map<int64_t, std::weak_ptr<StdioRequest>> in_flight_;
};

class StdioRequest final : public McpInFlight, public std::enable_shared_from_this<StdioRequest> {
 public:
  StdioRequest(HostLink* link, std::string server, McpSendArgs args)
      : link_(link), server_(std::move(server)), args_(std::move(args)) {}

  void Start() {
    // The link holds only a weak reference: the caller's McpSend keeps the
    // request alive until `done` (its callbacks capture it).
    self_ = shared_from_this();
    if (!link_->Send(self_, server_, args_.method, args_.params, &id_)) {
      Done(McpReply{"", "", "too many requests wait for the MCP host", false});
    }
  }
  void Cancel(const std::string& reason) override {
    if (finished_) return;
    finished_ = true;
    args_.done = nullptr;
    args_.notify = nullptr;
    if (id_ != 0) link_->Cancel(id_, server_, reason);
    self_.reset();
  }
  void Done(McpReply reply) {
    if (finished_) return;
    finished_ = true;
    McpDone done = std::move(args_.done);
    args_.notify = nullptr;
    auto keep = std::move(self_);
    if (done) done(std::move(reply));
  }
  void Notify(std::string message) {
    if (!finished_ && args_.notify) args_.notify(std::move(message));
  }

 private:
  HostLink* link_;
  std::string server_;
  McpSendArgs args_;
  int64_t id_ = 0;
  bool finished_ = false;
  std::shared_ptr<StdioRequest> self_;
};

std::string FrameLine(std::string_view server, const std::string& message) {
  return absl::StrCat("{\"server\":", mcp::JsonString(server), ",\"message\":", message, "}\n");
}

bool HostLink::Send(const std::shared_ptr<StdioRequest>& request, const std::string& server,
                    const std::string& method, const std::string& params, int64_t* id) {
  if (state_ != State::kConnected && queued_.size() > kMaxQueuedBytes) return false;
  *id = next_id_++;
  in_flight_[*id] = request;
  Write(FrameLine(server, mcp::RequestBody(std::to_string(*id), method, params)));
  return true;
}

void HostLink::Cancel(int64_t id, const std::string& server, const std::string& reason) {
  if (in_flight_.erase(id) == 0) return;
  Write(FrameLine(server, mcp::NotificationBody("notifications/cancelled",
                                                absl::StrCat("{\"requestId\":", id, ",\"reason\":",
                                                             mcp::JsonString(reason), "}"))));
}

void HostLink::Write(std::string frame) {
  if (state_ != State::kConnected) {
    queued_ += frame;
    if (state_ == State::kIdle) Connect();
    return;
  }
  struct Req {
    uv_write_t req;
    std::string data;
  };
  auto* r = new Req();
  r->data = std::move(frame);
  uv_buf_t buf = uv_buf_init(r->data.data(), static_cast<unsigned>(r->data.size()));
  r->req.data = r;
  if (uv_write(&r->req, reinterpret_cast<uv_stream_t*>(&pipe_->pipe), &buf, 1,
               [](uv_write_t* req, int) { delete static_cast<Req*>(req->data); }) != 0) {
    delete r;
    Disconnect("cannot write to the MCP host");
  }
}

void HostLink::Connect() {
  state_ = State::kConnecting;
  pipe_ = new Pipe();
  pipe_->owner = this;
  uv_pipe_init(loop_, &pipe_->pipe, 0);
  pipe_->pipe.data = pipe_;
  pipe_->connect.data = pipe_;
  uv_pipe_connect(&pipe_->connect, &pipe_->pipe, path_.c_str(), [](uv_connect_t* c, int status) {
    auto* p = static_cast<Pipe*>(c->data);
    if (p->owner != nullptr) p->owner->OnConnected(status);
  });
}

void HostLink::OnConnected(int status) {
  if (status != 0) {
    Pipe* p = pipe_;
    pipe_ = nullptr;
    p->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&p->pipe),
             [](uv_handle_t* h) { delete static_cast<Pipe*>(h->data); });
    if (++attempts_ >= kConnectAttempts) {
      attempts_ = 0;
      state_ = State::kIdle;
      queued_.clear();
      LOG_WARN("the MCP host at ", path_, " is not reachable: ", uv_strerror(status));
      return FailAll("the MCP host (stdio servers) is not reachable");
    }
    retry_ = OneShotTimer::Start(loop_, kFirstRetryMs << (attempts_ - 1), [this] {
      retry_ = nullptr;
      Connect();
    });
    return;
  }
  attempts_ = 0;
  state_ = State::kConnected;
  partial_.clear();
  // An idle connection does not keep the worker's loop alive.
  uv_unref(reinterpret_cast<uv_handle_t*>(&pipe_->pipe));
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&pipe_->pipe),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        buf->base = new char[65536];
        buf->len = 65536;
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        std::unique_ptr<char[]> hold(buf->base);
        auto* p = static_cast<Pipe*>(s->data);
        if (p->owner == nullptr || n == 0) return;
        if (n < 0) return p->owner->Disconnect("the MCP host closed the connection");
        p->owner->OnData(buf->base, static_cast<size_t>(n));
      });
  std::string queued = std::move(queued_);
  queued_.clear();
  if (!queued.empty()) Write(std::move(queued));
}

void HostLink::OnData(const char* data, size_t len) {
  std::string_view rest(data, len);
  Pipe* current = pipe_;
  while (!rest.empty() && pipe_ == current) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      if (partial_.size() + rest.size() > kMaxFrameBytes) {
        return Disconnect("the MCP host sent a frame over 32 MiB");
      }
      partial_.append(rest);
      return;
    }
    partial_.append(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
    std::string line = std::move(partial_);
    partial_.clear();
    if (line.size() > kMaxFrameBytes) return Disconnect("the MCP host sent a frame over 32 MiB");
    if (!line.empty()) OnLine(line);
  }
}

void HostLink::OnLine(std::string_view line) {
  rapidjson::Document d;
  d.Parse(line.data(), line.size());
  if (d.HasParseError() || !d.IsObject()) return Disconnect("the MCP host sent a malformed frame");
  auto message = d.FindMember("message");
  if (message == d.MemberEnd() || !message->value.IsObject()) {
    return Disconnect("the MCP host sent a malformed frame");
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  message->value.Accept(w);
  std::string json(buf.GetString(), buf.GetSize());
  auto about = d.FindMember("for");
  if (about != d.MemberEnd()) {
    // A notification about one of our requests (progress).
    if (!about->value.IsInt64()) return;
    auto it = in_flight_.find(about->value.GetInt64());
    if (it == in_flight_.end()) return;
    if (auto request = it->second.lock()) request->Notify(std::move(json));
    return;
  }
  auto parsed = mcp::ParseJsonRpc(json);
  const auto* msg = std::get_if<mcp::JsonRpcMessage>(&parsed);
  if (msg == nullptr || msg->kind != mcp::JsonRpcMessage::Kind::kResponse) return;
  int64_t id = 0;
  if (!absl::SimpleAtoi(msg->id, &id)) return;
  auto it = in_flight_.find(id);
  if (it == in_flight_.end()) return;
  auto request = it->second.lock();
  in_flight_.erase(it);
  if (request) request->Done(McpReply{msg->result, msg->error, "", false});
}

void HostLink::Disconnect(const std::string& why) {
  if (pipe_ != nullptr) {
    Pipe* p = pipe_;
    pipe_ = nullptr;
    p->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&p->pipe),
             [](uv_handle_t* h) { delete static_cast<Pipe*>(h->data); });
  }
  state_ = State::kIdle;
  queued_.clear();
  partial_.clear();
  LOG_WARN("MCP host connection: ", why);
  FailAll(why);
}

void HostLink::FailAll(const std::string& why) {
  auto in_flight = std::move(in_flight_);
  in_flight_.clear();
  for (auto& [id, weak] : in_flight) {
    if (auto request = weak.lock()) request->Done(McpReply{"", "", why, false});
  }
}

}  // namespace

std::shared_ptr<McpInFlight> McpStdioSend(const McpContext& ctx, const McpServerRuntime& server,
                                          McpSendArgs args) {
  if (server.stdio_socket.empty() || ctx.loop == nullptr) {
    args.done(McpReply{"", "", "no MCP host serves stdio servers", false});
    return std::make_shared<StdioRequest>(nullptr, server.id, McpSendArgs{});
  }
  auto request = std::make_shared<StdioRequest>(HostLink::For(ctx.loop, server.stdio_socket),
                                                server.id, std::move(args));
  request->Start();
  return request;
}

}  // namespace bitrouter::worker
