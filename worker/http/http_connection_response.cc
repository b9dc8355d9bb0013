// HttpConnection, the response side: heads, bodies (Content-Length or
// chunked, HEAD without a body), corking, and the write path with its
// backpressure marks, queued-bytes cap and send timeout. See
// http_connection.h for the closing rule every write follows.
#include "worker/http/http_connection.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "shared/common/log.h"
#include "shared/common/strings.h"
#include "shared/protocol/errors.h"
#include "worker/http/server.h"

namespace bitrouter::worker {
namespace {

constexpr size_t kWriteHighWater = 1 << 20;   // pause the upstream above this
constexpr size_t kWriteLowWater = 256 << 10;  // resume below this
// Bytes queued for one client beyond which it is dropped: a client that does
// not read must not pin memory. Above the largest answer held whole (32 MiB).
constexpr size_t kMaxQueuedBytes = 64u << 20;

struct OwnedWrite {
  uv_write_t req;
  std::string data;
};

}  // namespace

// ---------------------------------------------------------------- responses

std::string HttpConnection::ResponseHead(int status, std::string_view header_lines,
                                         int64_t content_length) {
  access_.status = status;
  std::string head =
      absl::StrCat("HTTP/1.1 ", status, " ", AV(protocol::ReasonPhrase(status)), "\r\n",
                   AV(header_lines), "x-bitrouter-request-id: ", req_.request_id, "\r\n");
  if (content_length >= 0) {
    absl::StrAppend(&head, "Content-Length: ", content_length, "\r\n");
  } else {
    head.append("Transfer-Encoding: chunked\r\n");
  }
  if (close_after_response_) head.append("Connection: close\r\n");
  head.append("\r\n");
  return head;
}

void HttpConnection::SendResponse(int status, std::string_view content_type, std::string_view body,
                                  std::string_view extra_header_lines) {
  Uncork();
  std::string lines =
      absl::StrCat("Content-Type: ", AV(content_type), "\r\n", AV(extra_header_lines));
  std::string head = ResponseHead(status, lines, static_cast<int64_t>(body.size()));
  uv_buf_t bufs[2] = {
      uv_buf_init(head.data(), static_cast<unsigned>(head.size())),
      uv_buf_init(const_cast<char*>(body.data()), static_cast<unsigned>(body.size()))};
  response_started_ = true;
  if (!head_only_) access_.bytes_out += body.size();
  Write(bufs, body.empty() || head_only_ ? 1 : 2);
  FinishRequest();
}

void HttpConnection::SendError(const protocol::HttpError& error,
                               std::string_view extra_header_lines) {
  SendResponse(error.status, "application/json", protocol::RenderError(req_.protocol, error),
               extra_header_lines);
}

void HttpConnection::StartResponse(int status, std::string_view header_lines,
                                   int64_t content_length) {
  response_started_ = true;
  response_chunked_ = content_length < 0;
  if (corked_) {
    cork_head_ = ResponseHead(status, header_lines, content_length);
    cork_bufs_[cork_count_++] =
        uv_buf_init(cork_head_.data(), static_cast<unsigned>(cork_head_.size()));
    return;
  }
  std::string head = ResponseHead(status, header_lines, content_length);
  uv_buf_t b = uv_buf_init(head.data(), static_cast<unsigned>(head.size()));
  Write(&b, 1);
}

void HttpConnection::Uncork() {
  corked_ = false;
  if (cork_count_ > 0) Write(cork_bufs_, cork_count_);
  cork_count_ = 0;
  cork_size_count_ = 0;
}

void HttpConnection::WriteBody(const char* data, size_t len) {
  if (len == 0 || state_ == State::kClosing || head_only_) return;
  access_.bytes_out += len;
  if (corked_) {
    if (cork_count_ + 3 > kMaxCorked || cork_size_count_ >= kMaxCorked / 3) {
      Write(cork_bufs_, cork_count_);  // full: flush what is gathered so far
      cork_count_ = 0;
      cork_size_count_ = 0;
    }
    if (response_chunked_) {
      char* line = cork_sizes_[cork_size_count_++];
      int n = snprintf(line, sizeof(cork_sizes_[0]), "%zx\r\n", len);
      cork_bufs_[cork_count_++] = uv_buf_init(line, static_cast<unsigned>(n));
    }
    cork_bufs_[cork_count_++] = uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len));
    if (response_chunked_) cork_bufs_[cork_count_++] = uv_buf_init(const_cast<char*>("\r\n"), 2);
    return;
  }
  if (!response_chunked_) {
    uv_buf_t b = uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len));
    Write(&b, 1);
    return;
  }
  char size_line[24];
  int n = snprintf(size_line, sizeof(size_line), "%zx\r\n", len);
  uv_buf_t bufs[3] = {uv_buf_init(size_line, static_cast<unsigned>(n)),
                      uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len)),
                      uv_buf_init(const_cast<char*>("\r\n"), 2)};
  Write(bufs, 3);
}

