#include "controld/control_service.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>

#include "absl/strings/str_cat.h"
#include "bitrouter/v1/control.grpc.pb.h"
#include "controld/mcp_admin.h"
#include "controld/run_files.h"
#include "controld/usage_queries.h"
#include "shared/common/log.h"
#include "shared/common/thread_priority.h"
#include "shared/common/wall_clock.h"
#include "shared/usage/record_wire.h"

namespace bitrouter::controld {

namespace v1 = bitrouter::v1;

class ControlServer::WorkerService final : public v1::WorkerControl::Service {
 public:
  WorkerService(SnapshotHub* hub, UsageIntake* const* intake) : hub_(hub), intake_(intake) {}

  // One batch at a time: queued to the store thread, answered once it is
  // committed. While the store is stalled the worker hears nothing, so its
  // own bounded queue fills and drops (and counts) instead of ours growing.
  grpc::Status ReportUsage(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::UsageAck, v1::UsageBatch>* stream) override {
    // This pool thread serves the stream for its whole life: background work,
    // below the workers (given back as it was when the stream ends).
    int nice_before = SetThreadNice(10);
    v1::UsageBatch batch;
    uint64_t dropped_seen = 0;
    while (!ctx->IsCancelled() && stream->Read(&batch)) {
      v1::UsageAck ack;
      ack.set_seq(batch.seq());
      if (batch.dropped_total() > dropped_seen) {
        LOG_WARN("usage: a worker dropped ", batch.dropped_total() - dropped_seen,
                 " record(s) (its queue was full; total ", batch.dropped_total(), ")");
        dropped_seen = batch.dropped_total();
      }
      UsageIntake* intake = *intake_;
      absl::Status result = absl::UnavailableError("no usage store");
      if (intake != nullptr && batch.records_size() > 0) {
        std::vector<store::UsageRecord> records;
        records.reserve(batch.records_size());
        for (const v1::UsageRecord& r : batch.records()) records.push_back(usage::FromWire(r));
        auto done = std::make_shared<std::promise<absl::Status>>();
        std::future<absl::Status> committed = done->get_future();
        if (!intake->Submit(std::move(records),
                            [done](const absl::Status& s) { done->set_value(s); })) {
          result = absl::ResourceExhaustedError("usage store queue full");
        } else {
          while (committed.wait_for(std::chrono::milliseconds(250)) != std::future_status::ready &&
                 !ctx->IsCancelled()) {
          }
          if (ctx->IsCancelled()) break;
          result = committed.get();
        }
      } else if (batch.records_size() == 0) {
        result = absl::OkStatus();
      }
      ack.set_stored(result.ok());
      if (!result.ok()) ack.set_error(std::string(result.message()));
      if (!stream->Write(ack)) break;
    }
    SetThreadNice(nice_before);
    return grpc::Status::OK;
  }

  grpc::Status Connect(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::ControlMessage, v1::WorkerMessage>* stream) override {
    v1::WorkerMessage msg;
    if (!stream->Read(&msg) || !msg.has_hello()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "expected hello first");
    }
    SnapshotHub::Stream worker;
    worker.worker_id = msg.hello().worker_id();
    worker.pid = msg.hello().pid();
    const uint32_t id = worker.worker_id;
    hub_->WorkerConnected(id, worker.pid);
    LOG_DEBUG("worker[", id, "] connected (pid ", worker.pid, ")");
    while (!ctx->IsCancelled()) {
      SnapshotHub::SnapshotPtr snap = hub_->NextFor(&worker, std::chrono::milliseconds(250));
      if (hub_->shut_down()) break;
      if (snap == nullptr) continue;
      v1::ControlMessage out;
      *out.mutable_snapshot() = *snap;
      if (!stream->Write(out)) break;
      v1::WorkerMessage reply;
      if (!stream->Read(&reply)) break;
      // Either way this version is settled for this worker: never re-pushed.
      if (reply.has_ack()) {
        hub_->WorkerAcked(&worker, snap);
      } else if (reply.has_nack()) {
        LOG_ERROR("worker[", id, "] rejected snapshot v", snap->version(), ": ",
                  reply.nack().error());
        hub_->WorkerNacked(&worker, snap->version(), reply.nack().error());
      }
    }
    hub_->WorkerStreamClosed(id, worker.pid);
    return grpc::Status::OK;
  }

