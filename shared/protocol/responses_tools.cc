// Responses request tools, tool_choice and the members a Responses answer
// echoes (see responses_internal.h).
//
// Tools the translated upstreams can run are function tools. A "namespace"
// tool (a named group of function tools) is flattened: each member becomes
// the function "<namespace>__<name>" upstream, and the answer's calls carry
// name + namespace again (ResponsesEcho::namespaced). Anything else (hosted
// tools such as web_search, file_search, code_interpreter, mcp) is dropped
// and recorded in CanonicalRequest::dropped_tools instead of failing the
// request; a tool_choice that forces a dropped tool becomes "auto".
//
// A "custom" tool (free-form text input, such as Codex's apply_patch) becomes
// a function with one string argument, "input", whose description carries the
// tool's grammar; its calls go back to the client as custom_tool_call items
// (ResponsesEcho::custom_tools).

#include <simdjson.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "shared/common/status_macros.h"
#include "shared/protocol/chat_internal.h"
#include "shared/protocol/json_fields.h"
#include "shared/protocol/responses_internal.h"

namespace bitrouter::protocol::responses::internal {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

using json::Bad;
using json::Has;
using json::Idx;
using json::OptBool;
using json::OptString;
using json::ReqString;
using json::Sub;

absl::StatusOr<Tool> ParseFunction(object tool, std::string_view path) {
  Tool out;
  ASSIGN_OR_RETURN(out.name, ReqString(tool, "name", Sub(path, "name")));
  ASSIGN_OR_RETURN(std::optional<std::string> desc,
                   OptString(tool, "description", Sub(path, "description")));
  out.description = desc.value_or("");
  element params;
  if (Has(tool, "parameters", &params)) {
    if (!params.is_object()) return Bad(Sub(path, "parameters"), "must be an object");
    out.parameters = simdjson::minify(params);
  }
  ASSIGN_OR_RETURN(out.strict, OptBool(tool, "strict", Sub(path, "strict")));
  return out;
}

// Records a dropped tool by its name, else its type.
absl::Status Drop(object tool, std::string_view type, std::string_view path,
                  CanonicalRequest* req) {
  ASSIGN_OR_RETURN(std::optional<std::string> name, OptString(tool, "name", Sub(path, "name")));
  req->dropped_tools.push_back(name && !name->empty() ? std::move(*name) : std::string(type));
  return absl::OkStatus();
}

absl::Status ParseNamespace(object tool, std::string_view path, CanonicalRequest* req) {
  ASSIGN_OR_RETURN(std::string ns, ReqString(tool, "name", Sub(path, "name")));
  ASSIGN_OR_RETURN(std::optional<std::string> ns_desc,
                   OptString(tool, "description", Sub(path, "description")));
  element e;
  array members;
  if (!Has(tool, "tools", &e) || e.get_array().get(members)) {
    return Bad(Sub(path, "tools"), "must be an array");
  }
  size_t i = 0;
  for (element m : members) {
    json::Path m_path = Idx(Sub(path, "tools"), i++);
    object member;
    if (m.get_object().get(member)) return Bad(m_path, "must be an object");
    ASSIGN_OR_RETURN(std::string type, ReqString(member, "type", Sub(m_path, "type")));
    if (type != "function") {
      RETURN_IF_ERROR(Drop(member, type, m_path, req));
      continue;
    }
    ASSIGN_OR_RETURN(Tool t, ParseFunction(member, m_path));
    std::string flat = RegisterNamespaced(ns, t.name, &req->responses_echo);
    t.name = std::move(flat);
    if (ns_desc && !ns_desc->empty()) {
      // The group's description is what tells the model what the namespace is.
      t.description =
          t.description.empty() ? *ns_desc : absl::StrCat(*ns_desc, "\n\n", t.description);
    }
    req->tools.push_back(std::move(t));
  }
  return absl::OkStatus();
}

constexpr char kCustomParameters[] =
    R"({"type":"object","properties":{"input":{"type":"string","description":"The tool's input, as free-form text."}},"required":["input"],"additionalProperties":false})";

absl::Status ParseCustom(object tool, std::string_view path, CanonicalRequest* req) {
  Tool t;
  ASSIGN_OR_RETURN(t.name, ReqString(tool, "name", Sub(path, "name")));
  ASSIGN_OR_RETURN(std::optional<std::string> desc,
                   OptString(tool, "description", Sub(path, "description")));
  t.description = desc.value_or("");
  element fe;
  object format;
  if (Has(tool, "format", &fe) && !fe.get_object().get(format)) {
    ASSIGN_OR_RETURN(std::optional<std::string> type,
                     OptString(format, "type", Sub(path, "format.type")));
    if (type && *type == "grammar") {
      ASSIGN_OR_RETURN(std::optional<std::string> syntax,
                       OptString(format, "syntax", Sub(path, "format.syntax")));
      ASSIGN_OR_RETURN(std::optional<std::string> definition,
                       OptString(format, "definition", Sub(path, "format.definition")));
      // The upstream cannot enforce the grammar; the model reads it.
      if (definition) {
        absl::StrAppend(&t.description, t.description.empty() ? "" : "\n\n",
                        "The input must match this ", AV(syntax.value_or("grammar")), " grammar:\n",
                        AV(*definition));
      }
    }
  }
  t.parameters = kCustomParameters;
  if (!req->responses_echo.IsCustom(t.name)) req->responses_echo.custom_tools.push_back(t.name);
  req->tools.push_back(std::move(t));
  return absl::OkStatus();
}

bool Dropped(const CanonicalRequest& req, std::string_view name) {
  for (const std::string& d : req.dropped_tools) {
    if (d == name) return true;
  }
  return false;
}

// JSON type a response object requires for each echoed request member.
enum class Want { kAny, kNumber, kInt, kBool, kString, kArray, kObject, kStringOrObject };

struct EchoKey {
  std::string_view key;
  Want want;
};
constexpr EchoKey kEchoKeys[] = {
    {"instructions", Want::kAny},
    {"tools", Want::kArray},
    {"tool_choice", Want::kStringOrObject},
    {"truncation", Want::kString},
    {"parallel_tool_calls", Want::kBool},
    {"text", Want::kObject},
    {"top_p", Want::kNumber},
    {"presence_penalty", Want::kNumber},
    {"frequency_penalty", Want::kNumber},
    {"top_logprobs", Want::kInt},
    {"temperature", Want::kNumber},
    {"reasoning", Want::kObject},
    {"user", Want::kString},
    {"max_output_tokens", Want::kInt},
    {"max_tool_calls", Want::kInt},
    {"service_tier", Want::kString},
    {"metadata", Want::kObject},
    {"safety_identifier", Want::kString},
    {"prompt_cache_key", Want::kString},
};

bool Fits(element e, Want want) {
  switch (want) {
    case Want::kAny:
      return true;
    case Want::kNumber:
      return e.is_number();
    case Want::kInt:
      return e.is_int64() || e.is_uint64();
    case Want::kBool:
      return e.is_bool();
    case Want::kString:
      return e.is_string();
    case Want::kArray:
      return e.is_array();
    case Want::kObject:
      return e.is_object();
    case Want::kStringOrObject:
      return e.is_string() || e.is_object();
  }
  return false;
}

}  // namespace

