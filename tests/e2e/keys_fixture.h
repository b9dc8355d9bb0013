#pragma once
// What the keys tests share: the catalog prices their fake provider
// declares, the cost of its chat answer, and reading ctl's JSON.

#include <cstdint>
#include <string>

namespace bitrouter::testing {

// input 2, cache write 4, output 10, reasoning 20 USD per Mtok: the chat
// answer (usage_answers.h: prompt 100 with 40 cached, completion 20 with 5
// reasoning) costs 60x2 + 40x1 + 15x10 + 5x20 = 410 micro-USD.
inline constexpr char kKeysPricing[] =
    "        pricing:\n"
    "          input_tokens: {no_cache: 2, cache_read: 1, cache_write: 4}\n"
    "          output_tokens: {text: 10, reasoning: 20}\n";
inline constexpr int64_t kAnswerCost = 410;

// The string value of "name" in a flat JSON object ("" when absent).
inline std::string JsonField(const std::string& json, const std::string& name) {
  std::string needle = "\"" + name + "\":\"";
  size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  at += needle.size();
  return json.substr(at, json.find('"', at) - at);
}

}  // namespace bitrouter::testing
