// Anthropic Messages streams <-> canonical stream events.
// Wire format: Anthropic API reference, "Streaming Messages": message_start,
// (content_block_start, content_block_delta*, content_block_stop)*,
// message_delta, message_stop, with ping anywhere and `event: error` for a
// failure after the stream started.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "shared/common/status_macros.h"
#include "shared/protocol/errors.h"
#include "shared/protocol/json_fields.h"
#include "shared/protocol/messages_adapter.h"
#include "shared/protocol/messages_internal.h"

namespace bitrouter::protocol::messages {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;
using W = json::Writer;

using json::Bad;
using json::Has;
using json::OptInt;
using json::OptString;
using json::ParseObject;
using json::ReqString;
using json::Str;

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

constexpr std::string_view kAnthropicErrorTypes[] = {
    "invalid_request_error", "authentication_error", "billing_error",
    "permission_error",      "not_found_error",      "request_too_large",
    "rate_limit_error",      "timeout_error",        "api_error",
    "overloaded_error"};

bool IsAnthropicErrorType(std::string_view type) {
  return std::find(std::begin(kAnthropicErrorTypes), std::end(kAnthropicErrorTypes), type) !=
         std::end(kAnthropicErrorTypes);
}

int StatusForErrorType(std::string_view type) {
  if (type == "invalid_request_error") return 400;
  if (type == "authentication_error") return 401;
  if (type == "billing_error") return 402;
  if (type == "permission_error") return 403;
  if (type == "not_found_error") return 404;
  if (type == "request_too_large") return 413;
  if (type == "rate_limit_error") return 429;
  if (type == "timeout_error") return 504;
  if (type == "overloaded_error") return 529;
  if (type == "api_error") return 500;
  return 502;
}

// ---- decoding ----

class MessagesDecoder : public StreamDecoder {
 public:
  explicit MessagesDecoder(StreamSink* sink) : sink_(sink) {}

  absl::Status OnEvent(std::string_view event, std::string_view data) override {
    if (done_) return absl::OkStatus();
    if (Trim(data).empty()) return absl::OkStatus();  // e.g. a bare ping
    ASSIGN_OR_RETURN(object root, ParseObject(parser_, data, "upstream stream event"));
    ASSIGN_OR_RETURN(std::optional<std::string> type, OptString(root, "type", "type"));
    std::string name = type ? *type : std::string(event);
    if (name.empty()) return absl::InvalidArgumentError("upstream stream event has no type");
    if (name == "ping") return absl::OkStatus();
    if (name == "error") {
      UpstreamError(root);
      return absl::OkStatus();
    }
    if (name == "message_start") return OnMessageStart(root);
    bool known = name == "content_block_start" || name == "content_block_delta" ||
                 name == "content_block_stop" || name == "message_delta" || name == "message_stop";
    if (!known) return absl::OkStatus();  // new event types are to be ignored
    if (!started_) {
      return absl::InvalidArgumentError(
          absl::StrCat("upstream stream sent ", AV(name), " before message_start"));
    }
    if (name == "content_block_start") return OnBlockStart(root);
    if (name == "content_block_delta") return OnBlockDelta(root);
    if (name == "content_block_stop") return OnBlockStop(root);
    if (name == "message_delta") return OnMessageDelta(root);
    if (open_) {
      sink_->OnBlockStop();
      open_ = false;
    }
    StreamFinish f;
    if (stop_reason_) f.reason = internal::FinishFromStopReason(*stop_reason_);
    f.stop_sequence = stop_sequence_;
    f.usage = CurrentUsage();
    sink_->OnFinish(f);
    done_ = true;
    return absl::OkStatus();
  }

  absl::Status OnEnd() override {
    if (done_) return absl::OkStatus();
    return absl::InvalidArgumentError("upstream stream ended before message_stop");
  }

  bool done() const override { return done_; }

