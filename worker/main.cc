// bitrouter-worker: one libuv loop serving the HTTP data plane on the listen
// socket inherited from bitrouterd. Started only by bitrouterd.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <uv.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "shared/common/log.h"
#include "shared/node/health_table.h"
#include "shared/node/node_shm.h"
#include "worker/control/control_client.h"
#include "worker/control/usage_reporter.h"
#include "worker/http/server.h"
#include "worker/loop/loop_queue.h"
#include "worker/proxy/dispatch.h"
#include "worker/usage/outbox.h"

namespace {

constexpr char kUsage[] =
    "usage: bitrouter-worker --control-socket PATH --worker-id N [--listen-fd FD] "
    "[--node-shm-fd FD] [--log-level LEVEL] [--log-file PATH]\n"
    "bitrouter-worker is started and supervised by bitrouterd; do not run it by hand.\n";

struct Args {
  std::string control_socket;
  uint32_t worker_id = 0;
  int listen_fd = 3;
  int node_shm_fd = -1;  // the node region bitrouterd shares with every worker
  std::string log_level = "info";
  std::string log_file;  // set when bitrouterd logs to a file: reopened on SIGUSR1
};

bool ParseArgs(int argc, char** argv, Args* out) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") return false;
    if (i + 1 >= argc) return false;
    std::string_view v = argv[++i];
    if (a == "--control-socket") {
      out->control_socket = std::string(v);
    } else if (a == "--worker-id") {
      if (!absl::SimpleAtoi(absl::string_view(v.data(), v.size()), &out->worker_id)) return false;
    } else if (a == "--listen-fd") {
      if (!absl::SimpleAtoi(absl::string_view(v.data(), v.size()), &out->listen_fd)) return false;
    } else if (a == "--node-shm-fd") {
      if (!absl::SimpleAtoi(absl::string_view(v.data(), v.size()), &out->node_shm_fd)) return false;
    } else if (a == "--log-level") {
      out->log_level = std::string(v);
    } else if (a == "--log-file") {
      out->log_file = std::string(v);
    } else {
      return false;
    }
  }
  return !out->control_socket.empty();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bitrouter;
  using namespace bitrouter::worker;
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  // A SIGTERM or SIGUSR1 that arrives while we start (a group signal, a
  // stop right after a spawn) must wait for its handler, not kill us with
  // the default action: blocked here, before any thread exists (threads
  // inherit the mask, so only this one takes them later), and unblocked
  // once the loop's handlers are installed.
  sigset_t early;
  sigemptyset(&early);
  sigaddset(&early, SIGTERM);
  sigaddset(&early, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &early, nullptr);
  // If bitrouterd dies, we get SIGTERM and drain (the control stream also breaks).
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  signal(SIGPIPE, SIG_IGN);
  // Ctrl-C in a terminal signals the whole foreground process group. Only
  // bitrouterd acts on it: it drains us with SIGTERM, so streams in flight
  // finish. Ignored (not merely unhandled), or the default action kills us.
  signal(SIGINT, SIG_IGN);
  log::SetTag(absl::StrCat("worker[", args.worker_id, "]"));
  log::Level level;
  if (log::ParseLevel(args.log_level, &level)) log::SetLevel(level);
  // Log lines (the access log above all) must never block the event loop.
  log::StartAsyncWriter(65536);

  // Mapped before the loop starts and kept until exit: the server's health
  // table points into it.
  std::unique_ptr<node::NodeShm> node_shm;
  if (args.node_shm_fd >= 0) {
    auto attached = node::NodeShm::Attach(args.node_shm_fd);
    if (attached.ok()) {
      node_shm = std::move(*attached);
    } else {
      LOG_WARN("node region unusable (", attached.status().message(),
               "): breaker state is kept per worker");
    }
  }
  uv_loop_t* loop = uv_default_loop();
  Server server(loop, args.listen_fd, args.worker_id);
  ProxyDispatcher proxy;  // declared after the server: destroyed before it
  server.SetDispatcher(&proxy);
  // Usage records: loop -> bounded outbox -> the reporter's thread ->
  // bitrouterd. BITROUTER_USAGE_QUEUE sizes the outbox (records per worker).
  size_t outbox_capacity = 10'000;
  if (const char* q = std::getenv("BITROUTER_USAGE_QUEUE"); q != nullptr) {
    size_t n = 0;
    if (absl::SimpleAtoi(q, &n) && n > 0) outbox_capacity = n;
  }
  UsageOutbox outbox(outbox_capacity);
  server.SetUsageOutbox(&outbox);
  UsageReporter reporter(args.control_socket, &outbox);
  if (node_shm != nullptr) {
    server.health().UseShared(
        node_shm->Table(node::TableKind::kEndpointHealth, sizeof(node::HealthSlot)));
    if (!server.health().shared()) LOG_WARN("node region has no health table");
    server.UseSharedKeys(node_shm->Table(node::TableKind::kKeyLimits, sizeof(node::KeySlot)));
    if (!server.metrics().UseShared(*node_shm, args.worker_id)) {
      LOG_WARN("node region has no metrics table: /metrics shows this worker only");
    } else if (server.metrics().slot_shared()) {
      LOG_WARN("every metrics slot has a live owner: sharing slot ", server.metrics().slot());
    }
  }
  // Outlives the control thread (joined below) and the loop.
  auto queue_owner = std::make_unique<LoopQueue>(loop);
  LoopQueue* queue = queue_owner.get();

  uv_signal_t sigterm, sigusr1;
  uv_signal_init(loop, &sigterm);
  uv_signal_init(loop, &sigusr1);
  // Log rotation: bitrouterd moved or reopened the file; follow it without
  // blocking the loop on disk (the open runs on the threadpool).
  sigusr1.data = &args.log_file;
  uv_signal_start(
      &sigusr1,
      [](uv_signal_t* h, int) {
        auto* path = static_cast<std::string*>(h->data);
        if (path->empty()) return;
        auto* req = new uv_fs_t;
        int rc = uv_fs_open(h->loop, req, path->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                            0640, [](uv_fs_t* r) {
                              if (r->result >= 0) {
                                dup2(static_cast<int>(r->result), STDERR_FILENO);
                                close(static_cast<int>(r->result));
                              }
                              uv_fs_req_cleanup(r);
                              delete r;
                            });
        if (rc != 0) delete req;
      },
      SIGUSR1);
  bool stopping = false;
  int exit_code = 0;
  uint32_t drain_ms = 30'000;

  auto finish = [&] {
    server.Close();
    queue->Close();
    uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sigusr1), nullptr);
    // Closing a libuv signal handle restores the default action, which for
    // both is to die: a second SIGTERM (a group SIGTERM reaches us before
    // bitrouterd's own) or a log-reopen SIGUSR1 while we exit would turn a
    // clean exit into "killed by signal".
    signal(SIGTERM, SIG_IGN);
    signal(SIGUSR1, SIG_IGN);
  };
  auto shutdown = [&](const std::string& why) {
    if (stopping) return;
    stopping = true;
    LOG_INFO("shutting down: ", why);
    if (server.snapshot() != nullptr) drain_ms = server.snapshot()->limits.drain_timeout_ms;
    server.Drain(drain_ms, [&] { finish(); });
  };

  ControlClient control(args.control_socket, args.worker_id, queue,
                        {.apply =
                             [&](SnapshotPtr snap) {
                               uint64_t version = snap->version;
                               server.SetSnapshot(std::move(snap));
                               LOG_DEBUG("snapshot v", version, " applied");
                               if (!server.accepting() && !stopping) {
                                 if (absl::Status s = server.StartAccepting(); !s.ok()) {
                                   LOG_ERROR("cannot accept: ", s.message());
                                   exit_code = 1;
                                   shutdown("listen socket unusable");
                                   return;
                                 }
                                 LOG_DEBUG("accepting connections (snapshot v", version, ")");
                               }
                             },
                         .lost =
                             [&](std::string why) {
                               if (!server.accepting() && server.snapshot() == nullptr)
                                 exit_code = 1;
                               shutdown(why);
                             }});

  // SIGTERM drains, whoever sends it: bitrouterd (stop, retire), or
  // `kill -TERM -PGID` reaching bitrouterd and us at once (bitrouterd's own
  // SIGTERM that follows finds us draining already).
  std::function<void(const std::string&)> shutdown_fn = shutdown;
  sigterm.data = &shutdown_fn;
  uv_signal_start(
      &sigterm,
      [](uv_signal_t* h, int) {
        (*static_cast<std::function<void(const std::string&)>*>(h->data))("SIGTERM");
      },
      SIGTERM);
  // Handlers in place: a signal that arrived meanwhile is delivered now.
  pthread_sigmask(SIG_UNBLOCK, &early, nullptr);

  control.Start();
  reporter.Start();
  uv_run(loop, UV_RUN_DEFAULT);
  reporter.Stop();  // the last records, while bitrouterd still listens
  control.Stop();
  // Close anything left (should be nothing) so uv_loop_close succeeds.
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
  log::StopAsyncWriter();
  return exit_code;
}
