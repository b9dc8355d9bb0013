#include "tests/support/fake_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tests/support/http_text.h"

namespace bitrouter::testing {
namespace {

using http_text::ContainsIgnoreCase;
using http_text::EqualsIgnoreCase;

// Blocking plain/TLS socket I/O that gives up when the server is stopping.
class Io {
 public:
  Io(int fd, SSL* ssl, const std::atomic<bool>* stopping)
      : fd_(fd), ssl_(ssl), stopping_(stopping) {}

  // Appends received bytes to *buf. Returns false on EOF, error or stop.
  bool Read(std::string* buf) {
    for (;;) {
      if (stopping_->load()) return false;
      if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
        pollfd pfd{fd_, POLLIN, 0};
        int n = ::poll(&pfd, 1, 50);
        if (n < 0 && errno != EINTR) return false;
        if (n <= 0) continue;
      }
      char tmp[16384];
      if (ssl_ != nullptr) {
        int r = SSL_read(ssl_, tmp, sizeof(tmp));
        if (r <= 0) return false;
        buf->append(tmp, static_cast<size_t>(r));
        return true;
      }
      ssize_t r = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      buf->append(tmp, static_cast<size_t>(r));
      return true;
    }
  }

  bool Write(std::string_view data) {
    while (!data.empty()) {
      if (stopping_->load()) return false;
      if (ssl_ != nullptr) {
        int r = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
        if (r <= 0) return false;
        data.remove_prefix(static_cast<size_t>(r));
        continue;
      }
      ssize_t r = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      data.remove_prefix(static_cast<size_t>(r));
    }
    return true;
  }

  // Waits `ms` milliseconds (0: just checks). Returns false early if the server
  // is stopping or the peer closed/reset the connection. Pending request
  // bytes (pipelining) do not end the wait.
  bool WaitAlive(int ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
      if (stopping_->load()) return false;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      pollfd pfd{fd_, POLLRDHUP, 0};
      int n = ::poll(&pfd, 1, static_cast<int>(std::clamp<long long>(left, 0, 20)));
      if (n < 0 && errno != EINTR) return false;
      if (n > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) return false;
      if (left <= 0) return true;
    }
  }

 private:
  int fd_;
  SSL* ssl_;
  const std::atomic<bool>* stopping_;
};

constexpr size_t kMaxHeaderBytes = 1 << 20;

enum class ReadStatus { kOk, kClosed, kBad };

enum class Outcome { kKeepAlive, kClose, kReset, kAborted };

