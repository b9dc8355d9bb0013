// bench_upstream: a fast canned OpenAI-like upstream for benchmarks.
//
// Non-blocking epoll HTTP/1.1 keep-alive server on 127.0.0.1 (one epoll loop
// per thread, shared listening socket with EPOLLEXCLUSIVE). Handles pipelined
// requests and partial reads; request bodies must use Content-Length (chunked
// request bodies are rejected with 400).
//
//   POST .../chat/completions  -> chat.completion JSON (Content-Length), or an
//                                 SSE stream (chunked) when the body contains
//                                 "stream": true
//   GET  /health               -> 200 {"status":"ok"}
//   anything else              -> 404
//
// Usage: bench_upstream [--port N] [--threads N]
// Prints "PORT <n>" on stdout (flushed) once listening; --port 0 = ephemeral.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bitrouter::testing {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kMaxBodyBytes = 64 * 1024 * 1024;
constexpr size_t kMaxPendingOutput = 4 * 1024 * 1024;  // stop reading above this
constexpr size_t kReadBufferBytes = 64 * 1024;

constexpr std::string_view kCompletionJson =
    R"({"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,)"
    R"("model":"bench-model","choices":[{"index":0,"message":{"role":"assistant",)"
    R"("content":"Hello! This is a canned response from the benchmark upstream."},)"
    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":13,)"
    R"("total_tokens":25}})";

std::string SseEvent(std::string_view delta, std::string_view finish_reason) {
  return std::string(R"(data: {"id":"chatcmpl-bench","object":"chat.completion.chunk",)") +
         R"("created":1700000000,"model":"bench-model","choices":[{"index":0,"delta":)" +
         std::string(delta) + R"(,"finish_reason":)" + std::string(finish_reason) + "}]}\n\n";
}

std::string Chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}

enum Route { kJson = 0, kStream, kHealth, kNotFound, kBadRequest, kTooLarge, kNumRoutes };

// Precomputed full responses, [close_connection][route].
std::string g_responses[2][kNumRoutes];

void BuildResponses() {
  std::string sse_body;
  sse_body += Chunk(SseEvent(R"({"role":"assistant","content":"Hello"})", "null"));
  sse_body += Chunk(SseEvent(R"({"content":" from"})", "null"));
  sse_body += Chunk(SseEvent(R"({"content":" the bench"})", "null"));
  sse_body += Chunk(SseEvent(R"({"content":" upstream."})", "null"));
  sse_body += Chunk(SseEvent("{}", R"("stop")"));
  // As OpenAI sends it when asked for stream_options.include_usage (which
  // the router asks for): the usage-only chunk before [DONE].
  sse_body += Chunk(
      R"(data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,)"
      R"("model":"bench-model","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":13,)"
      R"("total_tokens":25}})"
      "\n\n");
  sse_body += Chunk("data: [DONE]\n\n");
  sse_body += "0\r\n\r\n";
  for (int close = 0; close < 2; ++close) {
    const std::string conn = close ? "Connection: close\r\n" : "";
    auto fixed = [&](std::string_view status, std::string_view type, std::string_view body) {
      return "HTTP/1.1 " + std::string(status) + "\r\nContent-Type: " + std::string(type) +
             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + conn + "\r\n" +
             std::string(body);
    };
    g_responses[close][kJson] = fixed("200 OK", "application/json", kCompletionJson);
    g_responses[close][kStream] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Transfer-Encoding: chunked\r\n" +
        conn + "\r\n" + sse_body;
    g_responses[close][kHealth] = fixed("200 OK", "application/json", R"({"status":"ok"})");
    g_responses[close][kNotFound] =
        fixed("404 Not Found", "application/json", R"({"error":{"message":"not found"}})");
    g_responses[close][kBadRequest] =
        fixed("400 Bad Request", "application/json", R"({"error":{"message":"bad request"}})");
    g_responses[close][kTooLarge] =
        fixed("413 Payload Too Large", "application/json", R"({"error":{"message":"too large"}})");
  }
}

inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c; }

// True if `s` starts with lower-case `prefix`, case-insensitively.
inline bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

inline bool ContainsNoCase(std::string_view s, std::string_view lower_needle) {
  for (size_t i = 0; i + lower_needle.size() <= s.size(); ++i) {
    if (StartsWithNoCase(s.substr(i), lower_needle)) return true;
  }
  return false;
}

