// Gemini streamGenerateContent <-> canonical stream events.
//
// Upstream (decoder): every SSE data event is a GenerateContentResponse
// chunk. Text parts extend one open text block, thought parts one open
// thinking block; a thoughtSignature becomes a signature delta (on a
// non-thought part: a thinking block of its own just before that part, as in
// gemini_internal.h); a functionCall arrives whole and becomes a complete
// tool-call block. finishReason and usageMetadata are remembered; Gemini has
// no terminal event, so OnEnd() finishes the stream when a finishReason (or a
// prompt blockReason) was seen and fails it otherwise.
//
// Client (encoder): one chunk per text/thinking delta, a functionCall chunk
// at the end of each tool-call block (Gemini sends calls whole), and a final
// chunk with finishReason and usageMetadata. SSE framing is `data: {json}`
// followed by CRLF CRLF, as Google sends it; without alt=sse the chunks form
// one JSON array.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <optional>
#include <utility>

#include "shared/common/status_macros.h"
#include "shared/protocol/errors.h"
#include "shared/protocol/gemini_adapter.h"
#include "shared/protocol/gemini_internal.h"
#include "shared/protocol/json_fields.h"

namespace bitrouter::protocol::gemini {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;
using W = internal::W;
using internal::Key;
using json::Bad;
using json::Has;
using json::Idx;
using json::OptBool;
using json::OptString;
using json::ReqString;
using json::Str;
using json::Sub;

// ---- upstream: Gemini chunks -> canonical events ----

class Decoder : public StreamDecoder {
 public:
  explicit Decoder(StreamSink* sink) : sink_(sink) {}

  absl::Status OnEvent(std::string_view, std::string_view data) override {
    if (done_) return absl::OkStatus();
    if (data.find_first_not_of(" \t\r\n") == std::string_view::npos) return absl::OkStatus();
    ASSIGN_OR_RETURN(object root, json::ParseObject(parser_, data, "upstream stream event"));
    element e;
    if (Has(root, "error", &e)) return Error(e);
    std::string k = Key(root, "usageMetadata");
    if (Has(root, k, &e)) {
      object usage;
      if (e.get_object().get(usage)) return Bad(k, "must be an object");
      ASSIGN_OR_RETURN(usage_, internal::ParseUsage(usage, k));
    }
    if (!started_) {
      StreamStart start;
      k = Key(root, "responseId");
      ASSIGN_OR_RETURN(std::optional<std::string> id, OptString(root, k, k));
      k = Key(root, "modelVersion");
      ASSIGN_OR_RETURN(std::optional<std::string> model, OptString(root, k, k));
      start.id = response_id_ = id.value_or("");
      start.model = model.value_or("");
      if (usage_) {
        // Gemini repeats promptTokenCount on every chunk: input-side usage.
        Usage input;
        input.prompt_tokens = usage_->prompt_tokens;
        input.cache_read_tokens = usage_->cache_read_tokens;
        start.usage = input;
      }
      started_ = true;
      sink_->OnStart(start);
    }
    k = Key(root, "promptFeedback");
    object feedback;
    if (Has(root, k, &e) && !e.get_object().get(feedback)) {
      std::string bk = Key(feedback, "blockReason");
      ASSIGN_OR_RETURN(std::optional<std::string> blocked, OptString(feedback, bk, Sub(k, bk)));
      if (blocked) {
        finished_ = true;
        finish_ = FinishReason::kContentFilter;
      }
    }
    array candidates;
    if (!Has(root, "candidates", &e)) return absl::OkStatus();
    if (e.get_array().get(candidates)) return Bad("candidates", "must be an array");
    if (candidates.size() == 0) return absl::OkStatus();
    object cand;
    if (candidates.at(0).get_object().get(cand)) return Bad("candidates[0]", "must be an object");
    object content;
    if (Has(cand, "content", &e)) {
      if (e.get_object().get(content)) return Bad("candidates[0].content", "must be an object");
      array parts;
      if (Has(content, "parts", &e)) {
        if (e.get_array().get(parts)) return Bad("candidates[0].content.parts", "must be an array");
        size_t i = 0;
        for (element p : parts) {
          json::Path path = Idx("candidates[0].content.parts", i++);
          object part;
          if (p.get_object().get(part)) return Bad(path, "must be an object");
          RETURN_IF_ERROR(Part(part, path));
        }
      }
    }
    k = Key(cand, "finishReason");
    ASSIGN_OR_RETURN(std::optional<std::string> reason,
                     OptString(cand, k, Sub("candidates[0]", k)));
    if (reason) {
      if (std::optional<FinishReason> r = internal::FinishFromGemini(*reason)) {
        finished_ = true;
        finish_ = r;
        raw_finish_ = *reason;
      }
    }
    return absl::OkStatus();
  }

