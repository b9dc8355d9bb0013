// Responses streaming: the upstream decoder (semantic SSE events ->
// canonical blocks) and the client encoder (canonical blocks -> the exact
// event lifecycle the OpenAI SDKs accumulate: every event carries a
// sequence_number, items and content parts are announced before their deltas,
// and response.completed / response.incomplete carry the whole response).
//
// Canonical blocks map to output items one to one: a text block is a message
// item with one output_text part, a tool call a function_call item, thinking
// a reasoning item with one summary part (its signature becomes the item's
// encrypted_content), redacted thinking a reasoning item with only
// encrypted_content. Item ids derive from the response id and output index.

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

// ---- encoder ----

class Encoder : public StreamEncoder {
 public:
  explicit Encoder(const EncoderOptions& options) : opts_(options) {}

  void OnStart(const StreamStart& start) override {
    if (done_ || started_) return;
    started_ = true;
    id_ = internal::ResponseId(start.id, absl::StrCat(opts_.created));
    start_usage_ = start.usage;
    for (std::string_view type : {"response.created", "response.in_progress"}) {
      Emit(type, [&](W& w) {
        Str(w, "response");
        WriteResponse(w, "in_progress", nullptr, "", "", "");
      });
    }
  }

  void OnBlockStart(const BlockStart& block) override {
    if (done_) return;
    if (!started_) OnStart({});
    if (open_) OnBlockStop();
    open_ = true;
    summary_open_ = false;
    cur_ = ContentPart();
    size_t index = items_.size();
    switch (block.kind) {
      case BlockKind::kText:
        cur_.kind = Kind::kText;
        item_id_ = internal::ItemId("msg", id_, index);
        Emit("response.output_item.added", [&](W& w) {
          Str(w, "output_index"), w.Uint64(index), Str(w, "item");
          w.StartObject();
          Str(w, "id"), Str(w, item_id_), Str(w, "type"), Str(w, "message");
          Str(w, "status"), Str(w, "in_progress"), Str(w, "role"), Str(w, "assistant");
          Str(w, "content");
          w.StartArray();
          w.EndArray();
          w.EndObject();
        });
        Emit("response.content_part.added", [&](W& w) {
          ItemRef(w, true);
          Str(w, "part");
          TextPart(w, "");
        });
        return;
      case BlockKind::kToolCall:
        cur_.kind = Kind::kToolCall;
        cur_.tool_call_id = block.tool_call_id;
        cur_.tool_call_id = internal::CallId(cur_, id_, index);
        cur_.name = block.name;
        custom_ = opts_.echo != nullptr && opts_.echo->IsCustom(cur_.name);
        if (custom_) {
          // A custom tool's input is free text: the function arguments it
          // comes wrapped in are gathered and unwrapped when the call ends.
          item_id_ = internal::ItemId("ctc", id_, index);
          Emit("response.output_item.added", [&](W& w) {
            Str(w, "output_index"), w.Uint64(index), Str(w, "item");
            w.StartObject();
            Str(w, "id"), Str(w, item_id_), Str(w, "type"), Str(w, "custom_tool_call");
            Str(w, "status"), Str(w, "in_progress"), Str(w, "call_id"), Str(w, cur_.tool_call_id);
            Str(w, "name"), Str(w, cur_.name), Str(w, "input"), Str(w, "");
            w.EndObject();
          });
          return;
        }
        item_id_ = internal::ItemId("fc", id_, index);
        Emit("response.output_item.added", [&](W& w) {
          Str(w, "output_index"), w.Uint64(index), Str(w, "item");
          w.StartObject();
          Str(w, "id"), Str(w, item_id_), Str(w, "type"), Str(w, "function_call");
          Str(w, "status"), Str(w, "in_progress"), Str(w, "call_id"), Str(w, cur_.tool_call_id);
          internal::WriteCallName(w, cur_.name, opts_.echo);
          Str(w, "arguments"), Str(w, "");
          w.EndObject();
        });
        return;
      case BlockKind::kThinking:
      case BlockKind::kRedactedThinking:
        cur_.kind = block.kind == BlockKind::kThinking ? Kind::kThinking : Kind::kRedactedThinking;
        cur_.data = block.data;
        item_id_ = internal::ItemId("rs", id_, index);
        Emit("response.output_item.added", [&](W& w) {
          Str(w, "output_index"), w.Uint64(index), Str(w, "item");
          w.StartObject();
          Str(w, "id"), Str(w, item_id_), Str(w, "type"), Str(w, "reasoning"), Str(w, "summary");
          w.StartArray();
          w.EndArray();
          if (cur_.kind == Kind::kRedactedThinking) Str(w, "encrypted_content"), Str(w, cur_.data);
          w.EndObject();
        });
        return;
    }
  }

