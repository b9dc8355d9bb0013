#pragma once
// One client connection: llhttp request parsing with limits (header bytes,
// header count, body size, header read timeout), keep-alive and pipelining
// (one request in flight; later bytes wait in order), and response writing
// (Content-Length or chunked) with backpressure. Loop thread only.
//
// Lifetime: owned by the Server; freed in the close callback of its last
// handle. The request handler (a ProxyCall) is owned here and destroyed
// deferred, never inside its own callbacks.
//
// Closing never calls back into the handler synchronously: a write that
// fails inside a handler's call only marks the connection closing (every
// later response call is a no-op, nothing more is parsed, dispatched or
// timed), and the handler hears OnClientGone from the close callback, on a
// clean stack. So a handler may keep using its connection pointer until
// OnClientGone, whatever its own writes did.

#include <llhttp.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shared/protocol/adapters.h"
#include "shared/protocol/openai_errors.h"
#include "worker/snapshot/snapshot.h"

namespace bitrouter::worker {

class Server;

struct InboundRequest {
  llhttp_method_t method = HTTP_GET;
  std::string url;  // path and query as sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // capacity always leaves protocol::kJsonPadding spare bytes
  bool keep_alive = true;
  std::string request_id;
  // The client's wire protocol, from the path: shapes every error answer.
  protocol::Protocol protocol = protocol::Protocol::kChat;
  // Set when the proxy's entry checked the credential (keys required), so
  // the chain's "auth" stage does not hash it twice; `key` points into the
  // connection's snapshot, which the request keeps.
  bool key_checked = false;
  const KeyPolicy* key = nullptr;
  std::string_view Header(std::string_view name) const;
  std::string_view Path() const;  // url without the query
};

// What the access log says about one request; the handler fills in what only
// it knows (routing), the connection the rest.
struct AccessRecord {
  uint64_t start_ms = 0;
  uint64_t first_byte_ms = 0;  // 0 = nothing written yet
  int status = 0;
  uint64_t bytes_out = 0;  // body bytes
  std::string model;       // as the client asked (sanitised when logged)
  std::string endpoint;    // provider:model that served (or last tried)
  uint32_t attempts = 0;
  // Classified auto routing: the category and the candidate model of the
  // endpoint that served (or was last tried); "" when not classified.
  std::string route_category;
  std::string route_model;
};

// What a connection needs from whoever answers a request.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // The client went away (or the connection is being force-closed): stop all
  // work; the handler is destroyed right after (deferred).
  virtual void OnClientGone() = 0;
  // The client's write queue drained below the low-water mark.
  virtual void OnClientWritable() = 0;
};

class HttpConnection {
 public:
  explicit HttpConnection(Server* server);
  // Accepts from `listener`; false (and the object closes itself) on failure.
  bool Accept(uv_stream_t* listener);

  const InboundRequest& request() const { return req_; }
  InboundRequest& mutable_request() { return req_; }
  const SnapshotPtr& snapshot() const { return snapshot_; }
  Server* server() const { return server_; }

  // ---- response API (one response per request)
  // A complete response with a body.
  void SendResponse(int status, std::string_view content_type, std::string_view body,
                    std::string_view extra_header_lines = {});
  void SendError(const protocol::HttpError& error, std::string_view extra_header_lines = {});
  // Streaming: head (chunked when content_length < 0), then body pieces, then end.
  void StartResponse(int status, std::string_view header_lines, int64_t content_length);
  void WriteBody(const char* data, size_t len);
  void EndResponse();
  // Ends a response that failed after its head was sent: what is queued is
  // flushed, then the connection closes without the terminal chunk, so the
  // client can never mistake it for a complete response.
  void AbortResponse();
  bool response_started() const { return response_started_; }
  // While corked, response writes are gathered (pointing at the caller's
  // buffers, which must stay valid until Uncork) and leave in one writev.
  // Used around one upstream read so a burst of chunks costs one syscall.
  void Cork() { corked_ = true; }
  void Uncork();
  size_t write_queue_size() const;
  bool congested() const;

  void SetHandler(RequestHandler* handler) { handler_ = handler; }
  // True once the connection started closing: responses are dropped.
  bool closing() const { return state_ == State::kClosing; }
  AccessRecord& access() { return access_; }

  // Drain: idle connections close now, busy ones after their response.
  void BeginDrain();
  // Forced close (drain deadline, shutdown).
  void Close();

 private:
  enum class State { kIdle, kReading, kInFlight, kClosing };

  static void OnAlloc(uv_handle_t*, size_t, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnTimer(uv_timer_t* timer);
  static void OnClosed(uv_handle_t* handle);

  void OnData(const char* data, size_t len);
  void RunParser(const char* data, size_t len);
  void DrainPending();
  void Dispatch();
  void FinishRequest();
  void RejectRequest(int status, std::string message);
  void ResetRequest();
  void ArmTimer(uint32_t ms);
  // The timer while a response is queued: send progress, else keep-alive.
  void ArmIdleOrSendTimer();
  void LogAccess(int status_override);
  void ReleaseLargeBuffers();
  void Write(const uv_buf_t* bufs, unsigned count);
  void CloseAfterWrites();
  void ReleaseHandler();
  std::string ResponseHead(int status, std::string_view header_lines, int64_t content_length);

  // llhttp callbacks
  static int OnMessageBegin(llhttp_t* p);
  static int OnUrl(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderField(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int OnHeadersComplete(llhttp_t* p);
  static int OnBody(llhttp_t* p, const char* at, size_t len);
  static int OnMessageComplete(llhttp_t* p);
  static const llhttp_settings_t kSettings;
  int CountHeaderBytes(size_t len);

  Server* server_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;
  int closed_handles_ = 0;
  llhttp_t parser_;
  State state_ = State::kIdle;
  InboundRequest req_;
  SnapshotPtr snapshot_;
  std::string pending_;  // bytes that arrived while a request was in flight
  bool busy_ = false;    // inside the parse loop (prevents re-entrant parsing)
  bool in_value_ = false;
  size_t header_bytes_ = 0;
  int reject_status_ = 0;  // limit hit inside a parser callback
  std::string reject_message_;
  bool message_complete_ = false;
  bool headers_complete_ = false;
  bool head_only_ = false;   // HEAD: the response carries no body
  bool dispatched_ = false;  // a request is being answered (access log pending)
  bool expect_continue_ = false;
  bool response_started_ = false;
  bool response_chunked_ = false;
  bool close_after_response_ = false;
  bool reading_ = false;
  bool corked_ = false;
  static constexpr size_t kMaxCorked = 96;
  uv_buf_t cork_bufs_[kMaxCorked];
  unsigned cork_count_ = 0;
  char cork_sizes_[kMaxCorked / 3][20];  // chunk-size lines while corked
  unsigned cork_size_count_ = 0;
  std::string cork_head_;  // response head while corked
  bool draining_ = false;
  RequestHandler* handler_ = nullptr;
  AccessRecord access_;
  const Limits* limits_ = nullptr;
  SnapshotPtr limits_snapshot_;  // keeps limits_ alive
  friend class Server;
};

}  // namespace bitrouter::worker
