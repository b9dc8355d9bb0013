#include "worker/http/http_connection.h"

#include <malloc.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "shared/common/log.h"
#include "shared/common/strings.h"
#include "shared/protocol/errors.h"
#include "shared/protocol/openai_request.h"
#include "shared/protocol/scratch_parser.h"
#include "worker/http/inbound.h"
#include "worker/http/server.h"
#include "worker/loop/loop_queue.h"

namespace bitrouter::worker {
namespace {

constexpr size_t kMaxPendingBytes = 1 << 20;  // pipelined bytes buffered while busy
// After a request this large (body in, or answer out) the memory it grew is
// handed back: per-thread parser capacity, the body buffer, and free heap pages.
constexpr size_t kLargeRequestBytes = 2u << 20;
constexpr size_t kLargeResponseBytes = 8u << 20;
constexpr size_t kKeepParserBytes = 1u << 20;
char g_read_buf[64 << 10];

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.' || c == ':')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view InboundRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

std::string_view InboundRequest::Path() const {
  std::string_view u = url;
  return u.substr(0, u.find('?'));
}

const llhttp_settings_t HttpConnection::kSettings = [] {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_message_begin = &HttpConnection::OnMessageBegin;
  s.on_url = &HttpConnection::OnUrl;
  s.on_header_field = &HttpConnection::OnHeaderField;
  s.on_header_value = &HttpConnection::OnHeaderValue;
  s.on_headers_complete = &HttpConnection::OnHeadersComplete;
  s.on_body = &HttpConnection::OnBody;
  s.on_message_complete = &HttpConnection::OnMessageComplete;
  return s;
}();

HttpConnection::HttpConnection(Server* server) : server_(server) {
  uv_tcp_init(server_->loop(), &tcp_);
  uv_timer_init(server_->loop(), &timer_);
  tcp_.data = this;
  timer_.data = this;
  llhttp_init(&parser_, HTTP_REQUEST, &kSettings);
  parser_.data = this;
  limits_snapshot_ = server_->snapshot();
  limits_ = &limits_snapshot_->limits;
}

bool HttpConnection::Accept(uv_stream_t* listener) {
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&tcp_)) != 0) {
    Close();
    return false;
  }
  uv_tcp_nodelay(&tcp_, 1);
  reading_ = true;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &HttpConnection::OnAlloc,
                &HttpConnection::OnRead);
  // The first request must arrive within the header timeout (slowloris).
  ArmTimer(limits_->header_timeout_ms);
  return true;
}

void HttpConnection::OnAlloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(g_read_buf, sizeof(g_read_buf));
}

void HttpConnection::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<HttpConnection*>(stream->data);
  if (self->state_ == State::kClosing) return;
  if (nread < 0) {
    // EOF or reset. Mid-request this means the client is gone: cancel.
    self->Close();
    return;
  }
  if (nread > 0) self->OnData(buf->base, static_cast<size_t>(nread));
}

void HttpConnection::OnData(const char* data, size_t len) {
  if (state_ == State::kClosing) return;
  if (state_ == State::kInFlight || busy_) {
    pending_.append(data, len);
    if (pending_.size() > kMaxPendingBytes && reading_) {
      uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
      reading_ = false;
    }
    return;
  }
  busy_ = true;
  RunParser(data, len);
  busy_ = false;
  DrainPending();
}

void HttpConnection::DrainPending() {
  if (busy_) return;
  busy_ = true;
  while (state_ != State::kClosing && state_ != State::kInFlight && !pending_.empty()) {
    std::string buf;
    buf.swap(pending_);
    RunParser(buf.data(), buf.size());
  }
  busy_ = false;
  if (!reading_ && state_ != State::kClosing &&
      !uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp_)) &&
      pending_.size() <= kMaxPendingBytes) {
    reading_ = true;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &HttpConnection::OnAlloc,
                  &HttpConnection::OnRead);
  }
}

