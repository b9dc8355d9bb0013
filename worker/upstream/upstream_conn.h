#pragma once
// One upstream connection (internal to upstream.cc): resolve, connect
// (next address on failure), TLS handshake, send, llhttp response parsing
// (interim 1xx skipped, 101 and bad statuses refused), and its timers
// (connect, first byte, idle, total; stopped while the caller is not reading).
// Loop thread only; owned by the pool, freed in its handles' close callback.

#include <llhttp.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "worker/upstream/resolver.h"
#include "worker/loop/timer.h"
#include "worker/upstream/tls.h"
#include "worker/upstream/upstream.h"

namespace bitrouter::worker {

class UpstreamConn {
 public:
  UpstreamConn(UpstreamPool* pool, std::string key, const UpstreamRequest& request)
      : pool_(pool), key_(std::move(key)), origin_(request.origin), tls_ctx_(request.tls) {
    uv_tcp_init(pool_->loop_, &tcp_);
    uv_timer_init(pool_->loop_, &timer_);
    tcp_.data = this;
    timer_.data = this;
    ++pool_->live_;
  }

  // Fresh connection: resolve, connect, handshake, then send.
  void Begin(UpstreamCall* call) {
    Attach(call);
    state_ = State::kResolving;
    ArmTimer(call->request_.timeouts.connect_ms, "connecting to the upstream");
    std::weak_ptr<bool> alive = alive_;
    pool_->resolver_->Resolve(
        origin_.host, origin_.port,
        [this, alive](int status, const std::vector<sockaddr_storage>& addrs) {
          if (alive.expired() || closing_) return;
          if (status != 0) {
            Fail(UpstreamFailure::kConnect, absl::StrCat("cannot resolve upstream host ",
                                                         origin_.host, ": ", uv_strerror(status)));
            return;
          }
          addrs_ = addrs;
          next_addr_ = 0;
          ConnectNext();
        });
  }

  // Reused idle connection.
  void Send(UpstreamCall* call) {
    reused_ = true;
    Attach(call);
    SendRequest();
  }

  // The owning call is gone: never reuse, close now.
  void Abort() {
    call_ = nullptr;
    Close();
  }

  // While we are the ones not reading (a slow client), the upstream's clocks
  // stop: our backpressure must never be blamed on it as a timeout.
  void Pause() {
    if (closing_ || paused_) return;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    paused_ = true;
    paused_at_ = uv_now(pool_->loop_);
    uv_timer_stop(&timer_);
  }
  void Resume() {
    if (closing_ || state_ != State::kActive || !paused_) return;
    paused_ = false;
    uint64_t paused_for = uv_now(pool_->loop_) - paused_at_;
    if (total_deadline_ != 0) total_deadline_ += paused_for;
    if (event_deadline_ != 0) event_deadline_ += paused_for;
    ArmReadTimer();
    StartReading();
  }

  void ContentStarted() {
    if (event_deadline_ == 0) return;
    event_deadline_ = 0;
    if (!paused_ && !closing_ && state_ == State::kActive) ArmReadTimer();
  }

  void CloseIfIdle() {
    if (state_ == State::kIdle) Close();
  }

 private:
  enum class State { kResolving, kConnecting, kHandshake, kActive, kIdle };

  void Attach(UpstreamCall* call) {
    call_ = call;
    call->conn_ = this;
    total_deadline_ = call->request_.timeouts.total_ms == 0
                          ? 0
                          : uv_now(pool_->loop_) + call->request_.timeouts.total_ms;
  }

  // After response bytes: a stream still waiting for its first content event
  // keeps that deadline (keep-alives and preambles do not extend it);
  // otherwise the idle gap is timed.
  void ArmReadTimer() {
    if (call_ == nullptr) return;
    if (event_deadline_ != 0) {
      uint64_t now = uv_now(pool_->loop_);
      ArmTimer(event_deadline_ > now ? event_deadline_ - now : 1,
               "waiting for the first content event of the stream (first_event timeout)");
      return;
    }
    ArmTimer(call_->request_.timeouts.idle_ms, "between response bytes (idle timeout)");
  }

  UpstreamCall* Detach() {
    UpstreamCall* call = call_;
    if (call != nullptr) call->conn_ = nullptr;
    call_ = nullptr;
    return call;
  }

