// Responses streaming, the upstream decoder: semantic SSE events -> canonical
// blocks. The client encoder is in responses_encoder.cc.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "shared/common/status_macros.h"
#include "shared/protocol/json_fields.h"
#include "shared/protocol/responses_adapter.h"
#include "shared/protocol/responses_internal.h"

namespace bitrouter::protocol::responses {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;
using W = json::Writer;
using Kind = ContentPart::Kind;

using json::Has;
using json::OptInt;
using json::OptString;
using json::Str;

// ---- decoder ----

class Decoder : public StreamDecoder {
 public:
  explicit Decoder(StreamSink* sink) : sink_(sink) {}

  absl::Status OnEvent(std::string_view event, std::string_view data) override {
    if (done_) return absl::OkStatus();
    if (data.empty() || data == "[DONE]") return absl::OkStatus();
    simdjson::padded_string padded(data);
    element root;
    object o;
    if (parser_.parse(padded).get(root) || root.get_object().get(o)) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed Responses stream event '", AV(event), "': not a JSON object"));
    }
    ASSIGN_OR_RETURN(std::optional<std::string> type, OptString(o, "type", "type"));
    std::string t = type ? std::move(*type) : std::string(event);
    absl::Status s = Dispatch(t, o);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed Responses stream event '", AV(t), "': ", s.message()));
    }
    return absl::OkStatus();
  }

  absl::Status OnEnd() override {
    if (done_) return absl::OkStatus();
    return absl::InvalidArgumentError(
        "upstream stream ended before response.completed (truncated Responses stream)");
  }

  bool done() const override { return done_; }

 private:
  enum class OpenKind { kNone, kText, kThinking, kTool };

  absl::Status Dispatch(const std::string& t, object o) {
    if (t == "error") return Error(o);
    if (t == "response.failed") {
      element re;
      object resp, err;
      if (Has(o, "response", &re) && !re.get_object().get(resp)) {
        element ee;
        if (Has(resp, "error", &ee) && !ee.get_object().get(err)) return Error(err);
      }
      return Error(o);
    }
    if (t == "response.created" || t == "response.in_progress" || t == "response.queued") {
      if (started_) return absl::OkStatus();
      object resp;
      RETURN_IF_ERROR(Response(o, &resp));
      StreamStart start;
      ASSIGN_OR_RETURN(std::optional<std::string> id, OptString(resp, "id", "response.id"));
      ASSIGN_OR_RETURN(std::optional<std::string> model,
                       OptString(resp, "model", "response.model"));
      start.id = id.value_or("");
      start.model = model.value_or("");
      element ue;
      object usage;
      if (Has(resp, "usage", &ue) && !ue.get_object().get(usage)) {
        // Input-side usage, when the upstream knows it this early.
        ASSIGN_OR_RETURN(Usage u, internal::ParseUsage(usage, "response.usage"));
        Usage input;
        input.prompt_tokens = u.prompt_tokens;
        input.cache_read_tokens = u.cache_read_tokens;
        if (input.prompt_tokens > 0) start.usage = input;
      }
      started_ = true;
      sink_->OnStart(start);
      return absl::OkStatus();
    }
    if (!started_) return json::Bad("type", "arrived before response.created");
    if (t == "response.output_item.added") return ItemAdded(o);
    if (t == "response.output_item.done") return ItemDone(o);
    if (t == "response.content_part.added") {
      element pe;
      object part;
      if (!Has(o, "part", &pe) || pe.get_object().get(part)) {
        return json::Bad("part", "must be an object");
      }
      ASSIGN_OR_RETURN(std::optional<std::string> ptype, OptString(part, "type", "part.type"));
      if (!ptype || (*ptype != "output_text" && *ptype != "refusal")) return absl::OkStatus();
      Close();
      OpenBlock(BlockKind::kText, *ptype == "refusal");
      message_had_text_ = true;
      return absl::OkStatus();
    }
    if (t == "response.content_part.done") {
      if (open_ == OpenKind::kText) Close();
      return absl::OkStatus();
    }
    if (t == "response.output_text.delta" || t == "response.refusal.delta") {
      ASSIGN_OR_RETURN(std::string delta, json::ReqString(o, "delta", "delta"));
      bool refusal = t == "response.refusal.delta";
      if (open_ != OpenKind::kText || open_refusal_ != refusal) {
        Close();
        OpenBlock(BlockKind::kText, refusal);
        message_had_text_ = true;
      }
      sink_->OnDelta(DeltaKind::kText, delta);
      return absl::OkStatus();
    }
    if (t == "response.function_call_arguments.delta") {
      ASSIGN_OR_RETURN(std::string delta, json::ReqString(o, "delta", "delta"));
      if (open_ != OpenKind::kTool)
        return json::Bad("delta", "arrived outside a function_call item");
      if (!delta.empty()) sink_->OnDelta(DeltaKind::kArguments, delta);
      args_streamed_ = args_streamed_ || !delta.empty();
      return absl::OkStatus();
    }
    if (t == "response.function_call_arguments.done") {
      ASSIGN_OR_RETURN(std::optional<std::string> args, OptString(o, "arguments", "arguments"));
      if (open_ == OpenKind::kTool && !args_streamed_ && args && !args->empty()) {
        sink_->OnDelta(DeltaKind::kArguments, *args);
        args_streamed_ = true;
      }
      return absl::OkStatus();
    }
    if (t == "response.reasoning_summary_part.added") {
      if (open_ == OpenKind::kThinking && thinking_had_text_) separator_ = true;
      return absl::OkStatus();
    }
    if (t == "response.reasoning_summary_text.delta" || t == "response.reasoning_text.delta") {
      ASSIGN_OR_RETURN(std::string delta, json::ReqString(o, "delta", "delta"));
      Source src = t == "response.reasoning_text.delta" ? Source::kContent : Source::kSummary;
      if (source_ == Source::kNone) source_ = src;
      if (source_ != src || delta.empty()) return absl::OkStatus();
      if (open_ != OpenKind::kThinking) {
        Close();
        OpenBlock(BlockKind::kThinking);
      }
      if (separator_) sink_->OnDelta(DeltaKind::kThinking, "\n\n");
      separator_ = false;
      thinking_had_text_ = true;
      sink_->OnDelta(DeltaKind::kThinking, delta);
      return absl::OkStatus();
    }
    if (t == "response.completed" || t == "response.incomplete") return Finish(t, o);
    return absl::OkStatus();  // text/summary .done, annotations, keep-alives, ...
  }

  absl::Status Response(object o, object* resp) {
    element re;
    if (!Has(o, "response", &re) || re.get_object().get(*resp)) {
      return json::Bad("response", "must be an object");
    }
    return absl::OkStatus();
  }

  absl::Status Item(object o, object* item, std::string* type) {
    element ie;
    if (!Has(o, "item", &ie) || ie.get_object().get(*item)) {
      return json::Bad("item", "must be an object");
    }
    ASSIGN_OR_RETURN(*type, json::ReqString(*item, "type", "item.type"));
    return absl::OkStatus();
  }

  absl::Status ItemAdded(object o) {
    object item;
    std::string type;
    RETURN_IF_ERROR(Item(o, &item, &type));
    Close();
    if (type == "function_call") {
      BlockStart b;
      b.kind = BlockKind::kToolCall;
      ASSIGN_OR_RETURN(std::optional<std::string> call_id,
                       OptString(item, "call_id", "item.call_id"));
      ASSIGN_OR_RETURN(b.name, json::ReqString(item, "name", "item.name"));
      b.tool_call_id = call_id.value_or("");
      sink_->OnBlockStart(b);
      open_ = OpenKind::kTool;
      saw_call_ = true;
      args_streamed_ = false;
      ASSIGN_OR_RETURN(std::optional<std::string> args,
                       OptString(item, "arguments", "item.arguments"));
      if (args && !args->empty()) {
        sink_->OnDelta(DeltaKind::kArguments, *args);
        args_streamed_ = true;
      }
      return absl::OkStatus();
    }
    if (type == "message") {
      message_had_text_ = false;
      return absl::OkStatus();
    }
    if (type == "reasoning") {
      source_ = Source::kNone;
      thinking_had_text_ = false;
      separator_ = false;
      return absl::OkStatus();
    }
    if (internal::IsServerToolItem(type)) {
      // Counted once, here; its own events and its .done are ignored.
      sink_->OnServerToolSkipped();
      return absl::OkStatus();
    }
    return json::Bad("item.type", absl::StrCat("'", AV(type), "' is not supported"));
  }

  absl::Status ItemDone(object o) {
    object item;
    std::string type;
    RETURN_IF_ERROR(Item(o, &item, &type));
    if (type == "function_call") {
      ASSIGN_OR_RETURN(std::optional<std::string> args,
                       OptString(item, "arguments", "item.arguments"));
      if (open_ == OpenKind::kTool && !args_streamed_ && args && !args->empty()) {
        sink_->OnDelta(DeltaKind::kArguments, *args);
      }
      Close();
      return absl::OkStatus();
    }
    if (type == "message") {
      Close();
      if (message_had_text_) return absl::OkStatus();
      // No part events: take the text from the finished item.
      CanonicalResponse parts;
      element ce;
      simdjson::dom::array content;
      if (!Has(item, "content", &ce) || ce.get_array().get(content)) return absl::OkStatus();
      for (element pe : content) {
        object part;
        std::string_view text;
        if (pe.get_object().get(part)) return json::Bad("item.content", "must hold objects");
        bool refusal = part["text"].get(text) != simdjson::SUCCESS;
        if (refusal && part["refusal"].get(text)) continue;
        OpenBlock(BlockKind::kText, refusal);
        if (!text.empty()) sink_->OnDelta(DeltaKind::kText, text);
        Close();
      }
      return absl::OkStatus();
    }
    if (type == "reasoning") {
      ASSIGN_OR_RETURN(std::optional<ContentPart> p, internal::ParseReasoning(item, "item"));
      if (open_ == OpenKind::kThinking) {
        if (p && !p->signature.empty()) sink_->OnDelta(DeltaKind::kSignature, p->signature);
        Close();
        return absl::OkStatus();
      }
      Close();
      if (!p) return absl::OkStatus();
      if (p->kind == Kind::kRedactedThinking) {
        BlockStart b;
        b.kind = BlockKind::kRedactedThinking;
        b.data = p->data;
        sink_->OnBlockStart(b);
        sink_->OnBlockStop();
        return absl::OkStatus();
      }
      OpenBlock(BlockKind::kThinking);
      sink_->OnDelta(DeltaKind::kThinking, p->text);
      if (!p->signature.empty()) sink_->OnDelta(DeltaKind::kSignature, p->signature);
      Close();
      return absl::OkStatus();
    }
    if (internal::IsServerToolItem(type)) return absl::OkStatus();  // counted when added
    return json::Bad("item.type", absl::StrCat("'", AV(type), "' is not supported"));
  }

  absl::Status Finish(const std::string& t, object o) {
    object resp;
    RETURN_IF_ERROR(Response(o, &resp));
    StreamFinish f;
    f.reason = saw_call_ ? FinishReason::kToolCalls : FinishReason::kStop;
    ASSIGN_OR_RETURN(std::optional<std::string> status,
                     OptString(resp, "status", "response.status"));
    if (t == "response.incomplete" || (status && *status == "incomplete")) {
      f.reason = FinishReason::kLength;
      element de;
      object details;
      if (Has(resp, "incomplete_details", &de) && !de.get_object().get(details)) {
        ASSIGN_OR_RETURN(std::optional<std::string> reason,
                         OptString(details, "reason", "response.incomplete_details.reason"));
        if (reason && *reason == "content_filter") f.reason = FinishReason::kContentFilter;
      }
    }
    element ue;
    object usage;
    if (Has(resp, "usage", &ue)) {
      if (ue.get_object().get(usage)) return json::Bad("response.usage", "must be an object");
      ASSIGN_OR_RETURN(f.usage, internal::ParseUsage(usage, "response.usage"));
    }
    Close();
    done_ = true;
    sink_->OnFinish(f);
    return absl::OkStatus();
  }

  // An error event ({code, message} at top level or nested under "error")
  // or a response.failed's response.error.
  absl::Status Error(object err) {
    element ne;
    object nested;
    if (Has(err, "error", &ne) && !ne.get_object().get(nested)) err = nested;
    StreamError e;
    std::string_view s;
    if (!err["message"].get(s)) e.message = std::string(s);
    if (!err["code"].get(s) || !err["type"].get(s)) e.type = std::string(s);
    if (e.message.empty()) e.message = "upstream reported an error";
    if (e.type.empty()) e.type = "upstream_error";
    if (e.type == "rate_limit_exceeded") e.status = 429;
    done_ = true;
    sink_->OnError(e);
    return absl::OkStatus();
  }

  void OpenBlock(BlockKind kind, bool refusal = false) {
    BlockStart b;
    b.kind = kind;
    b.refusal = refusal;
    sink_->OnBlockStart(b);
    open_ = kind == BlockKind::kText ? OpenKind::kText : OpenKind::kThinking;
    open_refusal_ = refusal;
  }

  void Close() {
    if (open_ == OpenKind::kNone) return;
    open_ = OpenKind::kNone;
    sink_->OnBlockStop();
  }

  enum class Source { kNone, kSummary, kContent };

  StreamSink* sink_;
  // One parser per thread for every decoder: events are parsed one at a time
  // and nothing parsed outlives OnEvent; a per-stream parser would allocate
  // its buffers anew for every request.
  simdjson::dom::parser& parser_ = json::ThreadParser();
  bool started_ = false;
  bool done_ = false;
  OpenKind open_ = OpenKind::kNone;
  bool open_refusal_ = false;  // the open kText block is a refusal part
  bool saw_call_ = false;
  bool args_streamed_ = false;
  bool message_had_text_ = false;
  bool thinking_had_text_ = false;
  bool separator_ = false;
  Source source_ = Source::kNone;
};

}  // namespace

std::unique_ptr<StreamDecoder> MakeStreamDecoder(StreamSink* sink) {
  return std::make_unique<Decoder>(sink);
}

}  // namespace bitrouter::protocol::responses
