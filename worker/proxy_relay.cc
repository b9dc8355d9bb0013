// ProxyCall, the committed passthrough relay: upstream bytes to the client
// as they arrive, with backpressure, and the terminal-event check that tells
// a complete stream from one that was cut.
#include "absl/types/span.h"
#include "worker/proxy_call.h"

namespace bitrouter::worker {
namespace {

// Markers of a complete passthrough stream, per protocol. A marker may
// straddle reads, so they are checked against the last bytes too.
// (Static arrays: this runs for every relayed chunk and must not allocate.)
absl::Span<const std::string_view> TerminalMarkers(protocol::Protocol p) {
  // `data: [DONE]`, or a chunk with a non-null finish_reason. An upstream's
  // own error event ends a stream in-band too: no error of ours on top.
  static constexpr std::string_view kChat[] = {"data: [DONE]",         "data:[DONE]",
                                               "\"finish_reason\":\"", "\"finish_reason\": \"",
                                               "data: {\"error\"",     "data:{\"error\""};
  static constexpr std::string_view kMessages[] = {"message_stop", "event: error", "event:error"};
  static constexpr std::string_view kResponses[] = {"response.completed", "response.incomplete",
                                                    "response.failed", "event: error",
                                                    "event:error"};
  // A prompt blocked before any candidate is a complete answer.
  static constexpr std::string_view kGemini[] = {
      "\"finishReason\":", "\"finishReason\" :", "\"blockReason\":", "\"blockReason\" :"};
  switch (p) {
    case protocol::Protocol::kChat:
      return kChat;
    case protocol::Protocol::kMessages:
      return kMessages;
    case protocol::Protocol::kResponses:
      return kResponses;
    case protocol::Protocol::kGemini:
      return kGemini;
  }
  return {};
}

}  // namespace

void ProxyCall::RelayBody(const char* data, size_t len) {
  if (rescue_ != nullptr && rescue_->watch != nullptr) return RelayWatched(data, len);
  if (sse_response_) ScanForTerminal(data, len);
  conn_->WriteBody(data, len);
  if (conn_ != nullptr && conn_->congested() && call_ != nullptr && !paused_) {
    paused_ = true;
    call_->PauseReading();
  }
}

void ProxyCall::ScanForTerminal(const char* data, size_t len) {
  if (saw_terminal_) return;
  constexpr size_t kKeep = 24;
  std::string_view d(data, len);
  std::string joint = tail_;
  joint.append(d.substr(0, kKeep));
  for (std::string_view m : TerminalMarkers(upstream_)) {
    if (d.find(m) != std::string_view::npos || joint.find(m) != std::string::npos) {
      saw_terminal_ = true;
      return;
    }
  }
  if (len >= kKeep) {
    tail_.assign(d.substr(len - kKeep));
  } else {
    tail_.append(d);
    if (tail_.size() > kKeep) tail_.erase(0, tail_.size() - kKeep);
  }
}

}  // namespace bitrouter::worker