void HttpConnection::RunParser(const char* data, size_t len) {
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (state_ == State::kClosing) return;
  if (err == HPE_OK) {
    // Headers are in and the body is trickling: each read restarts the
    // body-progress clock (the header timeout is for headers only).
    if (headers_complete_ && state_ == State::kReading) ArmTimer(limits_->body_timeout_ms);
    if (expect_continue_ && state_ == State::kReading) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      uv_buf_t b = uv_buf_init(const_cast<char*>(kContinue), sizeof(kContinue) - 1);
      Write(&b, 1);
      expect_continue_ = false;
    }
    return;
  }
  if (err == HPE_PAUSED && message_complete_) {
    const char* stop = llhttp_get_error_pos(&parser_);
    if (stop != nullptr && stop < data + len)
      pending_.append(stop, static_cast<size_t>(data + len - stop));
    Dispatch();
    return;
  }
  if (reject_status_ != 0) {
    RejectRequest(reject_status_, std::move(reject_message_));
    return;
  }
  if (err == HPE_PAUSED_UPGRADE) {
    RejectRequest(400, "protocol upgrades are not supported");
    return;
  }
  RejectRequest(400, absl::StrCat("malformed HTTP request: ", llhttp_get_error_reason(&parser_)));
}

void HttpConnection::RejectRequest(int status, std::string message) {
  if (state_ == State::kClosing) return;
  close_after_response_ = true;
  dispatched_ = true;
  if (access_.start_ms == 0) access_.start_ms = uv_now(server_->loop());
  state_ = State::kInFlight;
  if (req_.request_id.empty()) req_.request_id = server_->NextRequestId();
  std::string_view type = status == 408 ? "timeout_error" : "invalid_request_error";
  std::string_view code = status == 413   ? "request_too_large"
                          : status == 431 ? "headers_too_large"
                          : status == 408 ? "request_timeout"
                                          : "bad_request";
  SendError({status, type, code, std::move(message)});
}

void HttpConnection::ResetRequest() {
  req_.method = HTTP_GET;
  req_.url.clear();
  req_.headers.clear();
  req_.body.clear();
  req_.keep_alive = true;
  req_.request_id.clear();
  req_.protocol = protocol::Protocol::kChat;
  req_.key_checked = false;
  req_.key = nullptr;
  header_bytes_ = 0;
  in_value_ = false;
  message_complete_ = false;
  headers_complete_ = false;
  head_only_ = false;
  dispatched_ = false;
  access_ = AccessRecord();
  expect_continue_ = false;
  response_started_ = false;
  response_chunked_ = false;
}

void HttpConnection::Dispatch() {
  if (state_ == State::kClosing) return;
  state_ = State::kInFlight;
  dispatched_ = true;
  head_only_ = req_.method == HTTP_HEAD;
  uv_timer_stop(&timer_);
  req_.keep_alive = llhttp_should_keep_alive(&parser_) != 0;
  if (!req_.keep_alive || draining_) close_after_response_ = true;
  std::string_view id = req_.Header("x-bitrouter-request-id");
  req_.request_id = ValidRequestId(id) ? std::string(id) : server_->NextRequestId();
  snapshot_ = server_->snapshot();  // the request finishes on this snapshot
  server_->HandleRequest(this);
}

// ---------------------------------------------------------------- llhttp

int HttpConnection::OnMessageBegin(llhttp_t* p) {
  auto* self = static_cast<HttpConnection*>(p->data);
  self->ResetRequest();
  self->state_ = State::kReading;
  self->access_.start_ms = uv_now(self->server_->loop());
  self->limits_snapshot_ = self->server_->snapshot();
  self->limits_ = &self->limits_snapshot_->limits;
  self->ArmTimer(self->limits_->header_timeout_ms);
  return 0;
}

int HttpConnection::CountHeaderBytes(size_t len) {
  header_bytes_ += len;
  if (header_bytes_ > limits_->max_header_bytes) {
    reject_status_ = 431;
    reject_message_ = absl::StrCat("request headers exceed ", limits_->max_header_bytes, " bytes");
    return -1;
  }
  return 0;
}

