#pragma once
// Classified auto routing (`routing:` rules and compat.llmrouter), as the
// worker holds it, and the `routing:` decision (BitRouter v0.33's content
// routing):
//  - the text of all messages, lowercased; its length, turn count and code
//    fences;
//  - the signal with the most keywords found wins; a tie goes to the first
//    signal by name; no keyword found means no signal;
//  - complexity: +1 each for a high keyword, text >= message_length_threshold
//    characters, turns >= turn_count_threshold, a code fence (when enabled);
//    a score >= 2 is "high", else "low";
//  - the model: models["<signal>.<high|low>"], else models["<signal>"],
//    else models["default"] (the loader requires it).
// Pure data and functions; immutable once built, any thread.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "shared/routing/conversation.h"

namespace bitrouter::routing {

struct Signal {
  std::string name;
  std::vector<std::string> keywords;  // lowercase
};

struct ContentRule {
  std::string trigger;          // the model name that asks for this rule
  std::vector<Signal> signals;  // sorted by name
  std::vector<std::string> high_keywords;
  uint32_t message_length_threshold = 0;  // 0 = off
  uint32_t turn_count_threshold = 0;      // 0 = off
  bool code_blocks_increase_complexity = false;
  std::map<std::string, std::string, std::less<>> models;
  bool word_match = false;
};

// compat.llmrouter: Rungate's logical models and candidate lists.
struct LlmRouterCompat {
  bool enabled = false;
  bool word_match = false;
  std::map<std::string, std::vector<std::string>, std::less<>> candidates;  // by category
};

struct ContentRouting {
  std::map<std::string, ContentRule, std::less<>> rules;  // by trigger
  LlmRouterCompat llmrouter;
};

struct RuleDecision {
  std::string signal;    // "" when no keyword matched
  int complexity = 0;    // the score
  std::string category;  // the models key used: "coding.high", "coding", "default"
  std::string model;     // the model name it maps to
};

RuleDecision DecideRule(const ContentRule& rule, const Conversation& conv);

}  // namespace bitrouter::routing
