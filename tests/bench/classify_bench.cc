// CPU cost of classified auto routing (not a test: run it and read the
// numbers).
//
//   build/bin/classify_bench
//
// A 32 KiB Chat request body (prose in 16 messages, the last one from the
// user, no keyword of any signal in it: every keyword scans the whole text,
// the worst case), classified:
//   - compat.llmrouter (Rungate): read the body, strip OpenClaw's metadata
//     from the latest user message, look for the markers;
//   - a `routing:` rule with the built-in signals (58 keywords + 12
//     complexity words): read the body, lowercase all the text, count hits,
//     score complexity, pick the model;
// each by substring and by whole word. Medians of repeated runs,
// single-threaded, wall time. Target: < 1 ms per classification.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "shared/config/loader.h"
#include "shared/routing/content_router.h"
#include "shared/routing/conversation.h"
#include "shared/routing/llmrouter_classifier.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace routing = bitrouter::routing;

// Prose without any built-in keyword, about `size` bytes over 16 messages.
std::string ChatBody(size_t size) {
  static const char* kWords[] = {"the",   "router",   "keeps", "each", "request", "on",
                                 "its",   "snapshot", "while", "a",    "reload",  "swaps",
                                 "the",   "pointer",  "and",   "old",  "ones",    "finish",
                                 "there", "quietly",  "when",  "they", "are",     "done"};
  std::string body = R"({"model":"auto","messages":[)";
  size_t per_message = size / 16;
  size_t w = 0;
  for (int m = 0; m < 16; ++m) {
    std::string text;
    while (text.size() < per_message) {
      text += kWords[w++ % (sizeof(kWords) / sizeof(kWords[0]))];
      text += ' ';
    }
    body += std::string(m ? "," : "") + R"({"role":")" + (m % 2 ? "assistant" : "user") +
            R"(","content":")" + text + R"("})";
  }
  return body + "]}";
}

routing::ContentRule BuiltinRule(bool word) {
  auto cfg = bitrouter::config::ParseConfig(
      "inherit_defaults: false\nrouting:\n  auto:\n    models: {coding.high: a:b, coding: a:c, "
      "default: a:d}\n",
      "bench.yaml", {});
  routing::ContentRule rule;
  if (!cfg.ok()) {
    std::fprintf(stderr, "config: %s\n", std::string(cfg.status().message()).c_str());
    return rule;
  }
  const auto& r = cfg->routing.at("auto");
  for (const auto& [name, keywords] : r.signals) rule.signals.push_back({name, keywords});
  rule.high_keywords = r.high_keywords;
  rule.message_length_threshold = r.message_length_threshold;
  rule.turn_count_threshold = r.turn_count_threshold;
  rule.code_blocks_increase_complexity = r.code_blocks_increase_complexity;
  rule.models.insert(r.models.begin(), r.models.end());
  rule.word_match = word;
  return rule;
}

template <typename F>
double MedianUs(F&& f, int runs = 301) {
  std::vector<double> us;
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    f();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

}  // namespace

int main() {
  const std::string body = ChatBody(32 * 1024);
  std::printf("body: %zu bytes, 16 messages\n", body.size());
  volatile size_t sink = 0;
  double read_us = MedianUs([&] {
    auto conv = routing::ReadConversation(routing::BodyShape::kChat, body);
    sink = sink + conv->all_text.size();
  });
  std::printf("%-44s %8.1f us\n", "read the body (text, turns, images, fences)", read_us);
  for (bool word : {false, true}) {
    double us = MedianUs([&] {
      auto conv = routing::ReadConversation(routing::BodyShape::kChat, body);
      sink = sink + routing::ClassifyLlmRouter(*conv, word).size();
    });
    std::printf("%-44s %8.1f us\n",
                word ? "llmrouter (Rungate), word" : "llmrouter (Rungate), substring", us);
  }
  for (bool word : {false, true}) {
    routing::ContentRule rule = BuiltinRule(word);
    double us = MedianUs([&] {
      auto conv = routing::ReadConversation(routing::BodyShape::kChat, body);
      sink = sink + routing::DecideRule(rule, *conv).model.size();
    });
    std::printf("%-44s %8.1f us\n",
                word ? "routing: rule, built-in signals, word"
                     : "routing: rule, built-in signals, substring",
                us);
  }
  return 0;
}
