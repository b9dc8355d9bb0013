#include "worker/mcp/mcp_upstream.h"

#include <rapidjson/document.h>

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"
#include "shared/mcp/jsonrpc.h"
#include "shared/mcp/lifecycle.h"
#include "shared/protocol/sse.h"

namespace bitrouter::worker {
namespace {

constexpr size_t kMaxAnswerBytes = 32u << 20;  // one upstream answer, JSON or SSE

// One POST to the server and its answer (status, session id, the JSON-RPC
// messages it carried). An SSE answer is read as it arrives: each message
// goes to `on_message` at once (so progress reaches the caller while the
// server works). Deletes itself once it reported, or when aborted.
class Exchange final : public UpstreamHandler {
 public:
  struct Outcome {
    int status = 0;
    std::string session_id;
    std::vector<std::string> messages;  // a JSON answer's body; SSE messages went to on_message
    std::string failure;                // transport failure; then the rest is empty
  };
  using Finished = std::function<void(Outcome)>;
  using OnMessage = std::function<void(std::string)>;

  static Exchange* Run(UpstreamPool* pool, const std::shared_ptr<SSL_CTX>& tls,
                       const McpServerRuntime& server, std::string body,
                       const std::string& session_id, const std::string& version,
                       OnMessage on_message, Finished finished) {
    auto* x = new Exchange(std::move(on_message), std::move(finished));
    x->body_ = std::move(body);
    const Url& url = server.url;
    absl::StrAppend(&x->head_, "POST ", url.path.empty() ? "/" : url.path,
                    " HTTP/1.1\r\nHost: ", url.HostHeader(),
                    "\r\nContent-Type: application/json\r\nAccept: application/json, "
                    "text/event-stream\r\nContent-Length: ",
                    x->body_.size(), "\r\n");
    if (!version.empty()) absl::StrAppend(&x->head_, "MCP-Protocol-Version: ", version, "\r\n");
    if (!session_id.empty()) absl::StrAppend(&x->head_, "Mcp-Session-Id: ", session_id, "\r\n");
    absl::StrAppend(&x->head_, server.header_lines, "\r\n");
    UpstreamRequest req;
    req.origin = url;
    req.tls = tls;
    // The caller's timer (McpSend) is the per-server timeout, reset by
    // progress; these only bound a silent connection.
    req.timeouts.first_byte_ms = server.timeout_ms;
    req.timeouts.idle_ms = server.timeout_ms;
    req.timeouts.total_ms = 0;
    req.pieces = {x->head_, x->body_};
    x->call_ = pool->Start(std::move(req), x);
    return x;
  }

  // No callback after this; the connection is closed.
  void Abort() {
    if (reporting_) return;  // being deleted right after the report
    if (dispatching_) {
      aborted_ = true;  // deleted once the dispatch loop unwinds
      return;
    }
    delete this;
  }

  void OnUpstreamHeaders(const UpstreamHead& head) override {
    outcome_.status = head.status;
    outcome_.session_id = std::string(head.Header("mcp-session-id"));
    sse_ = head.status == 200 &&
           head.Header("content-type").find("text/event-stream") != std::string_view::npos;
  }
  void OnUpstreamBody(const char* data, size_t len) override {
    if (received_ + len > kMaxAnswerBytes) return Fail("the answer is too large");
    received_ += len;
    if (!sse_) {
      answer_.append(data, len);
      return;
    }
    std::vector<std::string> events;
    absl::Status s =
        parser_.Feed(std::string_view(data, len), [&](std::string_view, std::string_view d) {
          if (!d.empty()) events.emplace_back(d);
          return absl::OkStatus();
        });
    if (!s.ok()) return Fail("the answer's event stream is malformed");
    dispatching_ = true;
    for (std::string& e : events) {
      if (aborted_) break;
      if (on_message_) on_message_(std::move(e));
    }
    dispatching_ = false;
    if (aborted_) delete this;
  }
  void OnUpstreamComplete() override {
    if (!sse_ && answer_.find_first_not_of(" \t\r\n") != std::string::npos) {
      outcome_.messages.push_back(std::move(answer_));
    }
    Finish();
  }
  void OnUpstreamFailure(UpstreamFailure kind, const std::string& /*detail*/) override {
    switch (kind) {
      case UpstreamFailure::kConnect:
        return Fail("the server is unreachable");
      case UpstreamFailure::kTls:
        return Fail("TLS with the server failed");
      case UpstreamFailure::kTimeout:
        return Fail("the server timed out");
      default:
        return Fail("the server closed the connection");
    }
  }

