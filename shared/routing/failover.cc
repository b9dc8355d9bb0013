#include "shared/routing/failover.h"

#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"

namespace bitrouter::routing {

StatusClass ClassifyStatus(int status) {
  if (status >= 200 && status < 300) return StatusClass::kSuccess;
  if (status >= 500 || status == 408 || status == 429) return StatusClass::kFailover;
  return StatusClass::kRelay;
}

std::optional<uint64_t> ParseRetryAfterMs(std::string_view value, int64_t now_unix_seconds) {
  constexpr uint64_t kMaxMs = 86'400'000;
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  double seconds = 0;
  if (absl::SimpleAtod(AV(value), &seconds)) {
    if (!(seconds >= 0)) return std::nullopt;
    double ms = seconds * 1000;
    return ms > kMaxMs ? kMaxMs : static_cast<uint64_t>(ms);
  }
  struct tm tm {};
  std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  int64_t at = timegm(&tm);
  if (at <= now_unix_seconds) return 0;
  uint64_t ms = static_cast<uint64_t>(at - now_unix_seconds) * 1000;
  return ms > kMaxMs ? kMaxMs : ms;
}

FinalError Aggregate(const std::vector<Attempt>& attempts) {
  FinalError out;
  size_t tried = 0, rate_limited = 0, timeouts = 0, skipped = 0, unavailable = 0, connect = 0,
         tls = 0, rate_limit_waits = 0;
  std::optional<uint64_t> min_retry;
  std::optional<uint64_t> min_wait;
  std::string summary;
  for (const Attempt& a : attempts) {
    std::string what;
    switch (a.kind) {
      case Attempt::Kind::kStatus:
        what = absl::StrCat("HTTP ", a.status);
        ++tried;
        if (a.status == 429) ++rate_limited;
        if (a.status == 503) ++unavailable;
        break;
      case Attempt::Kind::kTimeout:
        what = "timed out";
        ++tried;
        ++timeouts;
        break;
      case Attempt::Kind::kConnect:
        what = "connection failed";
        ++tried;
        ++connect;
        break;
      case Attempt::Kind::kTls:
        what = "TLS failed";
        ++tried;
        ++tls;
        break;
      case Attempt::Kind::kReset:
        what = "connection reset";
        ++tried;
        break;
      case Attempt::Kind::kInvalidBody:
        what = "invalid response body";
        ++tried;
        break;
      case Attempt::Kind::kSkipped:
        what = "skipped";
        ++skipped;
        if (a.rate_limit_wait) ++rate_limit_waits;
        break;
    }
    if (!a.detail.empty()) absl::StrAppend(&what, " (", a.detail, ")");
    absl::StrAppend(&summary, summary.empty() ? "" : "; ", a.endpoint, ": ", what);
    if (a.retry_after_ms) {
      if (a.kind == Attempt::Kind::kSkipped) {
        min_wait = min_wait ? std::min(*min_wait, *a.retry_after_ms) : *a.retry_after_ms;
      } else {
        min_retry = min_retry ? std::min(*min_retry, *a.retry_after_ms) : *a.retry_after_ms;
      }
    }
  }
  auto seconds = [](uint64_t ms) { return (ms + 999) / 1000; };
  if ((tried > 0 && rate_limited == tried) ||
      (tried == 0 && skipped > 0 && rate_limit_waits == skipped)) {
    // A rate limit stays a rate limit for the client (and its SDK's retry
    // logic), also while we wait out the upstream's Retry-After ourselves.
    out.status = 429;
    out.code = "rate_limited";
    out.message = absl::StrCat("every endpoint is rate limited: ", summary);
    std::optional<uint64_t> wait = min_retry;
    if (min_wait) wait = wait ? std::min(*wait, *min_wait) : *min_wait;
    if (wait) out.retry_after_s = std::max<uint64_t>(1, seconds(*wait));
  } else if (tried > 0 && timeouts == tried) {
    out.status = 504;
    out.code = "upstream_timeout";
    out.message = absl::StrCat("every endpoint timed out: ", summary);
  } else if (tried == 0 && skipped > 0) {
    out.status = 503;
    out.code = "endpoints_unavailable";
    out.message = absl::StrCat("every endpoint is cooling down: ", summary);
    if (min_wait) out.retry_after_s = std::max<uint64_t>(1, seconds(*min_wait));
  } else if (tried > 0 && unavailable + rate_limited == tried && unavailable > 0) {
    out.status = 503;
    out.code = "upstream_unavailable";
    out.message = absl::StrCat("every endpoint is unavailable: ", summary);
    if (min_retry) out.retry_after_s = seconds(*min_retry);
  } else {
    out.status = 502;
    out.code = tried > 0 && connect == tried ? "upstream_connect_failed"
               : tried > 0 && tls == tried   ? "upstream_tls_failed"
                                             : "upstream_error";
    out.message = absl::StrCat("every endpoint failed: ", summary);
  }
  return out;
}

bool IsContextLengthError(std::string_view body) {
  std::string text = absl::AsciiStrToLower(AV(body.substr(0, 64u << 10)));
  if (text.find("content_filter") != std::string::npos ||
      text.find("content filter") != std::string::npos ||
      text.find("content management policy") != std::string::npos) {
    return false;
  }
  static constexpr std::string_view kMarkers[] = {
      "context_length_exceeded",
      "maximum context length",
      "context window",
      "context length",
      "prompt is too long",
      "input is too long",
      "too many input tokens",
      "exceeds the maximum number of tokens",
      "input token count",
      "maximum prompt length",
      "reduce the length of the messages",
  };
  for (std::string_view m : kMarkers) {
    if (text.find(m) != std::string::npos) return true;
  }
  return false;
}

std::string AttemptsHeaderValue(const std::vector<Attempt>& attempts) {
  std::string out;
  for (const Attempt& a : attempts) {
    if (!out.empty()) out.append(",");
    for (char c : a.endpoint) {
      // Header-safe whatever a config wrote; ',' and '=' keep their meaning.
      out.push_back(c == '\r' || c == '\n' || c == ',' || c == '=' ? ' ' : c);
    }
    out.append("=");
    switch (a.kind) {
      case Attempt::Kind::kStatus:
        absl::StrAppend(&out, a.status);
        break;
      case Attempt::Kind::kTimeout:
        out.append("timeout");
        break;
      case Attempt::Kind::kConnect:
        out.append("connect");
        break;
      case Attempt::Kind::kTls:
        out.append("tls");
        break;
      case Attempt::Kind::kReset:
        out.append("reset");
        break;
      case Attempt::Kind::kInvalidBody:
        out.append("invalid");
        break;
      case Attempt::Kind::kSkipped:
        out.append("skipped");
        break;
    }
  }
  return out;
}

}  // namespace bitrouter::routing
