#include "shared/protocol/chat_adapter.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <ctime>
#include <utility>

#include "shared/common/status_macros.h"
#include "shared/protocol/chat_internal.h"
#include "shared/protocol/json_fields.h"
#include "shared/protocol/scratch_parser.h"

namespace bitrouter::protocol::chat {
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

using internal::ParseContent;
using internal::ParseToolCalls;
using internal::RenderToolCalls;

// ---- request parsing ----

// Splits "data:<type>;base64,<payload>"; false when `url` is not one.
bool SplitDataUrl(std::string_view url, std::string* media_type, std::string* data) {
  size_t comma = url.find(',');
  size_t marker = comma == std::string::npos ? comma : url.rfind(";base64", comma);
  if (url.rfind("data:", 0) != 0 || comma == std::string::npos || marker == std::string::npos ||
      marker + 7 != comma) {
    return false;
  }
  *media_type = std::string(url.substr(5, marker - 5));
  *data = std::string(url.substr(comma + 1));
  return true;
}

absl::StatusOr<ContentPart> ParseImage(object part, std::string_view path) {
  element iu;
  object iu_obj;
  if (!Has(part, "image_url", &iu) || iu.get_object().get(iu_obj)) {
    return Bad(Sub(path, "image_url"), "must be an object");
  }
  ASSIGN_OR_RETURN(std::string url, ReqString(iu_obj, "url", Sub(path, "image_url.url")));
  ContentPart p;
  p.kind = Kind::kImage;
  if (url.rfind("data:", 0) != 0) {
    p.image_url = std::move(url);
    return p;
  }
  if (!SplitDataUrl(url, &p.media_type, &p.data)) {
    return Bad(Sub(path, "image_url.url"), "must be an http(s) URL or a base64 data URL");
  }
  return p;
}

// {"type":"file","file":{"file_data":"data:<type>;base64,...","filename"}}.
// Uploaded files (file_id) live in one OpenAI account and cannot travel.
absl::StatusOr<ContentPart> ParseFile(object part, std::string_view path) {
  element fe;
  object file;
  if (!Has(part, "file", &fe) || fe.get_object().get(file)) {
    return Bad(Sub(path, "file"), "must be an object");
  }
  element id;
  if (Has(file, "file_id", &id)) {
    return Bad(Sub(path, "file.file_id"),
               "is not supported (uploaded files cannot be translated); send file_data");
  }
  ContentPart p;
  p.kind = Kind::kDocument;
  ASSIGN_OR_RETURN(std::string data, ReqString(file, "file_data", Sub(path, "file.file_data")));
  if (!SplitDataUrl(data, &p.media_type, &p.data)) {
    return Bad(Sub(path, "file.file_data"), "must be a base64 data URL (data:<type>;base64,...)");
  }
  ASSIGN_OR_RETURN(std::optional<std::string> name,
                   OptString(file, "filename", Sub(path, "file.filename")));
  p.name = name.value_or("");
  return p;
}

absl::Status ParseMessage(object m, std::string_view path, CanonicalRequest* req) {
  ASSIGN_OR_RETURN(std::string role, ReqString(m, "role", Sub(path, "role")));
  element content;
  bool has_content = Has(m, "content", &content);
  json::Path c_path = Sub(path, "content");
  if (role == "system" || role == "developer") {
    if (!has_content) return Bad(c_path, "is required");
    ASSIGN_OR_RETURN(std::vector<ContentPart> parts, ParseContent(content, c_path, false));
    for (ContentPart& p : parts) req->system.push_back(std::move(p.text));
    return absl::OkStatus();
  }
  Message msg;
  if (role == "user") {
    if (!has_content) return Bad(c_path, "is required");
    msg.role = Role::kUser;
    ASSIGN_OR_RETURN(msg.content, ParseContent(content, c_path, true));
  } else if (role == "assistant") {
    msg.role = Role::kAssistant;
    if (has_content) {
      ASSIGN_OR_RETURN(msg.content, ParseContent(content, c_path, false));
    }
    RETURN_IF_ERROR(ParseToolCalls(m, path, &msg.content));
    if (msg.content.empty()) return Bad(path, "needs 'content' or 'tool_calls'");
  } else if (role == "tool") {
    msg.role = Role::kTool;
    ContentPart p;
    p.kind = Kind::kToolResult;
    ASSIGN_OR_RETURN(p.tool_call_id, ReqString(m, "tool_call_id", Sub(path, "tool_call_id")));
    if (has_content) {
      ASSIGN_OR_RETURN(p.result, ParseContent(content, c_path, false));
    }
    msg.content.push_back(std::move(p));
  } else {
    return Bad(Sub(path, "role"), absl::StrCat("has unknown value '", AV(role), "'"));
  }
  req->messages.push_back(std::move(msg));
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
    object tool, fn;
    if (t.get_object().get(tool)) return Bad(path, "must be an object");
    ASSIGN_OR_RETURN(std::string type, ReqString(tool, "type", Sub(path, "type")));
    if (type != "function") {
      return Bad(Sub(path, "type"), absl::StrCat("'", AV(type), "' is not supported"));
    }
    element fe;
    if (!Has(tool, "function", &fe) || fe.get_object().get(fn)) {
      return Bad(Sub(path, "function"), "must be an object");
    }
    Tool out;
    ASSIGN_OR_RETURN(out.name, ReqString(fn, "name", Sub(path, "function.name")));
    ASSIGN_OR_RETURN(std::optional<std::string> desc,
                     OptString(fn, "description", Sub(path, "function.description")));
    out.description = desc.value_or("");
    element params;
    if (Has(fn, "parameters", &params)) {
      if (!params.is_object()) return Bad(Sub(path, "function.parameters"), "must be an object");
      out.parameters = simdjson::minify(params);
    }
    req->tools.push_back(std::move(out));
  }
  return absl::OkStatus();
}

