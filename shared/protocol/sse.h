#pragma once
// Incremental Server-Sent Events framing (WHATWG HTML "Server-sent events",
// "Interpreting an event stream"): bytes in, complete events out, with lines
// ending in LF, CRLF or CR, comments ignored and data lines joined with LF.
//
// Thread: one parser per stream.

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace bitrouter::protocol {

// The end of the first complete SSE event in `buf` (just after its blank
// line), or npos. Upstreams end events with LF LF or CRLF CRLF.
inline size_t SseEventEnd(std::string_view buf) {
  size_t a = buf.find("\n\n");
  size_t b = buf.find("\r\n\r\n");
  if (a == std::string_view::npos) return b == std::string_view::npos ? b : b + 4;
  if (b == std::string_view::npos || a < b) return a + 2;
  return b + 4;
}

class SseParser {
 public:
  // An event larger than this (field bytes held) fails the stream.
  static constexpr size_t kMaxEventBytes = 16u << 20;

  using OnEvent = absl::FunctionRef<absl::Status(std::string_view event, std::string_view data)>;

  // Feeds bytes; calls `on_event` for every event completed by them. Stops at
  // and returns the first error (from `on_event` or an oversized event).
  absl::Status Feed(std::string_view bytes, OnEvent on_event);
  // True when bytes of an unfinished event are held (a stream that ends
  // here stopped mid-event).
  bool mid_event() const { return !line_.empty() || has_data_ || !event_.empty(); }

 private:
  absl::Status Line(std::string_view line, OnEvent on_event);

  std::string line_;      // the current unfinished line
  bool last_cr_ = false;  // the previous byte was CR (a following LF belongs to it)
  std::string event_;
  std::string data_;
  bool has_data_ = false;
};

}  // namespace bitrouter::protocol
