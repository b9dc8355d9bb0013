#include "shared/protocol/stream_translator.h"

namespace bitrouter::protocol {

StreamTranslator::StreamTranslator(Protocol upstream, Protocol client,
                                   const EncoderOptions& options)
    : encoder_(AdapterFor(client).make_encoder(options)) {
  tap_.next = encoder_.get();
  decoder_ = AdapterFor(upstream).make_decoder(&tap_);
}

StreamTranslator::StreamTranslator(Protocol upstream, std::unique_ptr<StreamEncoder> encoder)
    : encoder_(std::move(encoder)) {
  tap_.next = encoder_.get();
  decoder_ = AdapterFor(upstream).make_decoder(&tap_);
}

absl::Status StreamTranslator::Feed(std::string_view bytes) {
  if (decoder_->done()) return absl::OkStatus();  // bytes after the terminal event
  return sse_.Feed(bytes, [this](std::string_view event, std::string_view data) {
    if (decoder_->done()) return absl::OkStatus();
    return decoder_->OnEvent(event, data);
  });
}

absl::Status StreamTranslator::End() {
  if (decoder_->done()) return absl::OkStatus();
  if (sse_.mid_event()) {
    return absl::DataLossError("the upstream stream stopped in the middle of an event");
  }
  return decoder_->OnEnd();
}

void StreamTranslator::Fail(const StreamError& error) {
  if (!encoder_->done()) encoder_->OnError(error);
}

void NormalizeToolUseFinish(CanonicalResponse* response) {
  bool ends_with_tool_call = false;
  for (const ContentPart& p : response->content) {
    if (p.kind == ContentPart::Kind::kToolCall) ends_with_tool_call = true;
    if (p.kind == ContentPart::Kind::kText && !p.text.empty()) ends_with_tool_call = false;
  }
  response->finish_reason = ToolUseFinish(response->finish_reason, ends_with_tool_call);
}

void ReplayResponse(const CanonicalResponse& resp, StreamSink* sink) {
  StreamStart start;
  start.id = resp.id;
  start.model = resp.model;
  sink->OnStart(start);
  for (const ContentPart& p : resp.content) {
    BlockStart b;
    DeltaKind kind = DeltaKind::kText;
    std::string_view text = p.text;
    switch (p.kind) {
      case ContentPart::Kind::kText:
        b.kind = BlockKind::kText;
        b.refusal = p.refusal;
        break;
      case ContentPart::Kind::kThinking:
        b.kind = BlockKind::kThinking;
        kind = DeltaKind::kThinking;
        break;
      case ContentPart::Kind::kRedactedThinking:
        b.kind = BlockKind::kRedactedThinking;
        b.data = p.data;
        text = {};
        break;
      case ContentPart::Kind::kToolCall:
        b.kind = BlockKind::kToolCall;
        b.tool_call_id = p.tool_call_id;
        b.name = p.name;
        kind = DeltaKind::kArguments;
        text = p.arguments;
        break;
      default:
        continue;  // images and tool results never appear in responses
    }
    sink->OnBlockStart(b);
    if (!text.empty()) sink->OnDelta(kind, text);
    if (p.kind == ContentPart::Kind::kThinking && !p.signature.empty()) {
      sink->OnDelta(DeltaKind::kSignature, p.signature);
    }
    sink->OnBlockStop();
  }
  StreamFinish finish;
  finish.reason = resp.finish_reason;
  finish.stop_sequence = resp.stop_sequence;
  finish.gemini_finish_reason = resp.gemini_finish_reason;
  finish.usage = resp.usage;
  sink->OnFinish(finish);
}

}  // namespace bitrouter::protocol
