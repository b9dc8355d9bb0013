#include "controld/mcp_admin.h"

#include <netdb.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "shared/common/wall_clock.h"
#include "shared/mcp/jsonrpc.h"

namespace bitrouter::controld {
namespace {

constexpr size_t kMaxAnswerBytes = 64u << 20;
constexpr int kMaxPages = 100;

// host:port or [v6]:port.
bool SplitHostPort(const std::string& listen, std::string* host, std::string* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  *port = listen.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  if (host->empty() || *host == "0.0.0.0") *host = "127.0.0.1";
  if (*host == "::") *host = "::1";
  return !port->empty();
}

// Waits for `events` on fd until the deadline; false on timeout or error.
bool Wait(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(left.count())) == 1;
}

// One POST over a fresh loopback connection; the answer's body.
absl::StatusOr<std::string> LoopbackPost(const std::string& listen, const std::string& path,
                                         const std::string& body, uint32_t timeout_ms) {
  std::string host, port;
  if (!SplitHostPort(listen, &host, &port)) return absl::InternalError("bad listen address");
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    return absl::UnavailableError("cannot resolve the listen address");
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    ::freeaddrinfo(res);
    return absl::UnavailableError("socket failed");
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return absl::UnavailableError("cannot connect to the listener");
  }
  std::string request =
      absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: ", listen,
                   "\r\nContent-Type: application/json\r\nAccept: application/json\r\nConnection: "
                   "close\r\nX-Bitrouter-Internal: ",
                   InternalToken(), "\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
  size_t sent = 0;
  while (sent < request.size()) {
    if (!Wait(fd, POLLOUT, deadline)) {
      ::close(fd);
      return absl::DeadlineExceededError("the gateway did not take the request");
    }
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      ::close(fd);
      return absl::UnavailableError("the gateway closed the connection");
    }
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string answer;
  char buf[65536];
  for (;;) {
    if (!Wait(fd, POLLIN, deadline)) {
      ::close(fd);
      return absl::DeadlineExceededError("the gateway did not answer in time");
    }
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      ::close(fd);
      return absl::UnavailableError("reading the gateway's answer failed");
    }
    answer.append(buf, static_cast<size_t>(n));
    if (answer.size() > kMaxAnswerBytes) {
      ::close(fd);
      return absl::ResourceExhaustedError("the gateway's answer is too large");
    }
  }
  ::close(fd);
  size_t head_end = answer.find("\r\n\r\n");
  if (head_end == std::string::npos || answer.rfind("HTTP/1.1 ", 0) != 0) {
    return absl::UnavailableError("the gateway's answer is malformed");
  }
  const std::string status = answer.substr(9, 3);
  std::string out = answer.substr(head_end + 4);
  if (status != "200") {
    return absl::UnavailableError(absl::StrCat("the gateway answered HTTP ", status));
  }
  return out;
}

// Asks the gateway for the server's whole tool list (pages drained).
void Probe(const std::string& listen, const bitrouter::v1::McpServer& server, bool with_tools,
           bitrouter::v1::McpServerStatus* st) {
  const int64_t start = UnixMillis();
  st->set_checked_unix_ms(start);
  std::string cursor;
  int count = 0;
  for (int page = 0; page < kMaxPages; ++page) {
    std::string params =
        cursor.empty() ? "{}" : absl::StrCat("{\"cursor\":", mcp::JsonString(cursor), "}");
    auto body = LoopbackPost(
        listen, "/mcp/" + server.id(),
        absl::StrCat("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":", params,
                     "}"),
        server.timeout_ms() + 5000);
    if (!body.ok()) {
      st->set_error(std::string(body.status().message()));
      st->set_tool_count(-1);
      break;
    }
    rapidjson::Document d;
    d.Parse(body->data(), body->size());
    if (d.HasParseError() || !d.IsObject()) {
      st->set_error("the gateway's answer is not JSON");
      st->set_tool_count(-1);
      break;
    }
    if (d.HasMember("error") && d["error"].IsObject() && d["error"].HasMember("message") &&
        d["error"]["message"].IsString()) {
      st->set_error(d["error"]["message"].GetString());
      st->set_tool_count(-1);
      break;
    }
    if (!d.HasMember("result") || !d["result"].IsObject() || !d["result"].HasMember("tools") ||
        !d["result"]["tools"].IsArray()) {
      st->set_error("the server's tool list is malformed");
      st->set_tool_count(-1);
      break;
    }
    for (const auto& t : d["result"]["tools"].GetArray()) {
      if (!t.IsObject() || !t.HasMember("name") || !t["name"].IsString()) continue;
      ++count;
      if (!with_tools) continue;
      auto* tool = st->add_tools();
      tool->set_name(t["name"].GetString());
      if (t.HasMember("description") && t["description"].IsString()) {
        tool->set_description(t["description"].GetString());
      }
    }
    const auto& r = d["result"];
    if (!r.HasMember("nextCursor") || !r["nextCursor"].IsString()) {
      st->set_ok(true);
      st->set_tool_count(count);
      break;
    }
    cursor = r["nextCursor"].GetString();
  }
  st->set_latency_ms(UnixMillis() - start);
}

}  // namespace

const std::string& InternalToken() {
  static const std::string* token = [] {
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
      // No randomness: a token nobody can guess is still required; the
      // clock and pid are not that, so internal requests are refused.
      return new std::string();
    }
    return new std::string(
        absl::WebSafeBase64Escape(std::string(reinterpret_cast<const char*>(raw), sizeof(raw))));
  }();
  return *token;
}

void ListMcp(const bitrouter::v1::McpGateway& gateway, const std::string& listen,
             const bitrouter::v1::ListMcpRequest& req, bitrouter::v1::ListMcpResponse* out) {
  for (const auto& s : gateway.servers()) {
    if (!req.server().empty() && s.id() != req.server()) continue;
    auto* st = out->add_servers();
    st->set_id(s.id());
    st->set_name(s.name());
    st->set_transport(s.stdio() ? "stdio" : "http");
    if (!s.stdio()) st->set_url(s.url());  // the loader refuses queries (no tokens in it)
    st->set_aggregate(s.aggregate());
    st->set_tool_prefix(s.tool_prefix());
    st->set_timeout_ms(s.timeout_ms());
    Probe(listen, s, req.with_tools(), st);
  }
}

}  // namespace bitrouter::controld