std::string RegisterNamespaced(std::string_view ns, std::string_view name, ResponsesEcho* echo) {
  std::string flat = absl::StrCat(AV(ns), "__", AV(name));
  if (echo->FindFlat(flat) == nullptr) {
    echo->namespaced.push_back({flat, std::string(ns), std::string(name)});
  }
  return flat;
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
    ASSIGN_OR_RETURN(std::string type, ReqString(tool, "type", Sub(path, "type")));
    if (type == "function") {
      ASSIGN_OR_RETURN(Tool out, ParseFunction(tool, path));
      req->tools.push_back(std::move(out));
    } else if (type == "namespace") {
      RETURN_IF_ERROR(ParseNamespace(tool, path, req));
    } else if (type == "custom") {
      RETURN_IF_ERROR(ParseCustom(tool, path, req));
    } else {
      RETURN_IF_ERROR(Drop(tool, type, path, req));
    }
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
    ASSIGN_OR_RETURN(tc.mode, chat::internal::ToolChoiceMode(s));
  } else if (!e.get_object().get(o)) {
    ASSIGN_OR_RETURN(std::string type, ReqString(o, "type", "tool_choice.type"));
    ASSIGN_OR_RETURN(std::optional<std::string> name, OptString(o, "name", "tool_choice.name"));
    if (type == "function") {
      if (!name) return Bad("tool_choice.name", "is required");
      tc.mode = ToolChoice::Mode::kSpecific;
      tc.name = std::move(*name);
      ASSIGN_OR_RETURN(std::optional<std::string> ns,
                       OptString(o, "namespace", "tool_choice.namespace"));
      if (ns) tc.name = RegisterNamespaced(*ns, tc.name, &req->responses_echo);
    } else if (type == "custom" && name && req->responses_echo.IsCustom(*name)) {
      tc.mode = ToolChoice::Mode::kSpecific;
      tc.name = std::move(*name);
    } else if (type == "allowed_tools") {
      ASSIGN_OR_RETURN(std::optional<std::string> mode, OptString(o, "mode", "tool_choice.mode"));
      tc.mode = mode && *mode == "required" ? ToolChoice::Mode::kRequired : ToolChoice::Mode::kAuto;
    } else if (Dropped(*req, name.value_or(type))) {
      tc.mode = ToolChoice::Mode::kAuto;  // forced a tool the upstream does not get
    } else {
      return Bad("tool_choice.type", absl::StrCat("'", AV(type), "' is not supported"));
    }
  } else {
    return Bad("tool_choice", "must be a string or an object");
  }
  req->tool_choice = tc;
  return absl::OkStatus();
}

void CollectEcho(object root, ResponsesEcho* echo) {
  for (const EchoKey& k : kEchoKeys) {
    element e;
    if (!Has(root, k.key, &e) || !Fits(e, k.want)) continue;
    echo->members.emplace_back(std::string(k.key), simdjson::minify(e));
  }
}

}  // namespace bitrouter::protocol::responses::internal