 private:
  void UpstreamError(object root) {
    StreamError e;
    std::string_view s;
    object err;
    if (!root["error"].get(err)) {
      if (!err["type"].get(s)) e.type = std::string(s);
      if (!err["message"].get(s)) e.message = std::string(s);
    }
    if (e.type.empty()) e.type = "api_error";
    if (e.message.empty()) e.message = "upstream stream reported an error";
    e.status = StatusForErrorType(e.type);
    sink_->OnError(e);
    done_ = true;
  }

  absl::Status ReadUsage(object root, std::string_view path) {
    element ue;
    if (!Has(root, "usage", &ue)) return absl::OkStatus();
    object u;
    json::Path p = json::Sub(path, "usage");
    if (ue.get_object().get(u)) return Bad(p, "must be an object");
    ASSIGN_OR_RETURN(auto input, OptInt(u, "input_tokens", json::Sub(p, "input_tokens")));
    ASSIGN_OR_RETURN(auto output, OptInt(u, "output_tokens", json::Sub(p, "output_tokens")));
    ASSIGN_OR_RETURN(auto read,
                     OptInt(u, "cache_read_input_tokens", json::Sub(p, "cache_read_input_tokens")));
    ASSIGN_OR_RETURN(auto write, OptInt(u, "cache_creation_input_tokens",
                                        json::Sub(p, "cache_creation_input_tokens")));
    // Counts are cumulative: a later value replaces an earlier one.
    if (input) input_ = input;
    if (output) output_ = output;
    if (read) cache_read_ = read;
    if (write) cache_write_ = write;
    return absl::OkStatus();
  }

  std::optional<Usage> CurrentUsage() const {
    if (!input_ && !output_ && !cache_read_ && !cache_write_) return std::nullopt;
    Usage u;
    u.prompt_tokens = input_.value_or(0) + cache_read_.value_or(0) + cache_write_.value_or(0);
    u.completion_tokens = output_.value_or(0);
    u.cache_read_tokens = cache_read_;
    u.cache_write_tokens = cache_write_;
    return u;
  }