 private:
  SnapshotHub* hub_;
  UsageIntake* const* intake_;  // the owner's pointer, set before Start
};

class ControlServer::AdminService final : public v1::Admin::Service {
 public:
  explicit AdminService(ControlServer* owner) : owner_(owner) {}

  grpc::Status Status(grpc::ServerContext*, const v1::StatusRequest*,
                      v1::StatusResponse* out) override {
    DaemonInfo info = owner_->Info();
    out->set_pid(info.pid);
    out->set_started_unix(info.started);
    out->set_uptime_seconds(std::time(nullptr) - info.started);
    out->set_home(info.home);
    out->set_config_path(info.config_path);
    out->set_listen(info.listen);
    out->set_version(BITROUTER_VERSION);
    out->set_last_reload(owner_->reloader_->last());
    struct stat st;
    if (!info.config_path.empty() && ::stat(info.config_path.c_str(), &st) == 0) {
      out->set_config_mtime_unix(st.st_mtime);
    }
    if (auto snap = owner_->hub_->Current()) out->set_snapshot_version(snap->version());
    out->set_store(info.store);
    if (owner_->intake_ != nullptr) {
      IntakeStats st = owner_->intake_->stats();
      out->set_store_ok(st.store_ok);
      if (!st.store_ok) {
        out->set_store_error(absl::StrCat(
            st.store_error, " (since ", (UnixMillis() - st.store_down_since_ms) / 1000, " s ago)"));
      }
      out->set_store_queued_records(st.queued_records);
    }
    if (owner_->keys_ != nullptr) out->set_keys_active(owner_->keys_->active_count());
    if (auto cfg = owner_->routes_->config(); cfg != nullptr) {
      out->set_auth_required(!cfg->server.skip_auth);
      for (const auto& [name, p] : cfg->providers) {
        auto* ps = out->add_providers();
        ps->set_name(name);
        ps->set_active(p.active);
        ps->set_reason(p.reason);
        ps->set_base_url(p.api_base);
        ps->set_protocol(p.api_protocol);
      }
    }
    for (const auto& e : owner_->hub_->Ledger()) {
      auto* w = out->add_workers();
      w->set_worker_id(e.worker_id);
      w->set_pid(e.pid);
      w->set_state(e.state);
      w->set_acked_version(e.acked_version);
      w->set_restarts(e.restarts);
      w->set_last_error(e.last_error);
    }
    return grpc::Status::OK;
  }

  grpc::Status Stop(grpc::ServerContext*, const v1::StopRequest* req, v1::StopResponse*) override {
    LOG_INFO(req->force() ? "forced stop" : "stop", " requested over the control socket");
    owner_->request_stop_(req->force());
    return grpc::Status::OK;
  }

  grpc::Status ListRoutes(grpc::ServerContext*, const v1::ListRoutesRequest*,
                          v1::ListRoutesResponse* out) override {
    for (auto& r : owner_->routes_->List()) *out->add_routes() = std::move(r);
    return grpc::Status::OK;
  }

  grpc::Status AddRoute(grpc::ServerContext*, const v1::AddRouteRequest* req,
                        v1::RouteChangeResponse* out) override {
    auto change = owner_->routes_->Add(req->route());
    if (!change.ok()) {
      LOG_WARN("route add refused: ", change.status().message());  // messages never hold keys
      return ToGrpc(change.status());
    }
    LOG_INFO("runtime route '", req->route().name(), "' set (snapshot v", change->version, ")");
    Fill(*change, out);
    return grpc::Status::OK;
  }

