// Chat Completions answers: parsing an upstream's chat.completion into the
// canonical response, rendering one for a Chat client, and the assistant
// message pieces (tool_calls, finish_reason, usage) that requests and the
// stream codec share.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <ctime>
#include <utility>

#include "shared/common/status_macros.h"
#include "shared/protocol/chat_adapter.h"
#include "shared/protocol/chat_internal.h"
#include "shared/protocol/json_fields.h"
#include "shared/protocol/scratch_parser.h"

namespace bitrouter::protocol::chat {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;
using W = rapidjson::Writer<rapidjson::StringBuffer>;
using Kind = ContentPart::Kind;

using internal::FinishName;
using internal::ParseContent;
using internal::ParseToolCalls;
using internal::RenderToolCalls;
using json::Bad;
using json::Has;
using json::Idx;
using json::OptInt;
using json::OptString;
using json::ParseObject;
using json::ReqString;
using json::Str;
using json::Sub;

absl::StatusOr<CanonicalResponse> ParseResponse(std::string_view json) {
  thread_local protocol::ScratchDomParser parser;
  ASSIGN_OR_RETURN(object root, ParseObject(parser, json, "upstream response"));
  CanonicalResponse resp;
  ASSIGN_OR_RETURN(resp.id, ReqString(root, "id", "id"));
  ASSIGN_OR_RETURN(std::optional<std::string> model, OptString(root, "model", "model"));
  resp.model = model.value_or("");
  ASSIGN_OR_RETURN(resp.created, OptInt(root, "created", "created"));
  element ce;
  array choices;
  if (!Has(root, "choices", &ce) || ce.get_array().get(choices) || choices.size() == 0) {
    return Bad("choices", "must be a non-empty array");
  }
  object choice, msg;
  element me;
  if (choices.at(0).get_object().get(choice)) return Bad("choices[0]", "must be an object");
  if (!Has(choice, "message", &me) || me.get_object().get(msg)) {
    return Bad("choices[0].message", "must be an object");
  }
  // DeepSeek / vLLM send reasoning_content, OpenRouter reasoning: a thinking
  // block before the text, as the stream path makes it.
  element re;
  std::string_view reasoning;
  if ((Has(msg, "reasoning_content", &re) || Has(msg, "reasoning", &re)) &&
      !re.get_string().get(reasoning) && !reasoning.empty()) {
    ContentPart thinking;
    thinking.kind = ContentPart::Kind::kThinking;
    thinking.text = std::string(reasoning);
    resp.content.push_back(std::move(thinking));
  }
  element content;
  if (Has(msg, "content", &content)) {
    ASSIGN_OR_RETURN(std::vector<ContentPart> parts,
                     ParseContent(content, "choices[0].message.content", false));
    for (ContentPart& p : parts) resp.content.push_back(std::move(p));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> refusal,
                   OptString(msg, "refusal", "choices[0].message.refusal"));
  if (refusal && !refusal->empty()) {
    resp.content.push_back(ContentPart::Text(std::move(*refusal)));
    resp.content.back().refusal = true;
  }
  RETURN_IF_ERROR(ParseToolCalls(msg, "choices[0].message", &resp.content));
  ASSIGN_OR_RETURN(std::optional<std::string> finish,
                   OptString(choice, "finish_reason", "choices[0].finish_reason"));
  if (finish) {
    if (*finish == "length") {
      resp.finish_reason = FinishReason::kLength;
    } else if (*finish == "tool_calls" || *finish == "function_call") {
      resp.finish_reason = FinishReason::kToolCalls;
    } else if (*finish == "content_filter") {
      resp.finish_reason = FinishReason::kContentFilter;
    } else {
      resp.finish_reason = FinishReason::kStop;
    }
  }
  element ue;
  object usage;
  if (Has(root, "usage", &ue)) {
    if (ue.get_object().get(usage)) return Bad("usage", "must be an object");
    ASSIGN_OR_RETURN(resp.usage, internal::ParseUsage(usage));
  }
  return resp;
}

absl::StatusOr<std::string> RenderResponse(const CanonicalResponse& resp,
                                           std::string_view client_model) {
  rapidjson::StringBuffer buf;
  W w(buf);
  w.StartObject();
  Str(w, "id"), Str(w, resp.id), Str(w, "object"), Str(w, "chat.completion");
  Str(w, "created");
  w.Int64(resp.created ? *resp.created : static_cast<int64_t>(std::time(nullptr)));
  Str(w, "model"), Str(w, client_model);
  Str(w, "choices");
  w.StartArray();
  w.StartObject();
  Str(w, "index"), w.Int(0);
  Str(w, "message");
  w.StartObject();
  Str(w, "role"), Str(w, "assistant");
  // Chat has one content string and one refusal string; thinking blocks have
  // no Chat field.
  std::string text, refusal;
  bool has_text = false, has_refusal = false;
  std::vector<const ContentPart*> calls;
  for (const ContentPart& p : resp.content) {
    if (p.kind == Kind::kText && p.refusal) {
      refusal += p.text;
      has_refusal = true;
    } else if (p.kind == Kind::kText) {
      text += p.text;
      has_text = true;
    }
    if (p.kind == Kind::kToolCall) calls.push_back(&p);
  }
  if (has_text) Str(w, "content"), Str(w, text);
  if (has_refusal) Str(w, "refusal"), Str(w, refusal);
  if (!calls.empty()) RenderToolCalls(w, calls);
  w.EndObject();
  Str(w, "finish_reason"), Str(w, FinishName(resp.finish_reason));
  w.EndObject();
  w.EndArray();
  if (const auto& u = resp.usage) {
    Str(w, "usage");
    w.StartObject();
    Str(w, "prompt_tokens"), w.Int64(u->prompt_tokens);
    Str(w, "completion_tokens"), w.Int64(u->completion_tokens);
    Str(w, "total_tokens"), w.Int64(u->prompt_tokens + u->completion_tokens);
    if (u->cache_read_tokens) {
      Str(w, "prompt_tokens_details");
      w.StartObject();
      Str(w, "cached_tokens"), w.Int64(*u->cache_read_tokens);
      w.EndObject();
    }
    if (u->reasoning_tokens) {
      Str(w, "completion_tokens_details");
      w.StartObject();
      Str(w, "reasoning_tokens"), w.Int64(*u->reasoning_tokens);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

namespace internal {

absl::Status ParseToolCalls(object m, std::string_view path, std::vector<ContentPart>* out) {
  element calls;
  if (!Has(m, "tool_calls", &calls)) return absl::OkStatus();
  array arr;
  if (calls.get_array().get(arr)) return Bad(Sub(path, "tool_calls"), "must be an array");
  size_t i = 0;
  for (element e : arr) {
    json::Path t_path = Idx(Sub(path, "tool_calls"), i++);
    object call, fn;
    if (e.get_object().get(call)) return Bad(t_path, "must be an object");
    ContentPart p;
    p.kind = Kind::kToolCall;
    ASSIGN_OR_RETURN(p.tool_call_id, ReqString(call, "id", Sub(t_path, "id")));
    element fe;
    if (!Has(call, "function", &fe) || fe.get_object().get(fn)) {
      return Bad(Sub(t_path, "function"), "must be an object");
    }
    ASSIGN_OR_RETURN(p.name, ReqString(fn, "name", Sub(t_path, "function.name")));
    ASSIGN_OR_RETURN(std::optional<std::string> args,
                     OptString(fn, "arguments", Sub(t_path, "function.arguments")));
    p.arguments = args && !args->empty() ? std::move(*args) : "{}";
    out->push_back(std::move(p));
  }
  return absl::OkStatus();
}

void RenderToolCalls(W& w, const std::vector<const ContentPart*>& calls) {
  Str(w, "tool_calls");
  w.StartArray();
  for (const ContentPart* c : calls) {
    w.StartObject();
    Str(w, "id"), Str(w, c->tool_call_id), Str(w, "type"), Str(w, "function");
    Str(w, "function");
    w.StartObject();
    Str(w, "name"), Str(w, c->name), Str(w, "arguments"), Str(w, c->arguments);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
}

const char* FinishName(std::optional<FinishReason> r) {
  switch (r.value_or(FinishReason::kStop)) {
    case FinishReason::kLength:
      return "length";
    case FinishReason::kToolCalls:
      return "tool_calls";
    case FinishReason::kContentFilter:
      return "content_filter";
    case FinishReason::kStop:
      break;
  }
  return "stop";
}

absl::StatusOr<Usage> ParseUsage(simdjson::dom::object usage) {
  Usage u;
  ASSIGN_OR_RETURN(auto prompt, OptInt(usage, "prompt_tokens", "usage.prompt_tokens"));
  ASSIGN_OR_RETURN(auto completion, OptInt(usage, "completion_tokens", "usage.completion_tokens"));
  u.prompt_tokens = prompt.value_or(0);
  u.completion_tokens = completion.value_or(0);
  element de;
  object details;
  if (Has(usage, "prompt_tokens_details", &de) && !de.get_object().get(details)) {
    ASSIGN_OR_RETURN(u.cache_read_tokens,
                     OptInt(details, "cached_tokens", "usage.prompt_tokens_details.cached_tokens"));
    // OpenRouter counts prompt-cache writes here (inside prompt_tokens); they
    // are billed at their own rate, so dropping them would misprice the call.
    ASSIGN_OR_RETURN(
        u.cache_write_tokens,
        OptInt(details, "cache_write_tokens", "usage.prompt_tokens_details.cache_write_tokens"));
  }
  if (!u.cache_read_tokens) {
    // DeepSeek reports its cache hits only at the top level (also inside
    // prompt_tokens).
    ASSIGN_OR_RETURN(u.cache_read_tokens,
                     OptInt(usage, "prompt_cache_hit_tokens", "usage.prompt_cache_hit_tokens"));
  }
  if (Has(usage, "completion_tokens_details", &de) && !de.get_object().get(details)) {
    ASSIGN_OR_RETURN(
        u.reasoning_tokens,
        OptInt(details, "reasoning_tokens", "usage.completion_tokens_details.reasoning_tokens"));
  }
  return u;
}

}  // namespace internal

}  // namespace bitrouter::protocol::chat
