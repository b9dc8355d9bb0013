// Responses requests (POST /v1/responses) <-> canonical form. Responses
// objects are in responses_response.cc, streams in responses_stream.cc.
//
// Decisions:
//  - The router keeps no state: previous_response_id, conversation,
//    background:true, prompt (stored prompts) and item_reference inputs are
//    rejected with InvalidArgument; store/include/metadata are ignored.
//  - instructions and system/developer input messages become canonical system
//    prompts (in order); rendering writes them back as one `instructions`.
//  - Tools and tool_choice: responses_tools.cc (namespace tools are
//    flattened, hosted tools dropped and reported).
//  - The members a Responses answer echoes are kept in
//    CanonicalRequest::responses_echo.
//  - Rendering to a Responses upstream sends store:false (nothing to look up
//    later), and function tools always carry `strict` (false unless the client
//    said), because the Responses API defaults to strict schemas that Chat and
//    Anthropic tool schemas rarely satisfy. Reasoning items are sent without
//    id and only when they carry encrypted_content (a signature or redacted
//    payload); thinking text alone cannot be replayed.
//  - Responses has no stop sequences: a request with them cannot be rendered.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <utility>

#include "absl/strings/escaping.h"
#include "shared/common/status_macros.h"
#include "shared/protocol/json_fields.h"
#include "shared/protocol/responses_adapter.h"
#include "shared/protocol/responses_internal.h"
#include "shared/protocol/scratch_parser.h"

namespace bitrouter::protocol::responses {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;
using W = json::Writer;
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

// ---- parsing ----

absl::StatusOr<ContentPart> ParseImage(object part, std::string_view path) {
  element fe;
  if (Has(part, "file_id", &fe)) {
    return Bad(Sub(path, "file_id"),
               "is not supported (uploaded files cannot be translated); send image_url");
  }
  ASSIGN_OR_RETURN(std::string url, ReqString(part, "image_url", Sub(path, "image_url")));
  ContentPart p;
  p.kind = Kind::kImage;
  if (url.rfind("data:", 0) != 0) {
    p.image_url = std::move(url);
    return p;
  }
  size_t comma = url.find(',');
  size_t marker = comma == std::string::npos ? comma : url.rfind(";base64", comma);
  if (comma == std::string::npos || marker == std::string::npos || marker + 7 != comma) {
    return Bad(Sub(path, "image_url"), "must be an http(s) URL or a base64 data URL");
  }
  p.media_type = url.substr(5, marker - 5);
  p.data = url.substr(comma + 1);
  return p;
}

// {"type":"input_file"} with file_data (a base64 data URL) or file_url, and
// an optional filename. Uploaded files (file_id) live in one OpenAI account
// and cannot travel; `detail` (PDF page-image resolution) is dropped.
absl::StatusOr<ContentPart> ParseInputFile(object part, std::string_view path) {
  element fe;
  if (Has(part, "file_id", &fe)) {
    return Bad(Sub(path, "file_id"),
               "is not supported (uploaded files cannot be translated); send file_data or "
               "file_url");
  }
  ContentPart p;
  p.kind = Kind::kDocument;
  ASSIGN_OR_RETURN(std::optional<std::string> data,
                   OptString(part, "file_data", Sub(path, "file_data")));
  ASSIGN_OR_RETURN(std::optional<std::string> url,
                   OptString(part, "file_url", Sub(path, "file_url")));
  if (data) {
    std::string_view d = *data;
    size_t comma = d.find(',');
    size_t marker = comma == std::string::npos ? comma : d.rfind(";base64", comma);
    if (d.rfind("data:", 0) != 0 || comma == std::string::npos || marker == std::string::npos ||
        marker + 7 != comma) {
      return Bad(Sub(path, "file_data"), "must be a base64 data URL (data:<type>;base64,...)");
    }
    p.media_type = std::string(d.substr(5, marker - 5));
    p.data = std::string(d.substr(comma + 1));
  } else if (url) {
    p.image_url = std::move(*url);
  } else {
    return Bad(path, "needs 'file_data' or 'file_url'");
  }
  ASSIGN_OR_RETURN(std::optional<std::string> name,
                   OptString(part, "filename", Sub(path, "filename")));
  p.name = name.value_or("");
  return p;
}

// Message content or function_call_output output: a string or an array of
// input_text / output_text / refusal / input_image / input_file parts (images
// and files in user content and tool outputs only).
absl::StatusOr<std::vector<ContentPart>> ParseParts(element content, std::string_view path,
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
    if (type == "input_text" || type == "output_text" || type == "text") {
      ASSIGN_OR_RETURN(std::string t, ReqString(part, "text", Sub(p_path, "text")));
      parts.push_back(ContentPart::Text(std::move(t)));
    } else if (type == "refusal") {
      ASSIGN_OR_RETURN(std::string t, ReqString(part, "refusal", Sub(p_path, "refusal")));
      parts.push_back(ContentPart::Text(std::move(t)));
    } else if (type == "input_image" && allow_images) {
      ASSIGN_OR_RETURN(ContentPart img, ParseImage(part, p_path));
      parts.push_back(std::move(img));
    } else if (type == "input_file" && allow_images) {
      ASSIGN_OR_RETURN(ContentPart doc, ParseInputFile(part, p_path));
      parts.push_back(std::move(doc));
    } else {
      return Bad(Sub(p_path, "type"), absl::StrCat("'", AV(type), "' is not supported here"));
    }
  }
  return parts;
}