int HttpConnection::OnUrl(llhttp_t* p, const char* at, size_t len) {
  auto* self = static_cast<HttpConnection*>(p->data);
  self->req_.url.append(at, len);
  return self->CountHeaderBytes(len);
}

int HttpConnection::OnHeaderField(llhttp_t* p, const char* at, size_t len) {
  auto* self = static_cast<HttpConnection*>(p->data);
  if (self->in_value_ || self->req_.headers.empty()) {
    if (self->req_.headers.size() >= self->limits_->max_headers) {
      self->reject_status_ = 431;
      self->reject_message_ =
          absl::StrCat("more than ", self->limits_->max_headers, " request headers");
      return -1;
    }
    self->req_.headers.emplace_back();
    self->in_value_ = false;
  }
  self->req_.headers.back().first.append(at, len);
  return self->CountHeaderBytes(len);
}

int HttpConnection::OnHeaderValue(llhttp_t* p, const char* at, size_t len) {
  auto* self = static_cast<HttpConnection*>(p->data);
  self->in_value_ = true;
  self->req_.headers.back().second.append(at, len);
  return self->CountHeaderBytes(len);
}

int HttpConnection::OnHeadersComplete(llhttp_t* p) {
  auto* self = static_cast<HttpConnection*>(p->data);
  self->req_.method = static_cast<llhttp_method_t>(p->method);
  self->headers_complete_ = true;
  self->req_.protocol = ProtocolForPath(self->req_.Path());
  uint64_t max_body = self->limits_->max_body_bytes;
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > max_body) {
    self->reject_status_ = 413;
    self->reject_message_ = absl::StrCat("request body exceeds ", max_body, " bytes");
    return -1;
  }
  size_t expected = (p->flags & F_CONTENT_LENGTH) ? static_cast<size_t>(p->content_length) : 0;
  self->req_.body.reserve(expected + protocol::kJsonPadding);
  std::string_view expect = self->req_.Header("expect");
  self->expect_continue_ = EqualsIgnoreCase(expect, "100-continue");
  return 0;
}

int HttpConnection::OnBody(llhttp_t* p, const char* at, size_t len) {
  auto* self = static_cast<HttpConnection*>(p->data);
  std::string& body = self->req_.body;
  if (body.size() + len > self->limits_->max_body_bytes) {
    self->reject_status_ = 413;
    self->reject_message_ =
        absl::StrCat("request body exceeds ", self->limits_->max_body_bytes, " bytes");
    return -1;
  }
  if (body.capacity() < body.size() + len + protocol::kJsonPadding) {
    body.reserve(std::max(body.capacity() * 2, body.size() + len + protocol::kJsonPadding));
  }
  body.append(at, len);
  return 0;
}

int HttpConnection::OnMessageComplete(llhttp_t* p) {
  auto* self = static_cast<HttpConnection*>(p->data);
  self->message_complete_ = true;
  return HPE_PAUSED;
}

void HttpConnection::FinishRequest() {
  // A write of this response may have failed and closed the connection:
  // then nothing more happens here (the next pipelined request is never
  // parsed); the handler hears OnClientGone from the close callback.
  if (state_ == State::kClosing) return;
  LogAccess(0);
  ReleaseHandler();
  snapshot_.reset();
  if (close_after_response_) {
    CloseAfterWrites();
    return;
  }
  state_ = State::kIdle;
  llhttp_resume(&parser_);
  ReleaseLargeBuffers();
  ResetRequest();
  ArmIdleOrSendTimer();
  DrainPending();
}

void HttpConnection::ReleaseLargeBuffers() {
  if (req_.body.capacity() <= kLargeRequestBytes && access_.bytes_out <= kLargeResponseBytes)
    return;
  std::string().swap(req_.body);
  // After the handler (queued for deletion already) and what it holds are gone.
  server_->deleter().Defer([] {
    protocol::TrimScratchParsers(kKeepParserBytes);
    malloc_trim(0);
  });
}

