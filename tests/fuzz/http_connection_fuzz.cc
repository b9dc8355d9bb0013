// Fuzzes the worker's client side: a real Server (HttpConnection, llhttp,
// pipelining, responses, the proxy pipeline up to an upstream that refuses)
// fed arbitrary bytes from a real loopback client, split at arbitrary
// points, with the client resetting or never reading at arbitrary moments.
//
// Input: byte 0 = flags (bit0 reset, bit1 never read, bit6 half-close,
// bits2-5 the piece after which to reset); the rest is what the client sends.
// Invariant: no crash or sanitizer report, and once the client is gone every
// connection closes (nothing is left dispatched, timed or written).
#include <cstdint>

#include "bitrouter/v1/control.pb.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/worker_fuzz_env.h"
#include "worker/http/server.h"
#include "worker/proxy/dispatch.h"
#include "worker/snapshot/snapshot_builder.h"

namespace {

using bitrouter::fuzzing::Turn;

struct Env {
  uv_loop_t loop;
  bitrouter::worker::Server* server = nullptr;
  bitrouter::worker::ProxyDispatcher dispatcher;
  int port = 0;

  Env() {
    // As in the worker: a write to a peer that reset is an error, not a signal.
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop);
    int listen_fd = bitrouter::fuzzing::ListenLoopback(&port);
    FUZZ_CHECK(listen_fd >= 0);
    // An upstream port that refuses: requests run the pipeline and fail over.
    int refused_port = 0;
    int tmp = bitrouter::fuzzing::ListenLoopback(&refused_port);
    ::close(tmp);
    bitrouter::v1::Snapshot s;
    s.set_version(1);
    const char* protocols[][2] = {{"openai", "openai"}, {"anthropic", "anthropic"}};
    for (auto& [name, protocol] : protocols) {
      auto* p = s.add_providers();
      p->set_name(name);
      p->set_protocol(protocol);
      p->set_base_url("http://127.0.0.1:" + std::to_string(refused_port) + "/v1");
      p->set_api_key("fuzz-key");
      p->add_models(std::string(name) + "-model");
    }
    auto* l = s.mutable_limits();
    l->set_max_body_bytes(1 << 20);
    l->set_header_timeout_ms(50);
    l->set_body_timeout_ms(50);
    l->set_keepalive_timeout_ms(50);
    l->set_send_timeout_ms(50);
    l->set_access_log_off(true);
    auto* t = s.mutable_timeouts();
    t->set_connect_ms(100);
    t->set_first_byte_ms(100);
    t->set_idle_ms(100);
    auto snap = bitrouter::worker::BuildWorkerSnapshot(s);
    FUZZ_CHECK(snap.ok());
    server = new bitrouter::worker::Server(&loop, listen_fd, 0);
    server->SetDispatcher(&dispatcher);
    server->SetSnapshot(*snap);
    FUZZ_CHECK(server->StartAccepting().ok());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Env* env = new Env();
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  const bool reset = flags & 1;
  const bool never_read = flags & 2;
  const size_t reset_after = (flags >> 2) & 15;
  int fd = bitrouter::fuzzing::ConnectLoopback(env->port);
  FUZZ_CHECK(fd >= 0);
  Turn(&env->loop, 3);
  bitrouter::fuzzing::Splitter pieces(data + 1, size - 1);
  std::string_view piece;
  size_t index = 0;
  while (pieces.Next(&piece)) {
    bitrouter::fuzzing::SendSome(fd, piece);
    Turn(&env->loop, 2);
    if (!never_read) bitrouter::fuzzing::DrainSocket(fd);
    if (reset && index++ == reset_after) {
      bitrouter::fuzzing::ResetClose(fd);
      fd = -1;
      break;
    }
  }
  if (fd >= 0) {
    if (flags & 64) ::shutdown(fd, SHUT_WR);
    Turn(&env->loop, 5, 100);
    if (!never_read) bitrouter::fuzzing::DrainSocket(fd);
    if (reset) {
      bitrouter::fuzzing::ResetClose(fd);
    } else {
      ::close(fd);
    }
  }
  // Once the client is gone every connection must close, within the
  // (short) timeouts above.
  for (int i = 0; i < 4000 && env->server->connection_count() > 0; ++i) Turn(&env->loop, 1, 250);
  FUZZ_CHECK(env->server->connection_count() == 0);
  return 0;
}
