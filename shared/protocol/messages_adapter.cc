#include "shared/protocol/messages_adapter.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "shared/common/status_macros.h"
#include "shared/protocol/json_fields.h"
#include "shared/protocol/messages_internal.h"
#include "shared/protocol/scratch_parser.h"

namespace bitrouter::protocol::messages {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;
using W = rapidjson::Writer<rapidjson::StringBuffer>;
using Kind = ContentPart::Kind;

using json::Bad;
using json::Has;
using json::Idx;
using json::OptBool;
using json::OptInt;
using json::OptNumber;
using json::OptString;
using json::ParseObject;
using json::Raw;
using json::ReqString;
using json::Str;
using json::Sub;

// ---- request parsing ----

absl::StatusOr<ContentPart> ParseImage(object block, std::string_view path) {
  element se;
  object src;
  if (!Has(block, "source", &se) || se.get_object().get(src)) {
    return Bad(Sub(path, "source"), "must be an object");
  }
  ASSIGN_OR_RETURN(std::string type, ReqString(src, "type", Sub(path, "source.type")));
  ContentPart p;
  p.kind = Kind::kImage;
  if (type == "base64") {
    ASSIGN_OR_RETURN(p.media_type, ReqString(src, "media_type", Sub(path, "source.media_type")));
    ASSIGN_OR_RETURN(p.data, ReqString(src, "data", Sub(path, "source.data")));
  } else if (type == "url") {
    ASSIGN_OR_RETURN(p.image_url, ReqString(src, "url", Sub(path, "source.url")));
  } else {
    return Bad(Sub(path, "source.type"), absl::StrCat("'", AV(type), "' is not supported"));
  }
  return p;
}

// A document block: base64 (PDF), url (PDF) or text (plain text) source, and
// an optional title. Dropped: citations, context and cache_control (no
// other protocol carries them). Files-API ids ("file") and custom content
// ("content") sources are rejected.
absl::StatusOr<ContentPart> ParseDocument(object block, std::string_view path) {
  element se;
  object src;
  if (!Has(block, "source", &se) || se.get_object().get(src)) {
    return Bad(Sub(path, "source"), "must be an object");
  }
  ASSIGN_OR_RETURN(std::string type, ReqString(src, "type", Sub(path, "source.type")));
  ContentPart p;
  p.kind = Kind::kDocument;
  if (type == "base64") {
    ASSIGN_OR_RETURN(p.media_type, ReqString(src, "media_type", Sub(path, "source.media_type")));
    ASSIGN_OR_RETURN(p.data, ReqString(src, "data", Sub(path, "source.data")));
  } else if (type == "url") {
    ASSIGN_OR_RETURN(p.image_url, ReqString(src, "url", Sub(path, "source.url")));
  } else if (type == "text") {
    ASSIGN_OR_RETURN(std::optional<std::string> mt,
                     OptString(src, "media_type", Sub(path, "source.media_type")));
    if (mt && *mt != "text/plain") {
      return Bad(Sub(path, "source.media_type"),
                 absl::StrCat("'", AV(*mt), "' is not supported (text sources are text/plain)"));
    }
    p.media_type = "text/plain";
    ASSIGN_OR_RETURN(p.text, ReqString(src, "data", Sub(path, "source.data")));
  } else if (type == "file") {
    return Bad(Sub(path, "source.type"),
               "'file' is not supported (uploaded files cannot be translated); send base64 data");
  } else {
    return Bad(Sub(path, "source.type"), absl::StrCat("'", AV(type), "' is not supported"));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> title, OptString(block, "title", Sub(path, "title")));
  p.name = title.value_or("");
  return p;
}

// `skipped`: an answer's content, whose server-side tool blocks are left out
// and counted there (see internal::IsServerToolBlock); nullptr elsewhere.
absl::StatusOr<std::vector<ContentPart>> ParseBlocks(element content, std::string_view path,
                                                     bool assistant, bool nested,
                                                     int* skipped = nullptr);

absl::StatusOr<ContentPart> ParseBlock(object block, std::string_view path, bool assistant,
                                       bool nested) {
  ASSIGN_OR_RETURN(std::string type, ReqString(block, "type", Sub(path, "type")));
  ContentPart p;
  if (type == "text") {
    ASSIGN_OR_RETURN(p.text, ReqString(block, "text", Sub(path, "text")));
    return p;
  }
  if (type == "image" && !assistant) return ParseImage(block, path);
  if (type == "document" && !assistant) return ParseDocument(block, path);
  if (type == "thinking" && assistant && !nested) {
    p.kind = Kind::kThinking;
    ASSIGN_OR_RETURN(p.text, ReqString(block, "thinking", Sub(path, "thinking")));
    ASSIGN_OR_RETURN(std::optional<std::string> sig,
                     OptString(block, "signature", Sub(path, "signature")));
    p.signature = sig.value_or("");
    return p;
  }
  if (type == "redacted_thinking" && assistant && !nested) {
    p.kind = Kind::kRedactedThinking;
    ASSIGN_OR_RETURN(p.data, ReqString(block, "data", Sub(path, "data")));
    return p;
  }
  if (type == "tool_use" && assistant && !nested) {
    p.kind = Kind::kToolCall;
    ASSIGN_OR_RETURN(p.tool_call_id, ReqString(block, "id", Sub(path, "id")));
    ASSIGN_OR_RETURN(p.name, ReqString(block, "name", Sub(path, "name")));
    element input;
    if (!Has(block, "input", &input) || !input.is_object()) {
      return Bad(Sub(path, "input"), "must be an object");
    }
    p.arguments = simdjson::minify(input);
    return p;
  }
  if (type == "tool_result" && !assistant && !nested) {
    p.kind = Kind::kToolResult;
    ASSIGN_OR_RETURN(p.tool_call_id, ReqString(block, "tool_use_id", Sub(path, "tool_use_id")));
    ASSIGN_OR_RETURN(std::optional<bool> is_error,
                     OptBool(block, "is_error", Sub(path, "is_error")));
    p.is_error = is_error.value_or(false);
    element content;
    if (Has(block, "content", &content)) {
      ASSIGN_OR_RETURN(p.result, ParseBlocks(content, Sub(path, "content"), false, true));
    }
    return p;
  }
  return Bad(Sub(path, "type"), absl::StrCat("'", AV(type), "' is not supported here"));
}

absl::StatusOr<std::vector<ContentPart>> ParseBlocks(element content, std::string_view path,
                                                     bool assistant, bool nested, int* skipped) {
  std::vector<ContentPart> parts;
  std::string_view text;
  if (!content.get_string().get(text)) {
    parts.push_back(ContentPart::Text(std::string(text)));
    return parts;
  }
  array arr;
  if (content.get_array().get(arr)) return Bad(path, "must be a string or an array");
  size_t i = 0;
  for (element e : arr) {
    json::Path b_path = Idx(path, i++);
    object block;
    if (e.get_object().get(block)) return Bad(b_path, "must be an object");
    std::string_view type;
    if (skipped != nullptr && !block["type"].get(type) && internal::IsServerToolBlock(type)) {
      ++*skipped;
      continue;
    }
    ASSIGN_OR_RETURN(ContentPart p, ParseBlock(block, b_path, assistant, nested));
    parts.push_back(std::move(p));
  }
  return parts;
}

// A user turn may mix tool_result blocks and text/images: consecutive
// tool_result blocks become one canonical kTool message.
absl::Status ParseMessage(object m, std::string_view path, CanonicalRequest* req) {
  ASSIGN_OR_RETURN(std::string role, ReqString(m, "role", Sub(path, "role")));
  if (role != "user" && role != "assistant" && role != "system") {
    return Bad(Sub(path, "role"), absl::StrCat("has unknown value '", AV(role), "'"));
  }
  element content;
  if (!Has(m, "content", &content)) return Bad(Sub(path, "content"), "is required");
  if (role == "system") {
    // A mid-conversation system message: text only, kept in place.
    ASSIGN_OR_RETURN(std::vector<ContentPart> parts,
                     ParseBlocks(content, Sub(path, "content"), false, true));
    for (const ContentPart& p : parts) {
      if (p.kind != Kind::kText) return Bad(Sub(path, "content"), "may contain only text blocks");
    }
    req->messages.push_back(Message{Role::kSystem, std::move(parts)});
    return absl::OkStatus();
  }
  bool assistant = role == "assistant";
  ASSIGN_OR_RETURN(std::vector<ContentPart> parts,
                   ParseBlocks(content, Sub(path, "content"), assistant, false));
  if (assistant) {
    req->messages.push_back(Message{Role::kAssistant, std::move(parts)});
    return absl::OkStatus();
  }
  for (ContentPart& p : parts) {
    Role r = p.kind == Kind::kToolResult ? Role::kTool : Role::kUser;
    if (req->messages.empty() || req->messages.back().role != r) req->messages.push_back({r, {}});
    req->messages.back().content.push_back(std::move(p));
  }
  return absl::OkStatus();
}

absl::Status ParseTools(object root, CanonicalRequest* req) {
  element e;
  if (!Has(root, "tools", &e)) return absl::OkStatus();
  array arr;
  if (e.get_array().get(arr)) return Bad("tools", "must be an array");
  size_t i = 0;
  for (element t : arr) {
    json::Path path = Idx("tools", i++);
    object tool;
    if (t.get_object().get(tool)) return Bad(path, "must be an object");
    ASSIGN_OR_RETURN(std::optional<std::string> type, OptString(tool, "type", Sub(path, "type")));
    if (type && *type != "custom") {
      return Bad(Sub(path, "type"),
                 absl::StrCat("'", AV(*type), "' (server tool) is not supported"));
    }
    Tool out;
    ASSIGN_OR_RETURN(out.name, ReqString(tool, "name", Sub(path, "name")));
    ASSIGN_OR_RETURN(std::optional<std::string> desc,
                     OptString(tool, "description", Sub(path, "description")));
    out.description = desc.value_or("");
    element schema;
    if (!Has(tool, "input_schema", &schema) || !schema.is_object()) {
      return Bad(Sub(path, "input_schema"), "must be an object");
    }
    out.parameters = simdjson::minify(schema);
    req->tools.push_back(std::move(out));
  }
  return absl::OkStatus();
}

absl::Status ParseToolChoice(object root, CanonicalRequest* req) {
  element e;
  object o;
  if (!Has(root, "tool_choice", &e)) return absl::OkStatus();
  if (e.get_object().get(o)) return Bad("tool_choice", "must be an object");
  ASSIGN_OR_RETURN(std::string type, ReqString(o, "type", "tool_choice.type"));
  ToolChoice tc;
  if (type == "auto") {
    tc.mode = ToolChoice::Mode::kAuto;
  } else if (type == "any") {
    tc.mode = ToolChoice::Mode::kRequired;
  } else if (type == "none") {
    tc.mode = ToolChoice::Mode::kNone;
  } else if (type == "tool") {
    tc.mode = ToolChoice::Mode::kSpecific;
    ASSIGN_OR_RETURN(tc.name, ReqString(o, "name", "tool_choice.name"));
  } else {
    return Bad("tool_choice.type", absl::StrCat("has unknown value '", AV(type), "'"));
  }
  ASSIGN_OR_RETURN(std::optional<bool> disable, OptBool(o, "disable_parallel_tool_use",
                                                        "tool_choice.disable_parallel_tool_use"));
  if (disable) req->parallel_tool_calls = !*disable;
  req->tool_choice = tc;
  return absl::OkStatus();
}

absl::Status ParseFormat(object fmt, std::string_view path, CanonicalRequest* req) {
  ASSIGN_OR_RETURN(std::string type, ReqString(fmt, "type", Sub(path, "type")));
  if (type != "json_schema") {
    return Bad(Sub(path, "type"), absl::StrCat("has unknown value '", AV(type), "'"));
  }
  element schema;
  if (!Has(fmt, "schema", &schema) || !schema.is_object()) {
    return Bad(Sub(path, "schema"), "must be an object");
  }
  ResponseFormat rf;
  rf.type = ResponseFormat::Type::kJsonSchema;
  rf.schema = simdjson::minify(schema);
  req->response_format = std::move(rf);
  return absl::OkStatus();
}

absl::Status ParseThinkingAndOutput(object root, CanonicalRequest* req) {
  element e;
  object o;
  if (Has(root, "thinking", &e)) {
    if (e.get_object().get(o)) return Bad("thinking", "must be an object");
    ASSIGN_OR_RETURN(std::string type, ReqString(o, "type", "thinking.type"));
    Thinking t;
    if (type == "enabled") {
      t.mode = Thinking::Mode::kEnabled;
    } else if (type == "disabled") {
      t.mode = Thinking::Mode::kDisabled;
    } else if (type == "adaptive") {
      t.mode = Thinking::Mode::kAdaptive;
    } else {
      return Bad("thinking.type", absl::StrCat("has unknown value '", AV(type), "'"));
    }
    ASSIGN_OR_RETURN(t.budget_tokens, OptInt(o, "budget_tokens", "thinking.budget_tokens"));
    req->thinking = t;
  }
  if (Has(root, "output_config", &e)) {
    if (e.get_object().get(o)) return Bad("output_config", "must be an object");
    ASSIGN_OR_RETURN(req->reasoning_effort, OptString(o, "effort", "output_config.effort"));
    element fe;
    object fmt;
    if (Has(o, "format", &fe)) {
      if (fe.get_object().get(fmt)) return Bad("output_config.format", "must be an object");
      RETURN_IF_ERROR(ParseFormat(fmt, "output_config.format", req));
    }
  }
  // Pre-GA spelling of output_config.format.
  if (!req->response_format && Has(root, "output_format", &e)) {
    if (e.get_object().get(o)) return Bad("output_format", "must be an object");
    RETURN_IF_ERROR(ParseFormat(o, "output_format", req));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CanonicalRequest> ParseRequest(std::string_view json) {
  thread_local protocol::ScratchDomParser parser;
  ASSIGN_OR_RETURN(object root, ParseObject(parser, json, "request body"));
  CanonicalRequest req;
  ASSIGN_OR_RETURN(req.model, ReqString(root, "model", "model"));
  element sys;
  if (Has(root, "system", &sys)) {
    ASSIGN_OR_RETURN(std::vector<ContentPart> parts, ParseBlocks(sys, "system", false, true));
    for (ContentPart& p : parts) {
      if (p.kind != Kind::kText) return Bad("system", "may contain only text blocks");
      req.system.push_back(std::move(p.text));
    }
  }
  element msgs;
  array arr;
  if (!Has(root, "messages", &msgs)) return Bad("messages", "is required");
  if (msgs.get_array().get(arr)) return Bad("messages", "must be an array");
  size_t i = 0;
  for (element e : arr) {
    json::Path path = Idx("messages", i++);
    object m;
    if (e.get_object().get(m)) return Bad(path, "must be an object");
    RETURN_IF_ERROR(ParseMessage(m, path, &req));
  }
  if (req.messages.empty()) return Bad("messages", "must not be empty");
  RETURN_IF_ERROR(ParseTools(root, &req));
  RETURN_IF_ERROR(ParseToolChoice(root, &req));
  ASSIGN_OR_RETURN(req.max_tokens, OptInt(root, "max_tokens", "max_tokens"));
  ASSIGN_OR_RETURN(req.temperature, OptNumber(root, "temperature", "temperature"));
  ASSIGN_OR_RETURN(req.top_p, OptNumber(root, "top_p", "top_p"));
  element stop;
  if (Has(root, "stop_sequences", &stop)) {
    array sa;
    if (stop.get_array().get(sa)) return Bad("stop_sequences", "must be an array of strings");
    for (element se : sa) {
      std::string_view s;
      if (se.get_string().get(s)) return Bad("stop_sequences", "must be an array of strings");
      req.stop.emplace_back(s);
    }
  }
  ASSIGN_OR_RETURN(std::optional<bool> stream, OptBool(root, "stream", "stream"));
  req.stream = stream.value_or(false);
  RETURN_IF_ERROR(ParseThinkingAndOutput(root, &req));
  RETURN_IF_ERROR(ValidateConversation(req));
  return req;
}

absl::StatusOr<CanonicalResponse> ParseResponse(std::string_view json) {
  thread_local protocol::ScratchDomParser parser;
  ASSIGN_OR_RETURN(object root, ParseObject(parser, json, "upstream response"));
  CanonicalResponse resp;
  ASSIGN_OR_RETURN(std::optional<std::string> type, OptString(root, "type", "type"));
  if (type && *type != "message") {
    return Bad("type", absl::StrCat("is '", AV(*type), "', expected 'message'"));
  }
  ASSIGN_OR_RETURN(resp.id, ReqString(root, "id", "id"));
  ASSIGN_OR_RETURN(std::optional<std::string> model, OptString(root, "model", "model"));
  resp.model = model.value_or("");
  element content;
  if (!Has(root, "content", &content)) return Bad("content", "is required");
  ASSIGN_OR_RETURN(resp.content,
                   ParseBlocks(content, "content", true, false, &resp.skipped_server_tool_items));
  ASSIGN_OR_RETURN(std::optional<std::string> stop, OptString(root, "stop_reason", "stop_reason"));
  ASSIGN_OR_RETURN(resp.stop_sequence, OptString(root, "stop_sequence", "stop_sequence"));
  if (stop) resp.finish_reason = internal::FinishFromStopReason(*stop);
  element ue;
  object usage;
  if (Has(root, "usage", &ue)) {
    if (ue.get_object().get(usage)) return Bad("usage", "must be an object");
    Usage u;
    ASSIGN_OR_RETURN(auto input, OptInt(usage, "input_tokens", "usage.input_tokens"));
    ASSIGN_OR_RETURN(auto output, OptInt(usage, "output_tokens", "usage.output_tokens"));
    ASSIGN_OR_RETURN(u.cache_read_tokens,
                     OptInt(usage, "cache_read_input_tokens", "usage.cache_read_input_tokens"));
    ASSIGN_OR_RETURN(u.cache_write_tokens, OptInt(usage, "cache_creation_input_tokens",
                                                  "usage.cache_creation_input_tokens"));
    u.prompt_tokens =
        input.value_or(0) + u.cache_read_tokens.value_or(0) + u.cache_write_tokens.value_or(0);
    u.completion_tokens = output.value_or(0);
    resp.usage = u;
  }
  return resp;
}

absl::StatusOr<std::string> RenderResponse(const CanonicalResponse& resp,
                                           std::string_view client_model) {
  rapidjson::StringBuffer buf;
  W w(buf);
  w.StartObject();
  Str(w, "id"), Str(w, resp.id), Str(w, "type"), Str(w, "message");
  Str(w, "role"), Str(w, "assistant"), Str(w, "model"), Str(w, client_model);
  Str(w, "content");
  w.StartArray();
  for (const ContentPart& p : resp.content) {
    if (p.kind == Kind::kText && p.text.empty()) continue;
    RETURN_IF_ERROR(internal::RenderBlock(w, p));
  }
  w.EndArray();
  Str(w, "stop_reason"),
      Str(w, internal::StopReasonName(resp.finish_reason, resp.stop_sequence.has_value()));
  if (resp.stop_sequence) Str(w, "stop_sequence"), Str(w, *resp.stop_sequence);
  if (const auto& u = resp.usage) {
    int64_t cached = u->cache_read_tokens.value_or(0) + u->cache_write_tokens.value_or(0);
    Str(w, "usage");
    w.StartObject();
    Str(w, "input_tokens"), w.Int64(std::max<int64_t>(0, u->prompt_tokens - cached));
    Str(w, "output_tokens"), w.Int64(u->completion_tokens);
    if (u->cache_write_tokens) {
      Str(w, "cache_creation_input_tokens"), w.Int64(*u->cache_write_tokens);
    }
    if (u->cache_read_tokens) Str(w, "cache_read_input_tokens"), w.Int64(*u->cache_read_tokens);
    w.EndObject();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

namespace internal {

bool IsServerToolBlock(std::string_view type) {
  constexpr std::string_view kResult = "_tool_result";  // web_search_tool_result, ...
  return type == "server_tool_use" || type == "mcp_tool_use" || type == "container_upload" ||
         (type.size() > kResult.size() && type.substr(type.size() - kResult.size()) == kResult);
}

FinishReason FinishFromStopReason(std::string_view s) {
  if (s == "max_tokens" || s == "model_context_window_exceeded") return FinishReason::kLength;
  if (s == "tool_use") return FinishReason::kToolCalls;
  if (s == "refusal") return FinishReason::kContentFilter;
  return FinishReason::kStop;  // end_turn, stop_sequence, pause_turn
}

const char* StopReasonName(std::optional<FinishReason> reason, bool stop_sequence_fired) {
  switch (reason.value_or(FinishReason::kStop)) {
    case FinishReason::kLength:
      return "max_tokens";
    case FinishReason::kToolCalls:
      return "tool_use";
    case FinishReason::kContentFilter:
      return "refusal";
    case FinishReason::kStop:
      break;
  }
  return stop_sequence_fired ? "stop_sequence" : "end_turn";
}

}  // namespace internal

}  // namespace bitrouter::protocol::messages
