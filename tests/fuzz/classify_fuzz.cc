// Fuzzes what classified auto routing reads from a client's body: the
// conversation reader (any protocol), OpenClaw's metadata stripping and both
// classifiers. They must never crash, the category must be one of Rungate's
// four, stripping never adds text, and a rule's decision always names a
// model of its table.

#include <cstdint>
#include <string>
#include <string_view>

#include "shared/routing/content_router.h"
#include "shared/routing/conversation.h"
#include "shared/routing/llmrouter_classifier.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace routing = bitrouter::routing;

const routing::ContentRule& Rule(bool word) {
  static const routing::ContentRule* rules = [] {
    auto* r = new routing::ContentRule[2];
    for (int i = 0; i < 2; ++i) {
      r[i].signals = {{"coding", {"code", "unit test", "c++"}}, {"math", {"integral"}}};
      r[i].high_keywords = {"complex"};
      r[i].message_length_threshold = 64;
      r[i].turn_count_threshold = 3;
      r[i].code_blocks_increase_complexity = true;
      r[i].models = {{"coding.high", "a"}, {"coding", "b"}, {"default", "c"}};
      r[i].word_match = i == 1;
    }
    return r;
  }();
  return rules[word ? 1 : 0];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the client protocol and the matching mode.
  const auto shape = static_cast<routing::BodyShape>(data[0] % 4);
  const bool word = (data[0] & 4) != 0;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string stripped = routing::StripOpenClawMetadata(body);
  FUZZ_CHECK(stripped.size() <= body.size());

  auto conv = routing::ReadConversation(shape, body);
  if (!conv.ok()) return 0;
  FUZZ_CHECK(conv->has_code_block == (conv->all_text.find("```") != std::string::npos));
  std::string_view category = routing::ClassifyLlmRouter(*conv, word);
  FUZZ_CHECK(category == "simple" || category == "coding" || category == "reasoning" ||
             category == "vision");
  routing::RuleDecision d = routing::DecideRule(Rule(word), *conv);
  FUZZ_CHECK(!d.model.empty());
  FUZZ_CHECK(Rule(word).models.count(d.category) == 1);
  FUZZ_CHECK(Rule(word).models.at(d.category) == d.model);
  return 0;
}