// Appends `p` to the open message of `role`, opening one when the last
// message has another role.
void Append(CanonicalRequest* req, Role role, ContentPart p) {
  if (req->messages.empty() || req->messages.back().role != role)
    req->messages.push_back({role, {}});
  req->messages.back().content.push_back(std::move(p));
}

absl::Status ParseMessageItem(object item, std::string_view path, CanonicalRequest* req) {
  ASSIGN_OR_RETURN(std::string role, ReqString(item, "role", Sub(path, "role")));
  element content;
  json::Path c_path = Sub(path, "content");
  if (!Has(item, "content", &content)) return Bad(c_path, "is required");
  if (role == "system" || role == "developer") {
    ASSIGN_OR_RETURN(std::vector<ContentPart> parts, ParseParts(content, c_path, false));
    for (ContentPart& p : parts) req->system.push_back(std::move(p.text));
    return absl::OkStatus();
  }
  Role r;
  if (role == "user") {
    r = Role::kUser;
  } else if (role == "assistant") {
    r = Role::kAssistant;
  } else {
    return Bad(Sub(path, "role"), absl::StrCat("has unknown value '", AV(role), "'"));
  }
  ASSIGN_OR_RETURN(std::vector<ContentPart> parts, ParseParts(content, c_path, r == Role::kUser));
  if (parts.empty()) Append(req, r, ContentPart::Text(""));
  for (ContentPart& p : parts) Append(req, r, std::move(p));
  return absl::OkStatus();
}

