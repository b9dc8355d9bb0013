#pragma once
// The bytes between the MCP host and its peers: newline-delimited JSON.
// Worker <-> host frames are {"server":"<id>","message":{..JSON-RPC..}}
// (host -> worker frames may add "for":<the worker's request id> on a
// notification about that request); a child's stdout is one JSON-RPC
// message per line. Every buffer is capped.
//
// Thread: any. Pure logic; no I/O.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bitrouter::mcphost {

inline constexpr size_t kMaxFrameBytes = 32u << 20;  // one line (one message)

// Splits a byte stream into lines ('\n', a trailing '\r' dropped; empty
// lines skipped). A line longer than `max_line` is an error: the stream is
// then unusable (the caller closes it).
class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line = kMaxFrameBytes) : max_line_(max_line) {}
  // Calls `on_line` for each complete line in order; stops at the first
  // non-ok status it returns, and returns it.
  absl::Status Feed(std::string_view data,
                    const std::function<absl::Status(std::string_view line)>& on_line);
  size_t buffered() const { return partial_.size(); }

 private:
  size_t max_line_;
  std::string partial_;
};

struct Frame {
  std::string server;   // the MCP server id
  std::string message;  // the JSON-RPC message's JSON text (an object)
  std::string
      for_id;  // "for": the id (JSON text) of the request a notification is about; "" = none
};

// Parses one frame line; InvalidArgument naming what is wrong.
absl::StatusOr<Frame> ParseFrame(std::string_view line);
// One frame line, '\n' included. `message_json` must be a JSON object's text.
std::string FrameLine(std::string_view server, std::string_view message_json,
                      std::string_view for_id = {});

}  // namespace bitrouter::mcphost
