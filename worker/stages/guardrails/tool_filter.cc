#include "worker/stages/guardrails/tool_filter.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"

namespace bitrouter::worker {
namespace {

using rapidjson::Value;
using Alloc = rapidjson::Document::AllocatorType;

std::string_view Str(const Value& v) {
  return v.IsString() ? std::string_view(v.GetString(), v.GetStringLength()) : std::string_view();
}

const Value* Member(const Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(key);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

Value* Member(Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(key);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::string_view StrMember(const Value& v, const char* key) {
  const Value* m = Member(v, key);
  return m == nullptr ? std::string_view() : Str(*m);
}

struct Filter {
  const std::vector<NamedToolPolicy>& policies;
  ToolFilterResult* out;

  // The provider that denies the tool; empty when every one allows it.
  std::string_view DeniedBy(std::string_view tool) const {
    for (const auto& [provider, policy] : policies) {
      if (!policy->Allows(tool)) return provider;
    }
    return {};
  }

  // Takes every argument some provider restricts out of a JSON schema.
  void StripSchema(std::string_view tool, Value* schema) {
    if (schema == nullptr || !schema->IsObject()) return;
    Value* props = Member(*schema, "properties");
    Value* required = Member(*schema, "required");
    for (const auto& [provider, policy] : policies) {
      const guardrails::ToolParamRule* rule = policy->Params(tool);
      if (rule == nullptr) continue;
      for (const std::string& arg : rule->deny) {
        // A JSON object may repeat a name: every copy goes.
        while (props != nullptr && props->IsObject() &&
               props->EraseMember(rapidjson::StringRef(arg.data(), arg.size()))) {
          ++out->stripped;
        }
        if (required != nullptr && required->IsArray()) {
          for (auto it = required->Begin(); it != required->End();) {
            it = Str(*it) == arg ? required->Erase(it) : it + 1;
          }
        }
      }
    }
  }

  // Filters an array of tool definitions in place. `name_of` gives a tool's
  // name, `schema_of` its argument schema (may be null).
  template <typename NameOf, typename SchemaOf>
  void FilterArray(Value* tools, NameOf name_of, SchemaOf schema_of) {
    if (tools == nullptr || !tools->IsArray()) return;
    for (auto it = tools->Begin(); it != tools->End();) {
      std::string_view name = name_of(*it);
      if (!name.empty() && !DeniedBy(name).empty()) {
        it = tools->Erase(it);
        ++out->removed;
        continue;
      }
      if (!name.empty()) StripSchema(name, schema_of(*it));
      ++it;
    }
  }

  void Block(std::string_view tool, std::string_view why) {
    if (out->blocked.empty()) {
      out->blocked = absl::StrCat("guardrail blocked upgoing tool '", AV(tool), "': ", AV(why));
    }
  }

  void BlockIfDenied(std::string_view tool) {
    if (tool.empty()) return;
    std::string_view provider = DeniedBy(tool);
    if (!provider.empty())
      Block(tool, absl::StrCat("not allowed for provider '", AV(provider), "'"));
  }
};

bool Empty(const Value* tools) { return tools == nullptr || !tools->IsArray() || tools->Empty(); }

// Filters an offer whose tools carry a name (else a type) and a schema
// under `schema_key`; true when it had tools and now has none.
bool FilterNamedTools(Value* tools, Filter& f, const char* schema_key) {
  bool had_tools = !Empty(tools);
  f.FilterArray(
      tools,
      [](const Value& t) {
        std::string_view name = StrMember(t, "name");
        return name.empty() ? StrMember(t, "type") : name;
      },
      [schema_key](Value& t) { return Member(t, schema_key); });
  return had_tools && Empty(tools);
}

void RemoveMembers(rapidjson::Document& doc, std::initializer_list<const char*> keys) {
  for (const char* key : keys) doc.RemoveMember(key);
}

// Chat: tools[{type: function, function: {name, parameters}} | {type:
// custom, custom: {name}}], legacy functions[{name, parameters}];
// tool_choice "none" | "auto" | "required" | {type: function, function: {name}}.
void FilterChat(rapidjson::Document& doc, Filter& f) {
  Value* tools = Member(doc, "tools");
  bool had_tools = !Empty(tools);
  f.FilterArray(
      tools,
      [](const Value& t) {
        if (const Value* fn = Member(t, "function")) return StrMember(*fn, "name");
        if (const Value* c = Member(t, "custom")) return StrMember(*c, "name");
        return StrMember(t, "type");
      },
      [](Value& t) -> Value* {
        Value* fn = Member(t, "function");
        return fn == nullptr ? nullptr : Member(*fn, "parameters");
      });
  Value* functions = Member(doc, "functions");
  bool had_functions = !Empty(functions);
  f.FilterArray(
      functions, [](const Value& t) { return StrMember(t, "name"); },
      [](Value& t) { return Member(t, "parameters"); });
  if (const Value* choice = Member(doc, "tool_choice")) {
    if (const Value* fn = Member(*choice, "function")) f.BlockIfDenied(StrMember(*fn, "name"));
    if (had_tools && Empty(tools) && Str(*choice) == "required") {
      f.Block("required", "every offered tool is denied");
    }
  }
  if (const Value* call = Member(doc, "function_call")) f.BlockIfDenied(StrMember(*call, "name"));
  if (had_tools && Empty(tools))
    RemoveMembers(doc, {"tools", "tool_choice", "parallel_tool_calls"});
  if (had_functions && Empty(functions)) RemoveMembers(doc, {"functions", "function_call"});
}

// Responses: tools[{type: function, name, parameters} | {type: web_search, ...}];
// tool_choice "none" | "auto" | "required" | {type: function, name}.
void FilterResponses(rapidjson::Document& doc, Filter& f) {
  const bool emptied = FilterNamedTools(Member(doc, "tools"), f, "parameters");
  if (const Value* choice = Member(doc, "tool_choice")) {
    if (StrMember(*choice, "type") == "function") f.BlockIfDenied(StrMember(*choice, "name"));
    if (emptied && Str(*choice) == "required") f.Block("required", "every offered tool is denied");
  }
  if (emptied) RemoveMembers(doc, {"tools", "tool_choice", "parallel_tool_calls"});
}

// Messages: tools[{name, input_schema} | {type: web_search_..., name}];
// tool_choice {type: auto | any | tool | none, name}.
void FilterMessages(rapidjson::Document& doc, Filter& f) {
  const bool emptied = FilterNamedTools(Member(doc, "tools"), f, "input_schema");
  if (const Value* choice = Member(doc, "tool_choice")) {
    std::string_view type = StrMember(*choice, "type");
    if (type == "tool") f.BlockIfDenied(StrMember(*choice, "name"));
    if (emptied && type == "any") f.Block("any", "every offered tool is denied");
  }
  if (emptied) RemoveMembers(doc, {"tools", "tool_choice"});
}

// Gemini: tools[{functionDeclarations: [{name, parameters |
// parametersJsonSchema}]} | {googleSearch: {}} | ...]; toolConfig
// .functionCallingConfig {mode: AUTO | ANY | NONE, allowedFunctionNames}.
void FilterGemini(rapidjson::Document& doc, Filter& f) {
  Value* tools = Member(doc, "tools");
  if (tools == nullptr || !tools->IsArray()) return;
  int functions_before = 0;
  int functions_after = 0;
  for (auto it = tools->Begin(); it != tools->End();) {
    Value* decls = Member(*it, "functionDeclarations");
    if (decls != nullptr && decls->IsArray()) {
      functions_before += static_cast<int>(decls->Size());
      f.FilterArray(
          decls, [](const Value& d) { return StrMember(d, "name"); },
          [](Value& d) {
            Value* s = Member(d, "parameters");
            return s != nullptr ? s : Member(d, "parametersJsonSchema");
          });
      functions_after += static_cast<int>(decls->Size());
      if (decls->Empty() && it->MemberCount() == 1) {
        it = tools->Erase(it);
        continue;
      }
    } else if (it->IsObject() && it->MemberCount() == 1) {
      // A built-in tool: {googleSearch: {}}, {codeExecution: {}}, ...
      std::string_view name(it->MemberBegin()->name.GetString(),
                            it->MemberBegin()->name.GetStringLength());
      if (!f.DeniedBy(name).empty()) {
        it = tools->Erase(it);
        ++f.out->removed;
        continue;
      }
    }
    ++it;
  }
  Value* config = Member(doc, "toolConfig");
  Value* calling = config == nullptr ? nullptr : Member(*config, "functionCallingConfig");
  if (calling != nullptr) {
    bool any = StrMember(*calling, "mode") == "ANY";
    Value* allowed = Member(*calling, "allowedFunctionNames");
    if (allowed != nullptr && allowed->IsArray() && !allowed->Empty()) {
      for (auto it = allowed->Begin(); it != allowed->End();) {
        it = !f.DeniedBy(Str(*it)).empty() ? allowed->Erase(it) : it + 1;
      }
      if (allowed->Empty() && any) f.Block("ANY", "every allowed function is denied");
    }
    if (any && functions_before > 0 && functions_after == 0) {
      f.Block("ANY", "every offered function is denied");
    }
  }
  if (tools->Empty()) RemoveMembers(doc, {"tools", "toolConfig"});
}

bool MentionsTools(std::string_view body) {
  return body.find("\"tools\"") != std::string_view::npos ||
         body.find("\"functions\"") != std::string_view::npos;
}

}  // namespace

absl::StatusOr<ToolFilterResult> FilterOfferedTools(protocol::Protocol client,
                                                    std::string_view body,
                                                    const std::vector<NamedToolPolicy>& policies) {
  ToolFilterResult out;
  if (policies.empty() || !MentionsTools(body)) return out;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseStopWhenDoneFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError("body is not a JSON object");
  }
  Filter f{policies, &out};
  switch (client) {
    case protocol::Protocol::kChat:
      FilterChat(doc, f);
      break;
    case protocol::Protocol::kResponses:
      FilterResponses(doc, f);
      break;
    case protocol::Protocol::kMessages:
      FilterMessages(doc, f);
      break;
    case protocol::Protocol::kGemini:
      FilterGemini(doc, f);
      break;
  }
  if (!out.blocked.empty() || (out.removed == 0 && out.stripped == 0)) return out;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  out.body.assign(buffer.GetString(), buffer.GetSize());
  return out;
}

}  // namespace bitrouter::worker
