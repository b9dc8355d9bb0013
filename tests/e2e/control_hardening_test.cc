// Control-plane hardening through the real binaries (issue 9, items 6, 7, 9):
// values that cannot go into an upstream header are refused where they are
// written, naming the field and never the value; the control socket path and
// the home are claimed safely; Ctrl-C and a group SIGTERM drain like stop.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>
#include <vector>

#include "bitrouter/v1/control.grpc.pb.h"
#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

// A header-splitting value: if it ever reached a log or a message, the test
// would find these bytes.
constexpr char kSecretPrefix[] = "sk-hidden-secret";
constexpr char kInjected[] = "X-Injected";
const std::string kBadValue = std::string(kSecretPrefix) + "\r\n" + kInjected + ": 1";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Checks that bitrouterd refuses to start with `yaml` / `env` / `dotenv` and
// that its message names `field` (and shows no part of the bad value).
void ExpectRefused(const std::string& yaml, std::map<std::string, std::string> env,
                   const std::string& dotenv, const std::string& field) {
  SCOPED_TRACE(field);
  RouterProcess::Options o;
  o.config_yaml = yaml;
  o.env = std::move(env);
  RouterProcess router(o);
  if (!dotenv.empty()) std::ofstream(router.home() + "/.env") << dotenv;
  EXPECT_EQ(router.RunToExit(5000), 2) << router.Log();
  std::string log = router.Log();
  EXPECT_NE(log.find(field), std::string::npos) << log;
  EXPECT_EQ(log.find(kSecretPrefix), std::string::npos) << log;
  EXPECT_EQ(log.find(kInjected), std::string::npos) << log;
}

TEST(HeaderValuesTest, ConfigEnvAndDotEnvValuesThatBreakHeadersAreRefusedByField) {
  const std::map<std::string, std::string> bad = {{"BAD", kBadValue}};
  ExpectRefused("providers:\n  openai:\n    api_key: ${BAD}\n", bad, "",
                "bitrouter.yaml:3: providers.openai.api_key: contains a byte not allowed");
  ExpectRefused("providers:\n  openai:\n    api_keys: [ok-key, \"${BAD}\"]\n", bad, "",
                "bitrouter.yaml:3: providers.openai.api_keys[1]: contains a byte");
  ExpectRefused("providers:\n  openai:\n    default_headers:\n      X-Team: ${BAD}\n", bad, "",
                "bitrouter.yaml:4: providers.openai.default_headers.X-Team: contains a byte");
  ExpectRefused("providers:\n  openai:\n    default_headers:\n      \"X Team\": a\n", {}, "",
                "providers.openai.default_headers.X Team: 'X Team' is not a valid header name");
  ExpectRefused(
      "providers:\n  mine:\n    api_base: https://example.com/v1\n    auth:\n"
      "      type: header\n      header_name: \"x key\"\n",
      {}, "", "bitrouter.yaml:6: providers.mine.auth.header_name: 'x key' is not a valid");
  ExpectRefused(
      "models:\n  m:\n    endpoints:\n      - provider: openai\n        model_id: gpt-4o\n"
      "        api_key: ${BAD}\n",
      bad, "", "bitrouter.yaml:6: models.m.endpoints[0].api_key: contains a byte");
  ExpectRefused("providers:\n  openai:\n    api_base: \"https://example.com/v1${BAD}\"\n", bad, "",
                "bitrouter.yaml:3: providers.openai.api_base: contains a byte");
  // A provider key from the process environment, and one from <home>/.env.
  ExpectRefused("", {{"OPENAI_API_KEY", kBadValue}}, "",
                "providers.openai: OPENAI_API_KEY (environment or .env): contains a byte");
  ExpectRefused("", {}, "ANTHROPIC_API_KEY=\"sk-hidden-secret\\nX-Injected: 1\"\n",
                "providers.anthropic: ANTHROPIC_API_KEY (environment or .env): contains a byte");
  // The workers load upstream.ca_file for every snapshot: one they cannot
  // load is refused up front too.
  ExpectRefused("upstream:\n  ca_file: /nonexistent/ca.pem\n", {}, "",
                "bitrouter.yaml:2: upstream.ca_file: cannot load '/nonexistent/ca.pem'");
}

using HardeningTest = RouterTest;