absl::Status ParseToolChoice(object root, CanonicalRequest* req) {
  element e;
  if (!Has(root, "tool_choice", &e)) return absl::OkStatus();
  ToolChoice tc;
  std::string_view s;
  object o;
  if (!e.get_string().get(s)) {
    ASSIGN_OR_RETURN(tc.mode, internal::ToolChoiceMode(s));
  } else if (!e.get_object().get(o)) {
    object fn;
    element fe;
    if (!Has(o, "function", &fe) || fe.get_object().get(fn)) {
      return Bad("tool_choice.function", "must be an object");
    }
    tc.mode = ToolChoice::Mode::kSpecific;
    ASSIGN_OR_RETURN(tc.name, ReqString(fn, "name", "tool_choice.function.name"));
  } else {
    return Bad("tool_choice", "must be a string or an object");
  }
  req->tool_choice = tc;
  return absl::OkStatus();
}

absl::Status ParseResponseFormat(object root, CanonicalRequest* req) {
  element e;
  object rf;
  if (!Has(root, "response_format", &e)) return absl::OkStatus();
  if (e.get_object().get(rf)) return Bad("response_format", "must be an object");
  ASSIGN_OR_RETURN(std::string type, ReqString(rf, "type", "response_format.type"));
  ResponseFormat out;
  if (type == "text") {
    out.type = ResponseFormat::Type::kText;
  } else if (type == "json_object") {
    out.type = ResponseFormat::Type::kJsonObject;
  } else if (type == "json_schema") {
    out.type = ResponseFormat::Type::kJsonSchema;
    object js;
    element je;
    if (!Has(rf, "json_schema", &je) || je.get_object().get(js)) {
      return Bad("response_format.json_schema", "must be an object");
    }
    ASSIGN_OR_RETURN(out.name, ReqString(js, "name", "response_format.json_schema.name"));
    ASSIGN_OR_RETURN(std::optional<std::string> d,
                     OptString(js, "description", "response_format.json_schema.description"));
    out.description = d.value_or("");
    ASSIGN_OR_RETURN(out.strict, OptBool(js, "strict", "response_format.json_schema.strict"));
    element schema;
    if (Has(js, "schema", &schema)) {
      if (!schema.is_object())
        return Bad("response_format.json_schema.schema", "must be an object");
      out.schema = simdjson::minify(schema);
    }
  } else {
    return Bad("response_format.type", absl::StrCat("has unknown value '", AV(type), "'"));
  }
  req->response_format = std::move(out);
  return absl::OkStatus();
}

absl::Status ParseStop(object root, CanonicalRequest* req) {
  element stop;
  if (!Has(root, "stop", &stop)) return absl::OkStatus();
  std::string_view s;
  array sa;
  if (!stop.get_string().get(s)) {
    req->stop.emplace_back(s);
    return absl::OkStatus();
  }
  if (stop.get_array().get(sa)) return Bad("stop", "must be a string or an array of strings");
  for (element se : sa) {
    if (se.get_string().get(s)) return Bad("stop", "must be a string or an array of strings");
    req->stop.emplace_back(s);
  }
  return absl::OkStatus();
}

