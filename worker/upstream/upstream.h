#pragma once
// HTTP/1.1 client for upstream providers: a keep-alive pool per origin,
// cached async DNS, TLS (verified, SNI), llhttp response parsing, and
// connect / first-byte / idle / total timeouts. Loop thread only.

#include <uv.h>
#include "worker/loop/timer.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "shared/common/url.h"
#include "worker/snapshot/snapshot.h"

namespace bitrouter::worker {

class UpstreamConn;
class Resolver;

enum class UpstreamFailure {
  kConnect,   // DNS, refused, unreachable
  kTls,       // handshake or certificate verification
  kTimeout,   // connect, first byte, idle or total deadline
  kReset,     // closed or reset before the response completed
  kProtocol,  // malformed HTTP from the upstream
};

struct UpstreamHead {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view Header(std::string_view name) const;
};

// Receives one response. Callbacks run on the loop, never from inside
// UpstreamPool::Start (a failure found there, such as a connect() refused at
// once, is delivered from the loop on its next turn); after OnComplete or
// OnFailure no further callbacks arrive. The handler may destroy its
// UpstreamCall from any callback (destruction is safe mid-parse).
class UpstreamHandler {
 public:
  virtual ~UpstreamHandler() = default;
  virtual void OnUpstreamHeaders(const UpstreamHead& head) = 0;
  virtual void OnUpstreamBody(const char* data, size_t len) = 0;
  virtual void OnUpstreamComplete() = 0;
  virtual void OnUpstreamFailure(UpstreamFailure kind, const std::string& detail) = 0;
  // Bracket the callbacks caused by one socket read; the data passed to
  // OnUpstreamBody stays valid until OnUpstreamReadEnd (lets the handler
  // batch its writes without copying).
  virtual void OnUpstreamReadBegin() {}
  virtual void OnUpstreamReadEnd() {}
};

struct UpstreamRequest {
  Url origin;
  std::shared_ptr<SSL_CTX> tls;  // required when origin.tls
  Timeouts timeouts;
  // A streamed request: its head is waited for stream_first_byte_ms, then
  // its first content event first_event_ms (until ContentStarted), then
  // idle_ms between bytes. Otherwise first_byte_ms, then idle_ms.
  bool stream = false;
  // The request bytes; they must outlive the UpstreamCall.
  std::vector<std::string_view> pieces;
};

class UpstreamPool;

// One request in progress. Owned by the caller; destroying it cancels the
// request (the connection is closed, never reused).
class UpstreamCall {
 public:
  ~UpstreamCall();
  UpstreamCall(const UpstreamCall&) = delete;
  UpstreamCall& operator=(const UpstreamCall&) = delete;
  // Stop/resume reading the response (backpressure from a slow client).
  void PauseReading();
  void ResumeReading();
  // A streamed answer's first content event arrived: from now on only the
  // idle gap between bytes is timed.
  void ContentStarted();

 private:
  friend class UpstreamPool;
  friend class UpstreamConn;
  UpstreamCall(UpstreamPool* pool, UpstreamRequest request, UpstreamHandler* handler);

  UpstreamPool* pool_;
  UpstreamRequest request_;
  UpstreamHandler* handler_;
  UpstreamConn* conn_ = nullptr;
  bool retried_ = false;   // a reused connection was found dead; retried once fresh
  bool starting_ = false;  // inside UpstreamPool::Start: failures are deferred
  OneShotTimer* deferred_failure_ = nullptr;
};

class UpstreamPool {
 public:
  explicit UpstreamPool(uv_loop_t* loop);
  ~UpstreamPool();
  std::unique_ptr<UpstreamCall> Start(UpstreamRequest request, UpstreamHandler* handler);
  // Closes idle connections (drain / shutdown). Active ones finish first.
  void CloseIdle();
  size_t idle_count() const;
  size_t live_connections() const { return live_; }

 private:
  friend class UpstreamConn;
  friend class UpstreamCall;
  void Assign(UpstreamCall* call);
  void ReturnIdle(UpstreamConn* conn);
  void ForgetIdle(UpstreamConn* conn);
  static std::string PoolKey(const UpstreamRequest& request);

  uv_loop_t* loop_;
  std::unique_ptr<Resolver> resolver_;
  std::map<std::string, std::vector<UpstreamConn*>> idle_;
  size_t live_ = 0;
  bool closing_ = false;
};

}  // namespace bitrouter::worker