  grpc::Status RemoveRoute(grpc::ServerContext*, const v1::RemoveRouteRequest* req,
                           v1::RouteChangeResponse* out) override {
    auto change = owner_->routes_->Remove(req->name());
    if (!change.ok()) return ToGrpc(change.status());
    LOG_INFO("runtime route '", req->name(), "' removed (snapshot v", change->version, ")");
    Fill(*change, out);
    return grpc::Status::OK;
  }

  grpc::Status Reload(grpc::ServerContext*, const v1::ReloadRequest*,
                      v1::ReloadResponse* out) override {
    LOG_INFO("reload requested over the control socket");
    Reloader::Result r = owner_->reloader_->Reload();
    out->set_ok(r.ok);
    out->set_error(r.error);
    out->set_snapshot_version(
        r.version != 0 ? r.version
                       : (owner_->hub_->Current() ? owner_->hub_->Current()->version() : 0));
    for (const auto& n : r.nacks) out->add_nacks(n);
    for (const auto& w : r.warnings) out->add_warnings(w);
    out->set_load_ms(r.load_ms);
    out->set_push_ms(r.push_ms);
    return grpc::Status::OK;
  }

  grpc::Status TraceRoute(grpc::ServerContext*, const v1::TraceRouteRequest* req,
                          v1::TraceRouteResponse* out) override {
    *out = owner_->routes_->Trace(req->model());
    return grpc::Status::OK;
  }

  // Virtual keys: every store access runs on the store thread (KeyRegistry).
  grpc::Status CreateKey(grpc::ServerContext*, const v1::CreateKeyRequest* req,
                         v1::CreateKeyResponse* out) override {
    if (owner_->keys_ == nullptr) return NoUsageStore();
    auto created = owner_->keys_->Create(*req);
    if (!created.ok()) return UsageToGrpc(created.status());
    *out = std::move(*created);
    return grpc::Status::OK;
  }