  absl::Status OnEnd() override {
    if (done_) return absl::OkStatus();
    if (!finished_)
      return absl::InvalidArgumentError("upstream stream ended before a finishReason");
    Close();
    StreamFinish finish;
    finish.reason = finish_;
    if (calls_ > 0 && finish_ == FinishReason::kStop) finish.reason = FinishReason::kToolCalls;
    finish.usage = usage_;
    finish.gemini_finish_reason = raw_finish_;
    done_ = true;
    sink_->OnFinish(finish);
    return absl::OkStatus();
  }

  bool done() const override { return done_; }

 private:
  absl::Status Error(element e) {
    StreamError err;
    err.type = "upstream_error";
    object o;
    std::string_view s;
    if (!e.get_object().get(o)) {
      int64_t code = 0;
      element v;
      if (Has(o, "code", &v) && !v.get_int64().get(code) && code >= 400 && code <= 599) {
        err.status = static_cast<int>(code);
      }
      if (Has(o, "status", &v) && !v.get_string().get(s)) err.type = std::string(s);
      if (Has(o, "message", &v) && !v.get_string().get(s)) err.message = std::string(s);
    } else if (!e.get_string().get(s)) {
      err.message = std::string(s);
    }
    if (err.message.empty()) err.message = "upstream stream error";
    done_ = true;
    sink_->OnError(err);
    return absl::OkStatus();
  }

  void Open(BlockKind kind) {
    if (open_ == kind) return;
    Close();
    BlockStart b;
    b.kind = kind;
    sink_->OnBlockStart(b);
    open_ = kind;
  }

  void Close() {
    if (!open_) return;
    open_.reset();
    sink_->OnBlockStop();
  }

  // A thinking block holding only `signature`.
  void SignatureBlock(std::string_view signature) {
    Close();
    Open(BlockKind::kThinking);
    sink_->OnDelta(DeltaKind::kSignature, signature);
    Close();
  }

