// bitrouterctl usage / requests [--tail] through the real bitrouterd, on a
// usage store seeded (with known rows) before bitrouterd opens it.
#include <rapidjson/document.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "controld/store/sqlite_store.h"
#include "gtest/gtest.h"
#include "shared/common/wall_clock.h"
#include "tests/e2e/router_process.h"

namespace bitrouter::testing {
namespace {

using store::UsageAttempt;
using store::UsageRecord;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

UsageRecord Record(const std::string& id, int64_t time_ms, const std::string& model,
                   const std::string& provider, int status, int64_t latency_ms) {
  UsageRecord r;
  r.request_id = id;
  r.time_unix_ms = time_ms;
  r.client_protocol = "chat";
  r.model_requested = model;
  r.provider = provider;
  r.upstream_model = model + "-up";
  r.upstream_protocol = "chat";
  r.attempts = {{provider + ":" + model + "-up", status, "", latency_ms * 1000 - 1000}};
  r.final_status = status;
  r.bytes_in = 100;
  r.bytes_out = 200;
  r.total_latency_us = latency_ms * 1000;
  r.router_overhead_us = 50;
  return r;
}

class UsageQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/br-uq-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    home_ = tmpl;
    const int64_t now = UnixMillis();
    const int64_t minute = 60'000;

    UsageRecord r1 = Record("req-1", now - 50 * minute, "gpt-a", "openai", 200, 100);
    r1.prompt_tokens = 100;
    r1.completion_tokens = 10;
    r1.reasoning_tokens = 1;
    r1.cache_read_tokens = 20;
    r1.cache_write_tokens = 2;
    r1.cost_micro_usd = 1000;
    r1.time_to_first_byte_us = 10'000;
    UsageRecord r2 = Record("req-2", now - 40 * minute, "gpt-a", "openai", 200, 200);
    r2.streamed = true;
    r2.prompt_tokens = 200;
    r2.completion_tokens = 20;
    r2.reasoning_tokens = 2;
    r2.cache_read_tokens = 40;
    r2.cache_write_tokens = 4;
    r2.cost_micro_usd = 2000;
    r2.time_to_first_byte_us = 20'000;
    UsageRecord r3 = Record("req-3", now - 30 * minute, "gpt-a", "openai", 502, 300);
    r3.attempts.insert(r3.attempts.begin(),
                       UsageAttempt{"anthropic:claude-b-up", 0, "connect", 5000});
    // cost unknown, no byte sent: no TTFB
    UsageRecord r4 = Record("req-4", now - 20 * minute, "claude-b", "anthropic", 200, 400);
    r4.prompt_tokens = 50;
    r4.completion_tokens = 5;
    r4.usage_origin = store::UsageOrigin::kEstimated;
    r4.cost_micro_usd = 5000;
    r4.time_to_first_byte_us = 40'000;
    UsageRecord r5 = Record("req-5", now - 10 * minute, "claude-b", "anthropic", 503, 500);
    r5.cost_micro_usd = 0;  // known to be free: not unknown
    r5.time_to_first_byte_us = 50'000;
    // Outside the default 24 h window (and inside the 30-day retention).
    UsageRecord old = Record("req-old", now - 72 * 60 * minute, "gpt-a", "openai", 200, 1000);
    old.cost_micro_usd = 999'999;

    store::SqliteStore seed(home_ + "/bitrouter.db");
    absl::Status status = seed.Open();
    ASSERT_TRUE(status.ok()) << status;
    status = seed.Append({old, r1, r2, r3, r4, r5});
    ASSERT_TRUE(status.ok()) << status;
  }

  void StartRouter() {
    RouterProcess::Options o;
    o.home = home_;
    router_ = std::make_unique<RouterProcess>(o);
    std::string error;
    ASSERT_TRUE(router_->Start(&error)) << error << router_->Log();
  }

