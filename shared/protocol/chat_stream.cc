// OpenAI Chat Completions streams <-> canonical stream events.
// Wire format: OpenAI API reference, "The chat completion chunk object" and
// stream_options.include_usage: `data: {chunk}` events ending in
// `data: [DONE]`; an in-stream failure is `data: {"error":{...}}`.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "shared/common/status_macros.h"
#include "shared/protocol/chat_adapter.h"
#include "shared/protocol/chat_internal.h"
#include "shared/protocol/errors.h"
#include "shared/protocol/json_fields.h"

namespace bitrouter::protocol::chat {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;
using W = json::Writer;

using json::Bad;
using json::Has;
using json::Idx;
using json::OptInt;
using json::OptString;
using json::ParseObject;
using json::Str;
using json::Sub;

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

// ---- decoding ----

FinishReason FinishFromChat(std::string_view s) {
  if (s == "length") return FinishReason::kLength;
  if (s == "tool_calls" || s == "function_call") return FinishReason::kToolCalls;
  if (s == "content_filter") return FinishReason::kContentFilter;
  return FinishReason::kStop;
}

// HTTP status for an upstream error type (OpenAI or Anthropic spelling).
int StatusForErrorType(std::string_view type) {
  if (type == "invalid_request_error") return 400;
  if (type == "authentication_error") return 401;
  if (type == "permission_error") return 403;
  if (type == "not_found_error") return 404;
  if (type == "rate_limit_error" || type == "rate_limit_exceeded" || type == "insufficient_quota") {
    return 429;
  }
  if (type == "overloaded_error") return 529;
  if (type == "timeout_error") return 504;
  if (type == "api_error" || type == "server_error") return 500;
  return 502;
}

// A hostile upstream must not grow a decoder without bound: past this many
// tool calls in one answer the stream is malformed.
constexpr int64_t kMaxToolCalls = 1024;

class ChatDecoder : public StreamDecoder {
 public:
  explicit ChatDecoder(StreamSink* sink) : sink_(sink) {}