grpc::Status AddRouteOverGrpc(const RouterProcess& router, const v1::Endpoint& endpoint,
                              std::string* message) {
  auto channel = grpc::CreateChannel("unix:" + router.home() + "/run/control.sock",
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Admin::NewStub(channel);
  v1::AddRouteRequest req;
  req.mutable_route()->set_name("bad");
  *req.mutable_route()->add_endpoints() = endpoint;
  v1::RouteChangeResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Status st = stub->AddRoute(&ctx, req, &resp);
  *message = st.error_message();
  return st;
}

// Before: the route was published, every worker NACKed it, and it stayed in
// every later snapshot: each reload was refused and a respawned worker never
// served. Now it is refused at `route add`, and nothing else changes.
TEST_F(HardeningTest, RuntimeRouteWithAHeaderBreakingKeyOrBaseIsRefusedAndNothingBreaks) {
  StartAll();
  v1::Endpoint bad_key;
  bad_key.set_provider("openai");
  bad_key.set_model_id("gpt-4o");
  bad_key.set_api_key(kBadValue);
  std::string message;
  EXPECT_EQ(AddRouteOverGrpc(*router_, bad_key, &message).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(message.find("route bad: endpoints[0].api_key: contains a byte not allowed"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find(kSecretPrefix), std::string::npos) << message;
  v1::Endpoint bad_base = bad_key;
  bad_base.clear_api_key();
  bad_base.set_api_base(upstream_->base_url() + "\r\nX-Injected: 1");
  EXPECT_EQ(AddRouteOverGrpc(*router_, bad_base, &message).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(message.find("endpoints[0].api_base: contains a byte"), std::string::npos) << message;

  std::string out;
  ASSERT_EQ(router_->Ctl({"route", "list"}, &out), 0) << out;
  EXPECT_EQ(out.find("bad"), std::string::npos) << out;
  ASSERT_EQ(router_->Ctl({"reload"}, &out), 0) << out;
  // A respawned worker serves too.
  std::vector<pid_t> before = router_->WorkerPids();
  ASSERT_EQ(before.size(), 1u);
  kill(before[0], SIGKILL);
  ASSERT_TRUE(router_->WaitForWorkers(1, before, 5000)) << router_->Log();
  EXPECT_TRUE(WaitUntil(
      [&] { return Chat(R"({"model":"openai:gpt-4o","messages":[]})", {}, 2000).status == 200; },
      5000))
      << router_->Log();
  EXPECT_EQ(router_->Log().find("rejected snapshot"), std::string::npos) << router_->Log();
  EXPECT_EQ(router_->Log().find(kSecretPrefix), std::string::npos) << router_->Log();
}

TEST_F(HardeningTest, ReloadWithAHeaderBreakingKeyFromDotEnvIsRefusedAndTheOldConfigServes) {
  StartAll();
  std::ofstream(router_->home() + "/.env") << "TEAM_KEY=\"sk-hidden-secret\\r\\nX-Injected: 1\"\n";
  std::ofstream(router_->home() + "/bitrouter.yaml")
      << "providers:\n  openai:\n    default_headers:\n      X-Team: ${TEAM_KEY}\n";
  std::string out;
  EXPECT_EQ(router_->Ctl({"reload"}, &out), 1) << out;
  EXPECT_NE(out.find("bitrouter.yaml:4: providers.openai.default_headers.X-Team: contains a byte"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find(kSecretPrefix), std::string::npos) << out;
  EXPECT_EQ(Chat(R"({"model":"openai:gpt-4o","messages":[]})").status, 200);
}

TEST(ControlFilesTest, ControlSocketPathThatIsNotASocketIsRefusedAndLeftAlone) {
  RouterProcess::Options o;
  o.config_yaml = "server:\n  control:\n    socket: precious.txt\n";
  RouterProcess router(o);
  ASSERT_EQ(mkdir((router.home() + "/run").c_str(), 0700), 0);
  const std::string precious = router.home() + "/run/precious.txt";
  std::ofstream(precious) << "keep me\n";
  EXPECT_EQ(router.RunToExit(5000), 1) << router.Log();
  EXPECT_NE(router.Log().find("exists and is not a socket"), std::string::npos) << router.Log();
  EXPECT_EQ(ReadAll(precious), "keep me\n");
}

// Starts bitrouterd in `home` once the pipe `gate` reports EOF (the parent
// closed the write end), so that two of them exec at the same instant.
pid_t SpawnGatedDaemon(const std::string& home, const int gate[2]) {
  std::vector<std::string> args = {BinPath("bitrouterd"), "--home-dir", home, "--listen",
                                   "127.0.0.1:0",         "--workers",  "1"};
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "HOME=" + home, "GRPC_VERBOSITY=ERROR"};
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string log = home + "/bitrouterd.log";
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) dup2(fd, 2);
    setpgid(0, 0);
    close(gate[1]);  // or EOF never comes
    char byte;
    while (read(gate[0], &byte, 1) > 0) {
    }
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

// Before: the home was claimed by reading the pid file, which is written
// only once the daemon is up, so both passed and both ran.
TEST(ControlFilesTest, TwoDaemonsStartedAtTheSameInstantOnOneHomeOnlyOneRuns) {
  char tmpl[] = "/tmp/br-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string home = tmpl;
  int gate[2];
  ASSERT_EQ(pipe(gate), 0);
  pid_t pids[2] = {SpawnGatedDaemon(home, gate), SpawnGatedDaemon(home, gate)};
  close(gate[0]);
  close(gate[1]);  // both exec now
  int codes[2] = {-1, -1};
  auto reap = [&](int i, int timeout_ms) {
    return codes[i] != -1 || WaitUntil(
                                 [&] {
                                   int status = 0;
                                   if (waitpid(pids[i], &status, WNOHANG) != pids[i]) return false;
                                   codes[i] = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
                                   return true;
                                 },
                                 timeout_ms);
  };
  bool one_exited = WaitUntil([&] { return reap(0, 0) || reap(1, 0); }, 10000);
  const std::string log = ReadAll(home + "/bitrouterd.log");
  EXPECT_TRUE(one_exited) << "both bitrouterd run in one home:\n" << log;
  if (one_exited) {
    const int loser = codes[0] != -1 ? 0 : 1, winner = 1 - loser;
    EXPECT_EQ(codes[loser], 1) << log;
    EXPECT_NE(log.find("already running"), std::string::npos) << log;
    EXPECT_FALSE(reap(winner, 500)) << "the winner keeps running:\n" << log;
  }
  for (int i = 0; i < 2; ++i) {
    if (codes[i] != -1) continue;
    kill(pids[i], SIGTERM);
    EXPECT_TRUE(reap(i, 15000));
    EXPECT_EQ(codes[i], 0) << ReadAll(home + "/bitrouterd.log");
  }
  std::filesystem::remove_all(home);
}

// Before: `bitrouterctl start` took any live pid for a running daemon, while
// bitrouterd itself would have called the same pid file stale.
TEST(ControlFilesTest, CtlStartTreatsAPidFileNamingAnUnrelatedProcessAsStale) {
  FakeUpstream upstream;
  ASSERT_TRUE(upstream.Start());
  RouterProcess home;  // only its home is used
  ASSERT_EQ(mkdir((home.home() + "/run").c_str(), 0700), 0);
  // This test binary: alive, and not a bitrouterd.
  std::ofstream(home.home() + "/run/bitrouterd.pid") << getpid() << "\n";
  std::string out;
  ASSERT_EQ(home.Ctl({"start", "--listen", "127.0.0.1:0", "--workers", "1"}, &out,
                     {{"OPENAI_API_KEY", kTestKey}, {"OPENAI_BASE_URL", upstream.base_url()}}),
            0)
      << out;
  EXPECT_NE(out.find("bitrouterd started (pid"), std::string::npos) << out;
  EXPECT_EQ(home.Ctl({"stop"}, &out), 0) << out;
}

Reply SlowStream(int chunks, int delay_ms) {
  Reply r;
  r.content_type = "text/event-stream";
  r.chunked = true;
  r.chunks = ChatCompletionSseChunks("gpt-4o", std::vector<std::string>(chunks, "x"));
  r.delay_between_chunks_ms = delay_ms;
  return r;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// What a terminal does on Ctrl-C (SIGINT to the foreground process group),
// and `kill -TERM -PGID`: bitrouterd and every worker get the signal at once.
// The stream in flight completes with its terminator and all exit 0.
void ExpectGroupSignalDrains(FakeUpstream* upstream, RouterProcess* router, int sig) {
  upstream->SetHandler([](const RecordedRequest&) { return SlowStream(8, 150); });
  auto response = std::async(std::launch::async, [&] {
    return Fetch(router->port(), "POST", kChatPath,
                 R"({"model":"openai:gpt-4o","stream":true,"messages":[]})", {}, 15000);
  });
  ASSERT_TRUE(upstream->WaitForRequests(1, 5000));
  ASSERT_EQ(getpgid(router->pid()), router->pid()) << "bitrouterd leads its own group";
  ASSERT_EQ(kill(-router->pid(), sig), 0);
  HttpResponse r = response.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete) << r.error;
  EXPECT_EQ(Count(r.body, "\"content\":\"x\""), 8u) << r.body;
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos) << r.body;
  int code = -1;
  ASSERT_TRUE(router->Exited(15000, &code));
  EXPECT_EQ(code, 0) << router->Log();
  std::string log = router->Log();
  EXPECT_EQ(log.find("killed by signal"), std::string::npos) << log;
  EXPECT_EQ(Count(log, "exited with status 0"), 2u) << log;
}

TEST_F(HardeningTest, CtrlCOnTheProcessGroupDrainsLikeStop) {
  StartAll("", 2);
  ExpectGroupSignalDrains(upstream_.get(), router_.get(), SIGINT);
}

TEST_F(HardeningTest, GroupSigtermDrainsLikeStop) {
  StartAll("", 2);
  ExpectGroupSignalDrains(upstream_.get(), router_.get(), SIGTERM);
}

}  // namespace
}  // namespace bitrouter::testing
