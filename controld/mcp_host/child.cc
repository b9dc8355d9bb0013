#include "controld/mcp_host/child.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "shared/common/log.h"
#include "shared/mcp/jsonrpc.h"
#include "shared/mcp/lifecycle.h"

extern char** environ;

namespace bitrouter::mcphost {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kInitTimeoutMs = 30'000;
constexpr uint64_t kStopStepMs = 2'000;  // stdin closed -> SIGTERM -> SIGKILL
constexpr uint64_t kDrainMs = 1'000;     // after the exit, for the last lines
constexpr auto kStableRun = std::chrono::seconds(60);
constexpr uint64_t kFirstBackoffMs = 100;
constexpr uint64_t kMaxBackoffMs = 30'000;
constexpr size_t kMaxWaitingBytes = 32u << 20;     // lines held until the child is ready
constexpr size_t kMaxStdinQueueBytes = 64u << 20;  // written, not yet taken by the child
constexpr size_t kMaxStderrLine = 2048;
constexpr size_t kMaxErrorText = 512;
constexpr uint32_t kStderrLinesPerSecond = 50;
constexpr std::string_view kInitId = "\"bitrouter-init\"";

std::string Describe(int64_t exit_status, int term_signal) {
  if (term_signal != 0) {
    return absl::StrCat("killed by signal ", term_signal, " (", strsignal(term_signal), ")");
  }
  return absl::StrCat("exited with status ", exit_status);
}

}  // namespace

struct StdioChild::Process {
  uv_process_t proc;
  uv_pipe_t in, out, err;
  int open = 4;
  StdioChild* owner = nullptr;
  LineSplitter out_lines{kMaxFrameBytes};
  std::string err_line;  // the stderr line being read (truncated to kMaxStderrLine)
  bool err_truncated = false;
  Timer* drain_timer = nullptr;

  static void OnClosed(uv_handle_t* h) {
    auto* p = static_cast<Process*>(h->data);
    if (--p->open > 0) return;
    Timer::Drop(&p->drain_timer);
    StdioChild* owner = p->owner;
    delete p;
    if (owner != nullptr) owner->AfterProcessClosed();
  }
  void Close(uv_handle_t* h) {
    if (!uv_is_closing(h)) uv_close(h, &Process::OnClosed);
  }
  void CloseAll() {
    for (uv_handle_t* h :
         {reinterpret_cast<uv_handle_t*>(&proc), reinterpret_cast<uv_handle_t*>(&in),
          reinterpret_cast<uv_handle_t*>(&out), reinterpret_cast<uv_handle_t*>(&err)}) {
      Close(h);
    }
  }
};

StdioChild::StdioChild(uv_loop_t* loop, std::string id, ServerSpec spec, std::string self_exe,
                       Hooks hooks)
    : loop_(loop),
      id_(std::move(id)),
      spec_(std::move(spec)),
      self_exe_(std::move(self_exe)),
      hooks_(std::move(hooks)) {}

StdioChild::~StdioChild() {
  Timer::Drop(&backoff_timer_);
  Timer::Drop(&init_timer_);
  Timer::Drop(&stop_timer_);
  if (process_ != nullptr) process_->owner = nullptr;  // only when the loop is torn down
}

ServerStatus StdioChild::Status() const {
  return ServerStatus{id_, pid_, starts_ > 0 ? starts_ - 1 : 0, state_, last_error_};
}

void StdioChild::SetState(std::string state) {
  state_ = std::move(state);
  if (hooks_.status_changed) hooks_.status_changed();
}

void StdioChild::Start() { Spawn(); }

