// bitrouterctl status | stop
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bitrouter/v1/control.grpc.pb.h"
#include "ctl/client.h"
#include "shared/common/daemon_pid.h"
#include "shared/protocol/openai_request.h"

namespace bitrouter::ctl {
namespace {

std::string Uptime(int64_t seconds) {
  if (seconds < 60) return absl::StrCat(seconds, "s");
  if (seconds < 3600) return absl::StrCat(seconds / 60, "m", seconds % 60, "s");
  return absl::StrCat(seconds / 3600, "h", (seconds % 3600) / 60, "m");
}

void PrintJson(const v1::StatusResponse& s) {
  std::string out = absl::StrCat(
      "{\"running\":true,\"pid\":", s.pid(), ",\"version\":", Json(s.version()),
      ",\"started_unix\":", s.started_unix(), ",\"uptime_seconds\":", s.uptime_seconds(),
      ",\"home\":", Json(s.home()), ",\"config_path\":", Json(s.config_path()),
      ",\"listen\":", Json(s.listen()), ",\"snapshot_version\":", s.snapshot_version(),
      ",\"last_reload\":", Json(s.last_reload()), ",\"config_mtime_unix\":", s.config_mtime_unix(),
      ",\"store\":{\"url\":", Json(s.store()), ",\"ok\":", s.store_ok() ? "true" : "false",
      ",\"error\":", Json(s.store_error()), ",\"queued_records\":", s.store_queued_records(),
      "},\"auth_required\":", s.auth_required() ? "true" : "false",
      ",\"keys_active\":", s.keys_active(), ",\"providers\":[");
  for (int i = 0; i < s.providers_size(); ++i) {
    const auto& p = s.providers(i);
    absl::StrAppend(&out, i ? "," : "", "{\"name\":", Json(p.name()),
                    ",\"active\":", p.active() ? "true" : "false", ",\"reason\":", Json(p.reason()),
                    ",\"protocol\":", Json(p.protocol()), ",\"base_url\":", Json(p.base_url()),
                    "}");
  }
  out.append("],\"workers\":[");
  for (int i = 0; i < s.workers_size(); ++i) {
    const auto& w = s.workers(i);
    absl::StrAppend(&out, i ? "," : "", "{\"id\":", w.worker_id(), ",\"pid\":", w.pid(),
                    ",\"state\":", Json(w.state()), ",\"acked_version\":", w.acked_version(),
                    ",\"restarts\":", w.restarts(), ",\"last_error\":", Json(w.last_error()), "}");
  }
  out.append("]}\n");
  std::fputs(out.c_str(), stdout);
}

void PrintHuman(const v1::StatusResponse& s) {
  std::printf("bitrouterd %s running (pid %d, up %s)\n", s.version().c_str(), s.pid(),
              Uptime(s.uptime_seconds()).c_str());
  std::printf("  home:     %s\n  config:   %s\n  listen:   http://%s\n  snapshot: v%llu\n",
              s.home().c_str(), s.config_path().c_str(), s.listen().c_str(),
              static_cast<unsigned long long>(s.snapshot_version()));
  if (s.config_mtime_unix() != 0) {
    char when[32];
    std::time_t t = s.config_mtime_unix();
    std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    std::printf("  modified: %s%s\n", when,
                s.last_reload().empty() && t > s.started_unix()
                    ? " (after start: `bitrouterctl reload`?)"
                    : "");
  }
  if (!s.last_reload().empty()) std::printf("  reload:   %s\n", s.last_reload().c_str());
  if (s.store_ok()) {
    std::printf("  store:    %s (ok)\n", s.store().c_str());
  } else {
    std::printf(
        "  store:    %s UNAVAILABLE: %s; %llu usage record(s) waiting; requests are\n"
        "            still served (known keys, budgets accounted on this node)\n",
        s.store().c_str(), s.store_error().c_str(),
        static_cast<unsigned long long>(s.store_queued_records()));
  }
  std::printf("  auth:     %s; %llu active key(s)\n",
              s.auth_required() ? "a virtual key is required"
                                : "skip_auth (loopback: requests without a key are served)",
              static_cast<unsigned long long>(s.keys_active()));
  std::printf("providers:\n");
  int active = 0;
  for (const auto& p : s.providers()) {
    if (!p.active()) continue;
    ++active;
    std::printf("  %-11s active    %-9s %s (%s)\n", p.name().c_str(), p.protocol().c_str(),
                p.base_url().c_str(), p.reason().c_str());
  }
  if (active == 0) std::printf("  (none active: set a provider key such as OPENAI_API_KEY)\n");
  for (const auto& p : s.providers()) {
    if (p.active()) continue;
    std::printf("  %-11s inactive  %s\n", p.name().c_str(), p.reason().c_str());
  }
  std::printf("workers:\n");
  for (const auto& w : s.workers()) {
    std::printf("  [%u] pid %-7d %-10s snapshot v%llu  restarts %u%s%s\n", w.worker_id(), w.pid(),
                w.state().c_str(), static_cast<unsigned long long>(w.acked_version()), w.restarts(),
                w.last_error().empty() ? "" : "  last: ", w.last_error().c_str());
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectControl(const Context& ctx) {
  struct stat st;
  if (::stat(ctx.paths.control_socket.c_str(), &st) != 0) {
    return absl::UnavailableError(absl::StrCat(
        "bitrouterd is not running in ", ctx.paths.home, " (no ", ctx.paths.control_socket,
        "); start it with `bitrouterd --home-dir ", ctx.paths.home, "`"));
  }
  auto channel =
      grpc::CreateChannel("unix:" + ctx.paths.control_socket, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(3))) {
    return absl::UnavailableError(absl::StrCat("cannot connect to ", ctx.paths.control_socket,
                                               ": bitrouterd is not answering (stale socket?)"));
  }
  return channel;
}

pid_t RunningDaemonPid(const Context& ctx) {
  // The test bitrouterd applies when claiming a home: a pid reused by an
  // unrelated process is stale.
  return LiveDaemonPid(ctx.paths.pid_file);
}

int CallAdmin(const Context& ctx, int deadline_seconds, const AdminCall& call) {
  auto channel = ConnectControl(ctx);
  if (!channel.ok()) {
    std::fprintf(stderr, "bitrouterctl: %s\n", std::string(channel.status().message()).c_str());
    return 3;
  }
  auto stub = v1::Admin::NewStub(*channel);
  grpc::ClientContext rpc;
  rpc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(deadline_seconds));
  grpc::Status st = call(*stub, &rpc);
  if (!st.ok()) {
    std::fprintf(stderr, "bitrouterctl: %s\n", st.error_message().c_str());
    return 1;
  }
  return 0;
}

int RunStatus(const Context& ctx) {
  auto channel = ConnectControl(ctx);
  if (!channel.ok()) {
    if (ctx.json) {
      std::printf("{\"running\":false,\"home\":%s,\"error\":%s}\n", Json(ctx.paths.home).c_str(),
                  Json(std::string(channel.status().message())).c_str());
    } else {
      std::fprintf(stderr, "bitrouterctl: %s\n", std::string(channel.status().message()).c_str());
    }
    return 3;
  }
  auto stub = v1::Admin::NewStub(*channel);
  grpc::ClientContext rpc;
  rpc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::StatusResponse resp;
  grpc::Status st = stub->Status(&rpc, v1::StatusRequest(), &resp);
  if (!st.ok()) {
    std::fprintf(stderr, "bitrouterctl: status failed: %s\n", st.error_message().c_str());
    return 1;
  }
  if (ctx.json) {
    PrintJson(resp);
  } else {
    PrintHuman(resp);
  }
  return 0;
}

int RunReload(const Context& ctx) {
  v1::ReloadResponse resp;
  int rc = CallAdmin(ctx, 15, [&](v1::Admin::Stub& stub, grpc::ClientContext* rpc) {
    return stub.Reload(rpc, v1::ReloadRequest(), &resp);
  });
  if (rc != 0) return rc;
  for (const auto& w : resp.warnings()) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (!resp.error().empty()) {
    std::fprintf(stderr, "bitrouterctl: reload rejected, still serving snapshot v%llu:\n%s\n",
                 static_cast<unsigned long long>(resp.snapshot_version()), resp.error().c_str());
    return 1;
  }
  for (const auto& n : resp.nacks())
    std::fprintf(stderr, "bitrouterctl: not applied by %s\n", n.c_str());
  if (ctx.json) {
    std::printf("{\"ok\":%s,\"snapshot_version\":%llu,\"load_ms\":%.3f,\"push_ms\":%.3f}\n",
                resp.ok() ? "true" : "false",
                static_cast<unsigned long long>(resp.snapshot_version()), resp.load_ms(),
                resp.push_ms());
  } else if (resp.ok()) {
    std::printf(
        "reloaded: snapshot v%llu active on every worker (load %.1f ms, push to ACK %.1f ms)\n",
        static_cast<unsigned long long>(resp.snapshot_version()), resp.load_ms(), resp.push_ms());
  }
  return resp.ok() ? 0 : 1;
}

int RunStop(const Context& ctx, int wait_seconds, bool force) {
  v1::StopResponse resp;
  v1::StopRequest req;
  req.set_force(force);
  int rc = CallAdmin(ctx, 5, [&](v1::Admin::Stub& stub, grpc::ClientContext* rpc) {
    return stub.Stop(rpc, req, &resp);
  });
  if (rc != 0) return rc;
  // Wait until the process is gone, not just its socket: gRPC removes the
  // socket while bitrouterd is still finishing its exit.
  pid_t pid = RunningDaemonPid(ctx);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds);
  struct stat sb;
  while (::stat(ctx.paths.control_socket.c_str(), &sb) == 0 ||
         (pid > 0 && RunningDaemonPid(ctx) == pid)) {
    if (std::chrono::steady_clock::now() > until) {
      std::fprintf(stderr, "bitrouterctl: bitrouterd is still draining after %ds\n", wait_seconds);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!ctx.json) std::printf("bitrouterd stopped\n");
  return 0;
}

}  // namespace bitrouter::ctl