  grpc::Status ListMcp(grpc::ServerContext*, const v1::ListMcpRequest* req,
                       v1::ListMcpResponse* out) override {
    SnapshotHub::SnapshotPtr snap = owner_->hub_->Current();
    if (snap == nullptr) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no snapshot yet");
    if (!req->server().empty()) {
      bool known = false;
      for (const auto& s : snap->mcp().servers()) known |= s.id() == req->server();
      if (!known) {
        return grpc::Status(grpc::StatusCode::NOT_FOUND,
                            "no MCP server '" + req->server() + "' in the config");
      }
    }
    controld::ListMcp(snap->mcp(), owner_->Info().listen, *req, out);
    std::function<std::vector<mcphost::ServerStatus>()> stdio_status;
    {
      std::lock_guard<std::mutex> lock(owner_->mu_);
      stdio_status = owner_->stdio_status_;
    }
    if (stdio_status) {
      for (const mcphost::ServerStatus& st : stdio_status()) {
        for (auto& s : *out->mutable_servers()) {
          if (s.id() != st.id || s.transport() != "stdio") continue;
          s.set_pid(st.pid);
          s.set_restarts(st.restarts);
          s.set_state(st.state);
          s.set_process_error(st.last_error);
        }
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status ListKeys(grpc::ServerContext*, const v1::ListKeysRequest*,
                        v1::ListKeysResponse* out) override {
    if (owner_->keys_ == nullptr) return NoUsageStore();
    auto all = owner_->keys_->List();
    if (!all.ok()) return UsageToGrpc(all.status());
    for (auto& k : *all) *out->add_keys() = std::move(k);
    return grpc::Status::OK;
  }

  grpc::Status GetKey(grpc::ServerContext*, const v1::GetKeyRequest* req,
                      v1::KeyResponse* out) override {
    if (owner_->keys_ == nullptr) return NoUsageStore();
    return KeyAnswer(owner_->keys_->Get(req->key()), out);
  }

  grpc::Status UpdateKey(grpc::ServerContext*, const v1::UpdateKeyRequest* req,
                         v1::KeyResponse* out) override {
    if (owner_->keys_ == nullptr) return NoUsageStore();
    return KeyAnswer(owner_->keys_->Update(*req), out);
  }

  grpc::Status RevokeKey(grpc::ServerContext*, const v1::RevokeKeyRequest* req,
                         v1::KeyResponse* out) override {
    if (owner_->keys_ == nullptr) return NoUsageStore();
    return KeyAnswer(owner_->keys_->Revoke(req->key()), out);
  }

  // Usage queries: run on the store thread through the intake (never here).
  grpc::Status SummarizeUsage(grpc::ServerContext*, const v1::SummarizeUsageRequest* req,
                              v1::SummarizeUsageResponse* out) override {
    if (owner_->intake_ == nullptr) return NoUsageStore();
    return UsageToGrpc(controld::SummarizeUsage(*owner_->intake_, *req, out));
  }

  grpc::Status ListUsage(grpc::ServerContext*, const v1::ListUsageRequest* req,
                         v1::ListUsageResponse* out) override {
    if (owner_->intake_ == nullptr) return NoUsageStore();
    return UsageToGrpc(controld::ListUsage(*owner_->intake_, *req, out));
  }

 private:
  static grpc::Status ToGrpc(const absl::Status& s) {
    grpc::StatusCode code = s.code() == absl::StatusCode::kNotFound ? grpc::StatusCode::NOT_FOUND
                            : s.code() == absl::StatusCode::kFailedPrecondition
                                ? grpc::StatusCode::FAILED_PRECONDITION
                                : grpc::StatusCode::INVALID_ARGUMENT;
    return grpc::Status(code, std::string(s.message()));
  }
  static grpc::Status NoUsageStore() {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "this bitrouterd has no usage store");
  }
  // absl and gRPC share the canonical code numbering.
  static grpc::Status UsageToGrpc(const absl::Status& s) {
    if (s.ok()) return grpc::Status::OK;
    return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
  }
  static grpc::Status KeyAnswer(absl::StatusOr<v1::KeyInfo> info, v1::KeyResponse* out) {
    if (!info.ok()) return UsageToGrpc(info.status());
    *out->mutable_key() = std::move(*info);
    return grpc::Status::OK;
  }
  static void Fill(const RouteRegistry::Change& change, v1::RouteChangeResponse* out) {
    out->set_snapshot_version(change.version);
    for (const auto& n : change.nacks) out->add_nacks(n);
  }

  ControlServer* owner_;
};

ControlServer::ControlServer(SnapshotHub* hub, RouteRegistry* routes, Reloader* reloader,
                             std::function<void(bool)> request_stop)
    : hub_(hub), routes_(routes), reloader_(reloader), request_stop_(std::move(request_stop)) {}

ControlServer::~ControlServer() { Shutdown(); }

absl::Status ControlServer::Start(const std::string& socket_path) {
  if (socket_path.size() > 107) {
    return absl::InvalidArgumentError(
        absl::StrCat("control socket path is ", socket_path.size(),
                     " bytes, over the 107-byte Unix socket limit: use a shorter --home-dir (",
                     socket_path, ")"));
  }
  if (absl::Status s = PrepareControlSocketPath(socket_path); !s.ok()) return s;
  worker_service_ = std::make_unique<WorkerService>(hub_, &intake_);
  admin_service_ = std::make_unique<AdminService>(this);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials());
  builder.RegisterService(worker_service_.get());
  builder.RegisterService(admin_service_.get());
  // Umask so the socket is never briefly group/world accessible.
  mode_t old = ::umask(0177);
  server_ = builder.BuildAndStart();
  ::umask(old);
  if (server_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot serve the control socket ", socket_path));
  }
  ::chmod(socket_path.c_str(), 0600);
  return absl::OkStatus();
}

void ControlServer::SetInfo(DaemonInfo info) {
  std::lock_guard<std::mutex> lock(mu_);
  info_ = std::move(info);
}

DaemonInfo ControlServer::Info() const {
  std::lock_guard<std::mutex> lock(mu_);
  return info_;
}

void ControlServer::Shutdown() {
  if (server_ == nullptr) return;
  hub_->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
  server_.reset();
}

}  // namespace bitrouter::controld
