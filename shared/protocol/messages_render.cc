// Anthropic Messages requests rendered from the canonical form (parsing and
// responses are in messages_adapter.cc).

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "shared/common/status_macros.h"
#include "shared/protocol/json_fields.h"
#include "shared/protocol/messages_adapter.h"
#include "shared/protocol/messages_internal.h"
#include "shared/protocol/scratch_parser.h"

namespace bitrouter::protocol::messages {
namespace {

using internal::RenderBlock;
using simdjson::dom::element;
using W = json::Writer;
using Kind = ContentPart::Kind;

using json::Raw;
using json::Str;

// ---- rendering ----

// Anthropic documents are PDFs (base64 or url) and plain text (a "text"
// source). Base64 text/* (from OpenAI or Gemini clients) is decoded into a
// text source; a URL is passed as a url source unless its type is known
// and not PDF; any other type is rejected, since the API would reject it.
absl::Status RenderDocument(W& w, const ContentPart& p) {
  std::string text;
  bool as_text = p.data.empty() && p.image_url.empty();
  if (!p.data.empty() && p.media_type.rfind("text/", 0) == 0) {
    if (!absl::Base64Unescape(AV(p.data), &text) ||
        !simdjson::validate_utf8(text.data(), text.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("a ", AV(p.media_type), " document is not valid base64-encoded UTF-8 text"));
    }
    as_text = true;
  } else if (!as_text && !p.media_type.empty() && p.media_type != "application/pdf") {
    return absl::InvalidArgumentError(absl::StrCat(
        "a document of type '", AV(p.media_type),
        "' cannot be sent to an Anthropic upstream (it accepts PDF and plain-text documents)"));
  }
  Str(w, "type"), Str(w, "document"), Str(w, "source");
  w.StartObject();
  if (as_text) {
    Str(w, "type"), Str(w, "text"), Str(w, "media_type"), Str(w, "text/plain");
    Str(w, "data"), Str(w, p.data.empty() ? p.text : text);
  } else if (!p.image_url.empty()) {
    Str(w, "type"), Str(w, "url"), Str(w, "url"), Str(w, p.image_url);
  } else {
    Str(w, "type"), Str(w, "base64"), Str(w, "media_type"), Str(w, p.media_type);
    Str(w, "data"), Str(w, p.data);
  }
  w.EndObject();
  if (!p.name.empty()) Str(w, "title"), Str(w, p.name);
  return absl::OkStatus();
}

}  // namespace

namespace internal {

absl::Status RenderBlock(W& w, const ContentPart& p) {
  w.StartObject();
  switch (p.kind) {
    case Kind::kDocument:
      RETURN_IF_ERROR(RenderDocument(w, p));
      break;
    case Kind::kText:
      Str(w, "type"), Str(w, "text"), Str(w, "text"), Str(w, p.text);
      break;
    case Kind::kImage:
      Str(w, "type"), Str(w, "image"), Str(w, "source");
      w.StartObject();
      if (!p.image_url.empty()) {
        Str(w, "type"), Str(w, "url"), Str(w, "url"), Str(w, p.image_url);
      } else {
        Str(w, "type"), Str(w, "base64"), Str(w, "media_type"), Str(w, p.media_type);
        Str(w, "data"), Str(w, p.data);
      }
      w.EndObject();
      break;
    case Kind::kThinking:
      Str(w, "type"), Str(w, "thinking"), Str(w, "thinking"), Str(w, p.text);
      if (!p.signature.empty()) Str(w, "signature"), Str(w, p.signature);
      break;
    case Kind::kRedactedThinking:
      Str(w, "type"), Str(w, "redacted_thinking"), Str(w, "data"), Str(w, p.data);
      break;
    case Kind::kToolCall: {
      thread_local protocol::ScratchDomParser parser;
      element args;
      if (parser.parse(p.arguments.data(), p.arguments.size(), true).get(args) ||
          !args.is_object()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "arguments of tool call '", AV(p.tool_call_id), "' are not a JSON object"));
      }
      Str(w, "type"), Str(w, "tool_use"), Str(w, "id"), Str(w, p.tool_call_id);
      Str(w, "name"), Str(w, p.name), Str(w, "input"), Raw(w, simdjson::minify(args));
      break;
    }
    case Kind::kToolResult:
      Str(w, "type"), Str(w, "tool_result"), Str(w, "tool_use_id"), Str(w, p.tool_call_id);
      if (p.result.size() == 1 && p.result[0].kind == Kind::kText) {
        Str(w, "content"), Str(w, p.result[0].text);
      } else if (!p.result.empty()) {
        Str(w, "content");
        w.StartArray();
        for (const ContentPart& r : p.result) RETURN_IF_ERROR(RenderBlock(w, r));
        w.EndArray();
      }
      if (p.is_error) Str(w, "is_error"), w.Bool(true);
      break;
  }
  w.EndObject();
  return absl::OkStatus();
}

}  // namespace internal

