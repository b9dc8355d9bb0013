#include "ctl/usage_args.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "shared/protocol/openai_request.h"

namespace bitrouter::ctl {

absl::StatusOr<int64_t> ParseDurationMs(std::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", std::string(text), "' is not a duration (e.g. 90s, 30m, 1h, 7d, 2w, 1h30m)"));
  };
  if (text.empty()) return invalid();
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i == text.size() || i - start > 9) return invalid();
    int64_t n = std::atoll(std::string(text.substr(start, i - start)).c_str());
    int64_t unit = 0;
    switch (text[i]) {
      case 's':
        unit = 1000;
        break;
      case 'm':
        unit = 60LL * 1000;
        break;
      case 'h':
        unit = 3600LL * 1000;
        break;
      case 'd':
        unit = 24LL * 3600 * 1000;
        break;
      case 'w':
        unit = 7LL * 24 * 3600 * 1000;
        break;
      default:
        return invalid();
    }
    ++i;
    total += n * unit;
  }
  if (total <= 0) return invalid();
  return total;
}

absl::StatusOr<int64_t> ParseInstantMs(std::string_view text) {
  std::string s(absl::StripAsciiWhitespace(std::string(text)));
  int64_t seconds = 0;
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos &&
      absl::SimpleAtoi(s, &seconds)) {
    return seconds * 1000;
  }
  // Most specific first; formats without an offset are read as UTC.
  static constexpr const char* kFormats[] = {
      "%Y-%m-%d%ET%H:%M:%E*S%Ez", "%Y-%m-%d %H:%M:%E*S%Ez",
      "%Y-%m-%d%ET%H:%M:%E*S",    "%Y-%m-%d %H:%M:%E*S",
      "%Y-%m-%d%ET%H:%M%Ez",      "%Y-%m-%d%ET%H:%M",
      "%Y-%m-%d %H:%M",           "%Y-%m-%d",
  };
  for (const char* format : kFormats) {
    absl::Time t;
    std::string error;
    if (absl::ParseTime(format, s, absl::UTCTimeZone(), &t, &error)) {
      return absl::ToUnixMillis(t);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "'", s,
      "' is not a time (RFC 3339 like 2025-06-01T12:00:00Z or 2025-06-01T14:00:00+02:00, "
      "a date like 2025-06-01, or Unix seconds)"));
}

absl::StatusOr<Window> ResolveWindow(std::string_view since, std::string_view from,
                                     std::string_view to, int64_t now_unix_ms) {
  Window w;
  if (!since.empty()) {
    if (!from.empty() || !to.empty()) {
      return absl::InvalidArgumentError("--since cannot be combined with --from or --to");
    }
    absl::StatusOr<int64_t> d = ParseDurationMs(since);
    if (!d.ok()) return d.status();
    w.from_unix_ms = now_unix_ms - *d;
    return w;
  }
  if (!to.empty()) {
    absl::StatusOr<int64_t> t = ParseInstantMs(to);
    if (!t.ok()) return t.status();
    w.to_unix_ms = *t;
  }
  if (!from.empty()) {
    absl::StatusOr<int64_t> f = ParseInstantMs(from);
    if (!f.ok()) return f.status();
    w.from_unix_ms = *f;
  } else {
    w.from_unix_ms = w.to_unix_ms.value_or(now_unix_ms) - kDefaultWindowMs;
  }
  if (w.to_unix_ms.has_value() && *w.to_unix_ms <= *w.from_unix_ms) {
    return absl::InvalidArgumentError("--to must be later than --from");
  }
  return w;
}

absl::StatusOr<v1::UsageGroupBy> ParseGroupBy(std::string_view text) {
  if (text.empty()) return v1::USAGE_GROUP_BY_NONE;
  if (text == "key") return v1::USAGE_GROUP_BY_KEY;
  if (text == "model") return v1::USAGE_GROUP_BY_MODEL;
  if (text == "provider") return v1::USAGE_GROUP_BY_PROVIDER;
  if (text == "endpoint") return v1::USAGE_GROUP_BY_ENDPOINT;
  return absl::InvalidArgumentError(
      absl::StrCat("--by '", std::string(text), "': expected key, model, provider or endpoint"));
}

absl::Status ApplyStatusFilter(std::string_view text, v1::ListUsageRequest* request) {
  if (text.empty()) return absl::OkStatus();
  std::string s = absl::AsciiStrToLower(std::string(text));
  if (s == "error" || s == "errors") {
    request->set_status_error(true);
    return absl::OkStatus();
  }
  if (s.size() == 3 && s[0] >= '1' && s[0] <= '5' && s[1] == 'x' && s[2] == 'x') {
    request->set_status_class(s[0] - '0');
    return absl::OkStatus();
  }
  int code = 0;
  if (s.size() == 3 && s.find_first_not_of("0123456789") == std::string::npos &&
      absl::SimpleAtoi(s, &code) && code >= 100) {
    request->set_status_code(code);
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--status '", std::string(text), "': expected a code (429), a class (2xx..5xx) or error"));
}

std::string MicroUsd(int64_t micro_usd) {
  const char* sign = micro_usd < 0 ? "-" : "";
  uint64_t v = micro_usd < 0 ? -static_cast<uint64_t>(micro_usd) : micro_usd;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%s%llu.%06llu", sign,
                static_cast<unsigned long long>(v / 1000000),
                static_cast<unsigned long long>(v % 1000000));
  return buf;
}

std::string UtcTime(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

std::string Millis(int64_t micros) {
  char buf[32];
  if (micros < 10'000) {
    std::snprintf(buf, sizeof(buf), "%.1f", micros / 1000.0);
  } else {
    std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>((micros + 500) / 1000));
  }
  return buf;
}

std::string Grouped(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string JsonQuoted(std::string_view text) {
  std::string out;
  protocol::AppendJsonString(text, &out);
  return out;
}

void PrintTable(const std::vector<std::vector<std::string>>& rows, std::string_view align) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string line;
  for (const auto& row : rows) {
    line.clear();
    for (size_t c = 0; c < row.size(); ++c) {
      const bool last = c + 1 == row.size();
      const size_t pad = widths[c] - row[c].size();
      const bool right = c < align.size() && align[c] == 'r';
      if (right) line.append(pad, ' ');
      line += row[c];
      if (!right && !last) line.append(pad, ' ');
      if (!last) line += "  ";
    }
    line += '\n';
    std::fputs(line.c_str(), stdout);
  }
}

}  // namespace bitrouter::ctl