  absl::Status OnMessageStart(object root) {
    if (started_) return absl::InvalidArgumentError("upstream stream sent a second message_start");
    element me;
    object msg;
    if (!Has(root, "message", &me) || me.get_object().get(msg)) {
      return Bad("message", "must be an object");
    }
    StreamStart start;
    ASSIGN_OR_RETURN(std::optional<std::string> id, OptString(msg, "id", "message.id"));
    ASSIGN_OR_RETURN(std::optional<std::string> model, OptString(msg, "model", "message.model"));
    start.id = id.value_or("");
    start.model = model.value_or("");
    RETURN_IF_ERROR(ReadUsage(msg, "message"));
    start.usage = CurrentUsage();
    sink_->OnStart(start);
    started_ = true;
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> Index(object root) {
    ASSIGN_OR_RETURN(std::optional<int64_t> index, OptInt(root, "index", "index"));
    if (!index) return absl::InvalidArgumentError("missing required field 'index'");
    return *index;
  }

  absl::Status OnBlockStart(object root) {
    ASSIGN_OR_RETURN(int64_t index, Index(root));
    if (open_ || skipping_) {
      return Bad("index",
                 absl::StrCat("starts block ", index, " while block ", index_, " is still open"));
    }
    element be;
    object block;
    if (!Has(root, "content_block", &be) || be.get_object().get(block)) {
      return Bad("content_block", "must be an object");
    }
    ASSIGN_OR_RETURN(std::string type, ReqString(block, "type", "content_block.type"));
    index_ = index;
    BlockStart b;
    std::string initial, signature;
    if (type == "text") {
      b.kind = BlockKind::kText;
      ASSIGN_OR_RETURN(auto text, OptString(block, "text", "content_block.text"));
      initial = text.value_or("");
    } else if (type == "thinking") {
      b.kind = BlockKind::kThinking;
      ASSIGN_OR_RETURN(auto thinking, OptString(block, "thinking", "content_block.thinking"));
      ASSIGN_OR_RETURN(auto sig, OptString(block, "signature", "content_block.signature"));
      initial = thinking.value_or("");
      signature = sig.value_or("");
    } else if (type == "redacted_thinking") {
      b.kind = BlockKind::kRedactedThinking;
      ASSIGN_OR_RETURN(b.data, ReqString(block, "data", "content_block.data"));
    } else if (type == "tool_use") {
      b.kind = BlockKind::kToolCall;
      ASSIGN_OR_RETURN(b.tool_call_id, ReqString(block, "id", "content_block.id"));
      ASSIGN_OR_RETURN(b.name, ReqString(block, "name", "content_block.name"));
      element input;
      if (Has(block, "input", &input)) {
        if (!input.is_object()) return Bad("content_block.input", "must be an object");
        // Streams start with {} and send the input as input_json_delta.
        if (input.get_object().value_unsafe().size() != 0) initial = simdjson::minify(input);
      }
    } else if (internal::IsServerToolBlock(type)) {
      // Skipped with its deltas (see IsServerToolBlock).
      skipping_ = true;
      sink_->OnServerToolSkipped();
      return absl::OkStatus();
    } else {
      return Bad("content_block.type", absl::StrCat("'", AV(type), "' is not supported"));
    }
    kind_ = b.kind;
    sink_->OnBlockStart(b);
    open_ = true;
    if (!initial.empty()) {
      DeltaKind k = b.kind == BlockKind::kText       ? DeltaKind::kText
                    : b.kind == BlockKind::kThinking ? DeltaKind::kThinking
                                                     : DeltaKind::kArguments;
      sink_->OnDelta(k, initial);
    }
    if (!signature.empty()) sink_->OnDelta(DeltaKind::kSignature, signature);
    return absl::OkStatus();
  }

  absl::Status CheckOpen(int64_t index) {
    if ((!open_ && !skipping_) || index != index_) {
      return Bad("index", absl::StrCat("names block ", index, ", which is not open"));
    }
    return absl::OkStatus();
  }

  absl::Status OnBlockDelta(object root) {
    ASSIGN_OR_RETURN(int64_t index, Index(root));
    RETURN_IF_ERROR(CheckOpen(index));
    if (skipping_) return absl::OkStatus();
    element de;
    object delta;
    if (!Has(root, "delta", &de) || de.get_object().get(delta)) {
      return Bad("delta", "must be an object");
    }
    ASSIGN_OR_RETURN(std::string type, ReqString(delta, "type", "delta.type"));
    const char* field = nullptr;
    DeltaKind kind = DeltaKind::kText;
    BlockKind want = BlockKind::kText;
    if (type == "text_delta") {
      field = "text";
    } else if (type == "thinking_delta") {
      field = "thinking", kind = DeltaKind::kThinking, want = BlockKind::kThinking;
    } else if (type == "signature_delta") {
      field = "signature", kind = DeltaKind::kSignature, want = BlockKind::kThinking;
    } else if (type == "input_json_delta") {
      field = "partial_json", kind = DeltaKind::kArguments, want = BlockKind::kToolCall;
    } else if (type == "citations_delta") {
      return absl::OkStatus();  // citations have no canonical form
    } else {
      return Bad("delta.type", absl::StrCat("'", AV(type), "' is not supported"));
    }
    if (want != kind_) {
      return Bad("delta.type", absl::StrCat("'", AV(type), "' does not fit the open block"));
    }
    ASSIGN_OR_RETURN(std::string text, ReqString(delta, field, json::Sub("delta", field)));
    if (!text.empty()) sink_->OnDelta(kind, text);
    return absl::OkStatus();
  }

  absl::Status OnBlockStop(object root) {
    ASSIGN_OR_RETURN(int64_t index, Index(root));
    RETURN_IF_ERROR(CheckOpen(index));
    if (skipping_) {
      skipping_ = false;
      return absl::OkStatus();
    }
    open_ = false;
    sink_->OnBlockStop();
    return absl::OkStatus();
  }

  absl::Status OnMessageDelta(object root) {
    element de;
    if (Has(root, "delta", &de)) {
      object delta;
      if (de.get_object().get(delta)) return Bad("delta", "must be an object");
      ASSIGN_OR_RETURN(auto stop, OptString(delta, "stop_reason", "delta.stop_reason"));
      ASSIGN_OR_RETURN(auto seq, OptString(delta, "stop_sequence", "delta.stop_sequence"));
      if (stop) stop_reason_ = std::move(stop);
      if (seq) stop_sequence_ = std::move(seq);
    }
    return ReadUsage(root, "");
  }

  StreamSink* sink_;
  // One parser per thread for every decoder: events are parsed one at a time
  // and nothing parsed outlives OnEvent; a per-stream parser would allocate
  // its buffers anew for every request.
  simdjson::dom::parser& parser_ = json::ThreadParser();
  bool started_ = false;
  bool done_ = false;
  bool open_ = false;      // a block was started on the sink
  bool skipping_ = false;  // a server-side block is being skipped
  int64_t index_ = -1;
  BlockKind kind_ = BlockKind::kText;
  std::optional<std::string> stop_reason_;
  std::optional<std::string> stop_sequence_;
  std::optional<int64_t> input_, output_, cache_read_, cache_write_;
};

// ---- encoding ----

class MessagesEncoder : public StreamEncoder {
 public:
  explicit MessagesEncoder(const EncoderOptions& options) : opts_(options) {}