namespace {

// Anthropic alternates user/assistant turns: tool results travel in a user
// turn, and adjacent turns of one role are merged. Empty text is dropped (the
// API rejects empty text blocks). A mid-conversation system message stays a
// {"role":"system"} message in place (never merged).
absl::Status RenderMessages(W& w, const std::vector<Message>& messages) {
  struct Turn {
    Role role;
    std::vector<const ContentPart*> blocks;
  };
  std::vector<Turn> turns;
  for (const Message& m : messages) {
    Role role = m.role == Role::kTool ? Role::kUser : m.role;
    std::vector<const ContentPart*> blocks;
    for (const ContentPart& p : m.content) {
      if (p.kind == Kind::kText && p.text.empty()) continue;
      blocks.push_back(&p);
    }
    if (blocks.empty()) continue;
    if (turns.empty() || turns.back().role != role || role == Role::kSystem) {
      turns.push_back({role, {}});
    }
    turns.back().blocks.insert(turns.back().blocks.end(), blocks.begin(), blocks.end());
  }
  Str(w, "messages");
  w.StartArray();
  for (const Turn& t : turns) {
    w.StartObject();
    Str(w, "role");
    Str(w, t.role == Role::kAssistant ? "assistant" : t.role == Role::kSystem ? "system" : "user");
    Str(w, "content");
    if (t.blocks.size() == 1 && t.blocks[0]->kind == Kind::kText) {
      Str(w, t.blocks[0]->text);
    } else {
      w.StartArray();
      for (const ContentPart* p : t.blocks) RETURN_IF_ERROR(RenderBlock(w, *p));
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  return absl::OkStatus();
}

// OpenAI reasoning_effort -> thinking budget (Anthropic minimum is 1024).
std::optional<int64_t> BudgetForEffort(std::string_view effort) {
  if (effort == "minimal" || effort == "low") return 1024;
  if (effort == "medium") return 8192;
  if (effort == "high") return 16384;
  if (effort == "xhigh" || effort == "max") return 32768;
  return std::nullopt;  // "none" or unknown: no thinking
}

// The thinking sent upstream and the max_tokens beside it. Anthropic wants
// 1024 <= budget_tokens < max_tokens: with no client limit the limit is raised
// to budget + kDefaultMaxTokens (room for the answer); under a client limit
// the budget is capped below it, and thinking is left out when even the
// minimum budget does not fit.
struct ThinkingPlan {
  std::optional<Thinking> thinking;
  int64_t max_tokens = kDefaultMaxTokens;
};

ThinkingPlan PlanThinking(const CanonicalRequest& req) {
  constexpr int64_t kMinBudget = 1024;
  ThinkingPlan plan;
  plan.max_tokens = req.max_tokens.value_or(kDefaultMaxTokens);
  plan.thinking = req.thinking;
  if (!plan.thinking && req.reasoning_effort) {
    if (auto budget = BudgetForEffort(*req.reasoning_effort)) {
      plan.thinking = Thinking{Thinking::Mode::kEnabled, *budget};
    }
  }
  Thinking* t = plan.thinking ? &*plan.thinking : nullptr;
  if (t == nullptr || t->mode != Thinking::Mode::kEnabled || !t->budget_tokens) return plan;
  int64_t budget = std::max(*t->budget_tokens, kMinBudget);
  if (!req.max_tokens) {
    plan.max_tokens = std::max(plan.max_tokens, budget + kDefaultMaxTokens);
  } else {
    budget = std::min(budget, plan.max_tokens - 1);
  }
  if (budget < kMinBudget) {
    plan.thinking.reset();
  } else {
    t->budget_tokens = budget;
  }
  return plan;
}

void RenderThinkingAndOutput(W& w, const CanonicalRequest& req,
                             const std::optional<Thinking>& thinking) {
  if (thinking) {
    Str(w, "thinking");
    w.StartObject();
    Str(w, "type");
    if (thinking->mode == Thinking::Mode::kEnabled) Str(w, "enabled");
    if (thinking->mode == Thinking::Mode::kDisabled) Str(w, "disabled");
    if (thinking->mode == Thinking::Mode::kAdaptive) Str(w, "adaptive");
    if (thinking->budget_tokens) Str(w, "budget_tokens"), w.Int64(*thinking->budget_tokens);
    w.EndObject();
  }
  // output_config.effort pairs with adaptive thinking; otherwise the effort
  // was already expressed as a budget above.
  bool effort =
      req.reasoning_effort && req.thinking && req.thinking->mode == Thinking::Mode::kAdaptive;
  const auto& rf = req.response_format;
  bool format = rf && rf->type == ResponseFormat::Type::kJsonSchema && !rf->schema.empty();
  if (!effort && !format) return;
  Str(w, "output_config");
  w.StartObject();
  if (effort) Str(w, "effort"), Str(w, *req.reasoning_effort);
  if (format) {
    Str(w, "format");
    w.StartObject();
    Str(w, "type"), Str(w, "json_schema"), Str(w, "schema"), Raw(w, rf->schema);
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

absl::StatusOr<std::string> RenderRequest(const CanonicalRequest& req,
                                          std::string_view upstream_model) {
  RETURN_IF_ERROR(RejectWebSearchOptions(req, "Anthropic Messages API"));
  rapidjson::StringBuffer buf;
  W w(buf);
  w.StartObject();
  Str(w, "model"), Str(w, upstream_model);
  ThinkingPlan plan = PlanThinking(req);
  Str(w, "max_tokens"), w.Int64(plan.max_tokens);
  // JSON mode has no Messages parameter, and output_config.format cannot
  // stand in for it: Anthropic requires additionalProperties:false on every
  // object, so a schema for "any object" would only admit {}. An
  // instruction after the client's own system prompts asks for the object.
  const bool json_mode =
      req.response_format && req.response_format->type == ResponseFormat::Type::kJsonObject;
  const size_t system_count = req.system.size() + (json_mode ? 1 : 0);
  if (system_count == 1 && !json_mode) {
    Str(w, "system"), Str(w, req.system[0]);
  } else if (system_count == 1) {
    Str(w, "system"), Str(w, kJsonObjectInstruction);
  } else if (system_count > 1) {
    Str(w, "system");
    w.StartArray();
    for (const std::string& s : req.system) RETURN_IF_ERROR(RenderBlock(w, ContentPart::Text(s)));
    if (json_mode) {
      RETURN_IF_ERROR(RenderBlock(w, ContentPart::Text(std::string(kJsonObjectInstruction))));
    }
    w.EndArray();
  }
  RETURN_IF_ERROR(RenderMessages(w, req.messages));
  if (!req.tools.empty()) {
    Str(w, "tools");
    w.StartArray();
    for (const Tool& t : req.tools) {
      w.StartObject();
      Str(w, "name"), Str(w, t.name);
      if (!t.description.empty()) Str(w, "description"), Str(w, t.description);
      Str(w, "input_schema"), Raw(w, t.parameters.empty() ? R"({"type":"object"})" : t.parameters);
      w.EndObject();
    }
    w.EndArray();
  }
  bool no_parallel = req.parallel_tool_calls == false && !req.tools.empty();
  if (req.tool_choice || no_parallel) {
    ToolChoice tc = req.tool_choice.value_or(ToolChoice{});
    Str(w, "tool_choice");
    w.StartObject();
    Str(w, "type");
    if (tc.mode == ToolChoice::Mode::kAuto) Str(w, "auto");
    if (tc.mode == ToolChoice::Mode::kNone) Str(w, "none");
    if (tc.mode == ToolChoice::Mode::kRequired) Str(w, "any");
    if (tc.mode == ToolChoice::Mode::kSpecific) Str(w, "tool"), Str(w, "name"), Str(w, tc.name);
    if (no_parallel && tc.mode != ToolChoice::Mode::kNone) {
      Str(w, "disable_parallel_tool_use"), w.Bool(true);
    }
    w.EndObject();
  }
  if (!req.stop.empty()) {
    Str(w, "stop_sequences");
    w.StartArray();
    for (const std::string& s : req.stop) Str(w, s);
    w.EndArray();
  }
  // OpenAI allows temperature up to 2, Anthropic up to 1.
  if (req.temperature) Str(w, "temperature"), w.Double(std::min(*req.temperature, 1.0));
  if (req.top_p) Str(w, "top_p"), w.Double(*req.top_p);
  if (req.stream) Str(w, "stream"), w.Bool(true);
  RenderThinkingAndOutput(w, req, plan.thinking);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace bitrouter::protocol::messages
