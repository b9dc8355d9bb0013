#include "shared/guardrails/guard.h"

#include <algorithm>
#include <limits>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"
#include "shared/config/regex_bound.h"

namespace bitrouter::guardrails {
namespace {

constexpr size_t kMaxRuleBytes = 65536;
// The byte after a match, read by a trailing \b or $, and up to 3 bytes a
// stream keeps so it never cuts a UTF-8 sequence.
constexpr size_t kHoldbackSlack = 1 + 3;
constexpr std::string_view kRedacted = "[REDACTED]";
// Guard::Scan's slice (see there). Each slice is scanned with the held-back
// tail of the one before (up to the longest match), so larger is cheaper
// when nothing matches and smaller when something does.
constexpr size_t kScanSlice = 1024;
constexpr std::string_view kHelpLink = "https://github.com/bitrouter/bitrouter#guardrails";

RE2::Options RuleOptions() {
  RE2::Options o;
  o.set_encoding(RE2::Options::EncodingUTF8);
  o.set_log_errors(false);
  // The bounded repetitions unroll: {0,1000} is a thousand copies.
  o.set_max_mem(32 << 20);
  return o;
}

// Whether every match of `regex` starts with `prefix`, as far as the pattern
// text shows: it starts with those bytes as plain literals (no
// metacharacter, no quantifier on the last one) and has no top-level
// alternative. A wrong prefix would make a rule skip text.
bool PrefixHolds(std::string_view regex, std::string_view prefix) {
  constexpr std::string_view kMeta = "\\.^$|?*+()[]{}";
  if (!regex.starts_with(prefix) || prefix.find_first_of(kMeta) != std::string_view::npos) {
    return false;
  }
  if (regex.size() > prefix.size() &&
      std::string_view("?*+{").find(regex[prefix.size()]) != std::string_view::npos) {
    return false;
  }
  int depth = 0;
  bool in_class = false;
  for (size_t i = prefix.size(); i < regex.size(); ++i) {
    const char c = regex[i];
    if (c == '\\') {
      ++i;
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
      if (i + 1 < regex.size() && regex[i + 1] == ']') ++i;  // "[]...]": ']' is a member
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == '|' && depth == 0) {
      return false;
    }
  }
  return true;
}

// The end of a settled match: the rule's extension reads at most
// max_match_bytes from its begin, all present once the match is settled.
size_t Extended(const Rule& rule, std::string_view buf, size_t b, size_t e) {
  if (rule.extend == nullptr) return e;
  return std::clamp(rule.extend(buf, b, e), e, std::min(buf.size(), b + rule.max_match_bytes));
}

// Where rule j (of a direction's rules) stands in a Decide call.
struct RuleState {
  enum Kind : uint8_t { kNone, kFinal, kPending };
  Kind kind = kNone;
  size_t begin = 0;  // kFinal: the match; kPending: no match can begin before it
  size_t end = 0;
};

}  // namespace

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kNone:
      return "none";
    case Action::kWarn:
      return "warn";
    case Action::kRedact:
      return "redact";
    case Action::kBlock:
      return "block";
  }
  return "none";
}

std::string_view DirectionName(Direction d) {
  return d == Direction::kUpgoing ? "upgoing" : "downgoing";
}

Guard::~Guard() = default;

