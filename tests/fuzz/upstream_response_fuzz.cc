// Fuzzes the worker's upstream client: UpstreamPool / llhttp response parsing
// against a loopback "upstream" that answers with arbitrary bytes, split at
// arbitrary points, then closes, resets or goes silent; the handler pauses
// and resumes reading (a slow client) at arbitrary moments.
//
// Input: byte 0 = flags (bit0 reset at the end, bit1 stay silent at the end
// (timeouts end it), bit2 pause reading after the first body piece, bit3
// resume between pieces); the rest is the upstream's answer.
// Invariants: callbacks arrive in order (head, body..., then exactly one of
// complete/failure), nothing arrives after the end, every call ends (the
// timeouts guarantee it), and no connection is left open afterwards.
#include <cstdint>
#include <memory>

#include "shared/common/url.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/worker_fuzz_env.h"
#include "worker/upstream/upstream.h"

namespace {

using bitrouter::fuzzing::Turn;
using bitrouter::worker::UpstreamFailure;
using bitrouter::worker::UpstreamHead;

constexpr char kRequest[] = "POST /v1/chat/completions HTTP/1.1\r\nHost: fuzz\r\n\r\n";

struct Env {
  uv_loop_t loop;
  std::unique_ptr<bitrouter::worker::UpstreamPool> pool;
  int listen_fd = -1;
  int port = 0;
  Env() {
    // As in the worker: a write to a peer that reset is an error, not a signal.
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop);
    listen_fd = bitrouter::fuzzing::ListenLoopback(&port);
    FUZZ_CHECK(listen_fd >= 0);
    pool = std::make_unique<bitrouter::worker::UpstreamPool>(&loop);
  }
};

class Recorder : public bitrouter::worker::UpstreamHandler {
 public:
  void OnUpstreamHeaders(const UpstreamHead& head) override {
    FUZZ_CHECK(!headers && !done);
    FUZZ_CHECK(head.status >= 200 && head.status <= 999);  // interim answers never surface
    headers = true;
  }
  void OnUpstreamBody(const char*, size_t len) override {
    FUZZ_CHECK(headers && !done);
    bytes += len;
    if (pause_on_body && !paused && call != nullptr) {
      call->PauseReading();
      paused = true;
    }
  }
  void OnUpstreamComplete() override {
    FUZZ_CHECK(headers && !done);
    done = true;
  }
  void OnUpstreamFailure(UpstreamFailure, const std::string& detail) override {
    FUZZ_CHECK(!done);
    FUZZ_CHECK(!detail.empty());
    done = true;
  }
  bitrouter::worker::UpstreamCall* call = nullptr;
  bool pause_on_body = false;
  bool paused = false;
  bool headers = false;
  bool done = false;
  size_t bytes = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Env* env = new Env();
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  Recorder rec;
  rec.pause_on_body = flags & 4;
  bitrouter::worker::UpstreamRequest req;
  auto origin = bitrouter::ParseUrl("http://127.0.0.1:" + std::to_string(env->port));
  FUZZ_CHECK(origin.ok());
  req.origin = *origin;
  req.timeouts.connect_ms = 500;
  req.timeouts.first_byte_ms = 40;
  req.timeouts.idle_ms = 40;
  req.timeouts.total_ms = 400;
  req.pieces = {kRequest};
  auto call = env->pool->Start(std::move(req), &rec);
  rec.call = call.get();
  FUZZ_CHECK(!rec.done);  // never a callback from inside Start

  int upstream = -1;
  for (int i = 0; i < 2000 && upstream < 0 && !rec.done; ++i) {
    Turn(&env->loop, 1);
    upstream = ::accept4(env->listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (upstream < 0) ::usleep(100);
  }
  FUZZ_CHECK(upstream >= 0 || rec.done);
  if (upstream >= 0) {
    Turn(&env->loop, 2);
    bitrouter::fuzzing::DrainSocket(upstream);  // the request
    bitrouter::fuzzing::Splitter pieces(data + 1, size - 1);
    std::string_view piece;
    while (!rec.done && pieces.Next(&piece)) {
      bitrouter::fuzzing::SendSome(upstream, piece);
      Turn(&env->loop, 2);
      if ((flags & 8) && rec.paused) call->ResumeReading();
    }
    if (rec.paused) call->ResumeReading();
    if (flags & 1) {
      bitrouter::fuzzing::ResetClose(upstream);
      upstream = -1;
    } else if (!(flags & 2)) {
      ::close(upstream);
      upstream = -1;
    }
  }
  for (int i = 0; i < 4000 && !rec.done; ++i) Turn(&env->loop, 1, 250);
  FUZZ_CHECK(rec.done);
  call.reset();
  if (upstream >= 0) ::close(upstream);
  // A kept-alive connection sees the close and leaves the pool.
  for (int i = 0; i < 4000 && env->pool->live_connections() > 0; ++i) Turn(&env->loop, 1, 250);
  FUZZ_CHECK(env->pool->live_connections() == 0);
  return 0;
}
