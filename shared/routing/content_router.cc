#include "shared/routing/content_router.h"

#include "shared/routing/keyword_match.h"

namespace bitrouter::routing {
namespace {

int Hits(std::string_view text, const std::vector<std::string>& keywords, bool whole_word) {
  int hits = 0;
  for (const std::string& k : keywords) hits += ContainsKeyword(text, k, whole_word) ? 1 : 0;
  return hits;
}

bool Any(std::string_view text, const std::vector<std::string>& keywords, bool whole_word) {
  for (const std::string& k : keywords) {
    if (ContainsKeyword(text, k, whole_word)) return true;
  }
  return false;
}

}  // namespace

RuleDecision DecideRule(const ContentRule& rule, const Conversation& conv) {
  RuleDecision d;
  std::string text = LowerAscii(conv.all_text);
  int best = 0;
  for (const Signal& s : rule.signals) {  // sorted by name: the first keeps a tie
    int hits = Hits(text, s.keywords, rule.word_match);
    if (hits > best) {
      best = hits;
      d.signal = s.name;
    }
  }
  if (Any(text, rule.high_keywords, rule.word_match)) ++d.complexity;
  if (rule.message_length_threshold > 0 && conv.chars >= rule.message_length_threshold) {
    ++d.complexity;
  }
  if (rule.turn_count_threshold > 0 && conv.turns >= rule.turn_count_threshold) ++d.complexity;
  if (rule.code_blocks_increase_complexity && conv.has_code_block) ++d.complexity;
  if (!d.signal.empty()) {
    std::string leveled = d.signal + (d.complexity >= 2 ? ".high" : ".low");
    for (const std::string& key : {leveled, d.signal}) {
      if (auto it = rule.models.find(key); it != rule.models.end()) {
        d.category = key;
        d.model = it->second;
        return d;
      }
    }
  }
  d.category = "default";
  if (auto it = rule.models.find("default"); it != rule.models.end()) d.model = it->second;
  return d;
}

}  // namespace bitrouter::routing