absl::StatusOr<std::shared_ptr<const Guard>> Guard::Compile(std::vector<Rule> rules,
                                                            bool include_details,
                                                            bool include_help_link) {
  if (rules.size() > std::numeric_limits<uint16_t>::max()) {
    return absl::InvalidArgumentError("too many guardrail rules (at most 65535)");
  }
  std::shared_ptr<Guard> g(new Guard());
  g->include_details_ = include_details;
  g->include_help_link_ = include_help_link;
  for (size_t i = 0; i < rules.size(); ++i) {
    Rule& r = rules[i];
    // A snapshot carries built-ins by name and regex; their extras (which a
    // wire format cannot carry: the accept function) come from the table.
    if (const BuiltinPattern* p = FindBuiltinPattern(r.name);
        r.builtin && p != nullptr && p->regex == r.regex) {
      if (r.literal_prefix.empty()) r.literal_prefix = std::string(p->literal_prefix);
      if (r.accept == nullptr) r.accept = p->accept;
      if (r.extend == nullptr) r.extend = p->extend;
    }
    auto fail = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("guardrail rule '", r.name, "': ", AV(why)));
    };
    if (r.max_match_bytes == 0 || r.max_match_bytes > kMaxRuleBytes) {
      return fail("max_match_bytes must be 1..65536");
    }
    auto re = std::make_unique<RE2>(r.regex, RuleOptions());
    if (!re->ok()) return fail(absl::StrCat("the regex does not compile: ", re->error()));
    config::RegexBound bound = config::BoundOfRegex(r.regex);
    if (bound.min == 0 || RE2::PartialMatch("", *re)) {
      return fail("the regex can match the empty string");
    }
    if (bound.max > r.max_match_bytes) {
      return fail(
          absl::StrCat("the regex can match more than max_match_bytes (", r.max_match_bytes, ")"));
    }
    if (!r.literal_prefix.empty() && !PrefixHolds(r.regex, r.literal_prefix)) {
      return fail("literal_prefix does not start every match of the regex");
    }
    g->regexes_.push_back(std::move(re));
    for (size_t d = 0; d < 2; ++d) {
      if (r.action[d] == Action::kNone) continue;
      Dir& dir = g->dirs_[d];
      dir.rules.push_back(static_cast<uint16_t>(i));
      dir.holdback = std::max(dir.holdback, r.max_match_bytes + kHoldbackSlack);
      dir.changes = dir.changes || r.action[d] >= Action::kRedact;
      if (r.literal_prefix.empty()) dir.set_rule.push_back(static_cast<uint16_t>(i));
    }
  }
  for (Dir& dir : g->dirs_) {
    if (dir.set_rule.empty()) continue;
    dir.set = std::make_unique<RE2::Set>(RuleOptions(), RE2::UNANCHORED);
    for (uint16_t i : dir.set_rule) {
      std::string error;
      if (dir.set->Add(rules[i].regex, &error) < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("guardrail rule '", rules[i].name, "': ", error));
      }
    }
    if (!dir.set->Compile()) {
      return absl::ResourceExhaustedError("guardrail rules: the combined regex is too large");
    }
  }
  g->rules_ = std::move(rules);
  return std::shared_ptr<const Guard>(std::move(g));
}

size_t Guard::Decide(Direction d, std::string_view buf, bool at_end, bool stop_at_block,
                     size_t* pos, std::vector<Match>* out) const {
  const Dir& dir = dirs_[Index(d)];
  const size_t n = buf.size();
  if (dir.rules.empty()) {
    *pos = n;
    return n;
  }
  // The prefilter: which rules of the Set can match in buf from *pos on. One
  // byte before *pos goes along so \b and (?m)^ there read the real byte.
  // Without a vector Match allocates nothing; it runs again with one only
  // when something matched.
  const size_t window_start = *pos > 0 ? *pos - 1 : 0;
  const std::string_view window = buf.substr(window_start);
  absl::InlinedVector<bool, 64> potential(rules_.size(), false);
  bool any_set_hit = false;
  if (dir.set != nullptr) {
    RE2::Set::ErrorInfo err{RE2::Set::kNoError};
    if (dir.set->Match(re2::StringPiece(window.data(), window.size()), nullptr, &err)) {
      std::vector<int> hits;
      if (dir.set->Match(re2::StringPiece(window.data(), window.size()), &hits, &err)) {
        for (int h : hits) potential[dir.set_rule[static_cast<size_t>(h)]] = true;
      } else {
        for (uint16_t i : dir.set_rule) potential[i] = true;
      }
      any_set_hit = true;
    } else if (err.kind != RE2::Set::kNoError) {
      // The DFA gave up (memory): no prefilter, search every rule.
      for (uint16_t i : dir.set_rule) potential[i] = true;
      any_set_hit = true;
    }
  }
  const bool has_prefix_rules = dir.set_rule.size() < dir.rules.size();
  if (!any_set_hit && !has_prefix_rules && at_end) {
    *pos = n;
    return n;
  }

  // Rule j's first counted match from p: final (settled by buf), pending (it
  // may begin at or after `begin` once more text arrives) or none.
  auto search = [&](size_t j, size_t p) -> RuleState {
    const uint16_t ri = dir.rules[j];
    const Rule& rule = rules_[ri];
    const RE2& re = *regexes_[ri];
    const size_t len = rule.max_match_bytes;
    const size_t tail = n > len ? n - len : 0;  // a match beginning here may still change
    if (!rule.literal_prefix.empty()) {
      const size_t plen = rule.literal_prefix.size();
      for (;;) {
        size_t o = buf.find(rule.literal_prefix, p);
        if (o == std::string_view::npos) {
          if (at_end) return {};
          return {RuleState::kPending, std::max(p, n >= plen ? n - plen + 1 : 0), 0};
        }
        if (!at_end && o + len + 1 > n) return {RuleState::kPending, o, 0};
        re2::StringPiece m;
        if (re.Match(re2::StringPiece(buf.data(), n), o, n, RE2::ANCHOR_START, &m, 1) &&
            (rule.accept == nullptr || rule.accept(buf, o, o + m.size()))) {
          return {RuleState::kFinal, o, Extended(rule, buf, o, o + m.size())};
        }
        p = o + 1;
      }
    }
    if (!potential[ri]) {
      if (at_end) return {};
      return {RuleState::kPending, std::max(p, tail), 0};
    }
    for (;;) {
      re2::StringPiece m;
      if (p > n || !re.Match(re2::StringPiece(buf.data(), n), p, n, RE2::UNANCHORED, &m, 1)) {
        if (at_end) return {};
        return {RuleState::kPending, std::max(p, tail), 0};
      }
      const size_t b = static_cast<size_t>(m.data() - buf.data());
      const size_t e = b + m.size();
      // Settled only when every byte that decides it is here: the longest
      // match from b plus the byte after it.
      if (!at_end && b + len + 1 > n) return {RuleState::kPending, std::max(p, tail), 0};
      if (rule.accept == nullptr || rule.accept(buf, b, e)) {
        return {RuleState::kFinal, b, Extended(rule, buf, b, e)};
      }
      p = b + 1;
    }
  };

  absl::InlinedVector<RuleState, 32> state(dir.rules.size());
  size_t p = *pos;
  for (size_t j = 0; j < state.size(); ++j) state[j] = search(j, p);
  for (;;) {
    size_t best = state.size();
    size_t undecided = std::numeric_limits<size_t>::max();  // earliest pending begin
    for (size_t j = 0; j < state.size(); ++j) {
      const RuleState& s = state[j];
      if (s.kind == RuleState::kPending) {
        undecided = std::min(undecided, s.begin);
      } else if (s.kind == RuleState::kFinal) {
        // Earliest begin, then the longer match; ties keep the lower index.
        if (best == state.size() || s.begin < state[best].begin ||
            (s.begin == state[best].begin && s.end > state[best].end)) {
          best = j;
        }
      }
    }
    // A pending rule could still produce a match beginning at or before the
    // best one (earlier, or longer at the same begin): wait for more text.
    if (best == state.size() || state[best].begin >= undecided) {
      size_t frontier = std::min(undecided, n);
      if (best < state.size()) frontier = std::min(frontier, state[best].begin);
      *pos = std::max(p, frontier);
      return *pos;
    }
    const uint16_t ri = dir.rules[best];
    out->push_back(Match{ri, static_cast<uint32_t>(state[best].begin),
                         static_cast<uint32_t>(state[best].end)});
    p = state[best].end;
    if (stop_at_block && rules_[ri].action[Index(d)] == Action::kBlock) {
      *pos = p;
      return p;
    }
    for (size_t j = 0; j < state.size(); ++j) {
      RuleState& s = state[j];
      if (s.kind == RuleState::kNone || s.begin >= p) continue;
      // A final match now overlapped, or a pending bound behind p: search
      // again from p (leftmost matches from a later start never begin
      // earlier, so the others stand).
      s = search(j, p);
    }
  }
}

