#pragma once
// The guardrails engine: the rules a config puts in force, compiled once per
// snapshot, scanning text sent to providers (upgoing) and text sent back to
// clients (downgoing).
//
// Matching semantics (Scan; the stream scanner reproduces them exactly):
// each rule finds its leftmost match (RE2 leftmost-first) from a position;
// the earliest begin wins, then the longer match, then the lower rule index;
// scanning resumes at its end. Matches therefore never overlap. Every rule's
// matches are at most Rule::max_match_bytes long (Compile checks it), which
// bounds how far behind a stream has to hold text.
//
// A Guard is immutable after Compile and safe to use from any thread.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "re2/re2.h"
#include "re2/set.h"
#include "shared/config/config.h"
#include "shared/guardrails/patterns.h"

namespace bitrouter::guardrails {

enum class Direction : uint8_t { kUpgoing = 0, kDowngoing = 1 };
enum class Action : uint8_t { kNone = 0, kWarn = 1, kRedact = 2, kBlock = 3 };  // by severity

std::string_view ActionName(Action);        // "none" "warn" "redact" "block"
std::string_view DirectionName(Direction);  // "upgoing" "downgoing"

struct Rule {
  std::string name;
  std::string regex;  // RE2 syntax, matched as UTF-8
  bool builtin = false;
  Action action[2] = {Action::kNone, Action::kNone};  // by Direction
  std::string description;                            // for block messages
  size_t max_match_bytes = 256;                       // longest match, <= 65536
  // Optional (built-ins): every match starts with these bytes, a check RE2
  // cannot express, and an extension of the regex match (see patterns.h).
  // Compile fills them in for a builtin rule whose name and regex are a
  // built-in's, so a rule rebuilt from a snapshot (name, regex, builtin)
  // needs none of them.
  std::string literal_prefix;
  AcceptFn accept = nullptr;
  ExtendFn extend = nullptr;
};

// Config -> the rules in force: built-ins in table order (minus disabled
// ones), then custom patterns in config order, with their actions.
// enabled=false -> empty. Errors name the pattern (the loader reports the
// same problems with file:line first).
absl::StatusOr<std::vector<Rule>> RulesFromConfig(const config::GuardrailsConfig& cfg);

struct Match {
  uint16_t rule;  // index into Guard::rules()
  uint32_t begin;
  uint32_t end;  // byte offsets into the scanned text
};

class Guard {
 public:
  // Compiles every rule (RE2, UTF-8, never Latin-1; a RE2::Set per direction
  // as a one-pass prefilter). Errors name the rule: a regex RE2 rejects, one
  // that can match the empty string or more than its max_match_bytes, a
  // literal_prefix the regex does not guarantee.
  static absl::StatusOr<std::shared_ptr<const Guard>> Compile(std::vector<Rule> rules,
                                                              bool include_details,
                                                              bool include_help_link);
  ~Guard();
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

  const std::vector<Rule>& rules() const { return rules_; }
  bool Applies(Direction d) const { return !dirs_[Index(d)].rules.empty(); }
  // Some rule acting in d redacts or blocks (else scanning never changes text).
  bool Changes(Direction d) const { return dirs_[Index(d)].changes; }

  // Appends the matches in `text` of the rules acting in d, sorted by begin.
  // Only the first 4 GiB of `text` are scanned (offsets are 32-bit; request
  // bodies are far smaller). Allocates nothing when nothing matches (with
  // up to 32 rules).
  void Scan(std::string_view text, Direction d, std::vector<Match>* out) const;
  Action Strongest(const std::vector<Match>& m, Direction d) const;  // kNone when empty
  // `text` with each match whose action in d is kRedact replaced by
  // "[REDACTED]" (warn and block matches are left as they are).
  std::string Redact(std::string_view text, const std::vector<Match>& m, Direction d) const;
  // The stream holdback for d: the longest match of a rule acting in d, plus
  // the byte after a match that a trailing \b or $ reads, plus 3 so a UTF-8
  // sequence is never cut. StreamScanner holds back at most this minus 1.
  // At most 65540; 0 when no rule acts in d.
  size_t max_match_bytes(Direction d) const { return dirs_[Index(d)].holdback; }
  // "guardrail blocked upgoing content[: <description> (<name>), ...][. For
  // more information, see https://github.com/bitrouter/bitrouter#guardrails]"
  // per include_details / include_help_link; the details list the rules of
  // the block matches in m. Never includes matched text.
  std::string BlockMessage(Direction d, const std::vector<Match>& m) const;

 private:
  friend class StreamScanner;
  struct Dir {
    std::vector<uint16_t> rules;     // acting in this direction, by index
    std::vector<uint16_t> set_rule;  // RE2::Set index -> rule (rules without a literal prefix)
    std::unique_ptr<RE2::Set> set;
    size_t holdback = 0;
    bool changes = false;
  };

  Guard() = default;
  static size_t Index(Direction d) { return static_cast<size_t>(d); }

  // The matching core shared by Scan and StreamScanner. Decides matches in
  // buf from *pos on: every match Scan would report on the whole text whose
  // begin and end are settled by buf (all of them when at_end: buf ends the
  // text). Appends them with buffer offsets; stops after the first block
  // match when stop_at_block. Moves *pos past what is settled and returns
  // the frontier: no undecided match begins before it. buf[0, *pos) must
  // hold at least kAcceptLookbehind bytes before *pos unless buf starts the
  // text.
  size_t Decide(Direction d, std::string_view buf, bool at_end, bool stop_at_block, size_t* pos,
                std::vector<Match>* out) const;

  std::vector<Rule> rules_;
  std::vector<std::unique_ptr<RE2>> regexes_;  // by rule index
  Dir dirs_[2];
  bool include_details_ = true;
  bool include_help_link_ = false;
};

}  // namespace bitrouter::guardrails
