#pragma once
// Scriptable fake OpenAI-like HTTP/1.1 upstream for tests: 127.0.0.1:0,
// thread-per-connection with blocking sockets, keep-alive, optional TLS.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/openai_json.h"

struct ssl_ctx_st;  // OpenSSL SSL_CTX

namespace bitrouter::testing {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;       // de-chunked
  int connection_id = 0;  // 1-based accept order of the connection it came on
  // First header value with this name (case-insensitive), "" if absent.
  std::string Header(std::string_view name_case_insensitive) const;
};

struct Reply {
  enum class Kind {
    kNormal,
    kHang,                 // read request, never answer until Stop (or client close)
    kResetBeforeResponse,  // RST: SO_LINGER 0 + close
    kCloseBeforeResponse,  // orderly close (TLS: close_notify first)
    kResetMidBody,         // send headers + part of the body, then RST
    kBrokenChunked,        // chunked headers + one chunk + invalid chunk-size line, then close
    kRaw,  // write `chunks` (else `body`) verbatim, status line and headers included,
           // delay_between_chunks_ms apart; then keep-alive unless close_connection
  };
  Kind kind = Kind::kNormal;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string content_type = "application/json";             // empty: no Content-Type
  std::string body;                 // non-chunked replies: sent with Content-Length
  bool chunked = false;             // send `chunks` (or `body` if chunks is empty) chunked
  std::vector<std::string> chunks;  // each sent as one HTTP chunk (empty ones are skipped)
  int delay_before_headers_ms = 0;
  int delay_between_chunks_ms = 0;
  // kRaw: the wait before chunk i (overrides delay_between_chunks_ms for the
  // chunks it covers): a stream that stalls at one point.
  std::vector<int> chunk_delays_ms;
  bool close_connection = false;  // send Connection: close and close after the reply
};

class FakeUpstream {
 public:
  struct Options {
    bool tls = false;
    std::string cert_pem_path;
    std::string key_pem_path;
  };
  using Handler = std::function<Reply(const RecordedRequest&)>;

  FakeUpstream();  // plain HTTP
  explicit FakeUpstream(Options o);
  ~FakeUpstream();  // Stop()s
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  // Binds 127.0.0.1:0 and spawns the accept thread. False on failure (see
  // last_error()). Can be called only once per instance.
  bool Start();
  // Unblocks hung/delayed replies and blocked reads/writes (shutdown() of all
  // client sockets), joins all threads, closes sockets. Idempotent. Handler
  // callbacks themselves are not interrupted: they should return promptly and
  // express slowness through the Reply delay fields / kHang.
  void Stop();

  int port() const { return port_; }
  // "http://127.0.0.1:PORT/v1" (or https:// when TLS is enabled).
  std::string base_url() const;
  const std::string& last_error() const { return last_error_; }

  // Thread-safe; a null handler restores DefaultReply.
  void SetHandler(Handler h);

  std::vector<RecordedRequest> requests() const;  // copies, thread-safe
  size_t request_count() const;
  void ClearRequests();
  int connections_accepted() const { return connections_accepted_.load(); }
  // Number of replies that were cut short because the client went away
  // (peer close/reset seen while hanging, delaying, or writing the reply).
  int client_aborts() const;

  bool WaitForRequests(size_t n, int timeout_ms) const;
  bool WaitForClientAborts(int n, int timeout_ms) const;

 private:
  struct Conn;

  void AcceptLoop();
  void Serve(const std::shared_ptr<Conn>& conn);
  void CountAbort();

  Options options_;
  ssl_ctx_st* ssl_ctx_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  bool started_ = false;
  std::string last_error_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_accepted_{0};
  std::thread accept_thread_;

  mutable std::mutex mu_;  // guards everything below
  mutable std::condition_variable cv_;
  Handler handler_;
  std::vector<RecordedRequest> requests_;
  int client_aborts_ = 0;
  std::vector<std::shared_ptr<Conn>> conns_;
};

// The reply used when no handler is set: a valid chat.completion echoing the
// request's "model" (content "Hello from fake upstream"), or, when the body has
// "stream": true, an SSE stream of the same content (with a usage chunk if
// "include_usage": true).
Reply DefaultReply(const RecordedRequest& req);

}  // namespace bitrouter::testing
