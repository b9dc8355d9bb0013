#include "worker/stages/classify/classify_stage.h"

#include <array>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "shared/common/log.h"
#include "shared/common/strings.h"
#include "shared/routing/content_router.h"
#include "shared/routing/conversation.h"
#include "shared/routing/llmrouter_classifier.h"

namespace bitrouter::worker {
namespace {

constexpr std::string_view kLlmRouterPrefix = "llmrouter/";
constexpr std::array<std::string_view, 4> kLogicalModels = {"auto", "simple", "coding",
                                                            "reasoning"};

routing::BodyShape ShapeOf(protocol::Protocol p) {
  switch (p) {
    case protocol::Protocol::kChat:
      return routing::BodyShape::kChat;
    case protocol::Protocol::kResponses:
      return routing::BodyShape::kResponses;
    case protocol::Protocol::kMessages:
      return routing::BodyShape::kMessages;
    case protocol::Protocol::kGemini:
      return routing::BodyShape::kGemini;
  }
  return routing::BodyShape::kChat;
}

// The body was validated by the entry; should reading it still fail, the
// request is classified as an empty conversation (the default) rather than
// refused here: the protocol checks further on say what is wrong with it.
routing::Conversation Read(StageRequest& req) {
  auto conv = routing::ReadConversation(ShapeOf(req.call().client), req.request().body);
  return conv.ok() ? *std::move(conv) : routing::Conversation{};
}

// The Rungate logical model `model` names ("auto", "coding", ...), or
// nullopt when it is not one (or a route or rule of that name takes it).
std::optional<std::string_view> LogicalModel(const WorkerSnapshot& snap, std::string_view model) {
  bool prefixed = model.substr(0, kLlmRouterPrefix.size()) == kLlmRouterPrefix;
  std::string_view bare = prefixed ? model.substr(kLlmRouterPrefix.size()) : model;
  bool logical = false;
  for (std::string_view m : kLogicalModels) logical = logical || bare == m;
  if (!logical) return std::nullopt;
  if (!prefixed && snap.routes.routes().count(bare) > 0) return std::nullopt;
  return bare;
}

}  // namespace

std::string_view RouteModel(const InboundCall& call, size_t target_index) {
  if (target_index < call.route_target_candidate.size()) {
    uint32_t c = call.route_target_candidate[target_index];
    if (c < call.route_candidates.size()) return call.route_candidates[c];
  }
  return call.route_candidates.empty() ? std::string_view() : call.route_candidates.front();
}

std::string RouteHeaderLines(const InboundCall& call, std::string_view route_model) {
  if (call.route_category.empty()) return {};
  // Names come from the config (validated) and the model stage (printable
  // ASCII): safe in a header.
  std::string lines = absl::StrCat("x-bitrouter-route-category: ", call.route_category,
                                   "\r\nx-bitrouter-route-model: ", AV(route_model), "\r\n");
  if (call.llmrouter) {
    absl::StrAppend(&lines, "x-llm-router-logical-model: ", call.model,
                    "\r\nx-llm-router-category: ", call.route_category,
                    "\r\nx-llm-router-resolved-model: ", AV(route_model), "\r\n");
  }
  return lines;
}

Stage::Verdict ClassifyStage::OnRequest(StageRequest& req) {
  const WorkerSnapshot& snap = req.snapshot();
  if (snap.content_routing == nullptr) return Verdict::kContinue;
  const routing::ContentRouting& cr = *snap.content_routing;
  InboundCall& call = req.call();
  if (auto rule = cr.rules.find(call.model); rule != cr.rules.end()) {
    routing::RuleDecision d = routing::DecideRule(rule->second, Read(req));
    LOG_DEBUG("request ", req.request().request_id, " routing '", call.model,
              "': signal=", d.signal, " complexity=", d.complexity, " -> ", d.category, " -> ",
              d.model);
    call.route_category = std::move(d.category);
    call.route_candidates = {std::move(d.model)};
    return Verdict::kContinue;
  }
  if (!cr.llmrouter.enabled) return Verdict::kContinue;
  std::optional<std::string_view> logical = LogicalModel(snap, call.model);
  if (!logical) return Verdict::kContinue;
  std::string category(*logical);
  if (category == "auto") {
    category = std::string(routing::ClassifyLlmRouter(Read(req), cr.llmrouter.word_match));
  }
  LOG_DEBUG("request ", req.request().request_id, " llmrouter '", call.model, "' -> ", category);
  auto it = cr.llmrouter.candidates.find(category);
  if (it != cr.llmrouter.candidates.end()) call.route_candidates = it->second;
  call.route_category = std::move(category);
  call.llmrouter = true;
  return Verdict::kContinue;
}

}  // namespace bitrouter::worker