void StdioChild::Spawn() {
  Timer::Drop(&backoff_timer_);
  if (stopping_ || process_ != nullptr) return;
  auto* p = new Process();
  p->owner = this;
  for (uv_pipe_t* pipe : {&p->in, &p->out, &p->err}) {
    uv_pipe_init(loop_, pipe, 0);
    pipe->data = p;
  }
  p->proc.data = p;
  std::vector<std::string> argv_text = {self_exe_, "--exec", std::to_string(getpid()), "--",
                                        spec_.command};
  for (const auto& a : spec_.args) argv_text.push_back(a);
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    std::string_view key = kv.substr(0, kv.find('='));
    if (spec_.env.count(std::string(key)) == 0) env_text.emplace_back(kv);
  }
  for (const auto& [k, v] : spec_.env) env_text.push_back(absl::StrCat(k, "=", v));
  std::vector<char*> env;
  for (auto& e : env_text) env.push_back(e.data());
  env.push_back(nullptr);

  uv_stdio_container_t stdio[3];
  stdio[0].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE);
  stdio[0].data.stream = reinterpret_cast<uv_stream_t*>(&p->in);
  stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&p->out);
  stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = reinterpret_cast<uv_stream_t*>(&p->err);
  uv_process_options_t options{};
  options.file = self_exe_.c_str();
  options.args = argv.data();
  options.env = env.data();
  options.cwd = spec_.cwd.empty() ? nullptr : spec_.cwd.c_str();
  options.stdio_count = 3;
  options.stdio = stdio;
  options.exit_cb = [](uv_process_t* h, int64_t status, int sig) {
    auto* proc = static_cast<Process*>(h->data);
    if (proc->owner != nullptr) proc->owner->OnExit(status, sig);
  };
  ++starts_;
  started_ = Clock::now();
  failed_this_run_ = false;
  process_ = p;
  int rc = uv_spawn(loop_, &p->proc, &options);
  if (rc != 0) {
    last_error_ = absl::StrCat("cannot start: ", uv_strerror(rc));
    LOG_ERROR("mcp server ", id_, ": ", last_error_);
    p->CloseAll();  // AfterProcessClosed schedules the retry
    return;
  }
  pid_ = p->proc.pid;
  LOG_INFO("mcp server ", id_, ": started pid ", pid_, " (", spec_.command, ")");
  auto alloc = [](uv_handle_t*, size_t, uv_buf_t* buf) {
    buf->base = new char[65536];
    buf->len = 65536;
  };
  uv_read_start(reinterpret_cast<uv_stream_t*>(&p->out), alloc,
                [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
                  auto* proc = static_cast<Process*>(s->data);
                  std::unique_ptr<char[]> hold(buf->base);
                  if (n == 0) return;
                  if (n < 0) return proc->Close(reinterpret_cast<uv_handle_t*>(s));
                  StdioChild* self = proc->owner;
                  if (self == nullptr) return;
                  absl::Status st =
                      proc->out_lines.Feed(std::string_view(buf->base, static_cast<size_t>(n)),
                                           [proc](std::string_view line) {
                                             if (proc->owner != nullptr)
                                               proc->owner->OnStdoutLine(line);
                                             return absl::OkStatus();
                                           });
                  if (!st.ok()) {
                    proc->Close(reinterpret_cast<uv_handle_t*>(s));
                    if (proc->owner != nullptr) proc->owner->Fail(std::string(st.message()));
                  }
                });
  uv_read_start(reinterpret_cast<uv_stream_t*>(&p->err), alloc,
                [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
                  auto* proc = static_cast<Process*>(s->data);
                  std::unique_ptr<char[]> hold(buf->base);
                  if (n == 0) return;
                  if (n < 0) return proc->Close(reinterpret_cast<uv_handle_t*>(s));
                  for (ssize_t i = 0; i < n; ++i) {
                    char c = buf->base[i];
                    if (c == '\n') {
                      if (proc->owner != nullptr) proc->owner->OnStderrLine(proc->err_line);
                      proc->err_line.clear();
                      proc->err_truncated = false;
                    } else if (proc->err_line.size() < kMaxStderrLine) {
                      proc->err_line.push_back(c);
                    } else if (!proc->err_truncated) {
                      proc->err_truncated = true;
                      proc->err_line.append("...");
                    }
                  }
                });
  SetState("starting");
  const std::string params = absl::StrCat(
      "{\"protocolVersion\":", mcp::JsonString(mcp::kLatestVersion),
      ",\"capabilities\":{},\"clientInfo\":{\"name\":\"bitrouter\",\"version\":\"0.1.0\"}}");
  Write(mcp::RequestBody(kInitId, "initialize", params));
  init_timer_ = Timer::Start(loop_, kInitTimeoutMs, [this] {
    init_timer_ = nullptr;
    Fail("no answer to initialize within 30 s");
  });
}

