// bitrouter-mcp-host: owns bitrouterd's stdio MCP servers, one child each,
// whatever the number of workers; workers reach them over a Unix socket
// (host.h). Started and supervised by bitrouterd (mcp_host_supervisor.h),
// which sends the servers' specs on the control channel (fd given by
// --control-fd; control_protocol.h) and gets their status back. Exits on
// SIGTERM, SIGINT or the control channel's end, stopping every child.
//
// `bitrouter-mcp-host --exec <host pid> -- <command> <args..>` is the
// trampoline each child is started through: it ties the child to the host
// with a parent-death signal, then execs the command.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "controld/mcp_host/control_protocol.h"
#include "controld/mcp_host/frame.h"
#include "controld/mcp_host/host.h"
#include "shared/common/log.h"
#include "shared/common/log_file.h"

namespace {

using namespace bitrouter;

int ExecTrampoline(int argc, char** argv) {
  // argv: self --exec <pid> -- command args...
  int parent = 0;
  if (argc < 5 || !absl::SimpleAtoi(argv[2], &parent) || std::strcmp(argv[3], "--") != 0) {
    std::fprintf(stderr, "bitrouter-mcp-host: bad --exec arguments\n");
    return 2;
  }
  // A host that stops in order stops its children itself (stdin, SIGTERM,
  // SIGKILL); this only covers a host that died abruptly, whose successor
  // starts new children: the old ones must not linger.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) return 1;  // the host died before the line above
  execvp(argv[4], argv + 4);
  std::fprintf(stderr, "cannot run %s: %s\n", argv[4], std::strerror(errno));
  return 127;
}

std::string SelfExe() {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "bitrouter-mcp-host";
  self[n] = '\0';
  return self;
}

struct Args {
  int control_fd = -1;
  std::string socket;
  std::string log_level = "info";
  std::string log_file;
};

bool ParseArgs(int argc, char** argv, Args* out) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--control-fd") {
      if (!absl::SimpleAtoi(v, &out->control_fd)) return false;
    } else if (k == "--socket") {
      out->socket = v;
    } else if (k == "--log-level") {
      out->log_level = v;
    } else if (k == "--log-file") {
      out->log_file = v;
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && out->control_fd >= 0 && !out->socket.empty();
}

// The control channel: desired sets in, status out.
struct Control {
  uv_pipe_t pipe;
  mcphost::LineSplitter lines{mcphost::kMaxFrameBytes};
  mcphost::Host* host = nullptr;
  std::function<void(const char*)> shutdown;
  bool closed = false;

  void Send(std::string line) {
    if (closed) return;
    struct Req {
      uv_write_t req;
      std::string data;
    };
    auto* r = new Req();
    r->data = std::move(line);
    uv_buf_t buf = uv_buf_init(r->data.data(), static_cast<unsigned>(r->data.size()));
    r->req.data = r;
    if (uv_write(&r->req, reinterpret_cast<uv_stream_t*>(&pipe), &buf, 1,
                 [](uv_write_t* req, int) { delete static_cast<Req*>(req->data); }) != 0) {
      delete r;
    }
  }
  void Close() {
    if (closed) return;
    closed = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&pipe), nullptr);  // Control outlives the loop
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--exec") == 0) return ExecTrampoline(argc, argv);
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::fprintf(stderr,
                 "usage: bitrouter-mcp-host --control-fd N --socket PATH [--log-level L] "
                 "[--log-file F]\n(started by bitrouterd; not meant to be run by hand)\n");
    return 2;
  }
  log::SetTag("mcp-host");
  log::Level level;
  if (log::ParseLevel(args.log_level, &level)) log::SetLevel(level);
  signal(SIGPIPE, SIG_IGN);
  // The children must not inherit the control channel.
  fcntl(args.control_fd, F_SETFD, FD_CLOEXEC);

  uv_loop_t* loop = uv_default_loop();
  Control control;
  mcphost::Host host(loop, SelfExe(), [&control](const std::vector<mcphost::ServerStatus>& s) {
    control.Send(mcphost::StatusLine(s));
  });
  control.host = &host;
  if (absl::Status s = host.Listen(args.socket); !s.ok()) {
    LOG_ERROR(s.message());
    return 1;
  }

  uv_signal_t sigterm, sigint, sigusr1;
  bool stopping = false;
  auto shutdown = [&](const char* why) {
    if (stopping) return;
    stopping = true;
    LOG_INFO(why, ": stopping every stdio server");
    host.Shutdown([&] {
      control.Close();
      uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&sigint), nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&sigusr1), nullptr);
    });
  };
  control.shutdown = shutdown;

  uv_pipe_init(loop, &control.pipe, 0);
  control.pipe.data = &control;
  if (uv_pipe_open(&control.pipe, args.control_fd) != 0) {
    LOG_ERROR("cannot open the control channel (fd ", args.control_fd, ")");
    return 1;
  }
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&control.pipe),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        buf->base = new char[65536];
        buf->len = 65536;
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        std::unique_ptr<char[]> hold(buf->base);
        auto* c = static_cast<Control*>(s->data);
        if (n == 0) return;
        if (n < 0) {
          uv_read_stop(s);
          return c->shutdown("bitrouterd closed the control channel");
        }
        absl::Status st = c->lines.Feed(std::string_view(buf->base, static_cast<size_t>(n)),
                                        [c](std::string_view line) {
                                          auto set = mcphost::ParseDesiredSet(line);
                                          if (!set.ok()) return set.status();
                                          c->host->Apply(std::move(*set));
                                          return absl::OkStatus();
                                        });
        if (!st.ok()) {
          LOG_ERROR("control channel: ", st.message());
          uv_read_stop(s);
          c->shutdown("unreadable control channel");
        }
      });

  std::function<void(const char*)> on_signal = shutdown;
  for (auto [h, sig] : {std::pair{&sigterm, SIGTERM}, std::pair{&sigint, SIGINT}}) {
    uv_signal_init(loop, h);
    h->data = &on_signal;
    uv_signal_start(
        h,
        [](uv_signal_t* s, int signum) {
          (*static_cast<std::function<void(const char*)>*>(s->data))(signum == SIGTERM ? "SIGTERM"
                                                                                       : "SIGINT");
        },
        sig);
  }
  uv_signal_init(loop, &sigusr1);
  sigusr1.data = &args.log_file;
  uv_signal_start(
      &sigusr1,
      [](uv_signal_t* s, int) {
        const auto* file = static_cast<std::string*>(s->data);
        if (!file->empty()) (void)log::ReopenStderr(*file);
      },
      SIGUSR1);

  LOG_INFO("listening on ", args.socket);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_walk(
      loop,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(loop);
  if (rc != 0) LOG_WARN("event loop closed with handles still open: ", uv_strerror(rc));
  LOG_INFO("exited");
  return 0;
}