  absl::Status OnEvent(std::string_view /*event*/, std::string_view data) override {
    if (done_) return absl::OkStatus();
    data = Trim(data);
    if (data.empty()) return absl::OkStatus();  // an empty keep-alive event
    if (data == "[DONE]") {
      if (!started_)
        return absl::InvalidArgumentError("upstream stream sent [DONE] before any chunk");
      Finish();
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(object root, ParseObject(parser_, data, "upstream stream chunk"));
    element err;
    if (Has(root, "error", &err)) {
      UpstreamError(err);
      return absl::OkStatus();
    }
    return OnChunk(root);
  }

  absl::Status OnEnd() override {
    if (done_) return absl::OkStatus();
    if (finish_seen_) {  // some upstreams close without [DONE]
      Finish();
      return absl::OkStatus();
    }
    if (!started_) return absl::InvalidArgumentError("upstream stream ended before any chunk");
    return absl::InvalidArgumentError("upstream stream ended before a finish_reason");
  }

  bool done() const override { return done_; }

 private:
  // kRefusal: a kText block marked as the model's refusal (delta.refusal).
  enum class Open { kNone, kText, kRefusal, kThinking, kTool };

  // {"error":{"message","type","code"}}: a string code (e.g.
  // "rate_limit_exceeded") is more specific than the type.
  void UpstreamError(element err) {
    StreamError e;
    std::string_view s;
    std::string type, code;
    int64_t status = 0;
    object eo;
    if (!err.get_object().get(eo)) {
      if (!eo["message"].get(s)) e.message = std::string(s);
      if (!eo["type"].get(s)) type = std::string(s);
      if (!eo["code"].get(s)) code = std::string(s);
      if (eo["code"].get(status)) status = 0;
    } else if (!err.get(s)) {
      e.message = std::string(s);
    }
    if (e.message.empty()) e.message = "upstream stream reported an error";
    e.type = !code.empty() ? code : !type.empty() ? type : "upstream_error";
    if (status < 400 || status > 599) {
      status = StatusForErrorType(code);
      if (status == 502) status = StatusForErrorType(type);
    }
    e.status = static_cast<int>(status);
    sink_->OnError(e);
    done_ = true;
  }

  absl::Status OnChunk(object root) {
    element ce, ue;
    array choices;
    bool has_choices = Has(root, "choices", &ce);
    if (has_choices && ce.get_array().get(choices)) return Bad("choices", "must be an array");
    bool has_usage = Has(root, "usage", &ue);
    if (has_usage) {
      object usage;
      if (ue.get_object().get(usage)) return Bad("usage", "must be an object");
      ASSIGN_OR_RETURN(usage_, internal::ParseUsage(usage));
    }
    if (!started_) {
      ASSIGN_OR_RETURN(std::optional<std::string> id, OptString(root, "id", "id"));
      ASSIGN_OR_RETURN(std::optional<std::string> model, OptString(root, "model", "model"));
      // Azure OpenAI opens with an anonymous prompt_filter_results chunk.
      if (id.value_or("").empty() && (!has_choices || choices.size() == 0) && !has_usage) {
        return absl::OkStatus();
      }
      StreamStart start;
      start.id = id.value_or("");
      start.model = model.value_or("");
      if (usage_ && usage_->prompt_tokens > 0) {
        // Upstreams with continuous usage stats (vLLM) count the prompt in
        // the first chunk already: input-side usage.
        Usage input;
        input.prompt_tokens = usage_->prompt_tokens;
        input.cache_read_tokens = usage_->cache_read_tokens;
        start.usage = input;
      }
      sink_->OnStart(start);
      started_ = true;
    }
    if (has_choices) {
      size_t i = 0;
      for (element c : choices) {
        json::Path path = Idx("choices", i++);
        object choice;
        if (c.get_object().get(choice)) return Bad(path, "must be an object");
        ASSIGN_OR_RETURN(std::optional<int64_t> index, OptInt(choice, "index", Sub(path, "index")));
        if (index.value_or(0) != 0) continue;  // n > 1: only the first choice is relayed
        RETURN_IF_ERROR(OnChoice(choice, path));
      }
    }
    return absl::OkStatus();
  }

  absl::Status OnChoice(object choice, std::string_view path) {
    element de;
    if (Has(choice, "delta", &de)) {
      json::Path d_path = Sub(path, "delta");
      object delta;
      if (de.get_object().get(delta)) return Bad(d_path, "must be an object");
      // DeepSeek / vLLM send reasoning_content, OpenRouter reasoning.
      element re;
      const char* key = Has(delta, "reasoning_content", &re) ? "reasoning_content" : "reasoning";
      ASSIGN_OR_RETURN(std::optional<std::string> reasoning,
                       OptString(delta, key, Sub(d_path, key)));
      if (reasoning && !reasoning->empty()) Delta(Open::kThinking, *reasoning);
      ASSIGN_OR_RETURN(std::optional<std::string> content,
                       OptString(delta, "content", Sub(d_path, "content")));
      if (content && !content->empty()) Delta(Open::kText, *content);
      ASSIGN_OR_RETURN(std::optional<std::string> refusal,
                       OptString(delta, "refusal", Sub(d_path, "refusal")));
      if (refusal && !refusal->empty()) Delta(Open::kRefusal, *refusal);
      element te;
      if (Has(delta, "tool_calls", &te)) {
        array calls;
        if (te.get_array().get(calls)) return Bad(Sub(d_path, "tool_calls"), "must be an array");
        RETURN_IF_ERROR(OnToolCalls(calls, Sub(d_path, "tool_calls")));
      }
    }
    ASSIGN_OR_RETURN(std::optional<std::string> finish,
                     OptString(choice, "finish_reason", Sub(path, "finish_reason")));
    if (finish) {
      Close();
      finish_ = FinishFromChat(*finish);
      finish_seen_ = true;
    }
    return absl::OkStatus();
  }

  absl::Status OnToolCalls(array calls, std::string_view path) {
    size_t i = 0;
    for (element e : calls) {
      json::Path t_path = Idx(path, i++);
      object call;
      if (e.get_object().get(call)) return Bad(t_path, "must be an object");
      ASSIGN_OR_RETURN(std::optional<int64_t> index, OptInt(call, "index", Sub(t_path, "index")));
      ASSIGN_OR_RETURN(std::optional<std::string> id, OptString(call, "id", Sub(t_path, "id")));
      std::optional<std::string> name, args;
      element fe;
      if (Has(call, "function", &fe)) {
        object fn;
        if (fe.get_object().get(fn)) return Bad(Sub(t_path, "function"), "must be an object");
        ASSIGN_OR_RETURN(name, OptString(fn, "name", Sub(t_path, "function.name")));
        ASSIGN_OR_RETURN(args, OptString(fn, "arguments", Sub(t_path, "function.arguments")));
      }
      int64_t idx;
      if (index) {
        idx = *index;
      } else if (int64_t known = IndexOfId(id.value_or("")); known >= 0) {
        idx = known;  // an upstream that omits index: the call with this id
      } else if ((!id || id->empty()) && last_tool_index_ >= 0 &&
                 !closed_tools_.count(last_tool_index_)) {
        idx = last_tool_index_;  // no index, no id: continue the latest call
      } else {
        idx = next_tool_index_;
      }
      if (idx < 0) return Bad(Sub(t_path, "index"), "must not be negative");
      if (idx >= kMaxToolCalls) {
        return Bad(Sub(t_path, "index"),
                   absl::StrCat("is past the limit of ", kMaxToolCalls, " tool calls per answer"));
      }
      if (open_ == Open::kTool && idx == tool_index_) {
        if (args && !args->empty()) sink_->OnDelta(DeltaKind::kArguments, *args);
        continue;
      }
      if (auto it = pending_.find(idx); it != pending_.end()) {
        // A call that interleaves with the streaming one: held until that
        // one ends (canonical blocks never overlap).
        if (args) it->second.arguments.append(*args);
        continue;
      }
      if (closed_tools_.count(idx)) {
        return Bad(Sub(t_path, "index"),
                   absl::StrCat("returns to tool call ", idx, ", which already ended"));
      }
      if (!name || name->empty()) {
        return Bad(Sub(t_path, "function.name"), "is required when a tool call starts");
      }
      last_tool_index_ = idx;
      next_tool_index_ = std::max(next_tool_index_, idx + 1);
      if (id && !id->empty()) id_index_[*id] = idx;
      if (open_ == Open::kTool) {
        // A second call starts while the first may still get arguments
        // (OpenAI interleaves parallel calls by index): hold it.
        PendingCall& held = pending_[idx];
        held.id = id.value_or("");
        held.name = std::move(*name);
        if (args) held.arguments = std::move(*args);
        continue;
      }
      Close();
      BlockStart b;
      b.kind = BlockKind::kToolCall;
      b.tool_call_id = id.value_or("");
      b.name = std::move(*name);
      sink_->OnBlockStart(b);
      open_ = Open::kTool;
      tool_index_ = idx;
      tool_id_ = std::move(b.tool_call_id);
      if (args && !args->empty()) sink_->OnDelta(DeltaKind::kArguments, *args);
    }
    return absl::OkStatus();
  }

  void Delta(Open kind, std::string_view text) {
    if (open_ != kind) {
      Close();
      BlockStart b;
      b.kind = kind == Open::kThinking ? BlockKind::kThinking : BlockKind::kText;
      b.refusal = kind == Open::kRefusal;
      sink_->OnBlockStart(b);
      open_ = kind;
    }
    sink_->OnDelta(kind == Open::kThinking ? DeltaKind::kThinking : DeltaKind::kText, text);
  }

  // Ends the open block; after a tool call, the calls held behind it follow
  // whole, in index order.
  void Close() {
    if (open_ == Open::kNone) return;
    bool tool = open_ == Open::kTool;
    if (tool) closed_tools_.insert(tool_index_);
    open_ = Open::kNone;
    sink_->OnBlockStop();
    if (!tool) return;
    for (auto& [idx, held] : pending_) {
      BlockStart b;
      b.kind = BlockKind::kToolCall;
      b.tool_call_id = std::move(held.id);
      b.name = std::move(held.name);
      sink_->OnBlockStart(b);
      if (!held.arguments.empty()) sink_->OnDelta(DeltaKind::kArguments, held.arguments);
      sink_->OnBlockStop();
      closed_tools_.insert(idx);
    }
    pending_.clear();
  }

  // The index of the open or held call with this upstream id; -1 if none.
  int64_t IndexOfId(const std::string& id) const {
    if (id.empty()) return -1;
    auto it = id_index_.find(id);
    if (it == id_index_.end() || closed_tools_.count(it->second)) return -1;
    return it->second;
  }

  void Finish() {
    Close();
    StreamFinish f;
    f.reason = finish_;
    f.usage = usage_;
    sink_->OnFinish(f);
    done_ = true;
  }

  StreamSink* sink_;
  // One parser per thread for every decoder: events are parsed one at a time
  // and nothing parsed outlives OnEvent; a per-stream parser would allocate
  // its buffers anew for every request.
  simdjson::dom::parser& parser_ = json::ThreadParser();
  bool started_ = false;
  bool done_ = false;
  Open open_ = Open::kNone;
  struct PendingCall {
    std::string id;
    std::string name;
    std::string arguments;
  };
  int64_t tool_index_ = -1;       // the streaming call (open_ == kTool)
  int64_t last_tool_index_ = -1;  // the call that started last
  int64_t next_tool_index_ = 0;
  std::string tool_id_;
  std::map<int64_t, PendingCall> pending_;             // calls started behind the streaming one
  std::unordered_map<std::string, int64_t> id_index_;  // upstream call id -> index
  std::set<int64_t> closed_tools_;
  bool finish_seen_ = false;
  std::optional<FinishReason> finish_;
  std::optional<Usage> usage_;
};

// ---- encoding ----

class ChatEncoder : public StreamEncoder {
 public:
  explicit ChatEncoder(const EncoderOptions& options) : opts_(options) {}

