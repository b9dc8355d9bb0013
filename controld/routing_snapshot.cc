#include "controld/routing_snapshot.h"

namespace bitrouter::controld {

void AddContentRouting(const config::Config& cfg, bitrouter::v1::Snapshot* snap) {
  auto* out = snap->mutable_routing();
  for (const auto& [trigger, rule] : cfg.routing) {
    auto* r = out->add_rules();
    r->set_trigger(trigger);
    // std::map: signals leave sorted by name, the order ties are broken in.
    for (const auto& [name, keywords] : rule.signals) {
      auto* s = r->add_signals();
      s->set_name(name);
      for (const auto& k : keywords) s->add_keywords(k);
    }
    for (const auto& k : rule.high_keywords) r->add_high_keywords(k);
    r->set_message_length_threshold(rule.message_length_threshold);
    r->set_turn_count_threshold(rule.turn_count_threshold);
    r->set_code_blocks_increase_complexity(rule.code_blocks_increase_complexity);
    for (const auto& [key, model] : rule.models) (*r->mutable_models())[key] = model;
    r->set_word_match(rule.word_match);
  }
  const auto& c = cfg.llmrouter;
  if (!c.enabled) return;
  auto* l = out->mutable_llmrouter();
  l->set_enabled(true);
  l->set_word_match(c.word_match);
  for (const auto& [category, candidates] : c.candidates) {
    auto* cat = l->add_categories();
    cat->set_category(category);
    for (const auto& m : candidates) cat->add_candidates(m);
  }
}

}  // namespace bitrouter::controld
