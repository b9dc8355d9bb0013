// Gemini GenerateContentRequest -> canonical request. The model and the
// streaming flag live in the URL path (models/{model}:generateContent or
// :streamGenerateContent), so ParseRequest leaves model empty and stream
// false (the worker sets both).

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "shared/common/status_macros.h"
#include "shared/protocol/gemini_adapter.h"
#include "shared/protocol/gemini_internal.h"
#include "shared/protocol/json_fields.h"
#include "shared/protocol/scratch_parser.h"

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

// inlineData: an image/* type is an image; any other type (PDF, text, ...)
// a document. A displayName (Vertex AI) becomes the document's name.
absl::StatusOr<ContentPart> ParseInline(element e, std::string_view path) {
  object o;
  if (e.get_object().get(o)) return Bad(path, "must be an object");
  std::string mk = Key(o, "mimeType");
  std::string nk = Key(o, "displayName");
  ContentPart p;
  ASSIGN_OR_RETURN(p.media_type, ReqString(o, mk, Sub(path, mk)));
  p.kind = IsImage(p.media_type) ? Kind::kImage : Kind::kDocument;
  ASSIGN_OR_RETURN(p.data, ReqString(o, "data", Sub(path, "data")));
  ASSIGN_OR_RETURN(std::optional<std::string> name, OptString(o, nk, Sub(path, nk)));
  if (p.kind == Kind::kDocument) p.name = name.value_or("");
  return p;
}

// fileData: an image when its type (given, or guessed from the URI's
// extension) is image/*, else a document by URL (type kept when known).
absl::StatusOr<ContentPart> ParseFileData(element e, std::string_view path) {
  object o;
  if (e.get_object().get(o)) return Bad(path, "must be an object");
  std::string uk = Key(o, "fileUri");
  std::string mk = Key(o, "mimeType");
  std::string nk = Key(o, "displayName");
  ContentPart p;
  ASSIGN_OR_RETURN(p.image_url, ReqString(o, uk, Sub(path, uk)));
  ASSIGN_OR_RETURN(std::optional<std::string> mime, OptString(o, mk, Sub(path, mk)));
  std::string m = mime ? *mime : internal::MimeFromUrl(p.image_url);
  if (IsImage(m)) {
    p.kind = Kind::kImage;
    return p;
  }
  p.kind = Kind::kDocument;
  p.media_type = std::move(m);
  ASSIGN_OR_RETURN(std::optional<std::string> name, OptString(o, nk, Sub(path, nk)));
  p.name = name.value_or("");
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
    json::Path p_path = Idx(Sub(path, "parts"), i++);
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
  // Function responses become kTool messages; text, images and documents
  // kUser ones.
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
    json::Path p_path = Idx(Sub(path, "parts"), i++);
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
    json::Path path = Idx("tools", i++);
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
      json::Path d_path = Idx(Sub(path, k), j++);
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
  json::Path path = Sub(k, fk);
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
  json::Path path = Sub(gc_path, k);
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
  ASSIGN_OR_RETURN(req->seed, OptInt(gc, "seed", Sub(path, "seed")));
  auto [fk, fp] = key("frequencyPenalty");
  ASSIGN_OR_RETURN(req->frequency_penalty, OptNumber(gc, fk, fp));
  auto [pk, pp] = key("presencePenalty");
  ASSIGN_OR_RETURN(req->presence_penalty, OptNumber(gc, pk, pp));
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

}  // namespace

absl::StatusOr<CanonicalRequest> ParseRequest(std::string_view json) {
  thread_local protocol::ScratchDomParser parser;
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
    json::Path path = Idx("contents", i++);
    object content;
    if (c.get_object().get(content)) return Bad(path, "must be an object");
    RETURN_IF_ERROR(ParseContent(content, path, &st));
  }
  if (req.messages.empty()) return Bad("contents", "must not be empty");
  RETURN_IF_ERROR(ParseTools(root, &req));
  RETURN_IF_ERROR(ParseToolConfig(root, &req));
  RETURN_IF_ERROR(ParseGenerationConfig(root, &req));
  RETURN_IF_ERROR(ValidateConversation(req));
  return req;
}

}  // namespace bitrouter::protocol::gemini
