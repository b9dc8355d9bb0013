// Model-turn parts (text, thoughts, thought signatures, function calls),
// shared by requests (model turns in history) and responses.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <algorithm>
#include <utility>

#include "shared/common/status_macros.h"
#include "shared/protocol/gemini_internal.h"
#include "shared/protocol/json_fields.h"

namespace bitrouter::protocol::gemini::internal {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;
using Kind = ContentPart::Kind;
using json::Bad;
using json::Has;
using json::OptBool;
using json::OptString;
using json::ReqString;
using json::Str;
using json::Sub;

// Google's documented value for a function call whose real signature is not
// available ("thought signatures" FAQ).
constexpr std::string_view kPlaceholderSignature = "skip_thought_signature_validator";

ContentPart SignatureOnly(std::string signature) {
  ContentPart p;
  p.kind = Kind::kThinking;
  p.signature = std::move(signature);
  return p;
}

// The first key of `part` that is not a thought marker, for error messages.
std::string FirstKey(object part) {
  for (auto field : part) {
    if (field.key != "thought" && field.key != "thoughtSignature" &&
        field.key != "thought_signature") {
      return std::string(field.key);
    }
  }
  return "";
}

}  // namespace

absl::Status ParseModelPart(object part, std::string_view path, std::string_view id_scope,
                            size_t* calls, std::vector<ContentPart>* out, bool derive_ids) {
  std::string k = Key(part, "thoughtSignature");
  ASSIGN_OR_RETURN(std::optional<std::string> sig, OptString(part, k, Sub(path, k)));
  ASSIGN_OR_RETURN(std::optional<bool> thought, OptBool(part, "thought", Sub(path, "thought")));
  std::string signature = sig.value_or("");
  element e;
  if (Has(part, "text", &e)) {
    ASSIGN_OR_RETURN(std::string text, ReqString(part, "text", Sub(path, "text")));
    if (thought.value_or(false)) {
      ContentPart p = SignatureOnly(std::move(signature));
      p.text = std::move(text);
      out->push_back(std::move(p));
      return absl::OkStatus();
    }
    if (!signature.empty()) out->push_back(SignatureOnly(std::move(signature)));
    if (!text.empty()) out->push_back(ContentPart::Text(std::move(text)));
    return absl::OkStatus();
  }
  k = Key(part, "functionCall");
  if (Has(part, k, &e)) {
    json::Path c_path = Sub(path, k);
    object call;
    if (e.get_object().get(call)) return Bad(c_path, "must be an object");
    ContentPart p;
    p.kind = Kind::kToolCall;
    ASSIGN_OR_RETURN(p.name, ReqString(call, "name", Sub(c_path, "name")));
    ASSIGN_OR_RETURN(std::optional<std::string> id, OptString(call, "id", Sub(c_path, "id")));
    ASSIGN_OR_RETURN(p.arguments, ArgsText(call, c_path));
    if (id && !id->empty()) {
      p.tool_call_id = std::move(*id);
    } else if (derive_ids) {
      p.tool_call_id = DerivedCallId(id_scope.empty() ? p.name : id_scope, *calls);
    }
    ++*calls;
    if (!signature.empty()) out->push_back(SignatureOnly(std::move(signature)));
    out->push_back(std::move(p));
    return absl::OkStatus();
  }
  std::string other = FirstKey(part);
  if (other.empty()) {
    // A bare signature part.
    if (!signature.empty()) out->push_back(SignatureOnly(std::move(signature)));
    return absl::OkStatus();
  }
  return Bad(Sub(path, other), "is not supported in a model turn");
}

absl::StatusOr<std::string> RenderModelParts(const std::vector<const ContentPart*>& parts,
                                             bool inject_signature) {
  // Does a real signature land on some functionCall (a signature-only
  // thinking part right before it)?
  bool call_signed = false;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const ContentPart* p = parts[i];
    if (p->kind == Kind::kThinking && p->text.empty() && !p->signature.empty() &&
        parts[i + 1]->kind == Kind::kToolCall) {
      call_signed = true;
    }
  }
  bool placeholder = inject_signature && !call_signed;
  rapidjson::StringBuffer buf;
  W w(buf);
  w.StartArray();
  std::string pending;  // a signature-only thinking part waiting for its part
  auto signature = [&](std::string_view own) {
    if (!own.empty()) {
      Str(w, "thoughtSignature"), Str(w, own);
    } else if (!pending.empty()) {
      Str(w, "thoughtSignature"), Str(w, pending);
      pending.clear();
    }
  };
  auto flush = [&] {
    if (pending.empty()) return;
    w.StartObject();
    Str(w, "text"), Str(w, ""), Str(w, "thoughtSignature"), Str(w, pending);
    w.EndObject();
    pending.clear();
  };
  for (const ContentPart* p : parts) {
    switch (p->kind) {
      case Kind::kThinking:
        if (p->text.empty()) {
          if (p->signature.empty()) break;
          flush();
          pending = p->signature;
          break;
        }
        if (!p->signature.empty()) flush();
        w.StartObject();
        Str(w, "text"), Str(w, p->text), Str(w, "thought"), w.Bool(true);
        signature(p->signature);
        w.EndObject();
        break;
      case Kind::kText:
        if (p->text.empty()) break;
        w.StartObject();
        Str(w, "text"), Str(w, p->text);
        signature("");
        w.EndObject();
        break;
      case Kind::kToolCall:
        w.StartObject();
        Str(w, "functionCall");
        RETURN_IF_ERROR(WriteFunctionCall(w, p->tool_call_id, p->name, p->arguments));
        if (placeholder && pending.empty()) {
          Str(w, "thoughtSignature"), Str(w, kPlaceholderSignature);
          placeholder = false;
        }
        signature("");
        w.EndObject();
        break;
      case Kind::kRedactedThinking:
      case Kind::kImage:
      case Kind::kDocument:
      case Kind::kToolResult:
        break;
    }
  }
  flush();
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace bitrouter::protocol::gemini::internal