absl::Status ParseItem(object item, std::string_view path, CanonicalRequest* req) {
  ASSIGN_OR_RETURN(std::optional<std::string> type, OptString(item, "type", Sub(path, "type")));
  if (!type || *type == "message") return ParseMessageItem(item, path, req);
  if (*type == "function_call") {
    ContentPart p;
    p.kind = Kind::kToolCall;
    ASSIGN_OR_RETURN(p.tool_call_id, ReqString(item, "call_id", Sub(path, "call_id")));
    ASSIGN_OR_RETURN(p.name, ReqString(item, "name", Sub(path, "name")));
    ASSIGN_OR_RETURN(std::optional<std::string> ns,
                     OptString(item, "namespace", Sub(path, "namespace")));
    if (ns) p.name = internal::RegisterNamespaced(*ns, p.name, &req->responses_echo);
    ASSIGN_OR_RETURN(std::optional<std::string> args,
                     OptString(item, "arguments", Sub(path, "arguments")));
    p.arguments = args && !args->empty() ? std::move(*args) : "{}";
    Append(req, Role::kAssistant, std::move(p));
    return absl::OkStatus();
  }
  if (*type == "custom_tool_call") {
    // A call of a custom tool: upstream it is a function call whose one
    // argument carries the free-form input.
    ContentPart p;
    p.kind = Kind::kToolCall;
    ASSIGN_OR_RETURN(p.tool_call_id, ReqString(item, "call_id", Sub(path, "call_id")));
    ASSIGN_OR_RETURN(p.name, ReqString(item, "name", Sub(path, "name")));
    ASSIGN_OR_RETURN(std::string input, ReqString(item, "input", Sub(path, "input")));
    p.arguments = internal::CustomArguments(input);
    if (!req->responses_echo.IsCustom(p.name)) req->responses_echo.custom_tools.push_back(p.name);
    Append(req, Role::kAssistant, std::move(p));
    return absl::OkStatus();
  }
  if (*type == "function_call_output" || *type == "custom_tool_call_output") {
    ContentPart p;
    p.kind = Kind::kToolResult;
    ASSIGN_OR_RETURN(p.tool_call_id, ReqString(item, "call_id", Sub(path, "call_id")));
    element out;
    if (!Has(item, "output", &out)) return Bad(Sub(path, "output"), "is required");
    ASSIGN_OR_RETURN(p.result, ParseParts(out, Sub(path, "output"), true));
    Append(req, Role::kTool, std::move(p));
    return absl::OkStatus();
  }
  if (*type == "reasoning") {
    ASSIGN_OR_RETURN(std::optional<ContentPart> p, internal::ParseReasoning(item, path));
    if (p) Append(req, Role::kAssistant, std::move(*p));
    return absl::OkStatus();
  }
  if (*type == "item_reference") {
    return Bad(Sub(path, "type"),
               "'item_reference' is not supported: the router stores no items; send the items");
  }
  return Bad(Sub(path, "type"), absl::StrCat("'", AV(*type), "' is not supported"));
}

absl::Status ParseTextFormat(object root, CanonicalRequest* req) {
  element e, fe;
  object text, fmt;
  if (!Has(root, "text", &e)) return absl::OkStatus();
  if (e.get_object().get(text)) return Bad("text", "must be an object");
  if (!Has(text, "format", &fe)) return absl::OkStatus();
  if (fe.get_object().get(fmt)) return Bad("text.format", "must be an object");
  ASSIGN_OR_RETURN(std::string type, ReqString(fmt, "type", "text.format.type"));
  ResponseFormat rf;
  if (type == "text") {
    rf.type = ResponseFormat::Type::kText;
  } else if (type == "json_object") {
    rf.type = ResponseFormat::Type::kJsonObject;
  } else if (type == "json_schema") {
    rf.type = ResponseFormat::Type::kJsonSchema;
    ASSIGN_OR_RETURN(rf.name, ReqString(fmt, "name", "text.format.name"));
    ASSIGN_OR_RETURN(std::optional<std::string> d,
                     OptString(fmt, "description", "text.format.description"));
    rf.description = d.value_or("");
    ASSIGN_OR_RETURN(rf.strict, OptBool(fmt, "strict", "text.format.strict"));
    element schema;
    if (!Has(fmt, "schema", &schema) || !schema.is_object()) {
      return Bad("text.format.schema", "must be an object");
    }
    rf.schema = simdjson::minify(schema);
  } else {
    return Bad("text.format.type", absl::StrCat("has unknown value '", AV(type), "'"));
  }
  req->response_format = std::move(rf);
  return absl::OkStatus();
}

absl::Status RejectStateful(object root) {
  element e;
  if (Has(root, "previous_response_id", &e)) {
    return Bad("previous_response_id",
               "is not supported: the router keeps no response state; send the full "
               "conversation in 'input'");
  }
  if (Has(root, "conversation", &e)) {
    return Bad("conversation", "is not supported: the router keeps no conversation state");
  }
  if (Has(root, "prompt", &e)) return Bad("prompt", "(stored prompt templates) is not supported");
  ASSIGN_OR_RETURN(std::optional<bool> background, OptBool(root, "background", "background"));
  if (background.value_or(false)) return Bad("background", "is not supported");
  return absl::OkStatus();
}