inline std::string_view TrimValue(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// `"stream"` followed by optional whitespace, ':', optional whitespace, `true`.
bool WantsStream(std::string_view body) {
  constexpr std::string_view kKey = "\"stream\"";
  for (size_t pos = body.find(kKey); pos != std::string_view::npos;
       pos = body.find(kKey, pos + 1)) {
    size_t i = pos + kKey.size();
    auto skip_ws = [&] {
      while (i < body.size() &&
             (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n')) {
        ++i;
      }
    };
    skip_ws();
    if (i >= body.size() || body[i] != ':') continue;
    ++i;
    skip_ws();
    if (body.substr(i, 4) == "true") return true;
  }
  return false;
}

struct Conn {
  int fd = -1;
  std::string in;  // unconsumed request bytes (only when a request is partial)
  std::string out;
  size_t out_off = 0;
  bool close_after_write = false;  // stop parsing; close once `out` is flushed
  bool peer_eof = false;
  uint32_t events = 0;
};

// Parses as many complete requests from `data` as possible, appending
// responses to c->out. Returns the number of bytes consumed.
size_t Process(Conn* c, std::string_view data) {
  size_t consumed = 0;
  while (!c->close_after_write) {
    std::string_view rest = data.substr(consumed);
    size_t hdr_end = rest.find("\r\n\r\n");
    if (hdr_end == std::string_view::npos) {
      if (rest.size() > kMaxHeaderBytes) {
        c->out += g_responses[1][kBadRequest];
        c->close_after_write = true;
      }
      break;
    }
    std::string_view head = rest.substr(0, hdr_end);
    size_t line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) {
      c->out += g_responses[1][kBadRequest];
      c->close_after_write = true;
      break;
    }
    std::string_view method = line.substr(0, sp1);
    std::string_view path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (size_t q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);

    size_t content_length = 0;
    bool bad = false, chunked = false, close = version == "HTTP/1.0", keep_alive = false;
    std::string_view headers =
        line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    while (!headers.empty()) {
      size_t eol = headers.find("\r\n");
      std::string_view h = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
      switch (Lower(h.empty() ? ' ' : h[0])) {
        case 'c':
          if (StartsWithNoCase(h, "content-length:")) {
            std::string_view v = TrimValue(h.substr(15));
            if (v.empty() || v.size() > 12) bad = true;
            content_length = 0;
            for (char ch : v) {
              if (ch < '0' || ch > '9') {
                bad = true;
                break;
              }
              content_length = content_length * 10 + static_cast<size_t>(ch - '0');
            }
          } else if (StartsWithNoCase(h, "connection:")) {
            if (ContainsNoCase(h.substr(11), "close")) close = true;
            if (ContainsNoCase(h.substr(11), "keep-alive")) keep_alive = true;
          }
          break;
        case 't':
          if (StartsWithNoCase(h, "transfer-encoding:")) chunked = true;
          break;
        default:
          break;
      }
    }
    if (version == "HTTP/1.0" && keep_alive) close = false;
    if (bad || chunked || version.substr(0, 5) != "HTTP/") {
      c->out += g_responses[1][kBadRequest];
      c->close_after_write = true;
      break;
    }
    if (content_length > kMaxBodyBytes) {
      c->out += g_responses[1][kTooLarge];
      c->close_after_write = true;
      break;
    }
    size_t total = hdr_end + 4 + content_length;
    if (rest.size() < total) break;  // body incomplete
    std::string_view body = rest.substr(hdr_end + 4, content_length);

    Route route = kNotFound;
    constexpr std::string_view kChat = "/chat/completions";
    if (method == "POST" && path.size() >= kChat.size() &&
        path.substr(path.size() - kChat.size()) == kChat) {
      route = WantsStream(body) ? kStream : kJson;
    } else if (method == "GET" && path == "/health") {
      route = kHealth;
    }
    c->out += g_responses[close ? 1 : 0][route];
    consumed += total;
    if (close) c->close_after_write = true;
  }
  return consumed;
}

class Loop {
 public:
  explicit Loop(int listen_fd) : listen_fd_(listen_fd), buf_(kReadBufferBytes) {}

  bool Init() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) return false;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.ptr = nullptr;
    return epoll_ctl(ep_, EPOLL_CTL_ADD, listen_fd_, &ev) == 0;
  }

  void Run() {
    epoll_event events[256];
    for (;;) {
      int n = epoll_wait(ep_, events, 256, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        std::perror("epoll_wait");
        return;
      }
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<Conn*>(events[i].data.ptr);
        if (c == nullptr) {
          Accept();
          continue;
        }
        uint32_t e = events[i].events;
        if ((e & EPOLLERR) != 0) {
          CloseConn(c);
          continue;
        }
        if ((e & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) != 0 && !OnReadable(c)) continue;
        if ((e & EPOLLOUT) != 0) Flush(c);
      }
    }
  }

 private:
  void Accept() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN (another loop took it) or transient error
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      auto* c = new Conn;
      c->fd = fd;
      c->events = EPOLLIN | EPOLLRDHUP;
      epoll_event ev{};
      ev.events = c->events;
      ev.data.ptr = c;
      if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        delete c;
      }
    }
  }

  void CloseConn(Conn* c) {
    close(c->fd);  // also removes it from the epoll set
    delete c;
  }

  void SetEvents(Conn* c, uint32_t events) {
    if (events == c->events) return;
    c->events = events;
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = c;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c->fd, &ev);
  }

  // Returns false if the connection was closed (and freed).
  bool OnReadable(Conn* c) {
    while (!c->close_after_write && !c->peer_eof &&
           c->out.size() - c->out_off < kMaxPendingOutput) {
      ssize_t r = recv(c->fd, buf_.data(), buf_.size(), 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        CloseConn(c);
        return false;
      }
      if (r == 0) {
        c->peer_eof = true;
        break;
      }
      std::string_view data(buf_.data(), static_cast<size_t>(r));
      if (c->in.empty()) {
        // Fast path: parse straight from the read buffer, keep only leftovers.
        size_t used = Process(c, data);
        c->in.assign(data.substr(used));
      } else {
        c->in.append(data);
        size_t used = Process(c, c->in);
        c->in.erase(0, used);
      }
      if (static_cast<size_t>(r) < buf_.size()) break;  // drained the socket
    }
    return Flush(c);
  }

  // Writes pending output; updates interest; closes when done. Returns false
  // if the connection was closed (and freed).
  bool Flush(Conn* c) {
    while (c->out_off < c->out.size()) {
      ssize_t w = send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        CloseConn(c);
        return false;
      }
      c->out_off += static_cast<size_t>(w);
    }
    if (c->out_off == c->out.size()) {
      c->out.clear();
      c->out_off = 0;
      if (c->close_after_write || c->peer_eof) {
        CloseConn(c);
        return false;
      }
    } else if (c->out_off > (1 << 20)) {
      c->out.erase(0, c->out_off);
      c->out_off = 0;
    }
    const bool pending = !c->out.empty();
    uint32_t want = EPOLLRDHUP;
    if (pending) want |= EPOLLOUT;
    if (!c->close_after_write && !c->peer_eof && c->out.size() - c->out_off < kMaxPendingOutput) {
      want |= EPOLLIN;
    }
    SetEvents(c, want);
    // Resume parsing buffered pipelined requests once output drained below the cap.
    if (!pending && !c->in.empty() && !c->close_after_write) {
      size_t used = Process(c, c->in);
      c->in.erase(0, used);
      if (!c->out.empty()) return Flush(c);
    }
    return true;
  }

  int listen_fd_;
  int ep_ = -1;
  std::vector<char> buf_;
};

void Usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--port N] [--threads N]\n", argv0);
}

}  // namespace
}  // namespace bitrouter::testing

int main(int argc, char** argv) {
  using bitrouter::testing::Loop;
  int port = 0;
  int threads = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    std::string value;
    auto take = [&](std::string_view flag) {
      if (a == flag && i + 1 < argc) {
        value = argv[++i];
        return true;
      }
      if (a.size() > flag.size() + 1 && a.substr(0, flag.size()) == flag && a[flag.size()] == '=') {
        value = std::string(a.substr(flag.size() + 1));
        return true;
      }
      return false;
    };
    if (take("--port")) {
      port = std::atoi(value.c_str());
    } else if (take("--threads")) {
      threads = std::atoi(value.c_str());
    } else {
      bitrouter::testing::Usage(argv[0]);
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (port < 0 || port > 65535 || threads < 1 || threads > 256) {
    bitrouter::testing::Usage(argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  bitrouter::testing::BuildResponses();

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 4096) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("bench_upstream: listen");
    return 1;
  }

  std::vector<std::unique_ptr<Loop>> loops;
  for (int i = 0; i < threads; ++i) {
    loops.push_back(std::make_unique<Loop>(fd));
    if (!loops.back()->Init()) {
      std::perror("bench_upstream: epoll");
      return 1;
    }
  }
  std::printf("PORT %d\n", ntohs(addr.sin_port));
  std::fflush(stdout);

  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) workers.emplace_back([&loops, i] { loops[i]->Run(); });
  loops[0]->Run();
  for (auto& t : workers) t.join();
  return 1;
}
