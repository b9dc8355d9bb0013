// Gemini GenerateContentRequest <-> canonical request. The model and the
// streaming flag live in the URL path (models/{model}:generateContent or
// :streamGenerateContent), so ParseRequest leaves model empty and stream
// false, and RenderRequest writes neither.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <utility>

#include "shared/common/status_macros.h"
#include "shared/protocol/gemini_adapter.h"
#include "shared/protocol/gemini_internal.h"
#include "shared/protocol/json_fields.h"

namespace bitrouter::protocol::gemini {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;
using W = internal::W;
using Kind = ContentPart::Kind;
using internal::Key;
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

struct Call {
  std::string id;
  std::string name;
  bool answered = false;
};

struct ParseState {
  CanonicalRequest* req;
  std::vector<Call> calls;  // every functionCall so far, in order
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Gemini's Schema (OpenAPI subset) spells types in upper case ("OBJECT");
// JSON Schema consumers need "object". Copies `e` lowering such type names.
void WriteSchema(W& w, element e) {
  object o;
  array a;
  if (!e.get_object().get(o)) {
    static constexpr std::string_view kTypes[] = {"STRING", "NUMBER", "INTEGER", "BOOLEAN",
                                                  "ARRAY",  "OBJECT", "NULL"};
    w.StartObject();
    for (auto field : o) {
      Str(w, field.key);
      std::string_view s;
      if (field.key == "type" && !field.value.get_string().get(s) &&
          std::find(std::begin(kTypes), std::end(kTypes), s) != std::end(kTypes)) {
        Str(w, Lower(s));
      } else {
        WriteSchema(w, field.value);
      }
    }
    w.EndObject();
  } else if (!e.get_array().get(a)) {
    w.StartArray();
    for (element v : a) WriteSchema(w, v);
    w.EndArray();
  } else {
    Raw(w, simdjson::minify(e));
  }
}

std::string SchemaText(element e) {
  rapidjson::StringBuffer buf;
  W w(buf);
  WriteSchema(w, e);
  return std::string(buf.GetString(), buf.GetSize());
}

// An image/* MIME type from a URL's extension ("" when unknown).
std::string MimeFromUrl(std::string_view url) {
  size_t end = url.find_first_of("?#");
  std::string_view path = url.substr(0, end);
  size_t dot = path.rfind('.');
  if (dot == std::string_view::npos) return "";
  std::string ext = Lower(path.substr(dot + 1));
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gif") return "image/gif";
  if (ext == "webp") return "image/webp";
  if (ext == "heic") return "image/heic";
  if (ext == "heif") return "image/heif";
  return "";
}

bool IsImage(std::string_view mime) { return mime.rfind("image/", 0) == 0; }

// functionResponse.response -> canonical result text: {"result": "..."} (or
// "output") unwraps to its text, {"error": "..."} to an error result, any
// other object stays JSON text.
void ParseToolResponse(element response, ContentPart* p) {
  object o;
  if (response.get_object().get(o)) return;
  if (o.size() == 1) {
    for (auto field : o) {
      std::string_view s;
      if (field.value.get_string().get(s)) break;
      if (field.key == "result" || field.key == "output" || field.key == "error") {
        p->is_error = field.key == "error";
        p->result.push_back(ContentPart::Text(std::string(s)));
        return;
      }
    }
  }
  p->result.push_back(ContentPart::Text(std::string(simdjson::minify(response))));
}

absl::StatusOr<ContentPart> ParseFunctionResponse(element e, std::string_view path,
                                                  ParseState* st) {
  object fr;
  if (e.get_object().get(fr)) return Bad(path, "must be an object");
  ContentPart p;
  p.kind = Kind::kToolResult;
  ASSIGN_OR_RETURN(std::string name, ReqString(fr, "name", Sub(path, "name")));
  ASSIGN_OR_RETURN(std::optional<std::string> id, OptString(fr, "id", Sub(path, "id")));
  // By id when the call had one; otherwise the first unanswered call of
  // that name (Gemini matches responses to calls by name and order).
  Call* match = nullptr;
  for (Call& c : st->calls) {
    if (!match && id && !id->empty() && c.id == *id && !c.answered) match = &c;
  }
  for (Call& c : st->calls) {
    if (!match && c.name == name && !c.answered) match = &c;
  }
  if (!match) {
    return Bad(path, absl::StrCat("answers '", AV(name),
                                  "' but no unanswered functionCall of that name (or id) "
                                  "precedes it in a model turn"));
  }
  match->answered = true;
  p.tool_call_id = match->id;
  element resp;
  if (Has(fr, "response", &resp)) {
    if (!resp.is_object()) return Bad(Sub(path, "response"), "must be an object");
    ParseToolResponse(resp, &p);
  }
  element parts;
  if (Has(fr, "parts", &parts)) return Bad(Sub(path, "parts"), "is not supported");
  return p;
}

absl::StatusOr<ContentPart> ParseInline(element e, std::string_view path) {
  object o;
  if (e.get_object().get(o)) return Bad(path, "must be an object");
  std::string mk = Key(o, "mimeType");
  ContentPart p;
  p.kind = Kind::kImage;
  ASSIGN_OR_RETURN(p.media_type, ReqString(o, mk, Sub(path, mk)));
  if (!IsImage(p.media_type)) {
    return Bad(Sub(path, mk),
               absl::StrCat("'", AV(p.media_type), "' is not supported (images only)"));
  }
  ASSIGN_OR_RETURN(p.data, ReqString(o, "data", Sub(path, "data")));
  return p;
}

absl::StatusOr<ContentPart> ParseFileData(element e, std::string_view path) {
  object o;
  if (e.get_object().get(o)) return Bad(path, "must be an object");
  std::string uk = Key(o, "fileUri");
  std::string mk = Key(o, "mimeType");
  ContentPart p;
  p.kind = Kind::kImage;
  ASSIGN_OR_RETURN(p.image_url, ReqString(o, uk, Sub(path, uk)));
  ASSIGN_OR_RETURN(std::optional<std::string> mime, OptString(o, mk, Sub(path, mk)));
  std::string m = mime ? *mime : MimeFromUrl(p.image_url);
  if (!IsImage(m)) {
    return Bad(path, absl::StrCat("'", AV(m.empty() ? std::string("unknown type") : m),
                                  "' is not supported (image URLs only)"));
  }
  return p;
}

absl::Status ParseUserPart(object part, std::string_view path, ParseState* st,
                           std::vector<ContentPart>* out) {
  element e;
  if (Has(part, "text", &e)) {
    ASSIGN_OR_RETURN(std::string text, ReqString(part, "text", Sub(path, "text")));
    out->push_back(ContentPart::Text(std::move(text)));
    return absl::OkStatus();
  }
  std::string k = Key(part, "inlineData");
  if (Has(part, k, &e)) {
    ASSIGN_OR_RETURN(ContentPart p, ParseInline(e, Sub(path, k)));
    out->push_back(std::move(p));
    return absl::OkStatus();
  }
  k = Key(part, "fileData");
  if (Has(part, k, &e)) {
    ASSIGN_OR_RETURN(ContentPart p, ParseFileData(e, Sub(path, k)));
    out->push_back(std::move(p));
    return absl::OkStatus();
  }
  k = Key(part, "functionResponse");
  if (Has(part, k, &e)) {
    ASSIGN_OR_RETURN(ContentPart p, ParseFunctionResponse(e, Sub(path, k), st));
    out->push_back(std::move(p));
    return absl::OkStatus();
  }
  for (auto field : part) {
    return Bad(Sub(path, field.key), "is not supported in a user turn");
  }
  return Bad(path, "must have a text, inlineData, fileData or functionResponse field");
}

absl::Status ParseContent(object c, std::string_view path, ParseState* st) {
  ASSIGN_OR_RETURN(std::optional<std::string> role, OptString(c, "role", Sub(path, "role")));
  std::string r = role.value_or("user");
  if (r != "user" && r != "model" && r != "function") {
    return Bad(Sub(path, "role"), absl::StrCat("has unknown value '", AV(r), "'"));
  }
  element pe;
  array parts;
  if (!Has(c, "parts", &pe) || pe.get_array().get(parts)) {
    return Bad(Sub(path, "parts"), "must be an array");
  }
  std::vector<ContentPart> out;
  size_t i = 0;
  for (element e : parts) {
    std::string p_path = Idx(Sub(path, "parts"), i++);
    object part;
    if (e.get_object().get(part)) return Bad(p_path, "must be an object");
    if (r == "model") {
      size_t before = out.size();
      size_t n = st->calls.size();
      RETURN_IF_ERROR(internal::ParseModelPart(part, p_path, "", &n, &out));
      for (size_t j = before; j < out.size(); ++j) {
        if (out[j].kind == Kind::kToolCall) st->calls.push_back({out[j].tool_call_id, out[j].name});
      }
    } else {
      RETURN_IF_ERROR(ParseUserPart(part, p_path, st, &out));
    }
  }
  CanonicalRequest* req = st->req;
  if (r == "model") {
    req->messages.push_back(Message{Role::kAssistant, std::move(out)});
    return absl::OkStatus();
  }
  // Function responses become kTool messages; text and images kUser ones.
  for (ContentPart& p : out) {
    Role role_of = p.kind == Kind::kToolResult ? Role::kTool : Role::kUser;
    if (req->messages.empty() || req->messages.back().role != role_of || &p == &out.front()) {
      req->messages.push_back({role_of, {}});
    }
    req->messages.back().content.push_back(std::move(p));
  }
  return absl::OkStatus();
}

absl::Status ParseSystem(element e, std::string_view path, CanonicalRequest* req) {
  std::string_view s;
  if (!e.get_string().get(s)) {
    req->system.emplace_back(s);
    return absl::OkStatus();
  }
  object o;
  array parts;
  element pe;
  if (e.get_object().get(o)) return Bad(path, "must be an object");
  if (!Has(o, "parts", &pe) || pe.get_array().get(parts)) {
    return Bad(Sub(path, "parts"), "must be an array");
  }
  size_t i = 0;
  for (element p : parts) {
    std::string p_path = Idx(Sub(path, "parts"), i++);
    object part;
    if (p.get_object().get(part)) return Bad(p_path, "must be an object");
    ASSIGN_OR_RETURN(std::string text, ReqString(part, "text", Sub(p_path, "text")));
    req->system.push_back(std::move(text));
  }
  return absl::OkStatus();
}

absl::Status ParseTools(object root, CanonicalRequest* req) {
  element e;
  if (!Has(root, "tools", &e)) return absl::OkStatus();
  array tools;
  if (e.get_array().get(tools)) return Bad("tools", "must be an array");
  size_t i = 0;
  for (element t : tools) {
    std::string path = Idx("tools", i++);
    object tool;
    if (t.get_object().get(tool)) return Bad(path, "must be an object");
    for (auto field : tool) {
      if (field.key != "functionDeclarations" && field.key != "function_declarations") {
        return Bad(Sub(path, field.key), "is not supported (only functionDeclarations tools are)");
      }
    }
    std::string k = Key(tool, "functionDeclarations");
    element de;
    if (!Has(tool, k, &de)) continue;
    array decls;
    if (de.get_array().get(decls)) return Bad(Sub(path, k), "must be an array");
    size_t j = 0;
    for (element d : decls) {
      std::string d_path = Idx(Sub(path, k), j++);
      object decl;
      if (d.get_object().get(decl)) return Bad(d_path, "must be an object");
      Tool out;
      ASSIGN_OR_RETURN(out.name, ReqString(decl, "name", Sub(d_path, "name")));
      ASSIGN_OR_RETURN(std::optional<std::string> desc,
                       OptString(decl, "description", Sub(d_path, "description")));
      out.description = desc.value_or("");
      element params;
      std::string pk = Key(decl, "parametersJsonSchema");
      if (Has(decl, pk, &params)) {
        if (!params.is_object()) return Bad(Sub(d_path, pk), "must be an object");
        out.parameters = simdjson::minify(params);
      } else if (Has(decl, "parameters", &params)) {
        if (!params.is_object()) return Bad(Sub(d_path, "parameters"), "must be an object");
        out.parameters = SchemaText(params);
      }
      req->tools.push_back(std::move(out));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseToolConfig(object root, CanonicalRequest* req) {
  std::string k = Key(root, "toolConfig");
  element e;
  object tc, fcc;
  if (!Has(root, k, &e)) return absl::OkStatus();
  if (e.get_object().get(tc)) return Bad(k, "must be an object");
  std::string fk = Key(tc, "functionCallingConfig");
  std::string path = Sub(k, fk);
  if (!Has(tc, fk, &e)) return absl::OkStatus();
  if (e.get_object().get(fcc)) return Bad(path, "must be an object");
  ASSIGN_OR_RETURN(std::optional<std::string> mode, OptString(fcc, "mode", Sub(path, "mode")));
  std::vector<std::string> allowed;
  std::string ak = Key(fcc, "allowedFunctionNames");
  if (Has(fcc, ak, &e)) {
    array names;
    if (e.get_array().get(names)) return Bad(Sub(path, ak), "must be an array of strings");
    for (element n : names) {
      std::string_view s;
      if (n.get_string().get(s)) return Bad(Sub(path, ak), "must be an array of strings");
      allowed.emplace_back(s);
    }
  }
  std::string m = mode.value_or("MODE_UNSPECIFIED");
  ToolChoice choice;
  if (m == "AUTO" || m == "MODE_UNSPECIFIED" || m == "VALIDATED") {
    choice.mode = ToolChoice::Mode::kAuto;
  } else if (m == "NONE") {
    choice.mode = ToolChoice::Mode::kNone;
  } else if (m == "ANY") {
    // One allowed name forces that function; several only narrow the choice,
    // which the canonical form cannot express: any function then.
    choice.mode = allowed.size() == 1 ? ToolChoice::Mode::kSpecific : ToolChoice::Mode::kRequired;
    if (allowed.size() == 1) choice.name = allowed[0];
  } else {
    return Bad(Sub(path, "mode"), absl::StrCat("has unknown value '", AV(m), "'"));
  }
  req->tool_choice = choice;
  return absl::OkStatus();
}

absl::Status ParseThinkingConfig(object gc, std::string_view gc_path, CanonicalRequest* req) {
  std::string k = Key(gc, "thinkingConfig");
  element e;
  object tc;
  if (!Has(gc, k, &e)) return absl::OkStatus();
  std::string path = Sub(gc_path, k);
  if (e.get_object().get(tc)) return Bad(path, "must be an object");
  std::string bk = Key(tc, "thinkingBudget");
  ASSIGN_OR_RETURN(std::optional<int64_t> budget, OptInt(tc, bk, Sub(path, bk)));
  if (budget) {
    // 0 turns thinking off, -1 lets the model decide.
    Thinking t;
    if (*budget == 0) {
      t.mode = Thinking::Mode::kDisabled;
    } else if (*budget < 0) {
      t.mode = Thinking::Mode::kAdaptive;
    } else {
      t.mode = Thinking::Mode::kEnabled;
      t.budget_tokens = *budget;
    }
    req->thinking = t;
  }
  std::string lk = Key(tc, "thinkingLevel");
  ASSIGN_OR_RETURN(std::optional<std::string> level, OptString(tc, lk, Sub(path, lk)));
  if (level && *level != "THINKING_LEVEL_UNSPECIFIED") req->reasoning_effort = Lower(*level);
  std::string ik = Key(tc, "includeThoughts");
  ASSIGN_OR_RETURN(std::optional<bool> include, OptBool(tc, ik, Sub(path, ik)));
  (void)include;  // no canonical field: thoughts are always passed through
  return absl::OkStatus();
}

absl::Status ParseGenerationConfig(object root, CanonicalRequest* req) {
  std::string path = Key(root, "generationConfig");
  element e;
  object gc;
  if (!Has(root, path, &e)) return absl::OkStatus();
  if (e.get_object().get(gc)) return Bad(path, "must be an object");
  auto key = [&](std::string_view camel) {
    std::string k = Key(gc, camel);
    return std::make_pair(k, Sub(path, k));
  };
  auto [mk, mp] = key("maxOutputTokens");
  ASSIGN_OR_RETURN(req->max_tokens, OptInt(gc, mk, mp));
  ASSIGN_OR_RETURN(req->temperature, OptNumber(gc, "temperature", Sub(path, "temperature")));
  auto [tk, tp] = key("topP");
  ASSIGN_OR_RETURN(req->top_p, OptNumber(gc, tk, tp));
  auto [ck, cp] = key("candidateCount");
  ASSIGN_OR_RETURN(std::optional<int64_t> candidates, OptInt(gc, ck, cp));
  if (candidates && *candidates != 1) return Bad(cp, "must be 1 (one candidate is supported)");
  auto [sk, sp] = key("stopSequences");
  if (Has(gc, sk, &e)) {
    array stops;
    if (e.get_array().get(stops)) return Bad(sp, "must be an array of strings");
    for (element s : stops) {
      std::string_view v;
      if (s.get_string().get(v)) return Bad(sp, "must be an array of strings");
      req->stop.emplace_back(v);
    }
  }
  auto [rk, rp] = key("responseMimeType");
  ASSIGN_OR_RETURN(std::optional<std::string> mime, OptString(gc, rk, rp));
  element schema;
  auto [jk, jp] = key("responseJsonSchema");
  auto [ok, op] = key("responseSchema");
  bool has_json_schema = Has(gc, jk, &schema);
  bool has_schema = has_json_schema || Has(gc, ok, &schema);
  if (has_schema && !schema.is_object()) return Bad(has_json_schema ? jp : op, "must be an object");
  if (mime && *mime != "application/json" && *mime != "text/plain") {
    return Bad(rp, absl::StrCat("'", AV(*mime), "' is not supported"));
  }
  if (has_schema || (mime && *mime == "application/json")) {
    ResponseFormat rf;
    rf.type = has_schema ? ResponseFormat::Type::kJsonSchema : ResponseFormat::Type::kJsonObject;
    if (has_schema) {
      rf.schema = has_json_schema ? std::string(simdjson::minify(schema)) : SchemaText(schema);
    }
    req->response_format = std::move(rf);
  } else if (mime) {
    req->response_format = ResponseFormat{};
  }
  return ParseThinkingConfig(gc, path, req);
}

// ---- rendering ----

absl::Status WriteUserPart(W& w, const ContentPart& p) {
  w.StartObject();
  if (p.kind == Kind::kImage && p.image_url.empty()) {
    Str(w, "inlineData");
    w.StartObject();
    Str(w, "mimeType"), Str(w, p.media_type), Str(w, "data"), Str(w, p.data);
    w.EndObject();
  } else if (p.kind == Kind::kImage) {
    Str(w, "fileData");
    w.StartObject();
    std::string mime = MimeFromUrl(p.image_url);
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
  thread_local simdjson::dom::parser parser;
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
    for (; i < messages.size() && (messages[i].role == Role::kAssistant) == model; ++i) {
      for (const ContentPart& p : messages[i].content) {
        parts.push_back(&p);
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
      for (const ContentPart* p : parts) {
        if (p->kind == Kind::kToolResult) {
          RETURN_IF_ERROR(WriteToolResult(pw, *p, names));
        } else if (p->kind == Kind::kImage || (p->kind == Kind::kText && !p->text.empty())) {
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
  bool any = req.max_tokens || req.temperature || req.top_p || !req.stop.empty() || json ||
             req.thinking || req.reasoning_effort;
  if (!any) return;
  Str(w, "generationConfig");
  w.StartObject();
  if (req.max_tokens) Str(w, "maxOutputTokens"), w.Int64(*req.max_tokens);
  if (req.temperature) Str(w, "temperature"), w.Double(*req.temperature);
  if (req.top_p) Str(w, "topP"), w.Double(*req.top_p);
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

absl::StatusOr<CanonicalRequest> ParseRequest(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(object root, ParseObject(parser, json, "request body"));
  CanonicalRequest req;  // model and stream come from the URL path
  ParseState st{&req, {}};
  element e;
  std::string k = Key(root, "cachedContent");
  if (Has(root, k, &e)) return Bad(k, "is not supported");
  k = Key(root, "systemInstruction");
  if (Has(root, k, &e)) RETURN_IF_ERROR(ParseSystem(e, k, &req));
  array contents;
  if (!Has(root, "contents", &e)) return Bad("contents", "is required");
  if (e.get_array().get(contents)) return Bad("contents", "must be an array");
  size_t i = 0;
  for (element c : contents) {
    std::string path = Idx("contents", i++);
    object content;
    if (c.get_object().get(content)) return Bad(path, "must be an object");
    RETURN_IF_ERROR(ParseContent(content, path, &st));
  }
  if (req.messages.empty()) return Bad("contents", "must not be empty");
  RETURN_IF_ERROR(ParseTools(root, &req));
  RETURN_IF_ERROR(ParseToolConfig(root, &req));
  RETURN_IF_ERROR(ParseGenerationConfig(root, &req));
  RETURN_IF_ERROR(ValidateToolResults(req));
  return req;
}

absl::StatusOr<std::string> RenderRequest(const CanonicalRequest& req,
                                          std::string_view upstream_model) {
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