// ---- rendering ----

void RenderUserParts(W& w, const std::vector<ContentPart>& parts) {
  if (parts.size() == 1 && parts[0].kind == Kind::kText) {
    Str(w, parts[0].text);
    return;
  }
  w.StartArray();
  for (const ContentPart& p : parts) {
    w.StartObject();
    if (p.kind == Kind::kDocument) {
      // OpenAI requires a filename beside file_data. A plain-text document
      // travels as a text/plain file (Responses reads .txt files), keeping
      // it a document rather than loose prompt text.
      Str(w, "type"), Str(w, "input_file");
      if (!p.image_url.empty()) {
        Str(w, "file_url"), Str(w, p.image_url);
        if (!p.name.empty()) Str(w, "filename"), Str(w, p.name);
      } else {
        Str(w, "filename"), Str(w, DocumentFilename(p)), Str(w, "file_data");
        if (p.data.empty()) {
          Str(w, absl::StrCat("data:text/plain;base64,", absl::Base64Escape(AV(p.text))));
        } else {
          Str(w, absl::StrCat("data:", AV(p.media_type), ";base64,", AV(p.data)));
        }
      }
    } else if (p.kind == Kind::kImage) {
      Str(w, "type"), Str(w, "input_image"), Str(w, "image_url");
      if (!p.image_url.empty()) {
        Str(w, p.image_url);
      } else {
        Str(w, absl::StrCat("data:", AV(p.media_type), ";base64,", AV(p.data)));
      }
    } else {
      Str(w, "type"), Str(w, "input_text"), Str(w, "text"), Str(w, p.text);
    }
    w.EndObject();
  }
  w.EndArray();
}

void RenderReasoning(W& w, const ContentPart& p) {
  w.StartObject();
  Str(w, "type"), Str(w, "reasoning"), Str(w, "summary");
  w.StartArray();
  if (p.kind == Kind::kThinking && !p.text.empty()) {
    w.StartObject();
    Str(w, "type"), Str(w, "summary_text"), Str(w, "text"), Str(w, p.text);
    w.EndObject();
  }
  w.EndArray();
  Str(w, "encrypted_content"), Str(w, p.kind == Kind::kThinking ? p.signature : p.data);
  w.EndObject();
}

void RenderMessage(W& w, const Message& m) {
  if (m.role == Role::kUser || m.role == Role::kSystem) {  // system: in place
    w.StartObject();
    Str(w, "role"), Str(w, m.role == Role::kUser ? "user" : "system"), Str(w, "content");
    RenderUserParts(w, m.content);
    w.EndObject();
    return;
  }
  for (const ContentPart& p : m.content) {
    switch (p.kind) {
      case Kind::kToolResult:
        w.StartObject();
        Str(w, "type"), Str(w, "function_call_output"), Str(w, "call_id"), Str(w, p.tool_call_id);
        Str(w, "output");
        if (p.result.empty()) {
          Str(w, "");
        } else {
          RenderUserParts(w, p.result);
        }
        w.EndObject();
        break;
      case Kind::kToolCall:
        w.StartObject();
        Str(w, "type"), Str(w, "function_call"), Str(w, "call_id"), Str(w, p.tool_call_id);
        Str(w, "name"), Str(w, p.name), Str(w, "arguments"), Str(w, p.arguments);
        w.EndObject();
        break;
      case Kind::kThinking:
        if (!p.signature.empty()) RenderReasoning(w, p);
        break;
      case Kind::kRedactedThinking:
        RenderReasoning(w, p);
        break;
      case Kind::kText:
        if (m.role != Role::kAssistant) break;
        w.StartObject();
        Str(w, "role"), Str(w, "assistant"), Str(w, "content"), Str(w, p.text);
        w.EndObject();
        break;
      case Kind::kImage:
      case Kind::kDocument:
        break;
    }
  }
}