  void OnStart(const StreamStart& start) override {
    if (started_ || done_) return;
    started_ = true;
    id_ = !start.id.empty()           ? start.id
          : opts_.fallback_id.empty() ? "chatcmpl-bitrouter"
                                      : absl::StrCat("chatcmpl-", opts_.fallback_id);
    Chunk([](W& w) { Str(w, "role"), Str(w, "assistant"), Str(w, "content"), Str(w, ""); });
  }

  void OnBlockStart(const BlockStart& block) override {
    if (done_) return;
    EnsureStarted();
    open_kind_ = block.kind;
    refusal_ = block.kind == BlockKind::kText && block.refusal;
    if (block.kind != BlockKind::kToolCall) return;  // text arrives in deltas; thinking is dropped
    tool_n_ = tool_count_++;
    args_sent_ = false;
    std::string id =
        block.tool_call_id.empty() ? absl::StrCat("call_", id_, "_", tool_n_) : block.tool_call_id;
    Chunk([&](W& w) {
      ToolCall(w, [&] {
        Str(w, "id"), Str(w, id), Str(w, "type"), Str(w, "function");
        Str(w, "function");
        w.StartObject();
        Str(w, "name"), Str(w, block.name), Str(w, "arguments"), Str(w, "");
        w.EndObject();
      });
    });
  }