void HttpConnection::EndResponse() {
  if (state_ == State::kClosing) return;
  if (response_chunked_ && !head_only_) {
    if (corked_ && cork_count_ < kMaxCorked) {
      cork_bufs_[cork_count_++] = uv_buf_init(const_cast<char*>("0\r\n\r\n"), 5);
    } else {
      Uncork();
      uv_buf_t b = uv_buf_init(const_cast<char*>("0\r\n\r\n"), 5);
      Write(&b, 1);
    }
  }
  Uncork();
  FinishRequest();
}

void HttpConnection::AbortResponse() {
  if (state_ == State::kClosing) return;
  Uncork();
  LogAccess(0);
  ReleaseHandler();
  CloseAfterWrites();
}

size_t HttpConnection::write_queue_size() const { return tcp_.write_queue_size; }
bool HttpConnection::congested() const { return tcp_.write_queue_size > kWriteHighWater; }

void HttpConnection::Write(const uv_buf_t* bufs, unsigned count) {
  if (state_ == State::kClosing) return;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  size_t total = 0;
  for (unsigned i = 0; i < count; ++i) total += bufs[i].len;
  if (access_.first_byte_ms == 0) access_.first_byte_ms = uv_now(server_->loop());
  size_t written = 0;
  if (tcp_.write_queue_size == 0) {
    int rc = uv_try_write(stream, bufs, count);
    if (rc < 0 && rc != UV_EAGAIN) {
      Close();
      return;
    }
    written = rc > 0 ? static_cast<size_t>(rc) : 0;
  }
  if (written == total) return;
  if (tcp_.write_queue_size + (total - written) > kMaxQueuedBytes) {
    LOG_INFO("request ", req_.request_id, ": client is not reading; more than ", kMaxQueuedBytes,
             " bytes queued, closing the connection");
    Close();
    return;
  }
  // The client must make progress on what is queued within the send timeout.
  if (tcp_.write_queue_size == 0 && state_ != State::kReading) ArmTimer(limits_->send_timeout_ms);
  auto* w = new OwnedWrite{};
  w->data.reserve(total - written);
  size_t skip = written;
  for (unsigned i = 0; i < count; ++i) {
    if (skip >= bufs[i].len) {
      skip -= bufs[i].len;
      continue;
    }
    w->data.append(bufs[i].base + skip, bufs[i].len - skip);
    skip = 0;
  }
  w->req.data = this;
  uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  int rc = uv_write(&w->req, stream, &b, 1, [](uv_write_t* req, int status) {
    auto* self = static_cast<HttpConnection*>(req->data);
    delete reinterpret_cast<OwnedWrite*>(req);
    if (status < 0) {
      if (status != UV_ECANCELED) self->Close();
      return;
    }
    if (self->state_ == State::kClosing &&
        uv_is_closing(reinterpret_cast<uv_handle_t*>(&self->tcp_)))
      return;
    // Progress: restart the send clock (or go back to the keep-alive one).
    if (self->state_ != State::kReading) self->ArmIdleOrSendTimer();
    if (self->handler_ != nullptr && self->tcp_.write_queue_size < kWriteLowWater) {
      self->handler_->OnClientWritable();
    }
  });
  if (rc != 0) {
    delete w;
    Close();
  }
}

void HttpConnection::CloseAfterWrites() {
  if (state_ == State::kClosing) return;
  state_ = State::kClosing;
  if (tcp_.write_queue_size == 0) {
    Close();
    return;
  }
  // The queued bytes leave first, within the send timeout (a client that
  // never reads must not hold the connection forever).
  ArmTimer(limits_->send_timeout_ms);
  auto* req = new uv_shutdown_t;
  req->data = this;
  int rc = uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&tcp_), [](uv_shutdown_t* r, int) {
    auto* self = static_cast<HttpConnection*>(r->data);
    delete r;
    self->Close();
  });
  if (rc != 0) {
    delete req;
    Close();
  }
}

}  // namespace bitrouter::worker
