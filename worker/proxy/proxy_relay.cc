// ProxyCall, the committed passthrough relay: upstream bytes to the client
// as they arrive, with backpressure, and the terminal-event check that tells
// a complete stream from one that was cut.
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "shared/protocol/sse.h"
#include "shared/usage/stream_usage_tap.h"
#include "worker/proxy/proxy_call.h"

namespace bitrouter::worker {
namespace {

// Markers of a complete passthrough stream, per protocol. A marker may
// straddle reads, so they are checked against the last bytes too.
// (Static arrays: this runs for every relayed chunk and must not allocate.)
//
// Every marker is one that answer text cannot contain: either a JSON member
// with its quotes (inside a JSON string every quote is escaped, so
// `"type":"message_stop"` never occurs in a text delta about SSE), or a
// line that starts after a newline (a newline in text is escaped as \n).
absl::Span<const std::string_view> TerminalMarkers(protocol::Protocol p) {
  // `data: [DONE]`, or a chunk with a non-null finish_reason. An upstream's
  // own error event ends a stream in-band too: no error of ours on top.
  static constexpr std::string_view kChat[] = {"\ndata: [DONE]",       "\ndata:[DONE]",
                                               "\"finish_reason\":\"", "\"finish_reason\": \"",
                                               "\ndata: {\"error\"",   "\ndata:{\"error\""};
  static constexpr std::string_view kMessages[] = {"\"type\":\"message_stop\"",
                                                   "\"type\": \"message_stop\"",
                                                   "\"type\":\"error\"", "\"type\": \"error\""};
  static constexpr std::string_view kResponses[] = {"\"type\":\"response.completed\"",
                                                    "\"type\": \"response.completed\"",
                                                    "\"type\":\"response.incomplete\"",
                                                    "\"type\": \"response.incomplete\"",
                                                    "\"type\":\"response.failed\"",
                                                    "\"type\": \"response.failed\"",
                                                    "\"type\":\"error\"",
                                                    "\"type\": \"error\""};
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

// Markers of a passthrough stream's first content event (a terminal one
// counts too). Before it, only the upstream's first_event clock runs: a
// Responses reasoning model may be silent for a minute after response.created.
// (Chat's role-only first chunk is not content: non-empty "content" is
// checked separately, see HasChatContent.)
absl::Span<const std::string_view> ContentMarkers(protocol::Protocol p) {
  static constexpr std::string_view kChat[] = {"\"tool_calls\"", "\"reasoning_content\":\"",
                                               "\"reasoning\":\"", "\"refusal\":\""};
  static constexpr std::string_view kMessages[] = {
      "\"type\":\"content_block_start\"", "\"type\": \"content_block_start\"",
      "\"type\":\"message_delta\"", "\"type\": \"message_delta\""};
  static constexpr std::string_view kResponses[] = {"\"type\":\"response.output_item.added\"",
                                                    "\"type\": \"response.output_item.added\""};
  static constexpr std::string_view kGemini[] = {"\"candidates\""};
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

// A Chat chunk with non-empty "content" (the role-only first chunk has "").
bool HasChatContent(std::string_view d) {
  constexpr std::string_view kKey = "\"content\":\"";
  for (size_t at = d.find(kKey); at != std::string_view::npos; at = d.find(kKey, at + 1)) {
    size_t next = at + kKey.size();
    if (next < d.size() && d[next] != '"') return true;
  }
  return false;
}

bool HasMarker(std::string_view d, std::string_view joint,
               absl::Span<const std::string_view> markers) {
  for (std::string_view m : markers) {
    if (d.find(m) != std::string_view::npos || joint.find(m) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

// Offset just past the last complete SSE event in `d` (0: none).
size_t LastEventEnd(std::string_view d) {
  size_t end = 0;
  while (end < d.size()) {
    size_t rel = protocol::SseEventEnd(d.substr(end));
    if (rel == std::string_view::npos) break;
    end += rel;
  }
  return end;
}

}  // namespace

void ProxyCall::RelayBody(const char* data, size_t len) {
  if (sse_response_ && metering_) usage_tap_.Feed(std::string_view(data, len));
  if (rescue_ != nullptr && rescue_->watch != nullptr) return RelayWatched(data, len);
  if (strip_usage_chunk_ && sse_response_) return RelayStripped(data, len);
  if (sse_response_) ScanRelayed(data, len);
  SendBody(conn_, data, len);
  if (conn_ != nullptr && conn_->congested() && call_ != nullptr && !paused_) {
    paused_ = true;
    call_->PauseReading();
  }
}

void ProxyCall::RelayStripped(const char* data, size_t len) {
  std::string_view d(data, len);
  if (strip_hold_.empty()) {
    // Reads that end on an event boundary (the usual case) are written in
    // place; corked writes point into the read, valid until it ends.
    size_t end = LastEventEnd(d);
    ScanRelayed(data, end);
    WriteStripped(d.substr(0, end));
    if (end < len) strip_hold_.assign(d.substr(end));
  } else {
    strip_hold_.append(d);
    size_t end = LastEventEnd(strip_hold_);
    if (end > 0) {
      // strip_hold_ changes below: write uncorked (the socket takes or
      // copies the bytes now), then cork again for the rest of the read.
      HttpConnection* conn = conn_;
      conn->Uncork();
      ScanRelayed(strip_hold_.data(), end);
      WriteStripped(std::string_view(strip_hold_).substr(0, end));
      if (conn_ != nullptr) conn_->Cork();
      strip_hold_.erase(0, end);
    }
  }
  if (strip_hold_.size() > protocol::SseParser::kMaxEventBytes) {
    strip_hold_.clear();
    if (conn_ != nullptr) {
      FailAfterCommit("upstream_error",
                      absl::StrCat("provider ", target_->provider, ": a stream event exceeds ",
                                   protocol::SseParser::kMaxEventBytes, " bytes"));
    }
    return;
  }
  if (conn_ != nullptr && conn_->congested() && call_ != nullptr && !paused_) {
    paused_ = true;
    call_->PauseReading();
  }
}

void ProxyCall::WriteStripped(std::string_view events) {
  size_t from = 0;  // start of the range not yet written
  size_t pos = 0;
  while (pos < events.size() && conn_ != nullptr) {
    size_t rel = protocol::SseEventEnd(events.substr(pos));
    size_t end = rel == std::string_view::npos ? events.size() : pos + rel;
    if (usage::IsChatUsageOnlyChunk(events.substr(pos, end - pos))) {
      if (pos > from) SendBody(conn_, events.data() + from, pos - from);
      from = end;
    }
    pos = end;
  }
  if (conn_ != nullptr && events.size() > from) {
    SendBody(conn_, events.data() + from, events.size() - from);
  }
}

void ProxyCall::ScanRelayed(const char* data, size_t len) {
  if (saw_terminal_) return;
  constexpr size_t kKeep = 40;  // longer than the longest marker
  std::string_view d(data, len);
  std::string joint = tail_;
  joint.append(d.substr(0, kKeep));
  if (!content_started_ &&
      (HasMarker(d, joint, ContentMarkers(upstream_)) ||
       (upstream_ == protocol::Protocol::kChat && (HasChatContent(d) || HasChatContent(joint))))) {
    content_started_ = true;
    if (call_ != nullptr) call_->ContentStarted();
  }
  if (HasMarker(d, joint, TerminalMarkers(upstream_))) {
    saw_terminal_ = true;
    if (!content_started_ && call_ != nullptr) call_->ContentStarted();
    content_started_ = true;
    return;
  }
  if (len >= kKeep) {
    tail_.assign(d.substr(len - kKeep));
  } else {
    tail_.append(d);
    if (tail_.size() > kKeep) tail_.erase(0, tail_.size() - kKeep);
  }
}

}  // namespace bitrouter::worker
