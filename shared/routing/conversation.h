#pragma once
// What a classifier may read of a client's request body, in any of the four
// client protocols: the text of every message, the latest user message's
// text, the turn count and whether an image or a fenced code block is there.
// Pure (no I/O); the body is only read, never changed: classification never
// alters what goes upstream. Any thread (thread-local parser).

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace bitrouter::routing {

// The client protocols (the same order as protocol::Protocol, kept apart so
// the classifier does not depend on the translation library).
enum class BodyShape { kChat, kResponses, kMessages, kGemini };

// Classification reads a bounded window of the text, so a 16 MiB body costs
// no more than a large prompt (the loop must not stall on keyword scans):
// the newest kMaxClassifiedBytes of all the messages, and the first
// kMaxClassifiedBytes of the latest user message. Lengths and fences are
// measured on the whole text.
inline constexpr size_t kMaxClassifiedBytes = 64 * 1024;

struct Conversation {
  // Every message's text (system prompt included), joined with '\n', as sent;
  // its newest kMaxClassifiedBytes (cut at a UTF-8 boundary).
  std::string all_text;
  // The latest user message with text (its text parts joined with '\n'), as
  // sent; its first kMaxClassifiedBytes. A user turn that carries only tool
  // results (Messages tool_result, Gemini functionResponse) is not one.
  std::string last_user;
  size_t chars = 0;             // characters (UTF-8 code points) of every message's text
  size_t turns = 0;             // messages (Responses: input items; a string input is 1)
  bool has_image = false;       // any image part in any message
  bool has_code_block = false;  // a ``` fence anywhere in all_text
  bool has_tools = false;       // a non-empty `tools` array (logged only)
};

// InvalidArgument when the body is not a JSON object. Fields of an unexpected
// type are skipped, not errors: the protocol checks further on answer those.
absl::StatusOr<Conversation> ReadConversation(BodyShape shape, std::string_view body);

}  // namespace bitrouter::routing
