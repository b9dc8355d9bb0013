// Responses response objects <-> canonical form.
//
// Finish reason: status "incomplete" maps incomplete_details.reason
// (max_output_tokens -> length, content_filter -> content_filter); a completed
// response with function_call items finishes with tool_calls, else stop.
// Rendering reverses it: length / content_filter give status "incomplete".
// `output_text` is an SDK convenience computed client-side, not a wire field,
// so it is not written.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <ctime>
#include <utility>

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
using Kind = ContentPart::Kind;

using json::Bad;
using json::Has;
using json::Idx;
using json::OptInt;
using json::OptString;
using json::ReqString;
using json::Sub;

absl::Status ParseMessageOutput(object item, std::string_view path, CanonicalResponse* resp) {
  element ce;
  array content;
  if (!Has(item, "content", &ce) || ce.get_array().get(content)) {
    return Bad(Sub(path, "content"), "must be an array");
  }
  size_t i = 0;
  for (element e : content) {
    json::Path p_path = Idx(Sub(path, "content"), i++);
    object part;
    if (e.get_object().get(part)) return Bad(p_path, "must be an object");
    ASSIGN_OR_RETURN(std::string type, ReqString(part, "type", Sub(p_path, "type")));
    std::string key = type == "refusal" ? "refusal" : "text";
    if (type != "output_text" && type != "refusal") {
      return Bad(Sub(p_path, "type"), absl::StrCat("'", AV(type), "' is not supported"));
    }
    ASSIGN_OR_RETURN(std::string text, ReqString(part, key, Sub(p_path, key)));
    resp->content.push_back(ContentPart::Text(std::move(text)));
    resp->content.back().refusal = type == "refusal";
  }
  return absl::OkStatus();
}

absl::Status ParseOutputItem(object item, std::string_view path, CanonicalResponse* resp,
                             bool* saw_call) {
  ASSIGN_OR_RETURN(std::string type, ReqString(item, "type", Sub(path, "type")));
  if (type == "message") return ParseMessageOutput(item, path, resp);
  if (type == "function_call") {
    ContentPart p;
    p.kind = Kind::kToolCall;
    ASSIGN_OR_RETURN(p.tool_call_id, ReqString(item, "call_id", Sub(path, "call_id")));
    ASSIGN_OR_RETURN(p.name, ReqString(item, "name", Sub(path, "name")));
    ASSIGN_OR_RETURN(std::optional<std::string> args,
                     OptString(item, "arguments", Sub(path, "arguments")));
    p.arguments = args && !args->empty() ? std::move(*args) : "{}";
    resp->content.push_back(std::move(p));
    *saw_call = true;
    return absl::OkStatus();
  }
  if (type == "reasoning") {
    ASSIGN_OR_RETURN(std::optional<ContentPart> p, internal::ParseReasoning(item, path));
    if (p) resp->content.push_back(std::move(*p));
    return absl::OkStatus();
  }
  if (internal::IsServerToolItem(type)) {
    ++resp->skipped_server_tool_items;
    return absl::OkStatus();
  }
  return Bad(Sub(path, "type"), absl::StrCat("'", AV(type), "' is not supported"));
}

}  // namespace

absl::StatusOr<CanonicalResponse> ParseResponse(std::string_view json) {
  thread_local protocol::ScratchDomParser parser;
  ASSIGN_OR_RETURN(object root, json::ParseObject(parser, json, "upstream response"));
  CanonicalResponse resp;
  ASSIGN_OR_RETURN(std::optional<std::string> obj, OptString(root, "object", "object"));
  std::string object_type = obj.value_or("response");
  if (object_type != "response") {
    return Bad("object", absl::StrCat("is '", AV(object_type), "', expected 'response'"));
  }
  ASSIGN_OR_RETURN(resp.id, ReqString(root, "id", "id"));
  ASSIGN_OR_RETURN(std::optional<std::string> model, OptString(root, "model", "model"));
  resp.model = model.value_or("");
  ASSIGN_OR_RETURN(resp.created, OptInt(root, "created_at", "created_at"));
  ASSIGN_OR_RETURN(std::optional<std::string> status, OptString(root, "status", "status"));
  std::string st = status.value_or("completed");
  if (st == "failed" || st == "cancelled") {
    std::string message;
    element ee;
    object err;
    if (Has(root, "error", &ee) && !ee.get_object().get(err)) {
      ASSIGN_OR_RETURN(std::optional<std::string> m, OptString(err, "message", "error.message"));
      message = m.value_or("");
    }
    return Bad("status", absl::StrCat("is '", AV(st), "'", message.empty() ? "" : ": ", message));
  }
  if (st != "completed" && st != "incomplete") {
    return Bad("status", absl::StrCat("is '", AV(st), "', expected a finished response"));
  }
  element oe;
  array output;
  if (!Has(root, "output", &oe) || oe.get_array().get(output)) {
    return Bad("output", "must be an array");
  }
  bool saw_call = false;
  size_t i = 0;
  for (element e : output) {
    json::Path path = Idx("output", i++);
    object item;
    if (e.get_object().get(item)) return Bad(path, "must be an object");
    RETURN_IF_ERROR(ParseOutputItem(item, path, &resp, &saw_call));
  }
  if (st == "incomplete") {
    resp.finish_reason = FinishReason::kLength;
    element de;
    object details;
    if (Has(root, "incomplete_details", &de) && !de.get_object().get(details)) {
      ASSIGN_OR_RETURN(std::optional<std::string> reason,
                       OptString(details, "reason", "incomplete_details.reason"));
      if (reason && *reason == "content_filter") resp.finish_reason = FinishReason::kContentFilter;
    }
  } else {
    resp.finish_reason = saw_call ? FinishReason::kToolCalls : FinishReason::kStop;
  }
  element ue;
  object usage;
  if (Has(root, "usage", &ue)) {
    if (ue.get_object().get(usage)) return Bad("usage", "must be an object");
    ASSIGN_OR_RETURN(resp.usage, internal::ParseUsage(usage, "usage"));
  }
  return resp;
}

absl::StatusOr<std::string> RenderResponse(const CanonicalResponse& resp,
                                           std::string_view client_model) {
  std::string id = internal::ResponseId(resp.id, "response");
  std::vector<ContentPart> output;
  for (const ContentPart& p : resp.content) {
    if (p.kind == Kind::kText && p.text.empty()) continue;
    if (p.kind == Kind::kThinking && p.text.empty() && p.signature.empty()) continue;
    if (p.kind == Kind::kImage || p.kind == Kind::kDocument || p.kind == Kind::kToolResult)
      continue;
    output.push_back(p);
  }
  internal::ResponseObject r;
  r.id = id;
  r.created_at = resp.created ? *resp.created : static_cast<int64_t>(std::time(nullptr));
  r.status = internal::StatusFor(resp.finish_reason);
  r.incomplete_reason = internal::IncompleteReasonFor(resp.finish_reason);
  r.model = client_model;
  r.output = &output;
  if (resp.usage) r.usage = &*resp.usage;
  if (r.status == "completed") r.completed_at = resp.completed_at.value_or(r.created_at);
  r.echo = resp.echo;
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  internal::WriteResponse(w, r);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace bitrouter::protocol::responses
