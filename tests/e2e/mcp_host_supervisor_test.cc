// bitrouterd's side of the MCP host (controld/mcp_host_supervisor.h) with the
// real bitrouter-mcp-host and the Node stdio fixture (tests/mcp): the status
// the host reports (state, pid, restarts), a child's restart after a crash,
// and the host stopping once no stdio server is left. The end-to-end side
// (workers, reloads) is tests/mcp/stdio.test.mjs.

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "controld/mcp_host_supervisor.h"

namespace bitrouter::controld {
namespace {

using namespace std::chrono_literals;

class McpHostSupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/br-mcphost-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs the supervisor's main-loop duties until `done` or the deadline.
  bool Until(McpHostSupervisor& sup, const std::function<bool()>& done,
             std::chrono::milliseconds deadline = 20s) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      if (pid_t host = sup.pid(); host != 0) {
        int status = 0;
        if (waitpid(host, &status, WNOHANG) == host) sup.OnExit(host, status);
      }
      sup.Tick();
      if (done()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  static const mcphost::ServerStatus* Find(const std::vector<mcphost::ServerStatus>& all,
                                           const std::string& id) {
    for (const auto& s : all) {
      if (s.id == id) return &s;
    }
    return nullptr;
  }

  std::string dir_;
};

TEST_F(McpHostSupervisorTest, ReportsStatusRestartsACrashedChildAndStopsWhenNoneIsLeft) {
  McpHostSupervisor sup(
      {BITROUTER_BIN_DIR "/bitrouter-mcp-host", dir_ + "/mcp-host.sock", "warn", ""});
  mcphost::DesiredSet set;
  // "node" through PATH, as a config would name it.
  set["local"] = mcphost::ServerSpec{"node", {BR_STDIO_FIXTURE, "--name", "local"}, {}, ""};
  sup.SetServers(set);
  ASSERT_NE(sup.pid(), 0) << "the host started";
  pid_t child = 0;
  ASSERT_TRUE(Until(sup, [&] {
    auto all = sup.Status();
    const auto* s = Find(all, "local");
    if (s == nullptr || s->state != "ready") return false;
    child = s->pid;
    return s->restarts == 0 && s->pid > 0;
  })) << "the server reported ready";
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/mcp-host.sock"));
  EXPECT_EQ(
      std::filesystem::status(dir_ + "/mcp-host.sock").permissions() & std::filesystem::perms::all,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  // The child dies: the host restarts it after its back-off and says so.
  ASSERT_EQ(kill(child, SIGKILL), 0);
  ASSERT_TRUE(Until(sup, [&] {
    auto all = sup.Status();
    const auto* s = Find(all, "local");
    return s != nullptr && s->state == "ready" && s->restarts == 1 && s->pid != child &&
           s->last_error.empty();
  })) << "restarted once";

  // The same set again changes nothing.
  const pid_t host = sup.pid();
  const pid_t second = Find(sup.Status(), "local")->pid;
  sup.SetServers(set);
  ASSERT_FALSE(Until(
      sup, [&] { return Find(sup.Status(), "local")->pid != second; }, 500ms));
  EXPECT_EQ(sup.pid(), host);

  // No stdio server left: the host stops its child and exits; nothing restarts it.
  sup.SetServers({});
  ASSERT_TRUE(Until(sup, [&] { return sup.pid() == 0; })) << "the host exited";
  EXPECT_TRUE(sup.Status().empty());
  EXPECT_NE(kill(second, 0), 0) << "the child is gone";
  EXPECT_FALSE(Until(
      sup, [&] { return sup.pid() != 0; }, 500ms))
      << "not restarted";
  sup.Stop(1s);
}

TEST_F(McpHostSupervisorTest, AServerThatCannotStartIsReportedInBackoff) {
  McpHostSupervisor sup(
      {BITROUTER_BIN_DIR "/bitrouter-mcp-host", dir_ + "/mcp-host.sock", "warn", ""});
  mcphost::DesiredSet set;
  set["missing"] = mcphost::ServerSpec{"/nonexistent/mcp-server", {}, {}, ""};
  sup.SetServers(set);
  ASSERT_TRUE(Until(sup, [&] {
    auto all = sup.Status();
    const auto* s = Find(all, "missing");
    return s != nullptr && s->state == "backoff" && s->last_error == "exited with status 127";
  })) << "backoff with the exit status";
  const pid_t host = sup.pid();
  ASSERT_NE(host, 0);
  sup.Stop(5s);
  EXPECT_EQ(sup.pid(), 0);
  EXPECT_NE(kill(host, 0), 0) << "the host was reaped";
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/mcp-host.sock"));
}

}  // namespace
}  // namespace bitrouter::controld
