#include "shared/usage/stream_usage_tap.h"

#include <simdjson.h>

#include "absl/types/span.h"
#include "shared/protocol/scratch_parser.h"
#include "shared/protocol/sse.h"
#include "shared/usage/answer_usage.h"

namespace bitrouter::usage {
namespace {

using protocol::Protocol;

// The usage key of each protocol, followed by an object (not null).
bool HasUsageObject(std::string_view event, std::string_view key) {
  for (size_t at = event.find(key); at != std::string_view::npos;
       at = event.find(key, at + key.size())) {
    size_t i = at + key.size();
    while (i < event.size() && (event[i] == ' ' || event[i] == '\t')) ++i;
    if (i < event.size() && event[i] == ':') {
      ++i;
      while (i < event.size() && (event[i] == ' ' || event[i] == '\t')) ++i;
      if (i < event.size() && event[i] == '{') return true;
    }
  }
  return false;
}

// String members whose values are generated output, per protocol.
absl::Span<const std::string_view> OutputKeys(Protocol p) {
  static constexpr std::string_view kChat[] = {"\"content\":\"", "\"arguments\":\"",
                                               "\"reasoning_content\":\"", "\"reasoning\":\""};
  static constexpr std::string_view kMessages[] = {"\"text\":\"", "\"partial_json\":\"",
                                                   "\"thinking\":\""};
  static constexpr std::string_view kResponses[] = {"\"delta\":\""};
  static constexpr std::string_view kGemini[] = {"\"text\":\""};
  switch (p) {
    case Protocol::kChat:
      return kChat;
    case Protocol::kMessages:
      return kMessages;
    case Protocol::kResponses:
      return kResponses;
    case Protocol::kGemini:
      return kGemini;
  }
  return {};
}

// Length of the JSON string body starting at `from` (just after its opening
// quote), escapes counted as written.
size_t StringLength(std::string_view s, size_t from) {
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i - from;
    }
  }
  return s.size() - from;
}

}  // namespace

bool IsChatUsageOnlyChunk(std::string_view event) {
  bool empty_choices = event.find("\"choices\":[]") != std::string_view::npos ||
                       event.find("\"choices\": []") != std::string_view::npos;
  return empty_choices && HasUsageObject(event, "\"usage\"");
}

void StreamUsageTap::Reset(Protocol upstream) {
  protocol_ = upstream;
  carry_.clear();
  skipping_ = false;
  output_bytes_ = 0;
  input_.reset();
  output_.reset();
  reasoning_.reset();
  cache_read_.reset();
  cache_write_.reset();
  whole_.reset();
}

void StreamUsageTap::Feed(std::string_view bytes) {
  if (carry_.empty() && !skipping_) {
    // The common case: reads that hold whole events are searched in place.
    size_t pos = 0;
    while (pos < bytes.size()) {
      size_t rel = protocol::SseEventEnd(bytes.substr(pos));
      if (rel == std::string_view::npos) break;
      OnEvent(bytes.substr(pos, rel));
      pos += rel;
    }
    if (pos < bytes.size()) carry_.assign(bytes.substr(pos));
    return;
  }
  size_t old = carry_.size();
  carry_.append(bytes);
  // A separator may straddle the joint: search from a little before it.
  size_t pos = 0;
  size_t search = old > 3 ? old - 3 : 0;
  while (true) {
    size_t rel = protocol::SseEventEnd(std::string_view(carry_).substr(search));
    if (rel == std::string_view::npos) break;
    size_t end = search + rel;
    if (!skipping_) OnEvent(std::string_view(carry_).substr(pos, end - pos));
    skipping_ = false;
    pos = end;
    search = end;
  }
  carry_.erase(0, pos);
  if (carry_.size() > kMaxCarry) {
    carry_.clear();
    skipping_ = true;
  }
}

void StreamUsageTap::End() {
  if (!carry_.empty() && !skipping_) OnEvent(carry_);
  carry_.clear();
  skipping_ = false;
}

void StreamUsageTap::OnEvent(std::string_view event) {
  CountOutput(event);
  std::string_view key = protocol_ == Protocol::kGemini ? "\"usageMetadata\"" : "\"usage\"";
  if (HasUsageObject(event, key)) ReadUsage(event);
}

void StreamUsageTap::CountOutput(std::string_view event) {
  for (std::string_view key : OutputKeys(protocol_)) {
    for (size_t at = event.find(key); at != std::string_view::npos;
         at = event.find(key, at + key.size())) {
      output_bytes_ += static_cast<int64_t>(StringLength(event, at + key.size()));
    }
  }
}

void StreamUsageTap::ReadUsage(std::string_view event) {
  // The event's data lines, joined (nearly always exactly one).
  scratch_.clear();
  size_t pos = 0;
  while (pos < event.size()) {
    size_t nl = event.find('\n', pos);
    std::string_view line =
        event.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? event.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, 5) != "data:") continue;
    line.remove_prefix(5);
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (!scratch_.empty()) scratch_.push_back('\n');
    scratch_.append(line);
  }
  if (scratch_.empty()) return;
  thread_local protocol::ScratchDomParser parser;
  size_t len = scratch_.size();
  scratch_.reserve(len + simdjson::SIMDJSON_PADDING);
  simdjson::dom::object root;
  if (parser.parse(reinterpret_cast<const uint8_t*>(scratch_.data()), len, false).get(root)) {
    return;  // not ours to judge: the relay's own checks see a malformed event
  }
  simdjson::dom::object u;
  switch (protocol_) {
    case Protocol::kMessages: {
      simdjson::dom::object message;
      if (root["message"].get(message) == simdjson::SUCCESS &&
          message["usage"].get(u) == simdjson::SUCCESS) {
      } else if (root["usage"].get(u) != simdjson::SUCCESS) {
        return;
      }
      MessagesUsageFields f = ReadMessagesUsage(u);
      // Counts are cumulative: a later value replaces an earlier one.
      if (f.input) input_ = f.input;
      if (f.output) output_ = f.output;
      if (f.cache_read) cache_read_ = f.cache_read;
      if (f.cache_write) cache_write_ = f.cache_write;
      return;
    }
    case Protocol::kResponses: {
      simdjson::dom::object response;
      if (root["response"].get(response) != simdjson::SUCCESS) return;
      if (auto got = AnswerUsage(Protocol::kResponses, response)) whole_ = got;
      return;
    }
    case Protocol::kChat:
    case Protocol::kGemini:
      if (auto got = AnswerUsage(protocol_, root)) whole_ = got;
      return;
  }
}

std::optional<protocol::Usage> StreamUsageTap::usage() const {
  if (protocol_ != Protocol::kMessages) return whole_;
  if (!input_ && !output_ && !cache_read_ && !cache_write_) return std::nullopt;
  return MessagesUsage({input_, output_, cache_read_, cache_write_});
}

}  // namespace bitrouter::usage