 private:
  Exchange(OnMessage on_message, Finished finished)
      : on_message_(std::move(on_message)), finished_(std::move(finished)) {}
  void Fail(std::string why) {
    outcome_ = Outcome{};
    outcome_.failure = std::move(why);
    Finish();
  }
  void Finish() {
    reporting_ = true;
    call_.reset();  // safe from inside a callback (upstream.h)
    Finished f = std::move(finished_);
    Outcome o = std::move(outcome_);
    delete this;
    f(std::move(o));
  }

  OnMessage on_message_;
  Finished finished_;
  std::string head_, body_, answer_;
  size_t received_ = 0;
  bool sse_ = false;
  bool reporting_ = false;
  bool dispatching_ = false;
  bool aborted_ = false;
  protocol::SseParser parser_;
  Outcome outcome_;
  std::unique_ptr<UpstreamCall> call_;
};

struct Session {
  enum class State { kNew, kInitializing, kReady };
  State state = State::kNew;
  std::string session_id;
  std::string version;
  uint64_t next_id = 1;
  std::vector<std::function<void(const std::string& failure)>> waiting;
};

std::map<std::string, std::shared_ptr<Session>>& Sessions() {
  static auto* sessions = new std::map<std::string, std::shared_ptr<Session>>();
  return *sessions;
}

std::string SessionKey(const McpServerRuntime& s) {
  return absl::StrCat(s.id, "\n", s.url.Origin(), s.url.path, "\n", s.header_lines);
}

// A parsed message that is the response to request `id`, if it is one.
std::optional<McpReply> AsReply(const std::string& message, const std::string& id) {
  auto parsed = mcp::ParseJsonRpc(message);
  const auto* msg = std::get_if<mcp::JsonRpcMessage>(&parsed);
  if (msg == nullptr || msg->kind != mcp::JsonRpcMessage::Kind::kResponse || msg->id != id) {
    return std::nullopt;
  }
  return McpReply{msg->result, msg->error, "", false};
}

McpReply FindReply(const std::vector<std::string>& messages, const std::string& id) {
  for (const std::string& m : messages) {
    if (auto r = AsReply(m, id)) return *r;
  }
  return McpReply{"", "", "the server's answer holds no response to the request", false};
}

bool IsNotification(const std::string& message) {
  auto parsed = mcp::ParseJsonRpc(message);
  const auto* msg = std::get_if<mcp::JsonRpcMessage>(&parsed);
  return msg != nullptr && msg->kind == mcp::JsonRpcMessage::Kind::kNotification;
}

std::string ResultVersion(const std::string& result) {
  rapidjson::Document d;
  d.Parse(result.data(), result.size());
  if (d.HasParseError() || !d.IsObject()) return {};
  auto it = d.FindMember("protocolVersion");
  return it != d.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

void Flush(const std::shared_ptr<Session>& session, const std::string& failure) {
  auto waiting = std::move(session->waiting);
  session->waiting.clear();
  for (auto& w : waiting) w(failure);
}

void Initialize(UpstreamPool* pool, const std::shared_ptr<SSL_CTX>& tls,
                const McpServerRuntime& server, const std::shared_ptr<Session>& session) {
  session->state = Session::State::kInitializing;
  session->session_id.clear();
  const std::string id = std::to_string(session->next_id++);
  const std::string params = absl::StrCat(
      "{\"protocolVersion\":", mcp::JsonString(mcp::kLatestVersion),
      ",\"capabilities\":{},\"clientInfo\":{\"name\":\"bitrouter\",\"version\":\"0.1.0\"}}");
  McpServerRuntime copy = server;
  auto messages = std::make_shared<std::vector<std::string>>();
  Exchange::Run(
      pool, tls, server, mcp::RequestBody(id, "initialize", params), "", "",
      [messages](std::string m) { messages->push_back(std::move(m)); },
      [pool, tls, copy, session, id, messages](Exchange::Outcome o) {
        if (!o.failure.empty() || o.status != 200) {
          session->state = Session::State::kNew;
          Flush(session, o.failure.empty() ? absl::StrCat("initialize answered HTTP ", o.status)
                                           : o.failure);
          return;
        }
        for (std::string& m : o.messages) messages->push_back(std::move(m));
        McpReply r = FindReply(*messages, id);
        if (r.result.empty()) {
          session->state = Session::State::kNew;
          Flush(session, r.failure.empty() ? "initialize failed" : r.failure);
          return;
        }
        session->session_id = o.session_id;
        session->version = ResultVersion(r.result);
        if (session->version.empty()) session->version = std::string(mcp::kLatestVersion);
        // notifications/initialized, then the session serves.
        Exchange::Run(pool, tls, copy, mcp::NotificationBody("notifications/initialized", ""),
                      session->session_id, session->version, nullptr,
                      [session](Exchange::Outcome n) {
                        if (!n.failure.empty()) {
                          session->state = Session::State::kNew;
                          Flush(session, n.failure);
                          return;
                        }
                        session->state = Session::State::kReady;
                        Flush(session, "");
                      });
      });
}

// One request through its session; the McpInFlight handed to the caller.
class HttpRequest final : public McpInFlight, public std::enable_shared_from_this<HttpRequest> {
 public:
  HttpRequest(const McpContext& ctx, const McpServerRuntime& server, McpSendArgs args)
      : pool_(ctx.pool), tls_(ctx.tls), server_(server), args_(std::move(args)) {}
  ~HttpRequest() override { DropExchange(); }

  void Send(bool retried) {
    std::shared_ptr<Session>& slot = Sessions()[SessionKey(server_)];
    if (slot == nullptr) slot = std::make_shared<Session>();
    session_ = slot;
    if (session_->state == Session::State::kReady) return SendReady(retried);
    std::weak_ptr<HttpRequest> weak = weak_from_this();
    // The session holds the waiter, the waiter holds the request: a caller
    // that dropped its handle still gets `done`.
    std::shared_ptr<HttpRequest> self = shared_from_this();
    session_->waiting.push_back([self, retried](const std::string& failure) {
      if (self->dropped_) return;
      if (!failure.empty()) return self->Done(McpReply{"", "", failure, false});
      self->SendReady(retried);
    });
    if (session_->state == Session::State::kNew) Initialize(pool_, tls_, server_, session_);
  }

  void Cancel(const std::string& reason) override {
    if (dropped_) return;
    dropped_ = true;
    args_.notify = nullptr;
    args_.done = nullptr;
    DropExchange();
    if (upstream_id_.empty()) return;  // never reached the server
    // Best effort, in the same session; nobody waits for its answer.
    const std::string params =
        absl::StrCat("{\"requestId\":", upstream_id_, ",\"reason\":", mcp::JsonString(reason), "}");
    Exchange::Run(pool_, tls_, server_, mcp::NotificationBody("notifications/cancelled", params),
                  session_->session_id, session_->version, nullptr, [](Exchange::Outcome) {});
  }

 private:
  void SendReady(bool retried) {
    upstream_id_ = std::to_string(session_->next_id++);
    const std::string sent_session = session_->session_id;
    std::shared_ptr<HttpRequest> self = shared_from_this();
    exchange_ = Exchange::Run(
        pool_, tls_, server_, mcp::RequestBody(upstream_id_, args_.method, args_.params),
        session_->session_id, session_->version,
        [self](std::string m) { self->OnMessage(std::move(m)); },
        [self, sent_session, retried](Exchange::Outcome o) {
          self->exchange_ = nullptr;
          if (self->dropped_) return;
          if (o.status == 404 && !sent_session.empty() && !retried) {
            // The upstream forgot the session: establish a new one once.
            if (self->session_->session_id == sent_session) {
              self->session_->state = Session::State::kNew;
            }
            self->upstream_id_.clear();
            return self->Send(true);
          }
          if (!o.failure.empty()) return self->Done(McpReply{"", "", o.failure, false});
          if (o.status != 200) {
            return self->Done(
                McpReply{"", "", absl::StrCat("the server answered HTTP ", o.status), false});
          }
          for (const std::string& m : o.messages) {
            if (auto r = AsReply(m, self->upstream_id_)) return self->Done(std::move(*r));
          }
          self->Done(
              McpReply{"", "", "the server's answer holds no response to the request", false});
        });
  }

  void OnMessage(std::string message) {
    if (dropped_) return;
    if (auto r = AsReply(message, upstream_id_)) {
      // Answer now; the exchange runs to the stream's end so that its
      // connection can be reused, and its report is then ignored.
      return Done(std::move(*r));
    }
    if (args_.notify && IsNotification(message)) args_.notify(std::move(message));
  }

  void Done(McpReply reply) {
    dropped_ = true;
    McpDone done = std::move(args_.done);
    args_.notify = nullptr;
    if (done) done(std::move(reply));
  }

  void DropExchange() {
    if (exchange_ != nullptr) exchange_->Abort();
    exchange_ = nullptr;
  }

  UpstreamPool* pool_;
  std::shared_ptr<SSL_CTX> tls_;
  McpServerRuntime server_;
  McpSendArgs args_;
  std::shared_ptr<Session> session_;
  std::string upstream_id_;
  Exchange* exchange_ = nullptr;
  bool dropped_ = false;
};

}  // namespace

std::shared_ptr<McpInFlight> McpHttpSend(const McpContext& ctx, const McpServerRuntime& server,
                                         McpSendArgs args) {
  auto request = std::make_shared<HttpRequest>(ctx, server, std::move(args));
  request->Send(false);
  return request;
}

}  // namespace bitrouter::worker