// Anthropic thinking budget -> nearest OpenAI reasoning effort.
std::string EffortForBudget(int64_t budget) {
  if (budget <= 2048) return "low";
  if (budget <= 8192) return "medium";
  return "high";
}

void RenderReasoningConfig(W& w, const CanonicalRequest& req) {
  std::optional<std::string> effort = req.reasoning_effort;
  if (effort && *effort == "max") effort = "xhigh";
  bool thinking = req.thinking && req.thinking->mode != Thinking::Mode::kDisabled;
  if (!effort && thinking && req.thinking->budget_tokens) {
    effort = EffortForBudget(*req.thinking->budget_tokens);
  }
  std::optional<std::string> summary = req.reasoning_summary;
  if (!summary && thinking) summary = "auto";
  if (!effort && !summary) return;
  Str(w, "reasoning");
  w.StartObject();
  if (effort) Str(w, "effort"), Str(w, *effort);
  if (summary) Str(w, "summary"), Str(w, *summary);
  w.EndObject();
  // Stateless: reasoning continuity needs the encrypted reasoning back.
  Str(w, "include");
  w.StartArray();
  Str(w, "reasoning.encrypted_content");
  w.EndArray();
}

void RenderTextFormat(W& w, const ResponseFormat& rf) {
  Str(w, "text");
  w.StartObject();
  Str(w, "format");
  w.StartObject();
  Str(w, "type");
  if (rf.type == ResponseFormat::Type::kText) Str(w, "text");
  if (rf.type == ResponseFormat::Type::kJsonObject) Str(w, "json_object");
  if (rf.type == ResponseFormat::Type::kJsonSchema) {
    Str(w, "json_schema");
    Str(w, "name"), Str(w, rf.name.empty() ? "response" : rf.name);
    if (!rf.description.empty()) Str(w, "description"), Str(w, rf.description);
    Str(w, "schema"), Raw(w, rf.schema.empty() ? R"({"type":"object"})" : rf.schema);
    if (rf.strict) Str(w, "strict"), w.Bool(*rf.strict);
  }
  w.EndObject();
  w.EndObject();
}

}  // namespace

absl::StatusOr<CanonicalRequest> ParseRequest(std::string_view json) {
  thread_local protocol::ScratchDomParser parser;
  ASSIGN_OR_RETURN(object root, ParseObject(parser, json, "request body"));
  CanonicalRequest req;
  ASSIGN_OR_RETURN(req.model, ReqString(root, "model", "model"));
  RETURN_IF_ERROR(RejectStateful(root));
  ASSIGN_OR_RETURN(std::optional<std::string> instructions,
                   OptString(root, "instructions", "instructions"));
  if (instructions && !instructions->empty()) req.system.push_back(std::move(*instructions));
  element input;
  if (!Has(root, "input", &input)) return Bad("input", "is required");
  std::string_view text;
  array items;
  if (!input.get_string().get(text)) {
    req.messages.push_back({Role::kUser, {ContentPart::Text(std::string(text))}});
  } else if (!input.get_array().get(items)) {
    size_t i = 0;
    for (element e : items) {
      json::Path path = Idx("input", i++);
      object item;
      if (e.get_object().get(item)) return Bad(path, "must be an object");
      RETURN_IF_ERROR(ParseItem(item, path, &req));
    }
  } else {
    return Bad("input", "must be a string or an array");
  }
  if (req.messages.empty()) return Bad("input", "must contain a user or assistant message");
  RETURN_IF_ERROR(internal::ParseTools(root, &req));
  RETURN_IF_ERROR(internal::ParseToolChoice(root, &req));
  internal::CollectEcho(root, &req.responses_echo);
  ASSIGN_OR_RETURN(req.parallel_tool_calls,
                   OptBool(root, "parallel_tool_calls", "parallel_tool_calls"));
  ASSIGN_OR_RETURN(req.max_tokens, OptInt(root, "max_output_tokens", "max_output_tokens"));
  ASSIGN_OR_RETURN(req.temperature, OptNumber(root, "temperature", "temperature"));
  ASSIGN_OR_RETURN(req.top_p, OptNumber(root, "top_p", "top_p"));
  ASSIGN_OR_RETURN(std::optional<bool> stream, OptBool(root, "stream", "stream"));
  req.stream = stream.value_or(false);
  RETURN_IF_ERROR(ParseTextFormat(root, &req));
  element re;
  object reasoning;
  if (Has(root, "reasoning", &re)) {
    if (re.get_object().get(reasoning)) return Bad("reasoning", "must be an object");
    ASSIGN_OR_RETURN(req.reasoning_effort, OptString(reasoning, "effort", "reasoning.effort"));
    ASSIGN_OR_RETURN(req.reasoning_summary, OptString(reasoning, "summary", "reasoning.summary"));
    if (!req.reasoning_summary) {
      // Deprecated spelling.
      ASSIGN_OR_RETURN(req.reasoning_summary,
                       OptString(reasoning, "generate_summary", "reasoning.generate_summary"));
    }
  }
  RETURN_IF_ERROR(ValidateConversation(req));
  return req;
}