  void OnStart(const StreamStart& start) override {
    if (started_ || done_) return;
    started_ = true;
    if (start.id.empty()) {
      id_ = absl::StrCat("msg_", opts_.fallback_id.empty() ? "bitrouter" : opts_.fallback_id);
    } else {
      id_ = start.id.rfind("msg_", 0) == 0 ? start.id : absl::StrCat("msg_", start.id);
    }
    Event("message_start", [&](W& w) {
      Str(w, "message");
      w.StartObject();
      Str(w, "id"), Str(w, id_), Str(w, "type"), Str(w, "message");
      Str(w, "role"), Str(w, "assistant"), Str(w, "content");
      w.StartArray();
      w.EndArray();
      Str(w, "model"), Str(w, opts_.client_model);
      Str(w, "usage");
      w.StartObject();
      if (start.usage) {
        UsageFields(w, *start.usage);
      } else {
        Str(w, "input_tokens"), w.Int64(0), Str(w, "output_tokens"), w.Int64(0);
      }
      w.EndObject();
      w.EndObject();
    });
  }

  void OnBlockStart(const BlockStart& block) override {
    if (done_) return;
    EnsureStarted();
    if (open_) OnBlockStop();
    open_ = true;
    kind_ = block.kind;
    Event("content_block_start", [&](W& w) {
      Str(w, "index"), w.Int(index_);
      Str(w, "content_block");
      w.StartObject();
      switch (block.kind) {
        case BlockKind::kText:
          Str(w, "type"), Str(w, "text"), Str(w, "text"), Str(w, "");
          break;
        case BlockKind::kThinking:
          Str(w, "type"), Str(w, "thinking"), Str(w, "thinking"), Str(w, "");
          Str(w, "signature"), Str(w, "");
          break;
        case BlockKind::kRedactedThinking:
          Str(w, "type"), Str(w, "redacted_thinking"), Str(w, "data"), Str(w, block.data);
          break;
        case BlockKind::kToolCall:
          Str(w, "type"), Str(w, "tool_use"), Str(w, "id");
          Str(w, block.tool_call_id.empty() ? absl::StrCat("toolu_", id_.substr(4), "_", index_)
                                            : block.tool_call_id);
          Str(w, "name"), Str(w, block.name), Str(w, "input");
          w.StartObject();
          w.EndObject();
          break;
      }
      w.EndObject();
    });
  }