void StdioChild::Write(std::string line) {
  if (process_ == nullptr) return;
  auto* in = reinterpret_cast<uv_stream_t*>(&process_->in);
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(in))) return;
  if (uv_stream_get_write_queue_size(in) > kMaxStdinQueueBytes) {
    return Fail("the server does not read its stdin");
  }
  struct Req {
    uv_write_t req;
    std::string data;
  };
  auto* r = new Req();
  r->data = std::move(line);
  r->data.push_back('\n');
  uv_buf_t buf = uv_buf_init(r->data.data(), static_cast<unsigned>(r->data.size()));
  r->req.data = r;
  int rc = uv_write(&r->req, in, &buf, 1,
                    [](uv_write_t* req, int) { delete static_cast<Req*>(req->data); });
  if (rc != 0) delete r;
}

void StdioChild::OnStdoutLine(std::string_view line) {
  if (state_ == "starting" && line.find(kInitId) != std::string_view::npos) {
    return OnInitialized(line);
  }
  MuxOut out;
  mux_.FromChild(line, &out);
  Emit(std::move(out));
}

void StdioChild::OnInitialized(std::string_view line) {
  auto parsed = mcp::ParseJsonRpc(line);
  const auto* msg = std::get_if<mcp::JsonRpcMessage>(&parsed);
  if (msg == nullptr || msg->kind != mcp::JsonRpcMessage::Kind::kResponse || msg->id != kInitId) {
    MuxOut out;
    mux_.FromChild(line, &out);
    return Emit(std::move(out));
  }
  Timer::Drop(&init_timer_);
  if (msg->result.empty()) return Fail(absl::StrCat("initialize failed: ", msg->error));
  Write(mcp::NotificationBody("notifications/initialized", ""));
  last_error_.clear();
  for (std::string& w : waiting_) Write(std::move(w));
  waiting_.clear();
  waiting_bytes_ = 0;
  LOG_INFO("mcp server ", id_, ": pid ", pid_, " ready");
  SetState("ready");
}

void StdioChild::OnStderrLine(std::string_view line) {
  auto now = Clock::now();
  if (now - stderr_window_ >= std::chrono::seconds(1)) {
    if (stderr_dropped_ > 0) {
      LOG_WARN("mcp server ", id_, ": ", stderr_dropped_,
               " stderr line(s) not logged (rate limit)");
    }
    stderr_window_ = now;
    stderr_lines_ = 0;
    stderr_dropped_ = 0;
  }
  if (++stderr_lines_ > kStderrLinesPerSecond) {
    ++stderr_dropped_;
    return;
  }
  LOG_INFO("mcp server ", id_, " stderr: ", std::string(line));
}

void StdioChild::FromConn(ConnId conn, std::string_view message) {
  MuxOut out;
  if (state_ != "ready" && state_ != "starting") {
    const std::string why = stopping_
                                ? "the server is stopping"
                                : absl::StrCat("the server is not running (", last_error_, ")");
    if (!Multiplexer::Refuse(conn, message, why, &out)) mux_.FromConn(conn, message, &out);
    // A notification for a stopped server is dropped: nothing runs to take it.
    out.to_child.clear();
    return Emit(std::move(out));
  }
  mux_.FromConn(conn, message, &out);
  Emit(std::move(out));
}

void StdioChild::ConnClosed(ConnId conn) {
  MuxOut out;
  mux_.ConnClosed(conn, &out);
  Emit(std::move(out));
}

void StdioChild::Emit(MuxOut out) {
  for (const std::string& d : out.dropped) LOG_DEBUG("mcp server ", id_, ": dropped ", d);
  for (std::string& line : out.to_child) {
    if (state_ == "ready") {
      Write(std::move(line));
    } else if (state_ == "starting") {
      if (waiting_bytes_ + line.size() > kMaxWaitingBytes) {
        // Over the bound: the requests waiting are answered, not lost.
        MuxOut failed;
        mux_.FailAll("too many requests wait for the server to start", &failed);
        waiting_.clear();
        waiting_bytes_ = 0;
        for (auto& c : failed.to_conns) hooks_.deliver(c);
        break;
      }
      waiting_bytes_ += line.size();
      waiting_.push_back(std::move(line));
    }
  }
  for (const auto& c : out.to_conns) hooks_.deliver(c);
}