absl::StatusOr<std::string> RenderRequest(const CanonicalRequest& req,
                                          std::string_view upstream_model) {
  RETURN_IF_ERROR(RejectWebSearchOptions(req, "OpenAI Responses API"));
  if (!req.stop.empty()) {
    return absl::InvalidArgumentError(
        "stop sequences are not supported by this upstream (OpenAI Responses API)");
  }
  rapidjson::StringBuffer buf;
  W w(buf);
  w.StartObject();
  Str(w, "model"), Str(w, upstream_model);
  if (!req.system.empty()) {
    std::string instructions;
    for (size_t i = 0; i < req.system.size(); ++i) {
      if (i > 0) instructions += "\n\n";
      instructions += req.system[i];
    }
    Str(w, "instructions"), Str(w, instructions);
  }
  Str(w, "input");
  w.StartArray();
  for (const Message& m : req.messages) RenderMessage(w, m);
  w.EndArray();
  if (!req.tools.empty()) {
    Str(w, "tools");
    w.StartArray();
    for (const Tool& t : req.tools) {
      w.StartObject();
      Str(w, "type"), Str(w, "function"), Str(w, "name"), Str(w, t.name);
      if (!t.description.empty()) Str(w, "description"), Str(w, t.description);
      Str(w, "parameters"), Raw(w, t.parameters.empty() ? R"({"type":"object"})" : t.parameters);
      Str(w, "strict"), w.Bool(t.strict.value_or(false));
      w.EndObject();
    }
    w.EndArray();
  }
  if (req.tool_choice) {
    Str(w, "tool_choice");
    switch (req.tool_choice->mode) {
      case ToolChoice::Mode::kAuto:
        Str(w, "auto");
        break;
      case ToolChoice::Mode::kNone:
        Str(w, "none");
        break;
      case ToolChoice::Mode::kRequired:
        Str(w, "required");
        break;
      case ToolChoice::Mode::kSpecific:
        w.StartObject();
        Str(w, "type"), Str(w, "function"), Str(w, "name"), Str(w, req.tool_choice->name);
        w.EndObject();
        break;
    }
  }
  if (req.parallel_tool_calls && !req.tools.empty()) {
    Str(w, "parallel_tool_calls"), w.Bool(*req.parallel_tool_calls);
  }
  if (req.max_tokens) Str(w, "max_output_tokens"), w.Int64(*req.max_tokens);
  if (req.temperature) Str(w, "temperature"), w.Double(*req.temperature);
  if (req.top_p) Str(w, "top_p"), w.Double(*req.top_p);
  if (req.stream) Str(w, "stream"), w.Bool(true);
  if (req.response_format) RenderTextFormat(w, *req.response_format);
  RenderReasoningConfig(w, req);
  Str(w, "store"), w.Bool(false);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace bitrouter::protocol::responses