// ---- rendering ----

// Documents: Chat takes only inline file data ("file" part; OpenAI requires
// a filename beside it). A plain-text document becomes a text part, which is
// what OpenAI's file-inputs guide prescribes for text in Chat; a document by
// URL has no Chat form (no file_url) and is rejected.
absl::Status CheckDocuments(const std::vector<ContentPart>& parts, size_t index) {
  for (const ContentPart& p : parts) {
    if (p.kind == Kind::kDocument && p.data.empty() && !p.image_url.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "messages[", index,
          "]: a document given by URL cannot be sent to a Chat Completions upstream (it "
          "accepts only inline file data); send the document as base64 data"));
    }
  }
  return absl::OkStatus();
}

void RenderParts(W& w, const std::vector<ContentPart>& parts) {
  if (parts.size() == 1 && parts[0].kind == Kind::kText) {
    Str(w, parts[0].text);
    return;
  }
  w.StartArray();
  for (const ContentPart& p : parts) {
    w.StartObject();
    if (p.kind == Kind::kDocument && !p.data.empty()) {
      Str(w, "type"), Str(w, "file"), Str(w, "file");
      w.StartObject();
      Str(w, "filename"), Str(w, DocumentFilename(p));
      Str(w, "file_data"), Str(w, absl::StrCat("data:", AV(p.media_type), ";base64,", AV(p.data)));
      w.EndObject();
    } else if (p.kind == Kind::kImage) {
      Str(w, "type"), Str(w, "image_url"), Str(w, "image_url");
      w.StartObject();
      Str(w, "url");
      if (!p.image_url.empty()) {
        Str(w, p.image_url);
      } else {
        Str(w, absl::StrCat("data:", AV(p.media_type), ";base64,", AV(p.data)));
      }
      w.EndObject();
    } else {
      Str(w, "type"), Str(w, "text"), Str(w, "text"), Str(w, p.text);
    }
    w.EndObject();
  }
  w.EndArray();
}

absl::Status RenderMessage(W& w, const Message& m, size_t index) {
  if (m.role == Role::kSystem) {  // a mid-conversation system message, in place
    w.StartObject();
    Str(w, "role"), Str(w, "system"), Str(w, "content");
    RenderParts(w, m.content);
    w.EndObject();
    return absl::OkStatus();
  }
  if (m.role == Role::kUser) {
    RETURN_IF_ERROR(CheckDocuments(m.content, index));
    w.StartObject();
    Str(w, "role"), Str(w, "user"), Str(w, "content");
    RenderParts(w, m.content);
    w.EndObject();
    return absl::OkStatus();
  }
  if (m.role == Role::kTool) {
    for (const ContentPart& p : m.content) {
      for (const ContentPart& r : p.result) {
        if (r.kind != Kind::kText) {
          return absl::InvalidArgumentError(absl::StrCat(
              "messages[", index, "]: only text tool results can be sent to this upstream"));
        }
      }
      w.StartObject();
      Str(w, "role"), Str(w, "tool"), Str(w, "tool_call_id"), Str(w, p.tool_call_id);
      Str(w, "content");
      if (p.result.empty()) {
        Str(w, "");
      } else {
        RenderParts(w, p.result);
      }
      w.EndObject();
    }
    return absl::OkStatus();
  }
  // Assistant: thinking blocks have no Chat request field and are dropped.
  std::vector<ContentPart> texts;
  std::vector<const ContentPart*> calls;
  for (const ContentPart& p : m.content) {
    if (p.kind == Kind::kText) texts.push_back(p);
    if (p.kind == Kind::kToolCall) calls.push_back(&p);
  }
  w.StartObject();
  Str(w, "role"), Str(w, "assistant");
  if (!texts.empty() || calls.empty()) {
    Str(w, "content");
    if (texts.empty()) texts.push_back(ContentPart::Text(""));
    RenderParts(w, texts);
  }
  if (!calls.empty()) RenderToolCalls(w, calls);
  w.EndObject();
  return absl::OkStatus();
}