  void TearDown() override {
    if (router_ != nullptr) {
      EXPECT_EQ(router_->Stop(), 0) << router_->Log();
      std::string log = router_->Log();
      EXPECT_EQ(log.find("ERROR: AddressSanitizer"), std::string::npos) << log;
      EXPECT_EQ(log.find("runtime error:"), std::string::npos) << log;
    }
    router_.reset();
    std::filesystem::remove_all(home_);
  }

  // Runs bitrouterctl and parses its stdout as one JSON document.
  void CtlJson(const std::vector<std::string>& args, rapidjson::Document* doc) {
    std::string out;
    ASSERT_EQ(router_->Ctl(args, &out), 0) << out;
    doc->Parse(out.c_str());
    ASSERT_FALSE(doc->HasParseError()) << out;
  }

  std::string home_;
  std::unique_ptr<RouterProcess> router_;
};

std::vector<std::string> RequestIds(const rapidjson::Value& records) {
  std::vector<std::string> ids;
  for (const auto& r : records.GetArray()) ids.push_back(r["request_id"].GetString());
  return ids;
}

TEST_F(UsageQueryTest, UsageTotalsOverTheDefaultWindow) {
  ASSERT_NO_FATAL_FAILURE(StartRouter());
  rapidjson::Document doc;
  ASSERT_NO_FATAL_FAILURE(CtlJson({"usage", "--json"}, &doc));
  ASSERT_TRUE(doc["by"].IsNull());
  ASSERT_TRUE(doc["to_unix_ms"].IsNull());
  ASSERT_EQ(doc["rows"].Size(), 1u);
  const rapidjson::Value& t = doc["rows"][0];
  EXPECT_FALSE(t.HasMember("group"));
  EXPECT_EQ(t["requests"].GetInt64(), 5);  // req-old is outside the last 24 h
  EXPECT_EQ(t["errors"].GetInt64(), 2);
  EXPECT_DOUBLE_EQ(t["error_rate"].GetDouble(), 0.4);
  EXPECT_EQ(t["estimated"].GetInt64(), 1);
  EXPECT_EQ(t["tokens"]["prompt"].GetInt64(), 350);
  EXPECT_EQ(t["tokens"]["completion"].GetInt64(), 35);
  EXPECT_EQ(t["tokens"]["reasoning"].GetInt64(), 3);
  EXPECT_EQ(t["tokens"]["cache_read"].GetInt64(), 60);
  EXPECT_EQ(t["tokens"]["cache_write"].GetInt64(), 6);
  EXPECT_EQ(t["cost_micro_usd"].GetInt64(), 8000);
  EXPECT_DOUBLE_EQ(t["cost_usd"].GetDouble(), 0.008);
  EXPECT_EQ(t["cost_unknown"].GetInt64(), 1);
  // Nearest rank over 100..500 ms: p50 = 3rd, p99 = 5th; TTFB over the four
  // rows that sent a byte (10, 20, 40, 50 ms): p50 = 2nd, p99 = 4th.
  EXPECT_EQ(t["latency_us"]["p50"].GetInt64(), 300'000);
  EXPECT_EQ(t["latency_us"]["p99"].GetInt64(), 500'000);
  EXPECT_EQ(t["ttfb_us"]["p50"].GetInt64(), 20'000);
  EXPECT_EQ(t["ttfb_us"]["p99"].GetInt64(), 50'000);

  // --from 0: everything stored, req-old included.
  ASSERT_NO_FATAL_FAILURE(CtlJson({"usage", "--from", "0", "--json"}, &doc));
  EXPECT_EQ(doc["rows"][0]["requests"].GetInt64(), 6);
  EXPECT_EQ(doc["rows"][0]["cost_micro_usd"].GetInt64(), 1'007'999);

  // The text form says the same.
  std::string out;
  ASSERT_EQ(router_->Ctl({"usage"}, &out), 0) << out;
  EXPECT_NE(out.find("requests  5  (2 errors, 40.00%"), std::string::npos) << out;
  EXPECT_NE(out.find("$0.008000  (+ 1 request of unknown cost"), std::string::npos) << out;
}

TEST_F(UsageQueryTest, UsageByModel) {
  ASSERT_NO_FATAL_FAILURE(StartRouter());
  rapidjson::Document doc;
  ASSERT_NO_FATAL_FAILURE(CtlJson({"usage", "--since", "2h", "--by", "model", "--json"}, &doc));
  EXPECT_STREQ(doc["by"].GetString(), "model");
  ASSERT_EQ(doc["rows"].Size(), 2u);
  const rapidjson::Value& gpt = doc["rows"][0];  // most requests first
  EXPECT_STREQ(gpt["group"].GetString(), "gpt-a");
  EXPECT_EQ(gpt["requests"].GetInt64(), 3);
  EXPECT_EQ(gpt["errors"].GetInt64(), 1);
  EXPECT_EQ(gpt["cost_micro_usd"].GetInt64(), 3000);
  EXPECT_EQ(gpt["cost_unknown"].GetInt64(), 1);
  EXPECT_EQ(gpt["tokens"]["prompt"].GetInt64(), 300);
  EXPECT_EQ(gpt["latency_us"]["p50"].GetInt64(), 200'000);
  EXPECT_EQ(gpt["latency_us"]["p99"].GetInt64(), 300'000);
  EXPECT_EQ(gpt["ttfb_us"]["p50"].GetInt64(), 10'000);
  EXPECT_EQ(gpt["ttfb_us"]["p99"].GetInt64(), 20'000);
  const rapidjson::Value& claude = doc["rows"][1];
  EXPECT_STREQ(claude["group"].GetString(), "claude-b");
  EXPECT_EQ(claude["requests"].GetInt64(), 2);
  EXPECT_EQ(claude["estimated"].GetInt64(), 1);
  EXPECT_EQ(claude["cost_micro_usd"].GetInt64(), 5000);
  EXPECT_EQ(claude["cost_unknown"].GetInt64(), 0);  // $0 is a known cost
  EXPECT_EQ(claude["latency_us"]["p50"].GetInt64(), 400'000);

  ASSERT_NO_FATAL_FAILURE(CtlJson({"usage", "--by", "endpoint", "--json"}, &doc));
  ASSERT_EQ(doc["rows"].Size(), 2u);
  EXPECT_STREQ(doc["rows"][0]["group"].GetString(), "openai:gpt-a-up");
  EXPECT_STREQ(doc["rows"][1]["group"].GetString(), "anthropic:claude-b-up");
}

TEST_F(UsageQueryTest, RequestsNewestFirstAndByStatus) {
  ASSERT_NO_FATAL_FAILURE(StartRouter());
  rapidjson::Document doc;
  ASSERT_NO_FATAL_FAILURE(CtlJson({"requests", "--json", "--limit", "2"}, &doc));
  EXPECT_EQ(RequestIds(doc["records"]), (std::vector<std::string>{"req-5", "req-4"}));
  const rapidjson::Value& r4 = doc["records"][1];
  EXPECT_STREQ(r4["model_requested"].GetString(), "claude-b");
  EXPECT_STREQ(r4["provider"].GetString(), "anthropic");
  EXPECT_STREQ(r4["upstream_model"].GetString(), "claude-b-up");
  EXPECT_STREQ(r4["usage_origin"].GetString(), "estimated");
  EXPECT_EQ(r4["cost_micro_usd"].GetInt64(), 5000);
  EXPECT_EQ(r4["total_latency_us"].GetInt64(), 400'000);
  EXPECT_EQ(r4["prompt_tokens"].GetInt64(), 50);
  ASSERT_EQ(r4["attempts"].Size(), 1u);

  ASSERT_NO_FATAL_FAILURE(CtlJson({"requests", "--status", "5xx", "--json"}, &doc));
  EXPECT_EQ(RequestIds(doc["records"]), (std::vector<std::string>{"req-5", "req-3"}));
  const rapidjson::Value& r3 = doc["records"][1];
  EXPECT_EQ(r3["final_status"].GetInt(), 502);
  EXPECT_TRUE(r3["cost_micro_usd"].IsNull());
  EXPECT_TRUE(r3["time_to_first_byte_us"].IsNull());
  ASSERT_EQ(r3["attempts"].Size(), 2u);
  EXPECT_STREQ(r3["attempts"][0]["endpoint"].GetString(), "anthropic:claude-b-up");
  EXPECT_STREQ(r3["attempts"][0]["failure"].GetString(), "connect");
  EXPECT_EQ(r3["attempts"][1]["http_status"].GetInt(), 502);

  ASSERT_NO_FATAL_FAILURE(CtlJson({"requests", "--status", "503", "--json"}, &doc));
  EXPECT_EQ(RequestIds(doc["records"]), (std::vector<std::string>{"req-5"}));
  ASSERT_NO_FATAL_FAILURE(
      CtlJson({"requests", "--status", "error", "--model", "gpt-a", "--json"}, &doc));
  EXPECT_EQ(RequestIds(doc["records"]), (std::vector<std::string>{"req-3"}));

  // The table: unknown cost as "?", estimated tokens marked "~".
  std::string out;
  ASSERT_EQ(router_->Ctl({"requests", "--limit", "3"}, &out), 0) << out;
  EXPECT_NE(out.find("~50/5"), std::string::npos) << out;
  EXPECT_NE(out.find("openai:gpt-a-up"), std::string::npos) << out;
  EXPECT_NE(out.find(" ? "), std::string::npos) << out;
  EXPECT_EQ(router_->Ctl({"requests", "--status", "6xx"}, &out), 2) << out;
}

TEST_F(UsageQueryTest, TailPrintsTheNewestThenFollows) {
  ASSERT_NO_FATAL_FAILURE(StartRouter());
  const std::string out_path = home_ + "/tail.out";
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    const std::string bin = BinPath("bitrouterctl");
    char* argv[] = {const_cast<char*>(bin.c_str()),   const_cast<char*>("--home-dir"),
                    const_cast<char*>(home_.c_str()), const_cast<char*>("requests"),
                    const_cast<char*>("--tail"),      const_cast<char*>("--limit"),
                    const_cast<char*>("2"),           nullptr};
    char* envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"),
                    const_cast<char*>("GRPC_VERBOSITY=ERROR"), nullptr};
    execve(argv[0], argv, envp);
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  auto output = [&] { return ReadAll(out_path); };
  ASSERT_TRUE(WaitUntil([&] { return output().find("req-5") != std::string::npos; }, 10000))
      << output();

  // A row arrives after the follower started (another connection writes it).
  {
    store::SqliteStore writer(home_ + "/bitrouter.db");
    ASSERT_TRUE(writer.Open().ok());
    UsageRecord live = Record("live-1", UnixMillis(), "gpt-a", "openai", 429, 7);
    ASSERT_TRUE(writer.Append({live}).ok());
  }
  ASSERT_TRUE(WaitUntil([&] { return output().find("live-1") != std::string::npos; }, 5000))
      << output();

  kill(pid, SIGINT);
  int status = 0;
  ASSERT_TRUE(WaitUntil([&] { return waitpid(pid, &status, WNOHANG) == pid; }, 5000));
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);

  const std::string text = output();
  // The newest two, oldest first, then the new one; req-3 was not asked for.
  size_t r4 = text.find("req-4");
  size_t r5 = text.find("req-5");
  size_t live = text.find("live-1");
  EXPECT_NE(text.find("REQUEST ID"), std::string::npos) << text;
  EXPECT_EQ(text.find("req-3"), std::string::npos) << text;
  EXPECT_LT(r4, r5) << text;
  EXPECT_LT(r5, live) << text;
  EXPECT_NE(text.find("429"), std::string::npos) << text;
}

}  // namespace
}  // namespace bitrouter::testing
