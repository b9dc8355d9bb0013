// CPU cost of the guardrails (not a test: run it and read the numbers).
//
//   build/bin/guardrails_bench
//
// All seven built-ins, redacting downgoing:
//   - Guard::Scan over a ~10 KB realistic chat body with nothing to find, and
//     with a few matches (an email, an IP address, an API key), in us per scan;
//   - StreamScanner over the same text as an answer arriving in 20-60 byte
//     deltas, in us per Feed;
//   - ScanJsonBody (parse + walk + scan, what the request side does) over
//     the hop benchmark's ~1 KB chat request (tests/bench/run.sh).
// Medians of repeated runs, single-threaded, wall time on an idle core.
// Targets: 10 KB scan <= 50 us; per chunk <= 10 us.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "shared/guardrails/guard.h"
#include "shared/guardrails/stream_scanner.h"
#include "shared/protocol/openai_request.h"
#include "worker/stages/guardrails/json_scan.h"

namespace {

using bitrouter::guardrails::Action;
using bitrouter::guardrails::Direction;
using bitrouter::guardrails::Guard;
using bitrouter::guardrails::Match;
using bitrouter::guardrails::StreamScanner;
using Clock = std::chrono::steady_clock;

// Assistant-style prose with code, numbers and JSON, about `size` bytes.
std::string ChatBody(size_t size) {
  static const char* kParts[] = {
      "Sure! Here is how the router picks an endpoint: it resolves the model name, ",
      "filters out endpoints whose circuit breaker is open, then applies the strategy. ",
      "```python\nfor attempt in range(3):\n    resp = client.chat(model=\"gpt-4o\", "
      "temperature=0.2)\n    if resp.ok: break\n```\n",
      "The latency was 123 ms at p50 and 456 ms at p99 over 10,000 requests (v2.3.1). ",
      "{\"role\": \"assistant\", \"content\": \"The weather in Paris is 18 degrees.\"} ",
      "Caching cut the cost by 42%, and the cache hit rate rose to 0.87 after the fix. ",
      "Les résultats sont très bons — 日本語のテキストも大丈夫です。 ",
      "- step 1: install the package\n- step 2: set the environment\n- step 3: run it\n",
  };
  std::string s;
  for (size_t i = 0; s.size() < size; ++i) s += kParts[(i * 5 + 3) % 8];
  return s;
}

std::shared_ptr<const Guard> AllBuiltinsRedacting() {
  bitrouter::config::GuardrailsConfig cfg;
  cfg.enabled = true;
  auto rules = bitrouter::guardrails::RulesFromConfig(cfg);
  if (!rules.ok()) std::abort();
  for (auto& r : *rules) r.action[1] = Action::kRedact;
  auto g = Guard::Compile(std::move(*rules), true, false);
  if (!g.ok()) std::abort();
  return *g;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double ScanMicros(const Guard& g, const std::string& text, size_t* found) {
  std::vector<Match> m;
  m.reserve(16);
  std::vector<double> runs;
  for (int i = 0; i < 2000; ++i) {
    m.clear();
    auto t0 = Clock::now();
    g.Scan(text, Direction::kDowngoing, &m);
    auto t1 = Clock::now();
    runs.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  *found = m.size();
  return Median(runs);
}

double FeedMicros(const Guard& g, const std::string& text, size_t* feeds, size_t* max_held) {
  std::mt19937 rng(7);
  std::vector<size_t> cuts;
  for (size_t at = 0; at < text.size();) {
    at = std::min(text.size(), at + 20 + rng() % 41);
    cuts.push_back(at);
  }
  *feeds = cuts.size();
  std::vector<double> runs;
  std::string emit;
  std::vector<Match> m;
  for (int rep = 0; rep < 200; ++rep) {
    StreamScanner s(&g, Direction::kDowngoing);
    size_t at = 0;
    auto t0 = Clock::now();
    for (size_t cut : cuts) {
      emit.clear();
      s.Feed(std::string_view(text).substr(at, cut - at), &emit, &m);
      at = cut;
      *max_held = std::max(*max_held, s.held());
    }
    auto t1 = Clock::now();
    emit.clear();
    s.Finish(&emit, &m);
    runs.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() /
                   static_cast<double>(cuts.size()));
  }
  return Median(runs);
}

}  // namespace

int main() {
  auto c0 = Clock::now();
  auto g = AllBuiltinsRedacting();
  auto c1 = Clock::now();
  std::printf("Guard::Compile, all built-ins: %.2f ms\n",
              std::chrono::duration<double, std::milli>(c1 - c0).count());
  const std::string clean = ChatBody(10 * 1024);
  std::string dirty = clean;
  dirty.insert(dirty.size() / 4, " mail bob.smith@example.com ");
  dirty.insert(dirty.size() / 2, " host 192.168.1.254 ");
  dirty.insert(3 * dirty.size() / 4, " key sk-abcdefghijklmnopqrstuvwxyz0123 ");

  size_t found = 0;
  double us = ScanMicros(*g, clean, &found);
  std::printf("scan %zu B, nothing to find:  %8.2f us (%zu matches)\n", clean.size(), us, found);
  us = ScanMicros(*g, dirty, &found);
  std::printf("scan %zu B, a few matches:    %8.2f us (%zu matches)\n", dirty.size(), us, found);

  // A 2048-bit RSA key (about 1.7 KB of PEM) in the answer.
  std::string pem = "-----BEGIN RSA PRIVATE KEY-----\n";
  for (int line = 0; line < 25; ++line) pem += std::string(64, 'A' + line % 26) + "\n";
  pem += "-----END RSA PRIVATE KEY-----";
  std::string keyed = clean;
  keyed.insert(keyed.size() / 2, "\n" + pem + "\n");
  us = ScanMicros(*g, keyed, &found);
  std::printf("scan %zu B with a 1.7 KB PEM key: %8.2f us (%zu matches)\n", keyed.size(), us,
              found);

  // The hop benchmark's request, as the guardrails stage sees it.
  std::string body =
      R"({"model":"openai:gpt-4o-mini","messages":[{"role":"system","content":"You are a senior software engineer helping a teammate review a pull request. Answer concisely, name the files you refer to, and prefer concrete suggestions over general advice."},{"role":"user","content":"Here is the diff summary: the connection pool now keeps idle upstream sockets for 60 seconds, evicts the oldest one when the per-host limit of 32 is reached, and retries a request once when a pooled socket turns out to have been closed by the peer. Is there a risk of sending a non-idempotent request twice?"},{"role":"assistant","content":"Yes. If the peer closed the socket after reading the request but before answering, a blind retry can duplicate a POST. Retry only when nothing was written yet, or when the failure happened before the first byte of the request reached the kernel."},{"role":"user","content":"Good point. Can you suggest a minimal change to the retry condition and a unit test that would catch a regression?"}],"temperature":0.2,"max_tokens":512,"stream":false})";
  body.reserve(body.size() + bitrouter::protocol::kJsonPadding);
  {
    std::vector<double> runs;
    for (int i = 0; i < 5000; ++i) {
      auto t0 = Clock::now();
      auto scan = bitrouter::worker::ScanJsonBody(*g, Direction::kDowngoing, body);
      auto t1 = Clock::now();
      if (!scan.ok()) std::abort();
      runs.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    std::printf("ScanJsonBody, the hop bench's %zu B request: %6.2f us\n", body.size(),
                Median(runs));
  }

  size_t feeds = 0, held = 0;
  us = FeedMicros(*g, clean, &feeds, &held);
  std::printf("stream, nothing to find: %6.2f us per Feed (%zu feeds of 20-60 B, max held %zu B)\n",
              us, feeds, held);
  held = 0;
  us = FeedMicros(*g, dirty, &feeds, &held);
  std::printf("stream, a few matches:   %6.2f us per Feed (%zu feeds of 20-60 B, max held %zu B)\n",
              us, feeds, held);
  held = 0;
  us = FeedMicros(*g, keyed, &feeds, &held);
  std::printf("stream, a PEM key:       %6.2f us per Feed (%zu feeds of 20-60 B, max held %zu B)\n",
              us, feeds, held);
  return 0;
}