  void OnDelta(DeltaKind kind, std::string_view text) override {
    if (done_ || text.empty()) return;
    EnsureStarted();
    if (kind == DeltaKind::kText) {
      Chunk([&](W& w) { Str(w, refusal_ ? "refusal" : "content"), Str(w, text); });
    } else if (kind == DeltaKind::kArguments && open_kind_ == BlockKind::kToolCall &&
               tool_n_ >= 0) {
      args_sent_ = true;
      Chunk([&](W& w) {
        ToolCall(w, [&] {
          Str(w, "function");
          w.StartObject();
          Str(w, "arguments"), Str(w, text);
          w.EndObject();
        });
      });
    }
    // Thinking and signatures: Chat has no field for them (as RenderResponse).
  }

  void OnBlockStop() override {
    // A call without input (a Messages tool_use with no or empty
    // partial_json) still carries JSON arguments: "" is not JSON.
    if (!done_ && open_kind_ == BlockKind::kToolCall && tool_n_ >= 0 && !args_sent_) {
      OnDelta(DeltaKind::kArguments, "{}");
    }
    open_kind_ = BlockKind::kText;
    refusal_ = false;
  }

  void OnFinish(const StreamFinish& finish) override {
    if (done_) return;
    EnsureStarted();
    Chunk([](W&) {}, internal::FinishName(finish.reason));
    if (opts_.include_usage && finish.usage) UsageChunk(*finish.usage);
    out_.append("data: [DONE]\n\n");
    done_ = true;
  }