  void OnDelta(DeltaKind kind, std::string_view text) override {
    if (done_ || text.empty()) return;
    EnsureStarted();
    BlockKind want = kind == DeltaKind::kText        ? BlockKind::kText
                     : kind == DeltaKind::kArguments ? BlockKind::kToolCall
                                                     : BlockKind::kThinking;
    if (!open_ && want != BlockKind::kToolCall) {
      BlockStart b;
      b.kind = want;
      OnBlockStart(b);
    }
    if (!open_ || kind_ != want) return;  // does not fit the open block: dropped
    const char* type = "text_delta";
    const char* field = "text";
    if (kind == DeltaKind::kThinking) type = "thinking_delta", field = "thinking";
    if (kind == DeltaKind::kSignature) type = "signature_delta", field = "signature";
    if (kind == DeltaKind::kArguments) type = "input_json_delta", field = "partial_json";
    Event("content_block_delta", [&](W& w) {
      Str(w, "index"), w.Int(index_);
      Str(w, "delta");
      w.StartObject();
      Str(w, "type"), Str(w, type), Str(w, field), Str(w, text);
      w.EndObject();
    });
  }

  void OnBlockStop() override {
    if (done_ || !open_) return;
    open_ = false;
    Event("content_block_stop", [&](W& w) { Str(w, "index"), w.Int(index_); });
    ++index_;
  }

  void OnFinish(const StreamFinish& finish) override {
    if (done_) return;
    EnsureStarted();
    OnBlockStop();
    Event("message_delta", [&](W& w) {
      Str(w, "delta");
      w.StartObject();
      Str(w, "stop_reason"),
          Str(w, internal::StopReasonName(finish.reason, finish.stop_sequence.has_value()));
      if (finish.stop_sequence) Str(w, "stop_sequence"), Str(w, *finish.stop_sequence);
      w.EndObject();
      Str(w, "usage");
      w.StartObject();
      if (finish.usage) {
        UsageFields(w, *finish.usage);
      } else {
        Str(w, "output_tokens"), w.Int64(0);
      }
      w.EndObject();
    });
    Event("message_stop", [](W&) {});
    done_ = true;
  }

  void Adopt(const StreamPosition& position) override {
    if (position.index >= 0) index_ = static_cast<int>(position.index);
  }

  void OnError(const StreamError& error) override {
    if (done_) return;
    Event("error", [&](W& w) {
      Str(w, "error");
      w.StartObject();
      Str(w, "type");
      Str(w, IsAnthropicErrorType(error.type) ? std::string_view(error.type)
                                              : AnthropicErrorType(error.status));
      Str(w, "message"), Str(w, error.message);
      w.EndObject();
    });
    done_ = true;
  }

 private:
  void EnsureStarted() {
    if (!started_) OnStart(StreamStart{});
  }

  // Anthropic input_tokens excludes cache reads and writes (as RenderResponse).
  static void UsageFields(W& w, const Usage& u) {
    int64_t cached = u.cache_read_tokens.value_or(0) + u.cache_write_tokens.value_or(0);
    Str(w, "input_tokens"), w.Int64(std::max<int64_t>(0, u.prompt_tokens - cached));
    Str(w, "output_tokens"), w.Int64(u.completion_tokens);
    if (u.cache_write_tokens) {
      Str(w, "cache_creation_input_tokens"), w.Int64(*u.cache_write_tokens);
    }
    if (u.cache_read_tokens) Str(w, "cache_read_input_tokens"), w.Int64(*u.cache_read_tokens);
  }

  // `event: <type>` with data {"type":<type>, <fields>}.
  template <typename F>
  void Event(std::string_view type, F&& fields) {
    rapidjson::StringBuffer buf;
    W w(buf);
    w.StartObject();
    Str(w, "type"), Str(w, type);
    fields(w);
    w.EndObject();
    absl::StrAppend(&out_, "event: ", AV(type), "\ndata: ");
    out_.append(buf.GetString(), buf.GetSize());
    out_.append("\n\n");
  }

  EncoderOptions opts_;
  std::string id_;
  bool started_ = false;
  bool open_ = false;
  BlockKind kind_ = BlockKind::kText;
  int index_ = 0;  // index of the open block, or of the next one
};

}  // namespace

std::unique_ptr<StreamDecoder> MakeStreamDecoder(StreamSink* sink) {
  return std::make_unique<MessagesDecoder>(sink);
}

std::unique_ptr<StreamEncoder> MakeStreamEncoder(const EncoderOptions& options) {
  return std::make_unique<MessagesEncoder>(options);
}

}  // namespace bitrouter::protocol::messages