  void ArmTimer(uint64_t ms, const char* phase) {
    timer_phase_ = phase;
    if (total_deadline_ != 0) {
      uint64_t now = uv_now(pool_->loop_);
      uint64_t left = total_deadline_ > now ? total_deadline_ - now : 0;
      if (ms == 0 || left < ms) {
        ms = left;
        timer_phase_ = "waiting for the whole response (total timeout)";
      }
    }
    if (ms == 0) {
      uv_timer_stop(&timer_);
      return;
    }
    uv_timer_start(&timer_, &UpstreamConn::OnTimer, ms, 0);
  }

  static void OnTimer(uv_timer_t* t) {
    auto* self = static_cast<UpstreamConn*>(t->data);
    if (self->state_ == State::kIdle) {
      self->Close();
      return;
    }
    self->Fail(UpstreamFailure::kTimeout, absl::StrCat("upstream timed out ", self->timer_phase_));
  }

  // Tries the resolved addresses in order; a refused or unreachable address
  // moves on to the next (e.g. "localhost" as ::1 then 127.0.0.1).
  void ConnectNext() {
    state_ = State::kConnecting;
    const sockaddr_storage& addr = addrs_[next_addr_++];
    connect_req_.data = this;
    int rc = uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<const sockaddr*>(&addr),
                            &UpstreamConn::OnConnect);
    if (rc != 0 && next_addr_ < addrs_.size()) {
      RetryOnFreshSocket();  // refused at once (e.g. ENETUNREACH): the next address
      return;
    }
    if (rc != 0) {
      Fail(UpstreamFailure::kConnect,
           absl::StrCat("cannot connect to ", origin_.HostHeader(), ": ", uv_strerror(rc)));
    }
  }