void Guard::Scan(std::string_view text, Direction d, std::vector<Match>* out) const {
  if (text.size() > std::numeric_limits<uint32_t>::max()) {
    text = text.substr(0, std::numeric_limits<uint32_t>::max());
  }
  // In slices, the way a stream arrives (same matches, see StreamScanner):
  // when something matches, the rules then search only the slice around it
  // instead of the rest of the text, each.
  size_t pos = 0;
  for (size_t n = std::min(text.size(), kScanSlice);; n = std::min(text.size(), n + kScanSlice)) {
    Decide(d, text.substr(0, n), /*at_end=*/n == text.size(), /*stop_at_block=*/false, &pos, out);
    if (n == text.size()) break;
  }
}

Action Guard::Strongest(const std::vector<Match>& m, Direction d) const {
  Action a = Action::kNone;
  for (const Match& x : m) a = std::max(a, rules_[x.rule].action[Index(d)]);
  return a;
}

std::string Guard::Redact(std::string_view text, const std::vector<Match>& m, Direction d) const {
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  for (const Match& x : m) {
    if (rules_[x.rule].action[Index(d)] != Action::kRedact || x.begin < at || x.end > text.size()) {
      continue;
    }
    out.append(text.substr(at, x.begin - at));
    out.append(kRedacted);
    at = x.end;
  }
  out.append(text.substr(at));
  return out;
}

std::string Guard::BlockMessage(Direction d, const std::vector<Match>& m) const {
  std::string msg = absl::StrCat("guardrail blocked ", AV(DirectionName(d)), " content");
  if (include_details_) {
    std::vector<uint16_t> named;
    for (const Match& x : m) {
      if (rules_[x.rule].action[Index(d)] != Action::kBlock) continue;
      if (std::find(named.begin(), named.end(), x.rule) != named.end()) continue;
      absl::StrAppend(&msg, named.empty() ? ": " : ", ", rules_[x.rule].description, " (",
                      rules_[x.rule].name, ")");
      named.push_back(x.rule);
    }
  }
  if (include_help_link_) absl::StrAppend(&msg, ". For more information, see ", AV(kHelpLink));
  return msg;
}

}  // namespace bitrouter::guardrails