const char* ReasonPhrase(int status) {
  static constexpr std::pair<int, const char*> kReasons[] = {
      {200, "OK"},
      {201, "Created"},
      {204, "No Content"},
      {304, "Not Modified"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {408, "Request Timeout"},
      {413, "Payload Too Large"},
      {429, "Too Many Requests"},
      {500, "Internal Server Error"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
  };
  for (const auto& [code, text] : kReasons) {
    if (code == status) return text;
  }
  return "Status";
}

std::string EncodeChunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  std::string out(size);
  out.append(data).append("\r\n");
  return out;
}

void ResetAndClose(int fd) {
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* sel = nullptr;
  if (SSL_select_next_proto(&sel, outlen, kHttp11, sizeof(kHttp11), in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

// Reads one request from io (bytes beyond it stay in *buf for pipelining).
ReadStatus ReadRequest(Io& io, std::string* buf, RecordedRequest* req, bool* wants_close) {
  size_t end;
  while ((end = buf->find("\r\n\r\n")) == std::string::npos) {
    if (buf->size() > kMaxHeaderBytes) return ReadStatus::kBad;
    if (!io.Read(buf)) return ReadStatus::kClosed;
  }
  std::string_view head(buf->data(), end);
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return ReadStatus::kBad;
  req->method = std::string(line.substr(0, sp1));
  req->target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  std::string_view version = line.substr(sp2 + 1);
  if (version.substr(0, 5) != "HTTP/") return ReadStatus::kBad;
  if (eol != std::string_view::npos &&
      !http_text::ParseHeaderLines(head.substr(eol + 2), &req->headers)) {
    return ReadStatus::kBad;
  }
  buf->erase(0, end + 4);

  std::string connection = req->Header("Connection");
  *wants_close = ContainsIgnoreCase(connection, "close") ||
                 (version == "HTTP/1.0" && !ContainsIgnoreCase(connection, "keep-alive"));
  if (EqualsIgnoreCase(req->Header("Expect"), "100-continue") &&
      !io.Write("HTTP/1.1 100 Continue\r\n\r\n")) {
    return ReadStatus::kClosed;
  }

  if (ContainsIgnoreCase(req->Header("Transfer-Encoding"), "chunked")) {
    for (;;) {
      size_t le;
      while ((le = buf->find("\r\n")) == std::string::npos) {
        if (buf->size() > 4096) return ReadStatus::kBad;
        if (!io.Read(buf)) return ReadStatus::kClosed;
      }
      size_t size = 0;
      if (!http_text::ParseChunkSize(std::string_view(*buf).substr(0, le), &size)) {
        return ReadStatus::kBad;
      }
      buf->erase(0, le + 2);
      if (size == 0) break;
      while (buf->size() < size + 2) {
        if (!io.Read(buf)) return ReadStatus::kClosed;
      }
      if (buf->compare(size, 2, "\r\n") != 0) return ReadStatus::kBad;
      req->body.append(*buf, 0, size);
      buf->erase(0, size + 2);
    }
    for (;;) {  // trailers
      size_t le;
      while ((le = buf->find("\r\n")) == std::string::npos) {
        if (!io.Read(buf)) return ReadStatus::kClosed;
      }
      buf->erase(0, le + 2);
      if (le == 0) break;
    }
    return ReadStatus::kOk;
  }

  std::string cl = req->Header("Content-Length");
  if (!cl.empty()) {
    char* endp = nullptr;
    unsigned long long len = std::strtoull(cl.c_str(), &endp, 10);
    if (endp == cl.c_str() || *endp != '\0' || len > (1ull << 30)) return ReadStatus::kBad;
    while (buf->size() < len) {
      if (!io.Read(buf)) return ReadStatus::kClosed;
    }
    req->body.assign(*buf, 0, len);
    buf->erase(0, len);
  }
  return ReadStatus::kOk;
}

// Writes `reply` for `req` according to reply.kind.
Outcome SendReply(Io& io, const RecordedRequest& req, bool client_wants_close, const Reply& reply) {
  using Kind = Reply::Kind;
  switch (reply.kind) {
    case Kind::kHang:
      while (io.WaitAlive(1000)) {
      }
      return Outcome::kAborted;  // not counted when stopping
    case Kind::kResetBeforeResponse:
      return Outcome::kReset;
    case Kind::kCloseBeforeResponse:
      return Outcome::kClose;
    default:
      break;
  }
  if (reply.delay_before_headers_ms > 0 && !io.WaitAlive(reply.delay_before_headers_ms)) {
    return Outcome::kAborted;
  }
  if (reply.kind == Kind::kRaw) {
    std::vector<std::string_view> pieces(reply.chunks.begin(), reply.chunks.end());
    if (pieces.empty()) pieces.push_back(reply.body);
    for (size_t i = 0; i < pieces.size(); ++i) {
      int delay = i < reply.chunk_delays_ms.size() ? reply.chunk_delays_ms[i]
                  : i > 0                          ? reply.delay_between_chunks_ms
                                                   : 0;
      if (delay > 0 && !io.WaitAlive(delay)) return Outcome::kAborted;
      if (!io.Write(pieces[i])) return Outcome::kAborted;
    }
    return reply.close_connection ? Outcome::kClose : Outcome::kKeepAlive;
  }

  const bool bodiless = (reply.status >= 100 && reply.status < 200) || reply.status == 204 ||
                        reply.status == 304 || req.method == "HEAD";
  const bool chunked = reply.chunked || reply.kind == Kind::kBrokenChunked;
  const bool close = reply.close_connection || client_wants_close;
  std::string head =
      "HTTP/1.1 " + std::to_string(reply.status) + " " + ReasonPhrase(reply.status) + "\r\n";
  if (!reply.content_type.empty()) head += "Content-Type: " + reply.content_type + "\r\n";
  for (const auto& [k, v] : reply.headers) head += k + ": " + v + "\r\n";
  if (chunked) {
    head += "Transfer-Encoding: chunked\r\n";
  } else if (!bodiless || req.method == "HEAD") {
    head += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
  }
  if (close) head += "Connection: close\r\n";
  head += "\r\n";

  std::vector<std::string_view> chunks;
  for (const auto& c : reply.chunks) {
    if (!c.empty()) chunks.push_back(c);
  }
  if (chunks.empty() && !reply.body.empty()) chunks.push_back(reply.body);

  if (reply.kind == Kind::kResetMidBody) {
    std::string out = head;
    if (chunked) {
      if (!chunks.empty()) out += EncodeChunk(chunks[0]);
    } else {
      out.append(reply.body, 0, reply.body.size() / 2);
    }
    if (!io.Write(out)) return Outcome::kAborted;
    io.WaitAlive(50);  // let the client read the partial body before the RST
    return Outcome::kReset;
  }
  if (reply.kind == Kind::kBrokenChunked) {
    std::string out = head;
    out += EncodeChunk(chunks.empty() ? std::string_view("data: {}\n\n") : chunks[0]);
    out += "zz-not-a-chunk-size\r\ngarbage\r\n";
    if (!io.Write(out)) return Outcome::kAborted;
    return Outcome::kClose;
  }

  if (bodiless) {
    if (!io.Write(head)) return Outcome::kAborted;
  } else if (!chunked) {
    if (!io.Write(head + reply.body)) return Outcome::kAborted;
  } else {
    if (!io.Write(head)) return Outcome::kAborted;
    for (size_t i = 0; i < chunks.size(); ++i) {
      int delay = i > 0 ? reply.delay_between_chunks_ms : 0;
      if (!io.WaitAlive(delay) || !io.Write(EncodeChunk(chunks[i]))) return Outcome::kAborted;
    }
    if (!io.WaitAlive(0) || !io.Write("0\r\n\r\n")) return Outcome::kAborted;
  }
  return close ? Outcome::kClose : Outcome::kKeepAlive;
}

}  // namespace

struct FakeUpstream::Conn {
  std::mutex mu;  // guards fd against close (Serve) vs shutdown (Stop) races
  int fd = -1;
  int id = 0;
  std::thread thread;
  std::atomic<bool> done{false};
};

std::string RecordedRequest::Header(std::string_view name_case_insensitive) const {
  const std::string* v = http_text::FindHeader(headers, name_case_insensitive);
  return v != nullptr ? *v : std::string();
}

FakeUpstream::FakeUpstream() = default;
FakeUpstream::FakeUpstream(Options o) : options_(std::move(o)) {}
FakeUpstream::~FakeUpstream() { Stop(); }

bool FakeUpstream::Start() {
  if (started_) {
    last_error_ = "already started";
    return false;
  }
  if (options_.tls) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == nullptr ||
        SSL_CTX_use_certificate_chain_file(ctx, options_.cert_pem_path.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, options_.key_pem_path.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      char err[256] = "SSL_CTX_new failed";
      if (unsigned long code = ERR_get_error(); code != 0) {
        ERR_error_string_n(code, err, sizeof(err));
      }
      ERR_clear_error();
      last_error_ = std::string("TLS setup: ") + err;
      SSL_CTX_free(ctx);
      return false;
    }
    SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
    ssl_ctx_ = ctx;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 128) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    last_error_ = std::string("listen: ") + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return false;
  }
  listen_fd_ = fd;
  port_ = ntohs(addr.sin_port);
  started_ = true;
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return true;
}

void FakeUpstream::Stop() {
  if (!started_ || stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_all();
  }
  ::shutdown(listen_fd_, SHUT_RDWR);  // wakes the accept thread's poll() at once
  if (accept_thread_.joinable()) accept_thread_.join();
  ::close(listen_fd_);
  listen_fd_ = -1;
  std::vector<std::shared_ptr<Conn>> conns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    conns.swap(conns_);
  }
  for (auto& c : conns) {
    std::lock_guard<std::mutex> lock(c->mu);
    if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
  }
  for (auto& c : conns) {
    if (c->thread.joinable()) c->thread.join();
  }
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  ssl_ctx_ = nullptr;
}