void HttpConnection::ArmIdleOrSendTimer() {
  if (state_ == State::kIdle) {
    ArmTimer(tcp_.write_queue_size > 0 ? limits_->send_timeout_ms : limits_->keepalive_timeout_ms);
  } else if (state_ == State::kInFlight || state_ == State::kClosing) {
    if (tcp_.write_queue_size > 0) {
      ArmTimer(limits_->send_timeout_ms);
    } else if (state_ == State::kInFlight) {
      uv_timer_stop(&timer_);
    }
  }
}

void HttpConnection::LogAccess(int status_override) {
  if (!dispatched_) return;
  dispatched_ = false;
  if (!limits_->access_log || !log::Enabled(log::Level::kInfo)) return;
  uint64_t now = uv_now(server_->loop());
  int status = status_override != 0 ? status_override : access_.status;
  std::string model = SanitizeForLog(access_.model, 128);
  LOG_INFO(
      "access id=", req_.request_id, " proto=", AV(protocol::ProtocolName(req_.protocol)),
      " method=", llhttp_method_name(req_.method), " path=", SanitizeForLog(req_.Path(), 128),
      " model=\"", model, "\" endpoint=\"", access_.endpoint, "\"",
      access_.route_category.empty() ? std::string()
                                     : absl::StrCat(" route=\"", access_.route_category,
                                                    "\" route_model=\"", access_.route_model, "\""),
      " status=", status, " attempts=", access_.attempts, " bytes_in=", req_.body.size(),
      " bytes_out=", access_.bytes_out, " ttfb_ms=",
      access_.first_byte_ms == 0 ? int64_t{-1}
                                 : static_cast<int64_t>(access_.first_byte_ms - access_.start_ms),
      " duration_ms=", now - access_.start_ms);
}

void HttpConnection::ReleaseHandler() {
  if (handler_ != nullptr) {
    server_->deleter().Delete(handler_);
    handler_ = nullptr;
  }
}

void HttpConnection::ArmTimer(uint32_t ms) {
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_))) return;
  if (ms == 0) {
    uv_timer_stop(&timer_);
    return;
  }
  uv_timer_start(&timer_, &HttpConnection::OnTimer, ms, 0);
}

void HttpConnection::OnTimer(uv_timer_t* timer) {
  auto* self = static_cast<HttpConnection*>(timer->data);
  if (self->state_ == State::kReading) {
    self->RejectRequest(408, self->headers_complete_ ? "timed out reading the request body"
                                                     : "timed out reading the request headers");
    return;
  }
  if (self->tcp_.write_queue_size > 0) {
    LOG_INFO("request ", self->req_.request_id, ": client read nothing for ",
             self->limits_->send_timeout_ms, " ms; closing the connection (send timeout)");
  }
  if (self->state_ == State::kIdle || self->tcp_.write_queue_size > 0 ||
      self->state_ == State::kClosing) {
    self->Close();
  }
}

void HttpConnection::BeginDrain() {
  draining_ = true;
  close_after_response_ = true;
  if (state_ == State::kIdle) Close();
}

void HttpConnection::Close() {
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp_))) return;
  state_ = State::kClosing;
  corked_ = false;
  cork_count_ = 0;
  // 499: the client went away before its answer was complete.
  LogAccess(499);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &HttpConnection::OnClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &HttpConnection::OnClosed);
}

void HttpConnection::OnClosed(uv_handle_t* handle) {
  auto* self = static_cast<HttpConnection*>(handle->data);
  if (++self->closed_handles_ < 2) return;
  // The handler learns here, from a loop callback, never from inside one of
  // its own calls (see the header).
  if (self->handler_ != nullptr) {
    RequestHandler* h = self->handler_;
    self->handler_ = nullptr;
    h->OnClientGone();
    self->server_->deleter().Delete(h);
  }
  // The handler has dropped its upstream call (which may point into the
  // request body), so the large buffers can go.
  self->ReleaseLargeBuffers();
  self->server_->OnConnectionClosed(self);
  delete self;
}

}  // namespace bitrouter::worker
