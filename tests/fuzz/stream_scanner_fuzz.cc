// Fuzzes StreamScanner against Guard::Scan on the whole text: for any split,
// the stream sends exactly Guard::Redact of the whole text and reports the
// same matches; with a block, it sends exactly the text before the first
// block match, never a byte of it. Also: the held tail stays within
// max_match_bytes(d) - 1.
//
// In JSON-text mode (a tool call's arguments) the same holds against
// RedactJsonText, and a text that is valid JSON stays valid JSON.
//
// Input: byte 0 picks the action of every rule (warn, redact, block, mixed)
// and the mode, byte 1 seeds the split; the rest is the text.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "shared/guardrails/guard.h"
#include "shared/guardrails/json_text.h"
#include "shared/guardrails/stream_scanner.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using bitrouter::guardrails::Action;
using bitrouter::guardrails::Direction;
using bitrouter::guardrails::Guard;
using bitrouter::guardrails::Match;
using bitrouter::guardrails::Rule;
using bitrouter::guardrails::StreamScanner;

constexpr Direction kDown = Direction::kDowngoing;

std::shared_ptr<const Guard> MakeGuard(int mode) {
  bitrouter::config::GuardrailsConfig cfg;
  cfg.enabled = true;
  // A custom pattern with \b at both ends and a case-folded literal.
  cfg.custom_patterns = {{"ticket", "\\b(?i:ticket)-[0-9]{1,6}\\b", "both", 1}};
  auto rules = bitrouter::guardrails::RulesFromConfig(cfg);
  FUZZ_CHECK(rules.ok());
  const Action kActions[] = {Action::kWarn, Action::kRedact, Action::kBlock};
  for (size_t i = 0; i < rules->size(); ++i) {
    (*rules)[i].action[1] = mode < 3 ? kActions[mode] : kActions[i % 3];
  }
  auto g = Guard::Compile(std::move(*rules), true, true);
  FUZZ_CHECK(g.ok());
  return *g;
}

bool Same(const std::vector<Match>& a, const std::vector<Match>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].rule != b[i].rule || a[i].begin != b[i].begin || a[i].end != b[i].end) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::shared_ptr<const Guard> kGuards[4] = {MakeGuard(0), MakeGuard(1), MakeGuard(2),
                                                          MakeGuard(3)};
  if (size < 2) return 0;
  const Guard& g = *kGuards[data[0] % 4];
  const bool json = (data[0] / 4) % 2 == 1;
  auto redact = [&](std::string_view t, const std::vector<Match>& m) {
    return json ? bitrouter::guardrails::RedactJsonText(g, t, m, kDown) : g.Redact(t, m, kDown);
  };
  uint32_t seed = data[1] * 2654435761u + 1;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);

  std::vector<Match> whole;
  g.Scan(text, kDown, &whole);
  size_t first_block = whole.size();
  for (size_t i = 0; i < whole.size(); ++i) {
    FUZZ_CHECK(whole[i].begin < whole[i].end && whole[i].end <= text.size());
    FUZZ_CHECK(i == 0 || whole[i - 1].end <= whole[i].begin);
    FUZZ_CHECK(whole[i].end - whole[i].begin <= g.rules()[whole[i].rule].max_match_bytes);
    if (first_block == whole.size() && g.rules()[whole[i].rule].action[1] == Action::kBlock) {
      first_block = i;
    }
  }

  StreamScanner s(&g, kDown, json);
  std::string sent;
  std::vector<Match> streamed;
  bool blocked = false;
  size_t at = 0;
  while (at < text.size() && !blocked) {
    seed = seed * 1103515245u + 12345u;
    const size_t len = std::min<size_t>(text.size() - at, 1 + (seed >> 16) % 64);
    std::string emit;
    blocked = s.Feed(text.substr(at, len), &emit, &streamed) == Action::kBlock;
    at += len;
    FUZZ_CHECK(s.held() <= g.max_match_bytes(kDown) - 1 || blocked);
    sent += emit;
  }
  if (!blocked) {
    std::string emit;
    blocked = s.Finish(&emit, &streamed) == Action::kBlock;
    sent += emit;
  }

  if (first_block == whole.size()) {
    FUZZ_CHECK(!blocked);
    FUZZ_CHECK(Same(streamed, whole));
    FUZZ_CHECK(sent == redact(text, whole));
    if (json) {
      rapidjson::Document in;
      in.Parse(text.data(), text.size());
      if (!in.HasParseError()) {
        rapidjson::Document out;
        out.Parse(sent.data(), sent.size());
        FUZZ_CHECK(!out.HasParseError());
      }
    }
  } else {
    FUZZ_CHECK(blocked);
    const std::vector<Match> upto(whole.begin(), whole.begin() + first_block + 1);
    FUZZ_CHECK(Same(streamed, upto));
    const std::vector<Match> before(whole.begin(), whole.begin() + first_block);
    FUZZ_CHECK(sent == redact(text.substr(0, whole[first_block].begin), before));
    const std::string msg = g.BlockMessage(kDown, upto);
    FUZZ_CHECK(msg.rfind("guardrail blocked downgoing content", 0) == 0);
  }
  return 0;
}