std::string FakeUpstream::base_url() const {
  return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
         "/v1";
}

void FakeUpstream::SetHandler(Handler h) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(h);
}

std::vector<RecordedRequest> FakeUpstream::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t FakeUpstream::request_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

void FakeUpstream::ClearRequests() {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.clear();
}

int FakeUpstream::client_aborts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return client_aborts_;
}

bool FakeUpstream::WaitForRequests(size_t n, int timeout_ms) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return requests_.size() >= n; });
}

bool FakeUpstream::WaitForClientAborts(int n, int timeout_ms) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return client_aborts_ >= n; });
}

void FakeUpstream::CountAbort() {
  std::lock_guard<std::mutex> lock(mu_);
  ++client_aborts_;
  cv_.notify_all();
}

void FakeUpstream::AcceptLoop() {
  // Connection threads inherit this mask: a write to a closed peer (including
  // OpenSSL's internal write()) then fails with EPIPE instead of killing the
  // process with SIGPIPE.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  while (!stopping_.load()) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // don't spin
      }
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto conn = std::make_shared<Conn>();
    conn->fd = fd;
    conn->id = ++connections_accepted_;
    std::lock_guard<std::mutex> lock(mu_);
    // Reap finished connections so long tests do not accumulate threads.
    for (auto it = conns_.begin(); it != conns_.end();) {
      if ((*it)->done.load()) {
        (*it)->thread.join();
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
    conn->thread = std::thread([this, conn] { Serve(conn); });
    conns_.push_back(conn);
  }
}