void RenderToolChoice(W& w, const ToolChoice& tc) {
  Str(w, "tool_choice");
  switch (tc.mode) {
    case ToolChoice::Mode::kAuto:
      return Str(w, "auto");
    case ToolChoice::Mode::kNone:
      return Str(w, "none");
    case ToolChoice::Mode::kRequired:
      return Str(w, "required");
    case ToolChoice::Mode::kSpecific:
      w.StartObject();
      Str(w, "type"), Str(w, "function"), Str(w, "function");
      w.StartObject();
      Str(w, "name"), Str(w, tc.name);
      w.EndObject();
      w.EndObject();
      return;
  }
}

void RenderResponseFormat(W& w, const ResponseFormat& rf) {
  Str(w, "response_format");
  w.StartObject();
  Str(w, "type");
  if (rf.type == ResponseFormat::Type::kText) Str(w, "text");
  if (rf.type == ResponseFormat::Type::kJsonObject) Str(w, "json_object");
  if (rf.type == ResponseFormat::Type::kJsonSchema) {
    Str(w, "json_schema"), Str(w, "json_schema");
    w.StartObject();
    // OpenAI requires a name; Anthropic has none to carry over.
    Str(w, "name"), Str(w, rf.name.empty() ? "response" : rf.name);
    if (!rf.description.empty()) Str(w, "description"), Str(w, rf.description);
    if (!rf.schema.empty()) Str(w, "schema"), Raw(w, rf.schema);
    if (rf.strict) Str(w, "strict"), w.Bool(*rf.strict);
    w.EndObject();
  }
  w.EndObject();
}

// Anthropic thinking budget -> nearest OpenAI reasoning_effort.
std::string EffortForBudget(int64_t budget) {
  if (budget <= 2048) return "low";
  if (budget <= 8192) return "medium";
  return "high";
}

}  // namespace

namespace internal {

// String-or-array content. Images and files are allowed in user messages only.
absl::StatusOr<std::vector<ContentPart>> ParseContent(element content, std::string_view path,
                                                      bool allow_images) {
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
    json::Path p_path = Idx(path, i++);
    object part;
    if (e.get_object().get(part)) return Bad(p_path, "must be an object");
    ASSIGN_OR_RETURN(std::string type, ReqString(part, "type", Sub(p_path, "type")));
    if (type == "text" || type == "refusal") {
      ASSIGN_OR_RETURN(std::string t, ReqString(part, type, Sub(p_path, type)));
      parts.push_back(ContentPart::Text(std::move(t)));
    } else if (type == "image_url" && allow_images) {
      ASSIGN_OR_RETURN(ContentPart img, ParseImage(part, p_path));
      parts.push_back(std::move(img));
    } else if (type == "file" && allow_images) {
      ASSIGN_OR_RETURN(ContentPart doc, ParseFile(part, p_path));
      parts.push_back(std::move(doc));
    } else {
      return Bad(Sub(p_path, "type"), absl::StrCat("'", AV(type), "' is not supported here"));
    }
  }
  return parts;
}

absl::StatusOr<ToolChoice::Mode> ToolChoiceMode(std::string_view value) {
  if (value == "auto") return ToolChoice::Mode::kAuto;
  if (value == "none") return ToolChoice::Mode::kNone;
  if (value == "required") return ToolChoice::Mode::kRequired;
  return Bad("tool_choice", absl::StrCat("has unknown value '", AV(value), "'"));
}

}  // namespace internal

