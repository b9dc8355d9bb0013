#pragma once
// Shared set-up for end-to-end tests: a fake OpenAI upstream on port 0 and a
// real bitrouterd (with real workers) pointed at it through OPENAI_BASE_URL.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/e2e/router_process.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/http_client.h"

namespace bitrouter::testing {

inline constexpr char kChatPath[] = "/v1/chat/completions";
inline constexpr char kTestKey[] = "sk-test-upstream-key";

class RouterTest : public ::testing::Test {
 protected:
  // Starts the upstream (plain unless `upstream_options` says TLS) and the router.
  void StartAll(const std::string& config_yaml = "", int workers = 1,
                FakeUpstream::Options upstream_options = {}) {
    upstream_ = std::make_unique<FakeUpstream>(upstream_options);
    ASSERT_TRUE(upstream_->Start()) << upstream_->last_error();
    StartRouterOnly(config_yaml, workers);
  }

  // StartAll with one upstream behind every wire protocol: `openai` (Chat,
  // from the environment), `ant` (Messages, catalog [claude-x]), `gem`
  // (Gemini) and `resp` (Responses), all answered by upstream_.
  void StartAllProtocols() {
    upstream_ = std::make_unique<FakeUpstream>();
    ASSERT_TRUE(upstream_->Start()) << upstream_->last_error();
    const std::string base = upstream_->base_url();
    StartRouterOnly("providers:\n  ant:\n    api_protocol: anthropic\n    api_base: " + base +
                    "\n    api_key: sk-ant-upstream\n    models: [claude-x]\n"
                    "  gem:\n    api_protocol: google\n    api_base: " +
                    base +
                    "\n    api_key: gem-key\n"
                    "  resp:\n    api_protocol: openai_responses\n    api_base: " +
                    base + "\n    api_key: resp-key\n");
  }

  // The router alone, against an upstream_ already started.
  void StartRouterOnly(const std::string& config_yaml, int workers = 1) {
    RouterProcess::Options o;
    o.env = {{"OPENAI_API_KEY", kTestKey}, {"OPENAI_BASE_URL", upstream_->base_url()}};
    o.config_yaml = config_yaml;
    o.workers = workers;
    router_ = std::make_unique<RouterProcess>(o);
    std::string error;
    ASSERT_TRUE(router_->Start(&error)) << error;
  }

  void TearDown() override {
    if (router_ != nullptr) {
      int code = router_->Stop();
      EXPECT_EQ(code, 0) << "bitrouterd did not exit cleanly:\n" << router_->Log();
      std::string log = router_->Log();
      // Sanitizer reports from any of the processes fail the test.
      EXPECT_EQ(log.find("ERROR: AddressSanitizer"), std::string::npos) << log;
      EXPECT_EQ(log.find("runtime error:"), std::string::npos) << log;
      EXPECT_EQ(log.find("ERROR: LeakSanitizer"), std::string::npos) << log;
      // Secrets never reach the log.
      EXPECT_EQ(log.find(kTestKey), std::string::npos) << log;
    }
    if (upstream_ != nullptr) upstream_->Stop();
  }

  HttpResponse Chat(const std::string& body, const HeaderList& headers = {},
                    int timeout_ms = 10000) {
    return Fetch(router_->port(), "POST", kChatPath, body, headers, timeout_ms);
  }

  std::unique_ptr<FakeUpstream> upstream_;
  std::unique_ptr<RouterProcess> router_;
};

}  // namespace bitrouter::testing
