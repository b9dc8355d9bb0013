#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "tests/support/http_text.h"

namespace bitrouter::testing {
namespace {

long long NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

using http_text::ContainsIgnoreCase;
using http_text::ParseChunkSize;
using http_text::Trim;

bool HasHeader(const HeaderList& headers, std::string_view name) {
  return http_text::FindHeader(headers, name) != nullptr;
}

// Parses "HTTP/1.1 200 OK\r\nName: value\r\n..." (without the final CRLFCRLF).
bool ParseHead(std::string_view head, HttpResponse* resp) {
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (status_line.substr(0, 5) != "HTTP/") return false;
  size_t sp = status_line.find(' ');
  if (sp == std::string_view::npos || sp + 4 > status_line.size()) return false;
  int status = 0;
  for (size_t i = sp + 1; i < sp + 4; ++i) {
    char c = status_line[i];
    if (c < '0' || c > '9') return false;
    status = status * 10 + (c - '0');
  }
  resp->status = status;
  resp->reason = std::string(Trim(status_line.substr(sp + 4)));
  resp->headers.clear();
  if (eol == std::string_view::npos) return true;
  return http_text::ParseHeaderLines(head.substr(eol + 2), &resp->headers);
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  const std::string* v = http_text::FindHeader(headers, name);
  return v != nullptr ? *v : std::string();
}

HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
  pending_head_requests_ = 0;
  reset_seen_ = false;
}

bool HttpClient::Connect(int port, int timeout_ms) {
  Close();
  last_error_.clear();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    last_error_ = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  if (rc != 0 && errno != EINPROGRESS) {
    last_error_ = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return false;
  }
  if (rc != 0) {
    pollfd pfd{fd, POLLOUT, 0};
    int n;
    do {
      n = ::poll(&pfd, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    int err = 0;
    socklen_t len = sizeof(err);
    if (n <= 0) {
      last_error_ = "connect: timeout";
      ::close(fd);
      return false;
    }
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      last_error_ = std::string("connect: ") + std::strerror(err);
      ::close(fd);
      return false;
    }
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval tv{30, 0};  // never block forever on a peer that stopped reading
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  fd_ = fd;
  return true;
}

bool HttpClient::SendRaw(std::string_view bytes) {
  if (fd_ < 0) {
    last_error_ = "not connected";
    return false;
  }
  if (bytes.substr(0, 5) == "HEAD ") ++pending_head_requests_;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      last_error_ = std::string("send: ") + std::strerror(errno);
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

HttpClient::ReadResult HttpClient::ReadMore(long long deadline_ms) {
  if (fd_ < 0) return ReadResult::kError;
  for (;;) {
    long long remaining = deadline_ms - NowMs();
    if (remaining <= 0) return ReadResult::kTimeout;
    pollfd pfd{fd_, POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(remaining));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ReadResult::kError;
    if (n == 0) return ReadResult::kTimeout;
    char tmp[65536];
    ssize_t r = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (r > 0) {
      buf_.append(tmp, static_cast<size_t>(r));
      return ReadResult::kData;
    }
    if (r == 0) return ReadResult::kEof;
    if (errno == EINTR || errno == EAGAIN) continue;
    if (errno == ECONNRESET) reset_seen_ = true;
    return ReadResult::kError;
  }
}

HttpResponse HttpClient::ReadResponse(int timeout_ms) { return ReadOne(nullptr, timeout_ms); }

HttpResponse HttpClient::ReadResponseStreaming(
    const std::function<void(std::string_view)>& on_chunk, int timeout_ms) {
  return ReadOne(&on_chunk, timeout_ms);
}

HttpResponse HttpClient::ReadOne(const std::function<void(std::string_view)>* on_chunk,
                                 int timeout_ms) {
  HttpResponse resp;
  const long long deadline = NowMs() + timeout_ms;
  auto fail_read = [&](ReadResult r) {
    switch (r) {
      case ReadResult::kTimeout:
        resp.error = "timeout";
        break;
      case ReadResult::kEof:
        resp.error = "connection closed";
        break;
      default:
        resp.error = reset_seen_ ? "connection reset" : "read error";
        break;
    }
    return resp;
  };
  auto deliver = [&](std::string_view data) {
    if (data.empty()) return;
    resp.body.append(data);
    if (on_chunk != nullptr && *on_chunk) (*on_chunk)(data);
  };

  // Header block; 1xx interim responses are skipped.
  for (;;) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (buf_.size() > (1 << 20)) {
        resp.error = "parse error: header block too large";
        return resp;
      }
      ReadResult r = ReadMore(deadline);
      if (r != ReadResult::kData) {
        if (r == ReadResult::kEof && !buf_.empty()) {
          resp.error = "parse error: truncated header block";
          return resp;
        }
        return fail_read(r);
      }
    }
    if (!ParseHead(std::string_view(buf_).substr(0, end), &resp)) {
      resp.error = "parse error: bad header block";
      return resp;
    }
    buf_.erase(0, end + 4);
    if (resp.status >= 100 && resp.status < 200 && resp.status != 101) continue;
    break;
  }

  bool head = false;
  if (pending_head_requests_ > 0) {
    --pending_head_requests_;
    head = true;
  }
  if (head || resp.status == 204 || resp.status == 304 || resp.status < 200) {
    resp.complete = true;
    return resp;
  }

  if (ContainsIgnoreCase(resp.Header("Transfer-Encoding"), "chunked")) {
    resp.chunked = true;
    for (;;) {
      size_t eol;
      while ((eol = buf_.find("\r\n")) == std::string::npos) {
        if (buf_.size() > 4096) {
          resp.error = "parse error: chunk-size line too long";
          return resp;
        }
        ReadResult r = ReadMore(deadline);
        if (r != ReadResult::kData) return fail_read(r);
      }
      size_t size = 0;
      if (!ParseChunkSize(std::string_view(buf_).substr(0, eol), &size)) {
        resp.error = "parse error: bad chunk size";
        return resp;
      }
      buf_.erase(0, eol + 2);
      if (size == 0) break;
      while (buf_.size() < size + 2) {
        ReadResult r = ReadMore(deadline);
        if (r != ReadResult::kData) return fail_read(r);
      }
      if (buf_.compare(size, 2, "\r\n") != 0) {
        resp.error = "parse error: missing CRLF after chunk data";
        return resp;
      }
      deliver(std::string_view(buf_).substr(0, size));
      buf_.erase(0, size + 2);
    }
    // Trailer section, terminated by an empty line.
    for (;;) {
      size_t eol;
      while ((eol = buf_.find("\r\n")) == std::string::npos) {
        ReadResult r = ReadMore(deadline);
        if (r != ReadResult::kData) return fail_read(r);
      }
      buf_.erase(0, eol + 2);
      if (eol == 0) break;
    }
    resp.complete = true;
    return resp;
  }

  std::string content_length = resp.Header("Content-Length");
  if (!content_length.empty()) {
    char* endp = nullptr;
    unsigned long long want = std::strtoull(content_length.c_str(), &endp, 10);
    if (endp == content_length.c_str() || *endp != '\0') {
      resp.error = "parse error: bad Content-Length";
      return resp;
    }
    for (;;) {
      size_t take = static_cast<size_t>(std::min<unsigned long long>(want, buf_.size()));
      deliver(std::string_view(buf_).substr(0, take));
      buf_.erase(0, take);
      want -= take;
      if (want == 0) break;
      ReadResult r = ReadMore(deadline);
      if (r != ReadResult::kData) return fail_read(r);
    }
    resp.complete = true;
    return resp;
  }

  // Body delimited by connection close.
  for (;;) {
    deliver(buf_);
    buf_.clear();
    ReadResult r = ReadMore(deadline);
    if (r == ReadResult::kEof) break;
    if (r != ReadResult::kData) return fail_read(r);
  }
  resp.complete = true;
  return resp;
}

bool HttpClient::WaitForClose(int timeout_ms) {
  if (fd_ < 0) return true;
  const long long deadline = NowMs() + timeout_ms;
  for (;;) {
    ReadResult r = ReadMore(deadline);
    if (r == ReadResult::kData) continue;
    return r != ReadResult::kTimeout;
  }
}

std::string BuildRequest(std::string_view method, std::string_view target, std::string_view body,
                         const HeaderList& extra_headers) {
  std::string out;
  out.reserve(128 + body.size());
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  if (!HasHeader(extra_headers, "Host")) out.append("Host: 127.0.0.1\r\n");
  if (!body.empty() && !HasHeader(extra_headers, "Content-Type")) {
    out.append("Content-Type: application/json\r\n");
  }
  if ((!body.empty() || method == "POST") && !HasHeader(extra_headers, "Content-Length") &&
      !HasHeader(extra_headers, "Transfer-Encoding")) {
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  for (const auto& [k, v] : extra_headers) out.append(k).append(": ").append(v).append("\r\n");
  out.append("\r\n").append(body);
  return out;
}

HttpResponse Fetch(int port, std::string_view method, std::string_view target,
                   std::string_view body, const HeaderList& headers, int timeout_ms) {
  HttpClient client;
  HttpResponse resp;
  if (!client.Connect(port, timeout_ms)) {
    resp.error = client.last_error();
    return resp;
  }
  if (!client.SendRaw(BuildRequest(method, target, body, headers))) {
    resp.error = client.last_error();
    return resp;
  }
  return client.ReadResponse(timeout_ms);
}

}  // namespace bitrouter::testing
