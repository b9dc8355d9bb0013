#include "controld/mcp_host/socket_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "shared/common/log.h"

namespace bitrouter::mcphost {
namespace {
constexpr size_t kMaxQueuedBytes = 64u << 20;
}  // namespace

struct SocketServer::Listener {
  uv_pipe_t pipe;
  SocketServer* owner = nullptr;
};

struct SocketServer::Conn {
  uv_pipe_t pipe;
  ConnId id = 0;
  SocketServer* owner = nullptr;
  LineSplitter lines;
};

SocketServer::~SocketServer() { Close(); }

absl::Status SocketServer::Listen(const std::string& path) {
  auto* l = new Listener();
  l->owner = this;
  uv_pipe_init(loop_, &l->pipe, 0);
  l->pipe.data = l;
  auto close_listener = [](Listener* x) {
    uv_close(reinterpret_cast<uv_handle_t*>(&x->pipe),
             [](uv_handle_t* h) { delete static_cast<Listener*>(h->data); });
  };
  unlink(path.c_str());
  mode_t old = umask(0177);  // the socket file is born 0600
  int rc = uv_pipe_bind(&l->pipe, path.c_str());
  umask(old);
  if (rc == 0) rc = chmod(path.c_str(), 0600) == 0 ? 0 : uv_translate_sys_error(errno);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&l->pipe), 128, [](uv_stream_t* s, int status) {
      auto* x = static_cast<Listener*>(s->data);
      if (status == 0 && x->owner != nullptr) x->owner->Accept();
    });
  }
  if (rc != 0) {
    close_listener(l);
    return absl::UnavailableError(absl::StrCat("cannot listen on ", path, ": ", uv_strerror(rc)));
  }
  listener_ = l;
  path_ = path;
  return absl::OkStatus();
}

void SocketServer::Accept() {
  auto* c = new Conn();
  c->owner = this;
  uv_pipe_init(loop_, &c->pipe, 0);
  c->pipe.data = c;
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener_->pipe),
                reinterpret_cast<uv_stream_t*>(&c->pipe)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->pipe),
             [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
    return;
  }
  c->id = next_conn_++;
  conns_[c->id] = c;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->pipe),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        buf->base = new char[65536];
        buf->len = 65536;
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        std::unique_ptr<char[]> hold(buf->base);
        auto* conn = static_cast<Conn*>(s->data);
        if (conn->owner == nullptr || n == 0) return;
        if (n < 0) return conn->owner->Drop(conn);
        SocketServer* self = conn->owner;
        const ConnId id = conn->id;
        absl::Status st = conn->lines.Feed(
            std::string_view(buf->base, static_cast<size_t>(n)), [self, id](std::string_view line) {
              auto frame = ParseFrame(line);
              if (!frame.ok()) return frame.status();
              self->hooks_.on_frame(id, std::move(*frame));
              // A hook may have dropped the connection.
              return self->conns_.count(id) ? absl::OkStatus()
                                            : absl::CancelledError("connection closed");
            });
        if (!st.ok() && self->conns_.count(id) != 0) {
          LOG_WARN("mcp host: closing worker connection ", id, ": ", st.message());
          self->Drop(conn);
        }
      });
}

void SocketServer::Send(ConnId id, std::string line) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn* c = it->second;
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->pipe);
  if (uv_stream_get_write_queue_size(stream) > kMaxQueuedBytes) {
    LOG_WARN("mcp host: worker connection ", id, " does not read its answers; closing it");
    return Drop(c);
  }
  struct Req {
    uv_write_t req;
    std::string data;
  };
  auto* r = new Req();
  r->data = std::move(line);
  uv_buf_t buf = uv_buf_init(r->data.data(), static_cast<unsigned>(r->data.size()));
  r->req.data = r;
  if (uv_write(&r->req, stream, &buf, 1,
               [](uv_write_t* req, int) { delete static_cast<Req*>(req->data); }) != 0) {
    delete r;
    Drop(c);
  }
}

void SocketServer::Drop(Conn* c) {
  if (conns_.erase(c->id) == 0) return;
  c->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->pipe),
           [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
  hooks_.on_closed(c->id);
}

void SocketServer::Close() {
  if (listener_ != nullptr) {
    listener_->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_->pipe),
             [](uv_handle_t* h) { delete static_cast<Listener*>(h->data); });
    listener_ = nullptr;
    unlink(path_.c_str());
  }
  while (!conns_.empty()) Drop(conns_.begin()->second);
}

}  // namespace bitrouter::mcphost
