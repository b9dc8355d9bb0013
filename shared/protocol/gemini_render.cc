// Canonical request -> Gemini GenerateContentRequest. The upstream model
// goes into the URL path (the worker's job), never into the body; it is used
// here only to pick thinkingBudget (Gemini 1.x/2.x) or thinkingLevel (later).

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <map>
#include <utility>

#include "absl/strings/escaping.h"
#include "shared/common/status_macros.h"
#include "shared/protocol/gemini_adapter.h"
#include "shared/protocol/gemini_internal.h"
#include "shared/protocol/json_fields.h"
#include "shared/protocol/scratch_parser.h"

namespace bitrouter::protocol::gemini {
namespace {

using simdjson::dom::element;
using W = internal::W;
using Kind = ContentPart::Kind;
using json::Raw;
using json::Str;

// Documents: base64 -> inlineData, URL -> fileData (mimeType when known or
// guessed from the extension). A plain-text document becomes inlineData
// text/plain (base64 of its text): Gemini reads text/plain files, and the
// document stays a document rather than loose prompt text. Names/titles have
// no Gemini API field and are dropped.
void WriteDocument(W& w, const ContentPart& p) {
  if (!p.image_url.empty()) {
    Str(w, "fileData");
    w.StartObject();
    std::string mime = p.media_type.empty() ? internal::MimeFromUrl(p.image_url) : p.media_type;
    if (!mime.empty()) Str(w, "mimeType"), Str(w, mime);
    Str(w, "fileUri"), Str(w, p.image_url);
    w.EndObject();
    return;
  }
  Str(w, "inlineData");
  w.StartObject();
  if (p.data.empty()) {
    Str(w, "mimeType"), Str(w, "text/plain"), Str(w, "data"),
        Str(w, absl::Base64Escape(AV(p.text)));
  } else {
    Str(w, "mimeType"), Str(w, p.media_type), Str(w, "data"), Str(w, p.data);
  }
  w.EndObject();
}

absl::Status WriteUserPart(W& w, const ContentPart& p) {
  w.StartObject();
  if (p.kind == Kind::kDocument) {
    WriteDocument(w, p);
  } else if (p.kind == Kind::kImage && p.image_url.empty()) {
    Str(w, "inlineData");
    w.StartObject();
    Str(w, "mimeType"), Str(w, p.media_type), Str(w, "data"), Str(w, p.data);
    w.EndObject();
  } else if (p.kind == Kind::kImage) {
    Str(w, "fileData");
    w.StartObject();
    std::string mime = internal::MimeFromUrl(p.image_url);
    if (!mime.empty()) Str(w, "mimeType"), Str(w, mime);
    Str(w, "fileUri"), Str(w, p.image_url);
    w.EndObject();
  } else {
    Str(w, "text"), Str(w, p.text);
  }
  w.EndObject();
  return absl::OkStatus();
}

absl::Status WriteToolResult(W& w, const ContentPart& p,
                             const std::map<std::string, std::string>& names) {
  auto it = names.find(p.tool_call_id);
  if (it == names.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tool result for '", AV(p.tool_call_id),
                     "' has no matching tool call (Gemini needs the function name)"));
  }
  std::string text;
  for (const ContentPart& r : p.result) {
    if (r.kind != Kind::kText) {
      return absl::InvalidArgumentError(
          "only text tool results can be sent to this upstream (Gemini)");
    }
    if (!text.empty() && !r.text.empty()) text += "\n";
    text += r.text;
  }
  w.StartObject();
  Str(w, "functionResponse");
  w.StartObject();
  if (!p.tool_call_id.empty()) Str(w, "id"), Str(w, p.tool_call_id);
  Str(w, "name"), Str(w, it->second), Str(w, "response");
  thread_local protocol::ScratchDomParser parser;
  element parsed;
  if (!p.is_error && !parser.parse(text.data(), text.size(), true).get(parsed) &&
      parsed.is_object()) {
    Raw(w, simdjson::minify(parsed));  // already a JSON object: pass it as is
  } else {
    w.StartObject();
    Str(w, p.is_error ? "error" : "result"), Str(w, text);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return absl::OkStatus();
}

// Adjacent messages of one Gemini role (tool results travel as "user") share
// one content; contents without parts are left out.
absl::Status WriteContents(W& w, const std::vector<Message>& messages) {
  std::map<std::string, std::string> names;  // tool call id -> function name
  Str(w, "contents");
  w.StartArray();
  for (size_t i = 0; i < messages.size();) {
    bool model = messages[i].role == Role::kAssistant;
    std::vector<const ContentPart*> parts;
    std::vector<bool> system;  // per part: from a mid-conversation system message
    for (; i < messages.size() && (messages[i].role == Role::kAssistant) == model; ++i) {
      for (const ContentPart& p : messages[i].content) {
        parts.push_back(&p);
        system.push_back(messages[i].role == Role::kSystem);
        if (p.kind == Kind::kToolCall) names[p.tool_call_id] = p.name;
      }
    }
    std::string rendered;
    if (model) {
      ASSIGN_OR_RETURN(rendered, internal::RenderModelParts(parts, true));
    } else {
      rapidjson::StringBuffer buf;
      W pw(buf);
      pw.StartArray();
      for (size_t j = 0; j < parts.size(); ++j) {
        const ContentPart* p = parts[j];
        if (system[j] && !p->text.empty()) {
          // Gemini has no system turn inside contents: the instruction stays
          // in place as user text, marked as a system instruction.
          RETURN_IF_ERROR(WriteUserPart(
              pw, ContentPart::Text(absl::StrCat("<system>\n", p->text, "\n</system>"))));
        } else if (p->kind == Kind::kToolResult) {
          RETURN_IF_ERROR(WriteToolResult(pw, *p, names));
        } else if (p->kind == Kind::kImage || p->kind == Kind::kDocument ||
                   (p->kind == Kind::kText && !p->text.empty())) {
          RETURN_IF_ERROR(WriteUserPart(pw, *p));
        }
      }
      pw.EndArray();
      rendered.assign(buf.GetString(), buf.GetSize());
    }
    if (rendered == "[]") continue;
    w.StartObject();
    Str(w, "role"), Str(w, model ? "model" : "user"), Str(w, "parts");
    w.RawValue(rendered.data(), rendered.size(), rapidjson::kArrayType);
    w.EndObject();
  }
  w.EndArray();
  return absl::OkStatus();
}

void WriteTools(W& w, const CanonicalRequest& req) {
  if (req.tools.empty()) return;
  Str(w, "tools");
  w.StartArray();
  w.StartObject();
  Str(w, "functionDeclarations");
  w.StartArray();
  for (const Tool& t : req.tools) {
    w.StartObject();
    Str(w, "name"), Str(w, t.name);
    if (!t.description.empty()) Str(w, "description"), Str(w, t.description);
    // Full JSON Schema (OpenAI/Anthropic tools) fits parametersJsonSchema;
    // `parameters` accepts only Google's OpenAPI subset.
    if (!t.parameters.empty()) Str(w, "parametersJsonSchema"), Raw(w, t.parameters);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndArray();
  if (!req.tool_choice) return;
  Str(w, "toolConfig");
  w.StartObject();
  Str(w, "functionCallingConfig");
  w.StartObject();
  Str(w, "mode");
  switch (req.tool_choice->mode) {
    case ToolChoice::Mode::kAuto:
      Str(w, "AUTO");
      break;
    case ToolChoice::Mode::kNone:
      Str(w, "NONE");
      break;
    case ToolChoice::Mode::kRequired:
      Str(w, "ANY");
      break;
    case ToolChoice::Mode::kSpecific:
      Str(w, "ANY"), Str(w, "allowedFunctionNames");
      w.StartArray();
      Str(w, req.tool_choice->name);
      w.EndArray();
      break;
  }
  w.EndObject();
  w.EndObject();
}

// Gemini 1.x/2.x models take a thinkingBudget; later ones a thinkingLevel.
bool BudgetModel(std::string_view model) {
  if (model.rfind("models/", 0) == 0) model.remove_prefix(7);
  return model.rfind("gemini-1", 0) == 0 || model.rfind("gemini-2", 0) == 0;
}

// reasoning_effort -> thinkingBudget for budget models.
std::optional<int64_t> BudgetForEffort(std::string_view effort) {
  if (effort == "none") return 0;
  if (effort == "minimal") return 512;
  if (effort == "low") return 1024;
  if (effort == "medium") return 8192;
  if (effort == "high" || effort == "xhigh" || effort == "max") return 24576;
  return std::nullopt;
}

// reasoning_effort -> thinkingLevel (minimal, low, medium, high).
std::optional<std::string> LevelForEffort(std::string_view effort) {
  if (effort == "minimal" || effort == "low" || effort == "medium" || effort == "high") {
    return std::string(effort);
  }
  if (effort == "xhigh" || effort == "max") return std::string("high");
  return std::nullopt;
}

// thinkingConfig from canonical thinking / reasoning_effort. Thoughts are
// requested (includeThoughts) whenever thinking is on, so they can reach
// clients that show them.
void WriteThinking(W& w, const CanonicalRequest& req, std::string_view model) {
  std::optional<int64_t> budget;
  std::optional<std::string> level;
  const std::optional<std::string>& effort = req.reasoning_effort;
  if (req.thinking && req.thinking->mode == Thinking::Mode::kDisabled) {
    budget = 0;
  } else if (req.thinking && req.thinking->mode == Thinking::Mode::kEnabled &&
             req.thinking->budget_tokens) {
    budget = *req.thinking->budget_tokens;
  } else if (effort && *effort == "none") {
    budget = 0;
  } else if (effort && BudgetModel(model)) {
    budget = BudgetForEffort(*effort);
  } else if (effort) {
    level = LevelForEffort(*effort);
  }
  if (!budget && !level && req.thinking) budget = -1;  // enabled/adaptive: dynamic
  // Thinking counts against maxOutputTokens: keep a budget below the limit.
  if (budget && *budget > 0 && req.max_tokens && *budget >= *req.max_tokens) {
    budget = *req.max_tokens - 1;
  }
  if (!budget && !level) return;
  Str(w, "thinkingConfig");
  w.StartObject();
  if (budget) Str(w, "thinkingBudget"), w.Int64(*budget);
  if (level) Str(w, "thinkingLevel"), Str(w, *level);
  if (budget != 0) Str(w, "includeThoughts"), w.Bool(true);
  w.EndObject();
}

void WriteGenerationConfig(W& w, const CanonicalRequest& req, std::string_view model) {
  const auto& rf = req.response_format;
  bool json = rf && rf->type != ResponseFormat::Type::kText;
  bool any = req.max_tokens || req.temperature || req.top_p || req.seed || req.frequency_penalty ||
             req.presence_penalty || !req.stop.empty() || json || req.thinking ||
             req.reasoning_effort;
  if (!any) return;
  Str(w, "generationConfig");
  w.StartObject();
  if (req.max_tokens) Str(w, "maxOutputTokens"), w.Int64(*req.max_tokens);
  if (req.temperature) Str(w, "temperature"), w.Double(*req.temperature);
  if (req.top_p) Str(w, "topP"), w.Double(*req.top_p);
  if (req.seed) Str(w, "seed"), w.Int64(*req.seed);
  if (req.frequency_penalty) Str(w, "frequencyPenalty"), w.Double(*req.frequency_penalty);
  if (req.presence_penalty) Str(w, "presencePenalty"), w.Double(*req.presence_penalty);
  if (!req.stop.empty()) {
    Str(w, "stopSequences");
    w.StartArray();
    for (const std::string& s : req.stop) Str(w, s);
    w.EndArray();
  }
  if (json) {
    Str(w, "responseMimeType"), Str(w, "application/json");
    if (rf->type == ResponseFormat::Type::kJsonSchema && !rf->schema.empty()) {
      Str(w, "responseJsonSchema"), Raw(w, rf->schema);
    }
  }
  WriteThinking(w, req, model);
  w.EndObject();
}

}  // namespace

absl::StatusOr<std::string> RenderRequest(const CanonicalRequest& req,
                                          std::string_view upstream_model) {
  RETURN_IF_ERROR(RejectWebSearchOptions(req, "Google Gemini API"));
  rapidjson::StringBuffer buf;
  W w(buf);
  w.StartObject();
  RETURN_IF_ERROR(WriteContents(w, req.messages));
  if (!req.system.empty()) {
    Str(w, "systemInstruction");
    w.StartObject();
    Str(w, "parts");
    w.StartArray();
    for (const std::string& s : req.system) {
      w.StartObject();
      Str(w, "text"), Str(w, s);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  WriteTools(w, req);
  WriteGenerationConfig(w, req, upstream_model);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace bitrouter::protocol::gemini