void StdioChild::Fail(std::string why) {
  // The reason may quote the child (an initialize error): keep it short.
  if (why.size() > kMaxErrorText) why = why.substr(0, kMaxErrorText) + "...";
  last_error_ = std::move(why);
  failed_this_run_ = true;
  LOG_WARN("mcp server ", id_, ": ", last_error_, "; killing pid ", pid_);
  if (process_ != nullptr && pid_ != 0) uv_process_kill(&process_->proc, SIGKILL);
}

void StdioChild::OnExit(int64_t exit_status, int term_signal) {
  const std::string why = Describe(exit_status, term_signal);
  if (stopping_) {
    LOG_INFO("mcp server ", id_, ": pid ", pid_, " stopped (", why, ")");
  } else {
    LOG_WARN("mcp server ", id_, ": pid ", pid_, " ", why);
    if (!failed_this_run_) last_error_ = why;  // else Fail() said why it was killed
  }
  pid_ = 0;
  Timer::Drop(&init_timer_);
  Timer::Drop(&stop_timer_);
  Process* p = process_;
  p->Close(reinterpret_cast<uv_handle_t*>(&p->proc));
  p->Close(reinterpret_cast<uv_handle_t*>(&p->in));
  // stdout may still hold the last answers: read to its end, bounded.
  p->drain_timer = Timer::Start(loop_, kDrainMs, [p] {
    p->drain_timer = nullptr;
    p->CloseAll();
  });
}

void StdioChild::AfterProcessClosed() {
  process_ = nullptr;
  pid_ = 0;
  Timer::Drop(&init_timer_);
  waiting_.clear();
  waiting_bytes_ = 0;
  MuxOut out;
  mux_.FailAll(stopping_ ? "the server stopped" : "the server exited", &out);
  for (const auto& c : out.to_conns) hooks_.deliver(c);
  if (stopping_) {
    state_ = "stopped";
    auto stopped = std::move(stopped_);
    if (stopped) stopped();  // may delete this
    return;
  }
  if (Clock::now() - started_ >= kStableRun) quick_exits_ = 0;
  const uint64_t delay =
      std::min<uint64_t>(kMaxBackoffMs, kFirstBackoffMs << std::min<uint32_t>(quick_exits_, 20));
  ++quick_exits_;
  LOG_INFO("mcp server ", id_, ": restarting in ", delay, " ms");
  backoff_timer_ = Timer::Start(loop_, delay, [this] {
    backoff_timer_ = nullptr;
    Spawn();
  });
  SetState("backoff");
}

void StdioChild::Stop(std::function<void()> stopped) {
  if (stopping_) return;
  stopping_ = true;
  stopped_ = std::move(stopped);
  Timer::Drop(&backoff_timer_);
  Timer::Drop(&init_timer_);
  if (process_ == nullptr) {
    state_ = "stopped";
    // Deferred: the caller may delete this in `stopped`.
    stop_timer_ = Timer::Start(loop_, 0, [this] {
      stop_timer_ = nullptr;
      auto s = std::move(stopped_);
      if (s) s();
    });
    return;
  }
  SetState("stopping");
  process_->Close(reinterpret_cast<uv_handle_t*>(&process_->in));  // EOF on the child's stdin
  if (pid_ == 0) return;                                           // exited already; draining
  stop_timer_ = Timer::Start(loop_, kStopStepMs, [this] {
    stop_timer_ = nullptr;
    if (process_ == nullptr || pid_ == 0) return;
    LOG_INFO("mcp server ", id_, ": pid ", pid_, " still running 2 s after stdin closed; SIGTERM");
    uv_process_kill(&process_->proc, SIGTERM);
    stop_timer_ = Timer::Start(loop_, kStopStepMs, [this] {
      stop_timer_ = nullptr;
      if (process_ == nullptr || pid_ == 0) return;
      LOG_WARN("mcp server ", id_, ": pid ", pid_, " ignored SIGTERM; SIGKILL");
      uv_process_kill(&process_->proc, SIGKILL);
    });
  });
}

}  // namespace bitrouter::mcphost