  absl::Status Part(object part, std::string_view path) {
    if (internal::IsServerToolPart(part)) {
      Close();  // text around it stays in two blocks, as in a whole answer
      sink_->OnServerToolSkipped();
      return absl::OkStatus();
    }
    std::string k = Key(part, "thoughtSignature");
    ASSIGN_OR_RETURN(std::optional<std::string> sig, OptString(part, k, Sub(path, k)));
    ASSIGN_OR_RETURN(std::optional<bool> thought, OptBool(part, "thought", Sub(path, "thought")));
    std::string signature = sig.value_or("");
    element e;
    if (Has(part, "text", &e)) {
      ASSIGN_OR_RETURN(std::string text, ReqString(part, "text", Sub(path, "text")));
      if (thought.value_or(false)) {
        Open(BlockKind::kThinking);
        if (!text.empty()) sink_->OnDelta(DeltaKind::kThinking, text);
        if (!signature.empty()) sink_->OnDelta(DeltaKind::kSignature, signature);
        return absl::OkStatus();
      }
      if (!signature.empty()) SignatureBlock(signature);
      if (!text.empty()) {
        Open(BlockKind::kText);
        sink_->OnDelta(DeltaKind::kText, text);
      }
      return absl::OkStatus();
    }
    k = Key(part, "functionCall");
    if (Has(part, k, &e)) {
      json::Path c_path = Sub(path, k);
      object call;
      if (e.get_object().get(call)) return Bad(c_path, "must be an object");
      BlockStart b;
      b.kind = BlockKind::kToolCall;
      ASSIGN_OR_RETURN(b.name, ReqString(call, "name", Sub(c_path, "name")));
      ASSIGN_OR_RETURN(std::optional<std::string> id, OptString(call, "id", Sub(c_path, "id")));
      ASSIGN_OR_RETURN(std::string args, internal::ArgsText(call, c_path));
      if (id && !id->empty()) {
        b.tool_call_id = std::move(*id);
      } else if (!response_id_.empty()) {
        b.tool_call_id = internal::DerivedCallId(response_id_, calls_);
      }
      ++calls_;
      if (!signature.empty()) {
        SignatureBlock(signature);
      } else {
        Close();
      }
      sink_->OnBlockStart(b);
      sink_->OnDelta(DeltaKind::kArguments, args);
      sink_->OnBlockStop();
      return absl::OkStatus();
    }
    for (auto field : part) {
      if (field.key == "thought" || field.key == "thoughtSignature" ||
          field.key == "thought_signature") {
        continue;
      }
      return Bad(Sub(path, field.key), "is not supported in a streamed model turn");
    }
    if (!signature.empty()) SignatureBlock(signature);
    return absl::OkStatus();
  }

  StreamSink* sink_;
  // One parser per thread for every decoder: events are parsed one at a time
  // and nothing parsed outlives OnEvent; a per-stream parser would allocate
  // its buffers anew for every request.
  simdjson::dom::parser& parser_ = json::ThreadParser();
  bool started_ = false;
  bool done_ = false;
  bool finished_ = false;  // a finishReason or blockReason was seen
  std::optional<FinishReason> finish_;
  std::string raw_finish_;  // the finishReason as sent (StreamFinish::gemini_finish_reason)
  std::optional<Usage> usage_;
  std::optional<BlockKind> open_;
  std::string response_id_;
  size_t calls_ = 0;
};

// ---- client: canonical events -> Gemini chunks ----

class Encoder : public StreamEncoder {
 public:
  explicit Encoder(const EncoderOptions& opts)
      : opts_(opts),
        id_(opts.fallback_id.empty() ? absl::StrCat("gen-", opts.created) : opts.fallback_id) {}

  void OnStart(const StreamStart& start) override {
    if (done_) return;
    if (!start.id.empty()) id_ = start.id;
    start_usage_ = start.usage;
  }

  void OnBlockStart(const BlockStart& block) override {
    if (done_) return;
    kind_ = block.kind;
    if (block.kind == BlockKind::kToolCall) {
      call_id_ = block.tool_call_id;
      call_name_ = block.name;
      args_.clear();
    }
  }

  void OnDelta(DeltaKind kind, std::string_view text) override {
    if (done_) return;
    switch (kind) {
      case DeltaKind::kText:
      case DeltaKind::kThinking: {
        if (text.empty()) return;
        rapidjson::StringBuffer buf;
        W w(buf);
        w.StartArray();
        w.StartObject();
        Str(w, "text"), Str(w, text);
        if (kind == DeltaKind::kThinking) Str(w, "thought"), w.Bool(true);
        Signature(w);
        w.EndObject();
        w.EndArray();
        Chunk(std::string_view(buf.GetString(), buf.GetSize()), "");
        return;
      }
      case DeltaKind::kSignature:
        signature_.append(text);
        return;
      case DeltaKind::kArguments:
        args_.append(text);
        return;
    }
  }

