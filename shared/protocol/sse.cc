#include "shared/protocol/sse.h"

namespace bitrouter::protocol {

absl::Status SseParser::Feed(std::string_view bytes, OnEvent on_event) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (last_cr_) {
      last_cr_ = false;
      if (bytes[pos] == '\n') {
        ++pos;
        continue;
      }
    }
    // Two memchr scans: find_first_of would test every byte against the set.
    size_t end = bytes.find('\n', pos);
    size_t cr = bytes.substr(0, end == std::string_view::npos ? bytes.size() : end).find('\r', pos);
    if (cr != std::string_view::npos) end = cr;
    if (end == std::string_view::npos) {
      line_.append(bytes.substr(pos));
      if (line_.size() + data_.size() + event_.size() > kMaxEventBytes) {
        return absl::ResourceExhaustedError("stream event is larger than 16 MiB");
      }
      return absl::OkStatus();
    }
    last_cr_ = bytes[end] == '\r';
    absl::Status s;
    if (line_.empty()) {
      s = Line(bytes.substr(pos, end - pos), on_event);
    } else {
      line_.append(bytes.substr(pos, end - pos));
      std::string line = std::move(line_);
      line_.clear();
      s = Line(line, on_event);
    }
    if (!s.ok()) return s;
    pos = end + 1;
  }
  return absl::OkStatus();
}

absl::Status SseParser::Line(std::string_view line, OnEvent on_event) {
  if (line.empty()) {
    // Dispatch. An event without data lines is not an event.
    absl::Status s = absl::OkStatus();
    if (has_data_) s = on_event(event_, data_);
    event_.clear();
    data_.clear();
    has_data_ = false;
    return s;
  }
  if (line.front() == ':') return absl::OkStatus();  // comment / keep-alive
  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  }
  // id, retry and unknown fields carry nothing a translator needs.
  if (data_.size() + event_.size() > kMaxEventBytes) {
    return absl::ResourceExhaustedError("stream event is larger than 16 MiB");
  }
  return absl::OkStatus();
}

}  // namespace bitrouter::protocol