  void OnDelta(DeltaKind kind, std::string_view text) override {
    if (done_) return;
    if (!open_ && kind == DeltaKind::kText) OnBlockStart({});
    if (!open_) return;
    if (kind == DeltaKind::kText && cur_.kind == Kind::kText) {
      cur_.text.append(text);
      Emit("response.output_text.delta", [&](W& w) {
        ItemRef(w, true);
        Str(w, "delta"), Str(w, text), Str(w, "logprobs");
        w.StartArray();
        w.EndArray();
      });
    } else if (kind == DeltaKind::kArguments && cur_.kind == Kind::kToolCall) {
      if (custom_) {
        cur_.arguments.append(text);
      } else {
        ArgumentsDelta(text);
      }
    } else if (kind == DeltaKind::kThinking && cur_.kind == Kind::kThinking && !text.empty()) {
      if (!summary_open_) {
        summary_open_ = true;
        Emit("response.reasoning_summary_part.added", [&](W& w) {
          SummaryRef(w);
          Str(w, "part");
          SummaryPart(w, "");
        });
      }
      cur_.text.append(text);
      Emit("response.reasoning_summary_text.delta", [&](W& w) {
        SummaryRef(w);
        Str(w, "delta"), Str(w, text);
      });
    } else if (kind == DeltaKind::kSignature && cur_.kind == Kind::kThinking) {
      cur_.signature.append(text);
    }
  }

  void OnBlockStop() override {
    if (done_ || !open_) return;
    open_ = false;
    size_t index = items_.size();
    if (cur_.kind == Kind::kText) {
      Emit("response.output_text.done", [&](W& w) {
        ItemRef(w, true);
        Str(w, "text"), Str(w, cur_.text), Str(w, "logprobs");
        w.StartArray();
        w.EndArray();
      });
      Emit("response.content_part.done", [&](W& w) {
        ItemRef(w, true);
        Str(w, "part");
        TextPart(w, cur_.text);
      });
    } else if (cur_.kind == Kind::kToolCall && custom_) {
      std::string input = internal::CustomInput(cur_.arguments);
      if (!input.empty()) {
        Emit("response.custom_tool_call_input.delta", [&](W& w) {
          ItemRef(w, false);
          Str(w, "delta"), Str(w, input);
        });
      }
      Emit("response.custom_tool_call_input.done", [&](W& w) {
        ItemRef(w, false);
        Str(w, "input"), Str(w, input);
      });
    } else if (cur_.kind == Kind::kToolCall) {
      if (cur_.arguments.empty()) ArgumentsDelta("{}");
      Emit("response.function_call_arguments.done", [&](W& w) {
        ItemRef(w, false);
        const ResponsesEcho::Namespaced* n = opts_.echo ? opts_.echo->FindFlat(cur_.name) : nullptr;
        Str(w, "name"), Str(w, n ? std::string_view(n->name) : std::string_view(cur_.name));
        Str(w, "arguments"), Str(w, cur_.arguments);
      });
    } else if (cur_.kind == Kind::kThinking && summary_open_) {
      Emit("response.reasoning_summary_text.done", [&](W& w) {
        SummaryRef(w);
        Str(w, "text"), Str(w, cur_.text);
      });
      Emit("response.reasoning_summary_part.done", [&](W& w) {
        SummaryRef(w);
        Str(w, "part");
        SummaryPart(w, cur_.text);
      });
    }
    items_.push_back(std::move(cur_));
    Emit("response.output_item.done", [&](W& w) {
      Str(w, "output_index"), w.Uint64(index), Str(w, "item");
      internal::WriteOutputItem(w, items_.back(), id_, index, opts_.echo);
    });
  }

  void OnFinish(const StreamFinish& finish) override {
    if (done_) return;
    if (!started_) OnStart({});
    if (open_) OnBlockStop();
    std::optional<Usage> usage = finish.usage ? finish.usage : start_usage_;
    std::string_view status = internal::StatusFor(finish.reason);
    std::string_view reason = internal::IncompleteReasonFor(finish.reason);
    Emit(reason.empty() ? "response.completed" : "response.incomplete", [&](W& w) {
      Str(w, "response");
      WriteResponse(w, status, usage ? &*usage : nullptr, reason, "", "");
    });
    done_ = true;
  }

