#include "worker/mcp/mcp_upstream.h"

#include <rapidjson/document.h>

#include <map>
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
// messages it carried). Deletes itself once it reported.
class Exchange final : public UpstreamHandler {
 public:
  struct Outcome {
    int status = 0;
    std::string session_id;
    std::vector<std::string> messages;
    std::string failure;  // transport failure; then the rest is empty
  };
  using Finished = std::function<void(Outcome)>;

  static void Run(UpstreamPool* pool, const std::shared_ptr<SSL_CTX>& tls,
                  const McpServerRuntime& server, std::string body, const std::string& session_id,
                  const std::string& version, Finished finished) {
    auto* x = new Exchange(std::move(finished));
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
    req.timeouts.first_byte_ms = server.timeout_ms;
    req.timeouts.idle_ms = server.timeout_ms;
    req.timeouts.total_ms = server.timeout_ms;
    req.pieces = {x->head_, x->body_};
    x->call_ = pool->Start(std::move(req), x);
  }

  void OnUpstreamHeaders(const UpstreamHead& head) override {
    outcome_.status = head.status;
    outcome_.session_id = std::string(head.Header("mcp-session-id"));
    sse_ = head.Header("content-type").find("text/event-stream") != std::string_view::npos;
  }
  void OnUpstreamBody(const char* data, size_t len) override {
    if (answer_.size() + len > kMaxAnswerBytes) {
      Fail("the answer is too large");
      return;
    }
    answer_.append(data, len);
  }
  void OnUpstreamComplete() override {
    if (!sse_) {
      if (answer_.find_first_not_of(" \t\r\n") != std::string::npos) {
        outcome_.messages.push_back(std::move(answer_));
      }
    } else {
      protocol::SseParser parser;
      absl::Status s = parser.Feed(answer_, [&](std::string_view, std::string_view data) {
        if (!data.empty()) outcome_.messages.emplace_back(data);
        return absl::OkStatus();
      });
      if (!s.ok()) {
        Fail("the answer's event stream is malformed");
        return;
      }
    }
    Finish();
  }
  void OnUpstreamFailure(UpstreamFailure kind, const std::string& /*detail*/) override {
    switch (kind) {
      case UpstreamFailure::kConnect:
        Fail("the server is unreachable");
        break;
      case UpstreamFailure::kTls:
        Fail("TLS with the server failed");
        break;
      case UpstreamFailure::kTimeout:
        Fail("the server timed out");
        break;
      default:
        Fail("the server closed the connection");
        break;
    }
  }

 private:
  explicit Exchange(Finished finished) : finished_(std::move(finished)) {}
  void Fail(std::string why) {
    outcome_ = Outcome{};
    outcome_.failure = std::move(why);
    Finish();
  }
  void Finish() {
    call_.reset();  // safe from inside a callback (upstream.h)
    Finished f = std::move(finished_);
    Outcome o = std::move(outcome_);
    delete this;
    f(std::move(o));
  }

  Finished finished_;
  std::string head_, body_, answer_;
  bool sse_ = false;
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

// The response to request `id` among the messages: its result or error.
McpReply FindReply(const std::vector<std::string>& messages, const std::string& id) {
  for (const std::string& m : messages) {
    auto parsed = mcp::ParseJsonRpc(m);
    const auto* msg = std::get_if<mcp::JsonRpcMessage>(&parsed);
    if (msg == nullptr || msg->kind != mcp::JsonRpcMessage::Kind::kResponse || msg->id != id) {
      continue;
    }
    return McpReply{msg->result, msg->error, ""};
  }
  return McpReply{"", "", "the server's answer holds no response to the request"};
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
  Exchange::Run(
      pool, tls, server, mcp::RequestBody(id, "initialize", params), "", "",
      [pool, tls, copy, session, id](Exchange::Outcome o) {
        if (!o.failure.empty() || o.status != 200) {
          session->state = Session::State::kNew;
          Flush(session, o.failure.empty() ? absl::StrCat("initialize answered HTTP ", o.status)
                                           : o.failure);
          return;
        }
        McpReply r = FindReply(o.messages, id);
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
                      session->session_id, session->version, [session](Exchange::Outcome n) {
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

void Send(UpstreamPool* pool, const std::shared_ptr<SSL_CTX>& tls, const McpServerRuntime& server,
          std::string method, std::string params, McpDone done, bool retried);

void SendReady(UpstreamPool* pool, const std::shared_ptr<SSL_CTX>& tls,
               const McpServerRuntime& server, const std::shared_ptr<Session>& session,
               std::string method, std::string params, McpDone done, bool retried) {
  const std::string id = std::to_string(session->next_id++);
  McpServerRuntime copy = server;
  const std::string sent_session = session->session_id;
  Exchange::Run(
      pool, tls, server, mcp::RequestBody(id, method, params), session->session_id,
      session->version, [=, done = std::move(done)](Exchange::Outcome o) mutable {
        if (o.status == 404 && !sent_session.empty() && !retried) {
          // The upstream forgot the session: establish a new one once.
          if (session->session_id == sent_session) session->state = Session::State::kNew;
          Send(pool, tls, copy, std::move(method), std::move(params), std::move(done), true);
          return;
        }
        if (!o.failure.empty()) return done(McpReply{"", "", o.failure});
        if (o.status != 200) {
          return done(McpReply{"", "", absl::StrCat("the server answered HTTP ", o.status)});
        }
        done(FindReply(o.messages, id));
      });
}

void Send(UpstreamPool* pool, const std::shared_ptr<SSL_CTX>& tls, const McpServerRuntime& server,
          std::string method, std::string params, McpDone done, bool retried) {
  std::shared_ptr<Session>& slot = Sessions()[SessionKey(server)];
  if (slot == nullptr) slot = std::make_shared<Session>();
  std::shared_ptr<Session> session = slot;
  if (session->state == Session::State::kReady) {
    SendReady(pool, tls, server, session, std::move(method), std::move(params), std::move(done),
              retried);
    return;
  }
  McpServerRuntime copy = server;
  session->waiting.push_back([=, method = std::move(method), params = std::move(params),
                              done = std::move(done)](const std::string& failure) mutable {
    if (!failure.empty()) return done(McpReply{"", "", failure});
    SendReady(pool, tls, copy, session, std::move(method), std::move(params), std::move(done),
              retried);
  });
  if (session->state == Session::State::kNew) Initialize(pool, tls, server, session);
}

}  // namespace

void McpHttpRequest(UpstreamPool* pool, const std::shared_ptr<SSL_CTX>& tls,
                    const McpServerRuntime& server, std::string method, std::string params,
                    McpDone done) {
  Send(pool, tls, server, std::move(method), std::move(params), std::move(done), false);
}

}  // namespace bitrouter::worker