void FakeUpstream::Serve(const std::shared_ptr<Conn>& conn) {
  SSL* ssl = nullptr;
  bool ok = true;
  if (ssl_ctx_ != nullptr) {
    ssl = SSL_new(ssl_ctx_);
    ok = ssl != nullptr && SSL_set_fd(ssl, conn->fd) == 1 && SSL_accept(ssl) == 1;
    ERR_clear_error();
  }
  Io io(conn->fd, ssl, &stopping_);
  Outcome outcome = Outcome::kClose;
  std::string buf;
  while (ok && !stopping_.load()) {
    outcome = Outcome::kClose;
    RecordedRequest req;
    bool wants_close = false;
    ReadStatus rs = ReadRequest(io, &buf, &req, &wants_close);
    if (rs == ReadStatus::kBad) {
      io.Write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    if (rs != ReadStatus::kOk) break;
    req.connection_id = conn->id;
    Handler handler;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
      handler = handler_;
      cv_.notify_all();
    }
    Reply reply = handler ? handler(req) : DefaultReply(req);
    outcome = SendReply(io, req, wants_close, reply);
    if (outcome == Outcome::kAborted && !stopping_.load()) CountAbort();
    if (outcome != Outcome::kKeepAlive) break;
  }
  if (ssl != nullptr) {
    if (outcome == Outcome::kClose && !stopping_.load()) SSL_shutdown(ssl);
    SSL_free(ssl);
    ERR_clear_error();
  }
  {
    std::lock_guard<std::mutex> lock(conn->mu);
    if (outcome == Outcome::kReset) ResetAndClose(conn->fd);
    ::close(conn->fd);
    conn->fd = -1;
  }
  conn->done = true;
}

Reply DefaultReply(const RecordedRequest& req) {
  std::string model = JsonStringField(req.body, "model");
  if (model.empty()) model = "fake-model";
  Reply reply;
  if (JsonBoolField(req.body, "stream")) {
    reply.chunked = true;
    reply.content_type = "text/event-stream";
    reply.chunks = ChatCompletionSseChunks(model, {"Hello", " from", " fake", " upstream"},
                                           JsonBoolField(req.body, "include_usage"));
  } else {
    reply.body = ChatCompletionJson(model, "Hello from fake upstream");
  }
  return reply;
}

}  // namespace bitrouter::testing