  void OnBlockStop() override {
    if (done_ || kind_ != BlockKind::kToolCall) return;
    kind_ = BlockKind::kText;
    rapidjson::StringBuffer buf;
    W w(buf);
    w.StartArray();
    w.StartObject();
    Str(w, "functionCall");
    absl::Status s = internal::WriteFunctionCall(w, call_id_, call_name_, args_);
    if (!s.ok()) {
      OnError({502, "upstream_error",
               absl::StrCat("tool call '", AV(call_name_), "' arguments are not a JSON object")});
      return;
    }
    Signature(w);
    w.EndObject();
    w.EndArray();
    Chunk(std::string_view(buf.GetString(), buf.GetSize()), "");
  }

  void OnFinish(const StreamFinish& finish) override {
    if (done_) return;
    // The last chunk carries a (possibly empty) text part, as Gemini's does.
    rapidjson::StringBuffer buf;
    W w(buf);
    w.StartArray();
    w.StartObject();
    Str(w, "text"), Str(w, "");
    Signature(w);
    w.EndObject();
    w.EndArray();
    std::optional<Usage> usage = finish.usage ? finish.usage : start_usage_;
    FinishReason reason = finish.reason.value_or(FinishReason::kStop);
    std::string_view name = internal::FinishForClient(reason, finish.gemini_finish_reason);
    Chunk(std::string_view(buf.GetString(), buf.GetSize()), name, usage ? &*usage : nullptr);
    if (!opts_.gemini_sse) out_ += "]";
    done_ = true;
  }

  void OnError(const StreamError& error) override {
    if (done_) return;
    rapidjson::StringBuffer buf;
    W w(buf);
    w.StartObject();
    Str(w, "error");
    w.StartObject();
    Str(w, "code"), w.Int(error.status);
    Str(w, "message"), Str(w, error.message);
    Str(w, "status"), Str(w, GeminiStatus(error.status));
    w.EndObject();
    w.EndObject();
    Frame(std::string_view(buf.GetString(), buf.GetSize()));
    if (!opts_.gemini_sse) out_ += "]";
    done_ = true;
  }

 private:
  // A pending signature goes onto the next part written.
  void Signature(W& w) {
    if (signature_.empty()) return;
    Str(w, "thoughtSignature"), Str(w, signature_);
    signature_.clear();
  }

  // `finish`: the finishReason of the last chunk ("" = none).
  void Chunk(std::string_view parts, std::string_view finish, const Usage* usage = nullptr) {
    rapidjson::StringBuffer buf;
    W w(buf);
    w.StartObject();
    Str(w, "candidates");
    w.StartArray();
    w.StartObject();
    Str(w, "content");
    w.StartObject();
    Str(w, "role"), Str(w, "model"), Str(w, "parts");
    w.RawValue(parts.data(), parts.size(), rapidjson::kArrayType);
    w.EndObject();
    if (!finish.empty()) Str(w, "finishReason"), Str(w, finish);
    Str(w, "index"), w.Int(0);
    w.EndObject();
    w.EndArray();
    if (usage) internal::WriteUsage(w, *usage);
    Str(w, "modelVersion"), Str(w, opts_.client_model);
    Str(w, "responseId"), Str(w, id_);
    w.EndObject();
    Frame(std::string_view(buf.GetString(), buf.GetSize()));
  }

  void Frame(std::string_view json) {
    if (opts_.gemini_sse) {
      absl::StrAppend(&out_, "data: ", AV(json), "\r\n\r\n");
      return;
    }
    out_ += first_ ? "[" : ",\r\n";
    first_ = false;
    out_.append(json);
  }

  EncoderOptions opts_;
  std::string id_;
  bool first_ = true;
  BlockKind kind_ = BlockKind::kText;
  std::string call_id_;
  std::string call_name_;
  std::string args_;
  std::string signature_;
  std::optional<Usage> start_usage_;
};

}  // namespace

std::unique_ptr<StreamDecoder> MakeStreamDecoder(StreamSink* sink) {
  return std::make_unique<Decoder>(sink);
}

std::unique_ptr<StreamEncoder> MakeStreamEncoder(const EncoderOptions& options) {
  return std::make_unique<Encoder>(options);
}

}  // namespace bitrouter::protocol::gemini
