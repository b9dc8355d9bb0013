#include "worker/stages/guardrails/tool_calls.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"

namespace bitrouter::worker {
namespace {

using rapidjson::Value;
using Alloc = rapidjson::Document::AllocatorType;

std::string_view Str(const Value& v) {
  return v.IsString() ? std::string_view(v.GetString(), v.GetStringLength()) : std::string_view();
}

Value* Member(Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(key);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::string_view StrMember(Value& v, const char* key) {
  Value* m = Member(v, key);
  return m == nullptr ? std::string_view() : Str(*m);
}

std::string Serialize(const Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Applies a rule to an arguments object; false (with the message) on a block.
bool ApplyToObject(std::string_view tool, std::string_view provider,
                   const guardrails::ToolParamRule& rule, Value* args, ToolCallVerdict* out) {
  for (const std::string& name : rule.deny) {
    // A JSON object may repeat a name: every copy goes.
    for (auto it = args->FindMember(rapidjson::StringRef(name.data(), name.size()));
         it != args->MemberEnd();
         it = args->FindMember(rapidjson::StringRef(name.data(), name.size()))) {
      if (rule.block) {
        out->blocked =
            absl::StrCat("guardrail blocked downgoing tool call '", AV(tool), "': argument '", name,
                         "' is not allowed for provider '", AV(provider), "'");
        return false;
      }
      args->EraseMember(it);
      ++out->stripped;
    }
  }
  return true;
}

struct Checker {
  std::string_view provider;
  const guardrails::ToolProviderPolicy& policy;
  Alloc& alloc;
  ToolCallVerdict* out;

  // One call: its name and its arguments (a JSON string or an object).
  // False once the answer is blocked.
  bool Check(std::string_view tool, Value* args) {
    if (!policy.Allows(tool)) {
      out->blocked = DeniedCallMessage(tool, provider);
      return false;
    }
    const guardrails::ToolParamRule* rule = policy.Params(tool);
    if (rule == nullptr || args == nullptr) return true;
    if (args->IsObject()) return ApplyToObject(tool, provider, *rule, args, out);
    if (!args->IsString()) return Unreadable(tool);
    ToolCallVerdict v = ApplyParamRule(tool, provider, *rule, Str(*args));
    if (!v.blocked.empty()) {
      out->blocked = std::move(v.blocked);
      return false;
    }
    if (v.stripped > 0) {
      out->stripped += v.stripped;
      args->SetString(v.body.data(), static_cast<rapidjson::SizeType>(v.body.size()), alloc);
    }
    return true;
  }

  bool Unreadable(std::string_view tool) {
    out->blocked = absl::StrCat("guardrail blocked downgoing tool call '", AV(tool),
                                "': its arguments are not a JSON object");
    return false;
  }
};

bool CheckChat(Value& doc, Checker& c) {
  Value* choices = Member(doc, "choices");
  if (choices == nullptr || !choices->IsArray()) return true;
  for (Value& choice : choices->GetArray()) {
    Value* message = Member(choice, "message");
    if (message == nullptr) continue;
    if (Value* calls = Member(*message, "tool_calls"); calls != nullptr && calls->IsArray()) {
      for (Value& call : calls->GetArray()) {
        Value* fn = Member(call, "function");
        if (fn != nullptr && !c.Check(StrMember(*fn, "name"), Member(*fn, "arguments"))) {
          return false;
        }
      }
    }
    if (Value* fn = Member(*message, "function_call")) {
      if (!c.Check(StrMember(*fn, "name"), Member(*fn, "arguments"))) return false;
    }
  }
  return true;
}

bool CheckResponses(Value& doc, Checker& c) {
  Value* output = Member(doc, "output");
  if (output == nullptr || !output->IsArray()) return true;
  for (Value& item : output->GetArray()) {
    std::string_view type = StrMember(item, "type");
    if (type == "function_call") {
      if (!c.Check(StrMember(item, "name"), Member(item, "arguments"))) return false;
    } else if (type == "custom_tool_call") {
      if (!c.Check(StrMember(item, "name"), nullptr)) return false;  // free text input
    }
  }
  return true;
}

bool CheckMessages(Value& doc, Checker& c) {
  Value* content = Member(doc, "content");
  if (content == nullptr || !content->IsArray()) return true;
  for (Value& block : content->GetArray()) {
    if (StrMember(block, "type") != "tool_use") continue;
    if (!c.Check(StrMember(block, "name"), Member(block, "input"))) return false;
  }
  return true;
}

bool CheckGemini(Value& doc, Checker& c) {
  Value* candidates = Member(doc, "candidates");
  if (candidates == nullptr || !candidates->IsArray()) return true;
  for (Value& candidate : candidates->GetArray()) {
    Value* content = Member(candidate, "content");
    Value* parts = content == nullptr ? nullptr : Member(*content, "parts");
    if (parts == nullptr || !parts->IsArray()) continue;
    for (Value& part : parts->GetArray()) {
      Value* call = Member(part, "functionCall");
      if (call != nullptr && !c.Check(StrMember(*call, "name"), Member(*call, "args"))) {
        return false;
      }
    }
  }
  return true;
}

bool MentionsToolCall(std::string_view body) {
  for (std::string_view key : {"\"tool_calls\"", "\"function_call\"", "\"tool_use\"",
                               "\"functionCall\"", "\"custom_tool_call\""}) {
    if (body.find(key) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

std::string DeniedCallMessage(std::string_view tool, std::string_view provider) {
  return absl::StrCat("guardrail blocked downgoing tool call '", AV(tool),
                      "': not allowed for provider '", AV(provider), "'");
}

ToolCallVerdict ApplyParamRule(std::string_view tool, std::string_view provider,
                               const guardrails::ToolParamRule& rule, std::string_view args) {
  ToolCallVerdict out;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseStopWhenDoneFlag>(args.data(), args.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    // An empty argument text is an empty object (some encoders omit "{}").
    if (args.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
    out.blocked = absl::StrCat("guardrail blocked downgoing tool call '", AV(tool),
                               "': its arguments are not a JSON object");
    return out;
  }
  if (ApplyToObject(tool, provider, rule, &doc, &out) && out.stripped > 0)
    out.body = Serialize(doc);
  return out;
}

absl::StatusOr<ToolCallVerdict> CheckAnswerToolCalls(protocol::Protocol p, std::string_view body,
                                                     std::string_view provider,
                                                     const guardrails::ToolProviderPolicy& policy) {
  ToolCallVerdict out;
  if (!MentionsToolCall(body)) return out;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseStopWhenDoneFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError("answer is not a JSON object");
  }
  Checker c{provider, policy, doc.GetAllocator(), &out};
  bool ok = true;
  switch (p) {
    case protocol::Protocol::kChat:
      ok = CheckChat(doc, c);
      break;
    case protocol::Protocol::kResponses:
      ok = CheckResponses(doc, c);
      break;
    case protocol::Protocol::kMessages:
      ok = CheckMessages(doc, c);
      break;
    case protocol::Protocol::kGemini:
      ok = CheckGemini(doc, c);
      break;
  }
  if (ok && out.stripped > 0) out.body = Serialize(doc);
  return out;
}

}  // namespace bitrouter::worker