  void OnError(const StreamError& error) override {
    if (done_) return;
    std::string code = error.type.empty() ? "upstream_error" : error.type;
    out_.append(RenderStreamError(Protocol::kChat,
                                  HttpError{error.status, "upstream_error", code, error.message}));
    done_ = true;
  }

 private:
  void EnsureStarted() {
    if (!started_) OnStart(StreamStart{});
  }

  void Head(W& w) {
    Str(w, "id"), Str(w, id_), Str(w, "object"), Str(w, "chat.completion.chunk");
    Str(w, "created"), w.Int64(opts_.created);
    Str(w, "model"), Str(w, opts_.client_model);
  }

  void Emit(const rapidjson::StringBuffer& buf) {
    out_.append("data: ");
    out_.append(buf.GetString(), buf.GetSize());
    out_.append("\n\n");
  }

  // One chunk with choices[0].delta filled by `delta`.
  template <typename F>
  void Chunk(F&& delta, const char* finish_reason = nullptr) {
    rapidjson::StringBuffer buf;
    W w(buf);
    w.StartObject();
    Head(w);
    Str(w, "choices");
    w.StartArray();
    w.StartObject();
    Str(w, "index"), w.Int(0);
    Str(w, "delta");
    w.StartObject();
    delta(w);
    w.EndObject();
    if (finish_reason) Str(w, "finish_reason"), Str(w, finish_reason);
    w.EndObject();
    w.EndArray();
    w.EndObject();
    Emit(buf);
  }

  // "tool_calls":[{"index":n, <fields>}] for the open tool call.
  template <typename F>
  void ToolCall(W& w, F&& fields) {
    Str(w, "tool_calls");
    w.StartArray();
    w.StartObject();
    Str(w, "index"), w.Int(tool_n_);
    fields();
    w.EndObject();
    w.EndArray();
  }

  void UsageChunk(const Usage& u) {
    rapidjson::StringBuffer buf;
    W w(buf);
    w.StartObject();
    Head(w);
    Str(w, "choices");
    w.StartArray();
    w.EndArray();
    Str(w, "usage");
    w.StartObject();
    Str(w, "prompt_tokens"), w.Int64(u.prompt_tokens);
    Str(w, "completion_tokens"), w.Int64(u.completion_tokens);
    Str(w, "total_tokens"), w.Int64(u.prompt_tokens + u.completion_tokens);
    if (u.cache_read_tokens) {
      Str(w, "prompt_tokens_details");
      w.StartObject();
      Str(w, "cached_tokens"), w.Int64(*u.cache_read_tokens);
      w.EndObject();
    }
    if (u.reasoning_tokens) {
      Str(w, "completion_tokens_details");
      w.StartObject();
      Str(w, "reasoning_tokens"), w.Int64(*u.reasoning_tokens);
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    Emit(buf);
  }

  EncoderOptions opts_;
  std::string id_;
  bool started_ = false;
  BlockKind open_kind_ = BlockKind::kText;
  bool refusal_ = false;    // the open block is a refusal: its text goes in delta.refusal
  int tool_count_ = 0;      // tool calls started so far
  int tool_n_ = -1;         // index of the current tool call
  bool args_sent_ = false;  // the current tool call has had an argument delta
};

}  // namespace

std::unique_ptr<StreamDecoder> MakeStreamDecoder(StreamSink* sink) {
  return std::make_unique<ChatDecoder>(sink);
}

std::unique_ptr<StreamEncoder> MakeStreamEncoder(const EncoderOptions& options) {
  return std::make_unique<ChatEncoder>(options);
}

}  // namespace bitrouter::protocol::chat