  // A failed connect leaves the handle unusable: close it and start over on
  // a fresh one for the next address.
  void RetryOnFreshSocket() {
    retrying_address_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), [](uv_handle_t* h) {
      auto* self = static_cast<UpstreamConn*>(h->data);
      self->retrying_address_ = false;
      if (self->closing_) {
        if (++self->closed_handles_ == 2) delete self;
        return;
      }
      uv_tcp_init(self->pool_->loop_, &self->tcp_);
      self->tcp_.data = self;
      self->ConnectNext();
    });
  }

  static void OnConnect(uv_connect_t* req, int status) {
    auto* self = static_cast<UpstreamConn*>(req->data);
    if (self->closing_) return;
    if (status != 0 && status != UV_ECANCELED && self->next_addr_ < self->addrs_.size()) {
      self->RetryOnFreshSocket();
      return;
    }
    if (status != 0) {
      self->Fail(UpstreamFailure::kConnect,
                 absl::StrCat("cannot connect to ", self->origin_.HostHeader(), ": ",
                              uv_strerror(status)));
      return;
    }
    uv_tcp_nodelay(&self->tcp_, 1);
    self->StartReading();
    if (self->origin_.tls) {
      self->state_ = State::kHandshake;
      self->tls_ = std::make_unique<TlsSession>(self->tls_ctx_.get(), self->origin_.host);
      self->DriveHandshake();
    } else {
      self->SendRequest();
    }
  }

  void DriveHandshake() {
    TlsSession::Result r = tls_->Handshake();
    FlushTls();
    if (closing_) return;
    if (r == TlsSession::Result::kError) {
      Fail(UpstreamFailure::kTls, absl::StrCat(tls_->ErrorText(), " (", origin_.HostHeader(), ")"));
      return;
    }
    if (r == TlsSession::Result::kOk) SendRequest();
  }

  void StartReading() {
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&tcp_),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          *buf = uv_buf_init(read_buf_, sizeof(read_buf_));
        },
        &UpstreamConn::OnRead);
  }

  void SendRequest() {
    state_ = State::kActive;
    got_bytes_ = false;
    message_done_ = false;
    head_ = UpstreamHead();
    field_.clear();
    value_.clear();
    header_bytes_ = 0;
    interim_ = false;
    protocol_error_.clear();
    llhttp_init(&parser_, HTTP_RESPONSE, &kSettings);
    parser_.data = this;
    const UpstreamRequest& req = call_->request_;
    event_deadline_ = 0;
    if (req.stream) {
      ArmTimer(req.timeouts.stream_first_byte_ms,
               "waiting for the response head (stream_first_byte timeout)");
    } else {
      ArmTimer(req.timeouts.first_byte_ms, "waiting for the response head (first_byte timeout)");
    }
    if (tls_ != nullptr) {
      for (std::string_view piece : req.pieces) {
        if (tls_->Write(piece.data(), piece.size()) != TlsSession::Result::kOk) {
          Fail(UpstreamFailure::kTls, tls_->ErrorText());
          return;
        }
      }
      FlushTls();
      return;
    }
    uv_buf_t bufs[8];
    size_t n = std::min<size_t>(req.pieces.size(), 8);
    size_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      bufs[i] = uv_buf_init(const_cast<char*>(req.pieces[i].data()),
                            static_cast<unsigned>(req.pieces[i].size()));
      total += req.pieces[i].size();
    }
    int written =
        uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), bufs, static_cast<unsigned>(n));
    if (written == UV_EAGAIN) written = 0;
    if (written < 0) {
      FailWrite(written);
      return;
    }
    if (static_cast<size_t>(written) == total) return;
    // Rare: the kernel buffer is full. Queue the rest as an owned copy.
    std::string rest;
    size_t skip = static_cast<size_t>(written);
    for (size_t i = 0; i < n; ++i) {
      std::string_view p = req.pieces[i];
      if (skip >= p.size()) {
        skip -= p.size();
        continue;
      }
      rest.append(p.substr(skip));
      skip = 0;
    }
    WriteOwned(std::move(rest));
  }

  void FlushTls() {
    std::string out;
    tls_->TakeCiphertext(&out);
    if (!out.empty()) WriteOwned(std::move(out));
  }

  struct OwnedWrite {
    uv_write_t req;
    std::string data;
  };

  void WriteOwned(std::string data) {
    auto* w = new OwnedWrite{};
    w->data = std::move(data);
    w->req.data = this;
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1,
                      [](uv_write_t* req, int status) {
                        auto* self = static_cast<UpstreamConn*>(req->data);
                        delete reinterpret_cast<OwnedWrite*>(req);
                        if (status < 0 && status != UV_ECANCELED && !self->closing_) {
                          self->FailWrite(status);
                        }
                      });
    if (rc != 0) {
      delete w;
      FailWrite(rc);
    }
  }

  void FailWrite(int status) {
    Fail(UpstreamFailure::kReset, absl::StrCat("writing to upstream ", origin_.HostHeader(),
                                               " failed: ", uv_strerror(status)));
  }

  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* self = static_cast<UpstreamConn*>(stream->data);
    if (self->closing_) return;
    if (nread < 0) {
      self->OnReadEnd(static_cast<int>(nread));
      return;
    }
    if (nread == 0) return;
    if (self->state_ == State::kIdle) {
      self->Close();  // an idle connection must be silent
      return;
    }
    if (self->tls_ == nullptr) {
      self->Parse(buf->base, static_cast<size_t>(nread));
      return;
    }
    self->tls_->FeedCiphertext(buf->base, static_cast<size_t>(nread));
    if (!self->tls_->handshake_done()) {
      self->DriveHandshake();
      if (self->closing_ || !self->tls_->handshake_done()) return;
    }
    std::string plain;
    TlsSession::Result r = self->tls_->Read(&plain);
    self->FlushTls();
    if (!plain.empty()) self->Parse(plain.data(), plain.size());
    if (self->closing_) return;
    if (r == TlsSession::Result::kError) {
      self->Fail(UpstreamFailure::kTls, self->tls_->ErrorText());
    } else if (r == TlsSession::Result::kClosed) {
      self->OnReadEnd(UV_EOF);
    }
  }

  void OnReadEnd(int status) {
    if (state_ == State::kIdle || call_ == nullptr) {
      Close();
      return;
    }
    if (state_ == State::kActive && got_bytes_ && status == UV_EOF) {
      // A response delimited by connection close completes here (our
      // message-complete callback pauses the parser, hence HPE_PAUSED).
      llhttp_errno_t err = llhttp_finish(&parser_);
      if ((err == HPE_OK || err == HPE_PAUSED) && message_done_) {
        Complete(false);
        return;
      }
    }
    const char* what = status == UV_EOF ? "closed the connection" : uv_strerror(status);
    Fail(state_ == State::kHandshake ? UpstreamFailure::kTls : UpstreamFailure::kReset,
         absl::StrCat("upstream ", origin_.HostHeader(), " ", what,
                      got_bytes_ ? " before the response completed" : " before responding"));
  }

  void Parse(const char* data, size_t len) {
    if (call_ == nullptr) return;
    got_bytes_ = true;
    ArmReadTimer();
    // Terminal callbacks (complete/failure) run before the batch would end,
    // so the handler flushes everything, terminator included, in one write.
    UpstreamHandler* handler = call_->handler_;
    handler->OnUpstreamReadBegin();
    llhttp_errno_t err = llhttp_execute(&parser_, data, len);
    if (closing_) return;  // the handler cancelled from a callback
    if (err == HPE_PAUSED) {
      const char* stop = llhttp_get_error_pos(&parser_);
      bool extra = stop != nullptr && stop < data + len;
      Complete(!extra);
      return;
    }
    if (err != HPE_OK) {
      if (!protocol_error_.empty()) {
        Fail(UpstreamFailure::kProtocol,
             absl::StrCat("upstream ", origin_.HostHeader(), " ", protocol_error_));
        return;
      }
      Fail(UpstreamFailure::kProtocol,
           absl::StrCat("malformed HTTP response from upstream ", origin_.HostHeader(), ": ",
                        llhttp_errno_name(err), " ", llhttp_get_error_reason(&parser_)));
      return;
    }
    handler->OnUpstreamReadEnd();
  }

  void Complete(bool reusable) {
    bool keep = reusable && llhttp_should_keep_alive(&parser_) && !pool_->closing_;
    UpstreamCall* call = Detach();
    if (keep) {
      // Into the pool only in a clean state: reading (a pause for a slow
      // client ends with the call), no deadline of the finished call.
      state_ = State::kIdle;
      total_deadline_ = 0;
      event_deadline_ = 0;
      if (paused_) {
        paused_ = false;
        StartReading();
      }
      ArmTimer(kPoolIdleMs, "idle");
      pool_->ReturnIdle(this);
    } else {
      Close();
    }
    if (call != nullptr) call->handler_->OnUpstreamComplete();
  }

  void Fail(UpstreamFailure kind, const std::string& detail) {
    UpstreamCall* call = Detach();
    bool retry = call != nullptr && reused_ && !got_bytes_ && !call->retried_ &&
                 (kind == UpstreamFailure::kReset);
    Close();
    if (call == nullptr) return;
    if (retry) {
      // The pooled connection died while idle (a race with the upstream's
      // keep-alive timeout): nothing was processed, so one fresh try is safe.
      call->retried_ = true;
      pool_->Assign(call);
      return;
    }
    if (call->starting_) {
      // Found inside UpstreamPool::Start: the caller has not even stored its
      // UpstreamCall yet. Deliver from the loop instead of re-entering it.
      call->deferred_failure_ = OneShotTimer::Start(pool_->loop_, 0, [call, kind, detail] {
        call->deferred_failure_ = nullptr;
        call->handler_->OnUpstreamFailure(kind, detail);
      });
      return;
    }
    call->handler_->OnUpstreamFailure(kind, detail);
  }

  void Close() {
    if (closing_) return;
    closing_ = true;
    alive_.reset();
    if (state_ == State::kIdle) pool_->ForgetIdle(this);
    --pool_->live_;
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &UpstreamConn::OnClosed);
    // While a socket swap is in progress its close callback counts the tcp handle.
    if (!retrying_address_)
      uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &UpstreamConn::OnClosed);
  }

  static void OnClosed(uv_handle_t* h) {
    auto* self = static_cast<UpstreamConn*>(h->data);
    if (++self->closed_handles_ == 2) delete self;
  }

  // ---- llhttp callbacks (response)
  static UpstreamConn* From(llhttp_t* p) { return static_cast<UpstreamConn*>(p->data); }

  static int OnHeaderField(llhttp_t* p, const char* at, size_t len) {
    auto* self = From(p);
    if (!self->value_.empty() || self->in_value_) self->PushHeader();
    self->field_.append(at, len);
    return self->CountHeaderBytes(len);
  }
  static int OnHeaderValue(llhttp_t* p, const char* at, size_t len) {
    auto* self = From(p);
    self->in_value_ = true;
    self->value_.append(at, len);
    return self->CountHeaderBytes(len);
  }
  int CountHeaderBytes(size_t len) {
    header_bytes_ += len;
    return header_bytes_ > kMaxResponseHeaderBytes ? -1 : 0;
  }
  void PushHeader() {
    if (head_.headers.size() < kMaxResponseHeaders) {
      head_.headers.emplace_back(std::move(field_), std::move(value_));
    }
    field_.clear();
    value_.clear();
    in_value_ = false;
  }
  static int OnHeadersComplete(llhttp_t* p) {
    auto* self = From(p);
    if (!self->field_.empty()) self->PushHeader();
    int status = p->status_code;
    if (status < 100) {
      self->protocol_error_ = absl::StrCat("answered with the invalid status code ", status);
      return -1;
    }
    if (status == 101) {
      self->protocol_error_ = "switched protocols (101) on a plain HTTP request";
      return -1;
    }
    if (status >= 100 && status < 200) {
      // Interim (100 Continue, 103 Early Hints): not the answer; the final
      // response follows on the same connection. An interim answer has no
      // body whatever its headers say (1 = skip the body, in llhttp's terms).
      self->interim_ = true;
      self->head_ = UpstreamHead();
      return 1;
    }
    self->head_.status = status;
    if (self->call_ == nullptr) return -1;
    const UpstreamRequest& req = self->call_->request_;
    if (req.stream && status >= 200 && status < 300 && req.timeouts.first_event_ms != 0) {
      self->event_deadline_ = uv_now(self->pool_->loop_) + req.timeouts.first_event_ms;
      self->ArmReadTimer();
    }
    self->call_->handler_->OnUpstreamHeaders(self->head_);
    return self->call_ == nullptr ? -1 : 0;
  }
  static int OnBody(llhttp_t* p, const char* at, size_t len) {
    auto* self = From(p);
    if (self->call_ == nullptr) return -1;
    self->call_->handler_->OnUpstreamBody(at, len);
    return self->call_ == nullptr ? -1 : 0;
  }
  static int OnMessageComplete(llhttp_t* p) {
    auto* self = From(p);
    if (self->interim_) {
      self->interim_ = false;
      return 0;  // keep parsing: the final response comes next
    }
    self->message_done_ = true;
    return HPE_PAUSED;
  }

  static const llhttp_settings_t kSettings;  // defined in upstream.cc
  static constexpr uint64_t kPoolIdleMs = 30'000;
  static constexpr size_t kMaxResponseHeaderBytes = 256 << 10;
  static constexpr size_t kMaxResponseHeaders = 200;
  // One read buffer for the loop: reads are processed synchronously.
  static inline char read_buf_[64 << 10];

  UpstreamPool* pool_;
  std::string key_;
  Url origin_;
  std::shared_ptr<SSL_CTX> tls_ctx_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_connect_t connect_req_;
  llhttp_t parser_;
  std::unique_ptr<TlsSession> tls_;
  UpstreamCall* call_ = nullptr;
  State state_ = State::kResolving;
  UpstreamHead head_;
  std::string field_, value_;
  bool in_value_ = false;
  size_t header_bytes_ = 0;
  bool got_bytes_ = false;
  bool message_done_ = false;
  bool reused_ = false;
  bool closing_ = false;
  bool retrying_address_ = false;
  bool paused_ = false;  // reading stopped for a slow client
  uint64_t paused_at_ = 0;
  bool interim_ = false;  // parsing a 1xx interim response
  std::string protocol_error_;
  std::vector<sockaddr_storage> addrs_;
  size_t next_addr_ = 0;
  int closed_handles_ = 0;
  uint64_t total_deadline_ = 0;
  uint64_t event_deadline_ = 0;  // a stream waiting for its first content event (0 = not)
  const char* timer_phase_ = "";
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  friend class UpstreamPool;
};

}  // namespace bitrouter::worker
