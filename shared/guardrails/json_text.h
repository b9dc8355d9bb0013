#pragma once
// Redaction inside JSON text (a tool call's arguments, streamed as pieces of
// JSON or held in a JSON string): a match may span a string's closing
// quote, a colon or an escape (`password":"hunter2` is one credentials
// match), and "[REDACTED]" in its place would leave invalid arguments. This
// writer follows the text byte by byte (outside a string, inside one, inside
// an escape) and replaces a match structure-preservingly:
//   - each run of string content in the match becomes one "[REDACTED]";
//   - quotes, colons, commas, brackets and whitespace stay;
//   - digits outside strings become '1' (a number stays a number);
//   - an escape the match cuts stays whole (its bytes before or after the
//     match are written as they are), so no quote is left unescaped; a
//     UTF-16 surrogate pair counts as one escape, so none is left half.
// Valid JSON text stays valid JSON text. Text that turns out not to be JSON
// (a byte outside a string that JSON does not allow there) gets the plain
// redaction from then on: each match becomes one "[REDACTED]".
//
// Not thread-safe; one per channel.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bitrouter::guardrails {

class Guard;
struct Match;
enum class Direction : uint8_t;

class JsonTextWriter {
 public:
  // Appends bytes that are sent as they are.
  void Pass(std::string_view bytes, std::string* out);
  // Appends the replacement of a redacted match.
  void Redact(std::string_view bytes, std::string* out);

 private:
  enum class State : uint8_t { kOutside, kString, kEscape, kUnicode, kNotJson };
  static State Next(State s, int* unicode_left, char c);
  void Step(char c);
  // Whether following `bytes` from the current state leaves JSON.
  bool LeavesJson(std::string_view bytes) const;

  State state_ = State::kOutside;
  int unicode_left_ = 0;     // hex digits of a \u escape still to come
  uint32_t unit_ = 0;        // the \u escape's value so far
  bool after_high_ = false;  // the last thing was a high-surrogate escape
};

// Guard::Redact for a whole JSON text.
std::string RedactJsonText(const Guard& guard, std::string_view text, const std::vector<Match>& m,
                           Direction d);

}  // namespace bitrouter::guardrails