  void OnError(const StreamError& error) override {
    if (done_) return;
    if (!started_) OnStart({});
    std::string_view code = error.status == 429 ? "rate_limit_exceeded" : "server_error";
    Emit("response.failed", [&](W& w) {
      Str(w, "response");
      WriteResponse(w, "failed", nullptr, "", code, error.message);
    });
    done_ = true;
  }

 private:
  void Emit(std::string_view type, absl::FunctionRef<void(W&)> body) {
    rapidjson::StringBuffer buf;
    W w(buf);
    w.StartObject();
    Str(w, "type"), Str(w, type), Str(w, "sequence_number"), w.Int64(seq_++);
    body(w);
    w.EndObject();
    absl::StrAppend(&out_, "event: ", AV(type),
                    "\ndata: ", absl::string_view(buf.GetString(), buf.GetSize()), "\n\n");
  }

  void WriteResponse(W& w, std::string_view status, const Usage* usage, std::string_view reason,
                     std::string_view code, std::string_view message) {
    internal::ResponseObject r;
    r.id = id_;
    r.created_at = opts_.created;
    r.status = status;
    r.model = opts_.client_model;
    r.output = &items_;
    r.usage = usage;
    r.incomplete_reason = reason;
    r.error_code = code;
    r.error_message = message;
    r.echo = opts_.echo;
    if (status == "completed") r.completed_at = opts_.now ? opts_.now() : opts_.created;
    internal::WriteResponse(w, r);
  }

  void ItemRef(W& w, bool content_index) {
    Str(w, "item_id"), Str(w, item_id_), Str(w, "output_index"), w.Uint64(items_.size());
    if (content_index) Str(w, "content_index"), w.Int(0);
  }
  void SummaryRef(W& w) {
    ItemRef(w, false);
    Str(w, "summary_index"), w.Int(0);
  }
  static void TextPart(W& w, std::string_view text) {
    w.StartObject();
    Str(w, "type"), Str(w, "output_text"), Str(w, "text"), Str(w, text), Str(w, "annotations");
    w.StartArray();
    w.EndArray();
    w.EndObject();
  }
  static void SummaryPart(W& w, std::string_view text) {
    w.StartObject();
    Str(w, "type"), Str(w, "summary_text"), Str(w, "text"), Str(w, text);
    w.EndObject();
  }
  void ArgumentsDelta(std::string_view text) {
    cur_.arguments.append(text);
    Emit("response.function_call_arguments.delta", [&](W& w) {
      ItemRef(w, false);
      Str(w, "delta"), Str(w, text);
    });
  }

  EncoderOptions opts_;
  int64_t seq_ = 0;
  bool started_ = false;
  std::string id_;
  std::optional<Usage> start_usage_;
  std::vector<ContentPart> items_;  // finished output items
  bool open_ = false;
  bool custom_ = false;  // the open tool call is a custom tool's
  ContentPart cur_;      // the open block
  std::string item_id_;
  bool summary_open_ = false;
};

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
      OpenBlock(BlockKind::kText);
      message_had_text_ = true;
      return absl::OkStatus();
    }
    if (t == "response.content_part.done") {
      if (open_ == OpenKind::kText) Close();
      return absl::OkStatus();
    }
    if (t == "response.output_text.delta" || t == "response.refusal.delta") {
      ASSIGN_OR_RETURN(std::string delta, json::ReqString(o, "delta", "delta"));
      if (open_ != OpenKind::kText) {
        Close();
        OpenBlock(BlockKind::kText);
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
        if (part["text"].get(text) && part["refusal"].get(text)) continue;
        OpenBlock(BlockKind::kText);
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

  void OpenBlock(BlockKind kind) {
    BlockStart b;
    b.kind = kind;
    sink_->OnBlockStart(b);
    open_ = kind == BlockKind::kText ? OpenKind::kText : OpenKind::kThinking;
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

std::unique_ptr<StreamEncoder> MakeStreamEncoder(const EncoderOptions& options) {
  return std::make_unique<Encoder>(options);
}

}  // namespace bitrouter::protocol::responses