absl::StatusOr<CanonicalRequest> ParseRequest(std::string_view json) {
  thread_local protocol::ScratchDomParser parser;
  ASSIGN_OR_RETURN(object root, ParseObject(parser, json, "request body"));
  CanonicalRequest req;
  ASSIGN_OR_RETURN(req.model, ReqString(root, "model", "model"));
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
  if (req.messages.empty()) return Bad("messages", "must contain a user or assistant message");
  RETURN_IF_ERROR(ParseTools(root, &req));
  RETURN_IF_ERROR(ParseToolChoice(root, &req));
  ASSIGN_OR_RETURN(req.parallel_tool_calls,
                   OptBool(root, "parallel_tool_calls", "parallel_tool_calls"));
  ASSIGN_OR_RETURN(req.max_tokens, OptInt(root, "max_completion_tokens", "max_completion_tokens"));
  if (!req.max_tokens) {
    ASSIGN_OR_RETURN(req.max_tokens, OptInt(root, "max_tokens", "max_tokens"));
  }
  ASSIGN_OR_RETURN(req.temperature, OptNumber(root, "temperature", "temperature"));
  ASSIGN_OR_RETURN(req.top_p, OptNumber(root, "top_p", "top_p"));
  ASSIGN_OR_RETURN(req.seed, OptInt(root, "seed", "seed"));
  ASSIGN_OR_RETURN(req.frequency_penalty,
                   OptNumber(root, "frequency_penalty", "frequency_penalty"));
  ASSIGN_OR_RETURN(req.presence_penalty, OptNumber(root, "presence_penalty", "presence_penalty"));
  RETURN_IF_ERROR(ParseStop(root, &req));
  ASSIGN_OR_RETURN(std::optional<bool> stream, OptBool(root, "stream", "stream"));
  req.stream = stream.value_or(false);
  RETURN_IF_ERROR(ParseResponseFormat(root, &req));
  ASSIGN_OR_RETURN(req.reasoning_effort, OptString(root, "reasoning_effort", "reasoning_effort"));
  element ws;
  if (Has(root, "web_search_options", &ws)) {
    if (!ws.is_object()) return Bad("web_search_options", "must be an object");
    req.web_search_options = simdjson::minify(ws);
  }
  RETURN_IF_ERROR(ValidateConversation(req));
  return req;
}

absl::StatusOr<std::string> RenderRequest(const CanonicalRequest& req,
                                          std::string_view upstream_model) {
  rapidjson::StringBuffer buf;
  W w(buf);
  w.StartObject();
  Str(w, "model"), Str(w, upstream_model);
  Str(w, "messages");
  w.StartArray();
  for (const std::string& s : req.system) {
    w.StartObject();
    Str(w, "role"), Str(w, "system"), Str(w, "content"), Str(w, s);
    w.EndObject();
  }
  for (size_t i = 0; i < req.messages.size(); ++i) {
    RETURN_IF_ERROR(RenderMessage(w, req.messages[i], i));
  }
  w.EndArray();
  if (!req.tools.empty()) {
    Str(w, "tools");
    w.StartArray();
    for (const Tool& t : req.tools) {
      w.StartObject();
      Str(w, "type"), Str(w, "function"), Str(w, "function");
      w.StartObject();
      Str(w, "name"), Str(w, t.name);
      if (!t.description.empty()) Str(w, "description"), Str(w, t.description);
      if (!t.parameters.empty()) Str(w, "parameters"), Raw(w, t.parameters);
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
  }
  if (req.tool_choice) RenderToolChoice(w, *req.tool_choice);
  if (req.parallel_tool_calls && !req.tools.empty()) {
    Str(w, "parallel_tool_calls"), w.Bool(*req.parallel_tool_calls);
  }
  if (req.max_tokens) Str(w, "max_completion_tokens"), w.Int64(*req.max_tokens);
  if (req.temperature) Str(w, "temperature"), w.Double(*req.temperature);
  if (req.top_p) Str(w, "top_p"), w.Double(*req.top_p);
  if (req.seed) Str(w, "seed"), w.Int64(*req.seed);
  if (req.frequency_penalty) Str(w, "frequency_penalty"), w.Double(*req.frequency_penalty);
  if (req.presence_penalty) Str(w, "presence_penalty"), w.Double(*req.presence_penalty);
  if (!req.stop.empty()) {
    Str(w, "stop");
    w.StartArray();
    for (const std::string& s : req.stop) Str(w, s);
    w.EndArray();
  }
  if (req.stream) {
    Str(w, "stream"), w.Bool(true);
    // A translated stream needs the upstream's usage (Messages message_delta,
    // Responses response.completed, Gemini usageMetadata report it).
    Str(w, "stream_options"), w.StartObject(), Str(w, "include_usage"), w.Bool(true), w.EndObject();
  }
  if (req.response_format) RenderResponseFormat(w, *req.response_format);
  if (req.web_search_options) Str(w, "web_search_options"), Raw(w, *req.web_search_options);
  if (req.reasoning_effort) {
    Str(w, "reasoning_effort");
    Str(w, *req.reasoning_effort == "max" ? "xhigh" : *req.reasoning_effort);
  } else if (req.thinking && req.thinking->mode == Thinking::Mode::kEnabled &&
             req.thinking->budget_tokens) {
    Str(w, "reasoning_effort"), Str(w, EffortForBudget(*req.thinking->budget_tokens));
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace bitrouter::protocol::chat
