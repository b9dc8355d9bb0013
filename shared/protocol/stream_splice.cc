#include "shared/protocol/stream_splice.h"

#include <utility>

#include "absl/strings/ascii.h"

namespace bitrouter::protocol {
namespace {

std::optional<int64_t> AddOptional(std::optional<int64_t> a, std::optional<int64_t> b) {
  if (!a && !b) return std::nullopt;
  return a.value_or(0) + b.value_or(0);
}

}  // namespace

void PartialAnswer::OnStart(const StreamStart& start) {
  if (!started_) {
    started_ = true;
    start_ = start;
    usage_ = start.usage;
  }
  if (next_ != nullptr) next_->OnStart(start);
}

void PartialAnswer::OnBlockStart(const BlockStart& block) {
  open_ = true;
  ContentPart p;
  switch (block.kind) {
    case BlockKind::kText:
      p.kind = ContentPart::Kind::kText;
      break;
    case BlockKind::kThinking:
      p.kind = ContentPart::Kind::kThinking;
      break;
    case BlockKind::kRedactedThinking:
      p.kind = ContentPart::Kind::kRedactedThinking;
      p.data = block.data;
      break;
    case BlockKind::kToolCall:
      p.kind = ContentPart::Kind::kToolCall;
      tool_call_ = true;
      break;
  }
  bytes_ += p.data.size();
  overflow_ = overflow_ || bytes_ > kMaxBytes;
  // Past the cap nothing more is kept: this answer can no longer be rescued.
  if (!overflow_ && !tool_call_) parts_.push_back(std::move(p));
  if (next_ != nullptr) next_->OnBlockStart(block);
}

void PartialAnswer::OnDelta(DeltaKind kind, std::string_view text) {
  bytes_ += text.size();
  overflow_ = overflow_ || bytes_ > kMaxBytes;
  if (!overflow_ && !tool_call_) {
    // Encoders open a block for a delta that arrives outside one; so does
    // the record.
    if (!open_ && (kind == DeltaKind::kText || kind == DeltaKind::kThinking)) {
      open_ = true;
      parts_.push_back(ContentPart());
      if (kind == DeltaKind::kThinking) parts_.back().kind = ContentPart::Kind::kThinking;
    }
    if (open_ && !parts_.empty()) {
      ContentPart& p = parts_.back();
      if (kind == DeltaKind::kSignature) {
        p.signature.append(text);
      } else if (kind != DeltaKind::kArguments) {
        p.text.append(text);
      }
    }
  }
  if (next_ != nullptr) next_->OnDelta(kind, text);
}

void PartialAnswer::OnBlockStop() {
  open_ = false;
  if (next_ != nullptr) next_->OnBlockStop();
}

void PartialAnswer::OnFinish(const StreamFinish& finish) {
  terminal_ = true;
  if (next_ != nullptr) next_->OnFinish(finish);
}

void PartialAnswer::OnError(const StreamError& error) {
  terminal_ = true;
  if (next_ != nullptr) next_->OnError(error);
}

std::string PartialAnswer::Text() const {
  std::string text;
  for (const ContentPart& p : parts_) {
    if (p.kind == ContentPart::Kind::kText) text.append(p.text);
  }
  return text;
}

void ReplayPartial(const PartialAnswer& partial, StreamSink* sink) {
  if (!partial.started()) return;
  sink->OnStart(partial.start());
  const std::vector<ContentPart>& parts = partial.parts();
  for (size_t i = 0; i < parts.size(); ++i) {
    const ContentPart& p = parts[i];
    BlockStart b;
    DeltaKind kind = DeltaKind::kText;
    if (p.kind == ContentPart::Kind::kThinking) {
      b.kind = BlockKind::kThinking;
      kind = DeltaKind::kThinking;
    } else if (p.kind == ContentPart::Kind::kRedactedThinking) {
      b.kind = BlockKind::kRedactedThinking;
      b.data = p.data;
    }
    sink->OnBlockStart(b);
    if (!p.text.empty()) sink->OnDelta(kind, p.text);
    if (!p.signature.empty()) sink->OnDelta(DeltaKind::kSignature, p.signature);
    if (i + 1 < parts.size() || !partial.open()) sink->OnBlockStop();
  }
}

CanonicalRequest ContinuationRequest(const CanonicalRequest& base, std::string_view text,
                                     ContinuationMode mode, bool* trimmed) {
  *trimmed = false;
  CanonicalRequest req = base;
  if (mode == ContinuationMode::kPrefill) {
    size_t n = text.size();
    while (n > 0 && absl::ascii_isspace(static_cast<unsigned char>(text[n - 1]))) --n;
    *trimmed = n != text.size();
    text = text.substr(0, n);
  }
  if (text.empty()) {
    *trimmed = false;
    return req;
  }
  Message assistant;
  assistant.role = Role::kAssistant;
  assistant.content.push_back(ContentPart::Text(std::string(text)));
  req.messages.push_back(std::move(assistant));
  if (mode == ContinuationMode::kInstruction) {
    Message user;
    user.role = Role::kUser;
    user.content.push_back(ContentPart::Text(std::string(kContinueInstruction)));
    req.messages.push_back(std::move(user));
  }
  return req;
}

ContinuationMode DefaultContinuationMode(Protocol target) {
  return target == Protocol::kMessages || target == Protocol::kGemini
             ? ContinuationMode::kPrefill
             : ContinuationMode::kInstruction;
}

Usage AddUsage(const Usage& a, const Usage& b) {
  Usage u;
  u.prompt_tokens = a.prompt_tokens + b.prompt_tokens;
  u.completion_tokens = a.completion_tokens + b.completion_tokens;
  u.reasoning_tokens = AddOptional(a.reasoning_tokens, b.reasoning_tokens);
  u.cache_read_tokens = AddOptional(a.cache_read_tokens, b.cache_read_tokens);
  u.cache_write_tokens = AddOptional(a.cache_write_tokens, b.cache_write_tokens);
  return u;
}

SpliceSink::SpliceSink(StreamSink* next, bool text_open, bool strip_leading_space,
                       std::optional<Usage> before)
    : next_(next),
      merging_(text_open),
      strip_space_(strip_leading_space),
      before_(std::move(before)) {}

void SpliceSink::OnStart(const StreamStart& start) {
  // The client's stream started long ago; only the usage is worth keeping.
  start_usage_ = start.usage;
}

void SpliceSink::OnBlockStart(const BlockStart& block) {
  if (merging_) {
    if (block.kind == BlockKind::kText) {
      merging_ = false;  // continues the client's open text block
      return;
    }
    if (block.kind != BlockKind::kToolCall) {
      // Thinking before the continued text would have to interrupt the
      // client's text block; the client gets only the answer's text.
      dropping_ = true;
      return;
    }
    merging_ = false;  // a tool call: the client's text block ends here
  }
  if (block.kind == BlockKind::kText || block.kind == BlockKind::kToolCall) strip_space_ = false;
  next_->OnBlockStart(block);
}

void SpliceSink::OnDelta(DeltaKind kind, std::string_view text) {
  if (dropping_) return;
  if (kind == DeltaKind::kText && strip_space_) {
    size_t n = 0;
    while (n < text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[n]))) ++n;
    text.remove_prefix(n);
    if (text.empty()) return;
    strip_space_ = false;
  }
  if (kind == DeltaKind::kText) merging_ = false;
  next_->OnDelta(kind, text);
}

void SpliceSink::OnBlockStop() {
  if (dropping_) {
    dropping_ = false;
    return;
  }
  if (merging_) return;  // nothing of the fallback's is open
  next_->OnBlockStop();
}

void SpliceSink::OnFinish(const StreamFinish& finish) {
  StreamFinish f = finish;
  std::optional<Usage> after = f.usage ? f.usage : start_usage_;
  if (before_ && after) {
    f.usage = AddUsage(*before_, *after);
  } else if (before_) {
    f.usage = before_;
  }
  next_->OnFinish(f);
}

void SpliceSink::OnError(const StreamError& error) { next_->OnError(error); }

}  // namespace bitrouter::protocol
