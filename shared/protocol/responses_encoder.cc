// Responses streaming, the client encoder: canonical blocks -> the exact
// event lifecycle the OpenAI SDKs accumulate. Every event carries a
// sequence_number, items and content parts are announced before their
// deltas, and response.completed / response.incomplete carry the whole
// response.
//
// Canonical blocks map to output items one to one: a text block is a message
// item with one output_text part (a refusal block: one refusal part, with
// response.refusal.* events), a tool call a function_call item (a custom
// tool's call a custom_tool_call item), thinking a reasoning item with one
// summary part (its signature becomes the item's encrypted_content), redacted
// thinking a reasoning item with only encrypted_content. Item ids derive from
// the response id and output index.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "shared/protocol/json_fields.h"
#include "shared/protocol/responses_adapter.h"
#include "shared/protocol/responses_internal.h"

namespace bitrouter::protocol::responses {
namespace {

using W = json::Writer;
using Kind = ContentPart::Kind;

using json::Str;

class Encoder : public StreamEncoder {
 public:
  explicit Encoder(const EncoderOptions& options) : opts_(options) {}

  void OnStart(const StreamStart& start) override {
    if (done_ || started_) return;
    started_ = true;
    id_ = internal::ResponseId(
        start.id, opts_.fallback_id.empty() ? absl::StrCat(opts_.created) : opts_.fallback_id);
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
    size_t index = Index();
    switch (block.kind) {
      case BlockKind::kText:
        cur_.kind = Kind::kText;
        cur_.refusal = block.refusal;
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
          internal::WriteTextPart(w, "", cur_.refusal);
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
      Emit(cur_.refusal ? "response.refusal.delta" : "response.output_text.delta", [&](W& w) {
        ItemRef(w, true);
        Str(w, "delta"), Str(w, text);
        if (cur_.refusal) return;
        Str(w, "logprobs");
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
    size_t index = Index();
    if (cur_.kind == Kind::kText && cur_.refusal) {
      Emit("response.refusal.done", [&](W& w) {
        ItemRef(w, true);
        Str(w, "refusal"), Str(w, cur_.text);
      });
      Emit("response.content_part.done", [&](W& w) {
        ItemRef(w, true);
        Str(w, "part");
        internal::WriteTextPart(w, cur_.text, true);
      });
    } else if (cur_.kind == Kind::kText) {
      Emit("response.output_text.done", [&](W& w) {
        ItemRef(w, true);
        Str(w, "text"), Str(w, cur_.text), Str(w, "logprobs");
        w.StartArray();
        w.EndArray();
      });
      Emit("response.content_part.done", [&](W& w) {
        ItemRef(w, true);
        Str(w, "part");
        internal::WriteTextPart(w, cur_.text, false);
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

  void Adopt(const StreamPosition& position) override {
    if (position.next_sequence >= 0) seq_ = position.next_sequence;
    if (position.index >= 0) shift_ = position.index - static_cast<int64_t>(items_.size());
    if (open_ && !position.open_item_id.empty()) item_id_ = position.open_item_id;
  }

  void OnError(const StreamError& error) override {
    if (done_) return;
    if (!started_) OnStart({});
    std::string_view code = error.status == 429 ? "rate_limit_exceeded" : "server_error";
    // The output already streamed stays in the failed response (the SDKs
    // take the final snapshot from it), the item cut short as incomplete.
    if (open_) items_.push_back(std::move(cur_));
    Emit("response.failed", [&](W& w) {
      Str(w, "response");
      WriteResponse(w, "failed", nullptr, "", code, error.message, open_);
    });
    open_ = false;
    done_ = true;
  }

 private:
  // The output index of the open item (or of the next one).
  size_t Index() const { return static_cast<size_t>(static_cast<int64_t>(items_.size()) + shift_); }

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
                     std::string_view code, std::string_view message,
                     bool last_incomplete = false) {
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
    r.last_incomplete = last_incomplete;
    if (status == "completed") r.completed_at = opts_.now ? opts_.now() : opts_.created;
    internal::WriteResponse(w, r);
  }

  void ItemRef(W& w, bool content_index) {
    Str(w, "item_id"), Str(w, item_id_), Str(w, "output_index"), w.Uint64(Index());
    if (content_index) Str(w, "content_index"), w.Int(0);
  }
  void SummaryRef(W& w) {
    ItemRef(w, false);
    Str(w, "summary_index"), w.Int(0);
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
  // Output items the client got that the canonical form has no block for
  // (a relayed upstream's empty reasoning items, see Adopt).
  int64_t shift_ = 0;
};

}  // namespace

std::unique_ptr<StreamEncoder> MakeStreamEncoder(const EncoderOptions& options) {
  return std::make_unique<Encoder>(options);
}

}  // namespace bitrouter::protocol::responses
