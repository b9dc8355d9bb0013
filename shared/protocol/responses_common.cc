#include <utility>

#include "absl/strings/str_cat.h"
#include "shared/common/status_macros.h"
#include "shared/protocol/openai_request.h"
#include "shared/protocol/responses_internal.h"
#include "shared/protocol/scratch_parser.h"

namespace bitrouter::protocol::responses::internal {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;
using Kind = ContentPart::Kind;

using json::Bad;
using json::Has;
using json::Idx;
using json::OptInt;
using json::OptString;
using json::Raw;
using json::Str;
using json::Sub;

bool IdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

std::string IdSafe(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (IdChar(c)) out.push_back(c);
  }
  return out;
}

// The texts of a reasoning item's summary (summary_text) or content
// (reasoning_text) array.
absl::Status CollectTexts(object item, std::string_view key, std::string_view part_type,
                          std::string_view path, std::vector<std::string>* out) {
  element e;
  if (!Has(item, key, &e)) return absl::OkStatus();
  array arr;
  if (e.get_array().get(arr)) return Bad(Sub(path, key), "must be an array");
  size_t i = 0;
  for (element pe : arr) {
    json::Path p_path = Idx(Sub(path, key), i++);
    object part;
    if (pe.get_object().get(part)) return Bad(p_path, "must be an object");
    ASSIGN_OR_RETURN(std::string type, json::ReqString(part, "type", Sub(p_path, "type")));
    if (type != part_type) {
      return Bad(Sub(p_path, "type"), absl::StrCat("'", AV(type), "' is not supported here"));
    }
    ASSIGN_OR_RETURN(std::string text, json::ReqString(part, "text", Sub(p_path, "text")));
    if (!text.empty()) out->push_back(std::move(text));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ResponseId(std::string_view raw, std::string_view fallback) {
  if (raw.rfind("resp_", 0) == 0 && IdSafe(raw) == raw) return std::string(raw);
  std::string safe = IdSafe(raw);
  if (safe.empty()) safe = IdSafe(fallback);
  return absl::StrCat("resp_", safe);
}

std::string ItemId(std::string_view prefix, std::string_view response_id, size_t index) {
  std::string_view base = response_id;
  if (base.rfind("resp_", 0) == 0) base.remove_prefix(5);
  return absl::StrCat(AV(prefix), "_", AV(base), "_", index);
}

std::string CallId(const ContentPart& p, std::string_view response_id, size_t index) {
  if (!p.tool_call_id.empty()) return p.tool_call_id;
  return ItemId("call", response_id, index);
}

absl::StatusOr<Usage> ParseUsage(object usage, std::string_view path) {
  Usage u;
  ASSIGN_OR_RETURN(auto input, OptInt(usage, "input_tokens", Sub(path, "input_tokens")));
  ASSIGN_OR_RETURN(auto output, OptInt(usage, "output_tokens", Sub(path, "output_tokens")));
  u.prompt_tokens = input.value_or(0);
  u.completion_tokens = output.value_or(0);
  element de;
  object details;
  if (Has(usage, "input_tokens_details", &de)) {
    if (de.get_object().get(details))
      return Bad(Sub(path, "input_tokens_details"), "must be an object");
    ASSIGN_OR_RETURN(u.cache_read_tokens, OptInt(details, "cached_tokens",
                                                 Sub(path, "input_tokens_details.cached_tokens")));
  }
  if (Has(usage, "output_tokens_details", &de)) {
    if (de.get_object().get(details)) {
      return Bad(Sub(path, "output_tokens_details"), "must be an object");
    }
    ASSIGN_OR_RETURN(
        u.reasoning_tokens,
        OptInt(details, "reasoning_tokens", Sub(path, "output_tokens_details.reasoning_tokens")));
  }
  return u;
}

// The SDKs type both details objects as always present, so they are written
// with 0 when the upstream did not say.
void WriteUsage(json::Writer& w, const Usage& u) {
  w.StartObject();
  Str(w, "input_tokens"), w.Int64(u.prompt_tokens);
  Str(w, "input_tokens_details");
  w.StartObject();
  Str(w, "cached_tokens"), w.Int64(u.cache_read_tokens.value_or(0));
  w.EndObject();
  Str(w, "output_tokens"), w.Int64(u.completion_tokens);
  Str(w, "output_tokens_details");
  w.StartObject();
  Str(w, "reasoning_tokens"), w.Int64(u.reasoning_tokens.value_or(0));
  w.EndObject();
  Str(w, "total_tokens"), w.Int64(u.prompt_tokens + u.completion_tokens);
  w.EndObject();
}

absl::StatusOr<std::optional<ContentPart>> ParseReasoning(object item, std::string_view path) {
  std::vector<std::string> texts;
  RETURN_IF_ERROR(CollectTexts(item, "summary", "summary_text", path, &texts));
  if (texts.empty()) {
    RETURN_IF_ERROR(CollectTexts(item, "content", "reasoning_text", path, &texts));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> encrypted,
                   OptString(item, "encrypted_content", Sub(path, "encrypted_content")));
  ContentPart p;
  if (!texts.empty()) {
    p.kind = Kind::kThinking;
    for (size_t i = 0; i < texts.size(); ++i) {
      if (i > 0) p.text += "\n\n";
      p.text += texts[i];
    }
    p.signature = encrypted.value_or("");
    return std::optional<ContentPart>(std::move(p));
  }
  if (encrypted && !encrypted->empty()) {
    p.kind = Kind::kRedactedThinking;
    p.data = std::move(*encrypted);
    return std::optional<ContentPart>(std::move(p));
  }
  return std::optional<ContentPart>();
}

std::string CustomArguments(std::string_view input) {
  std::string out = "{\"input\":";
  AppendJsonString(input, &out);
  out.push_back('}');
  return out;
}

std::string CustomInput(std::string_view arguments) {
  thread_local ScratchDomParser parser;
  simdjson::padded_string padded(arguments);
  element root;
  std::string_view input;
  if (parser.parse(padded).get(root) || root["input"].get_string().get(input)) {
    return std::string(arguments);  // not the shape we asked for: hand it over as is
  }
  return std::string(input);
}

void WriteCallName(json::Writer& w, std::string_view flat, const ResponsesEcho* echo) {
  const ResponsesEcho::Namespaced* n = echo != nullptr ? echo->FindFlat(flat) : nullptr;
  if (n == nullptr) {
    Str(w, "name"), Str(w, flat);
    return;
  }
  Str(w, "name"), Str(w, n->name), Str(w, "namespace"), Str(w, n->ns);
}

bool IsServerToolItem(std::string_view type) {
  return type == "web_search_call" || type == "file_search_call" ||
         type == "code_interpreter_call" || type == "image_generation_call" || type == "mcp_call" ||
         type == "mcp_list_tools";
}

void WriteOutputItem(json::Writer& w, const ContentPart& p, std::string_view response_id,
                     size_t index, const ResponsesEcho* echo, std::string_view status) {
  w.StartObject();
  switch (p.kind) {
    case Kind::kThinking:
    case Kind::kRedactedThinking:
      Str(w, "id"), Str(w, ItemId("rs", response_id, index));
      Str(w, "type"), Str(w, "reasoning"), Str(w, "summary");
      w.StartArray();
      if (p.kind == Kind::kThinking && !p.text.empty()) {
        w.StartObject();
        Str(w, "type"), Str(w, "summary_text"), Str(w, "text"), Str(w, p.text);
        w.EndObject();
      }
      w.EndArray();
      if (p.kind == Kind::kThinking && !p.signature.empty()) {
        Str(w, "encrypted_content"), Str(w, p.signature);
      }
      if (p.kind == Kind::kRedactedThinking) Str(w, "encrypted_content"), Str(w, p.data);
      break;
    case Kind::kToolCall:
      if (echo != nullptr && echo->IsCustom(p.name)) {
        Str(w, "id"), Str(w, ItemId("ctc", response_id, index));
        Str(w, "type"), Str(w, "custom_tool_call"), Str(w, "status"), Str(w, status);
        Str(w, "call_id"), Str(w, CallId(p, response_id, index));
        Str(w, "name"), Str(w, p.name), Str(w, "input"), Str(w, CustomInput(p.arguments));
        break;
      }
      Str(w, "id"), Str(w, ItemId("fc", response_id, index));
      Str(w, "type"), Str(w, "function_call"), Str(w, "status"), Str(w, status);
      Str(w, "call_id"), Str(w, CallId(p, response_id, index));
      WriteCallName(w, p.name, echo);
      Str(w, "arguments"), Str(w, p.arguments.empty() ? std::string_view("{}") : p.arguments);
      break;
    default:  // kText
      Str(w, "id"), Str(w, ItemId("msg", response_id, index));
      Str(w, "type"), Str(w, "message"), Str(w, "status"), Str(w, status);
      Str(w, "role"), Str(w, "assistant"), Str(w, "content");
      w.StartArray();
      WriteTextPart(w, p.text, p.refusal);
      w.EndArray();
      break;
  }
  w.EndObject();
}

// Every member the Open Responses specification requires of a response
// object (ResponseResource), in its order: request members are echoed when
// the client sent them, else the specification's defaults; nullable ones
// without a value are null. The router keeps nothing, so store and
// background are false and previous_response_id is null.
void WriteResponse(json::Writer& w, const ResponseObject& r) {
  auto echoed = [&](std::string_view key, std::string_view fallback) {
    std::string_view v = r.echo != nullptr ? r.echo->Member(key) : std::string_view();
    Str(w, key), Raw(w, v.empty() ? fallback : v);
  };
  w.StartObject();
  Str(w, "id"), Str(w, r.id), Str(w, "object"), Str(w, "response");
  Str(w, "created_at"), w.Int64(r.created_at);
  Str(w, "completed_at");
  r.completed_at ? w.Int64(*r.completed_at) : w.Null();
  Str(w, "status"), Str(w, r.status);
  Str(w, "incomplete_details");
  if (!r.incomplete_reason.empty()) {
    w.StartObject();
    Str(w, "reason"), Str(w, r.incomplete_reason);
    w.EndObject();
  } else {
    w.Null();
  }
  Str(w, "model"), Str(w, r.model);
  Str(w, "previous_response_id"), w.Null();
  echoed("instructions", "null");
  Str(w, "output");
  w.StartArray();
  if (r.output) {
    for (size_t i = 0; i < r.output->size(); ++i) {
      bool cut = r.last_incomplete && i + 1 == r.output->size();
      WriteOutputItem(w, (*r.output)[i], r.id, i, r.echo, cut ? "incomplete" : "completed");
    }
  }
  w.EndArray();
  Str(w, "error");
  if (!r.error_code.empty()) {
    w.StartObject();
    Str(w, "code"), Str(w, r.error_code), Str(w, "message"), Str(w, r.error_message);
    w.EndObject();
  } else {
    w.Null();
  }
  echoed("tools", "[]");
  echoed("tool_choice", "\"auto\"");
  echoed("truncation", "\"disabled\"");
  echoed("parallel_tool_calls", "true");
  echoed("text", R"({"format":{"type":"text"}})");
  echoed("top_p", "1");
  echoed("presence_penalty", "0");
  echoed("frequency_penalty", "0");
  echoed("top_logprobs", "0");
  echoed("temperature", "1");
  echoed("reasoning", "null");
  echoed("user", "null");
  Str(w, "usage");
  if (r.usage) {
    WriteUsage(w, *r.usage);
  } else {
    w.Null();
  }
  echoed("max_output_tokens", "null");
  echoed("max_tool_calls", "null");
  Str(w, "store"), w.Bool(false);
  Str(w, "background"), w.Bool(false);
  echoed("service_tier", "\"default\"");
  echoed("metadata", "{}");
  echoed("safety_identifier", "null");
  echoed("prompt_cache_key", "null");
  w.EndObject();
}

void WriteTextPart(json::Writer& w, std::string_view text, bool refusal) {
  w.StartObject();
  if (refusal) {
    Str(w, "type"), Str(w, "refusal"), Str(w, "refusal"), Str(w, text);
  } else {
    Str(w, "type"), Str(w, "output_text"), Str(w, "text"), Str(w, text);
    Str(w, "annotations");
    w.StartArray();
    w.EndArray();
  }
  w.EndObject();
}

std::string_view StatusFor(std::optional<FinishReason> reason) {
  return IncompleteReasonFor(reason).empty() ? "completed" : "incomplete";
}

std::string_view IncompleteReasonFor(std::optional<FinishReason> reason) {
  if (reason == FinishReason::kLength) return "max_output_tokens";
  if (reason == FinishReason::kContentFilter) return "content_filter";
  return "";
}

}  // namespace bitrouter::protocol::responses::internal
