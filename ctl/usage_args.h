#pragma once
// What `bitrouterctl usage` and `bitrouterctl requests` accept and print:
// time windows, status filters, money, instants and tables. Any thread;
// parse errors are InvalidArgument with a message fit for the user.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "bitrouter/v1/control.pb.h"

namespace bitrouter::ctl {

// "90s", "30m", "1h", "7d", "2w", or a sum like "1h30m" -> milliseconds (> 0).
absl::StatusOr<int64_t> ParseDurationMs(std::string_view text);

// An instant -> Unix milliseconds. Accepts RFC 3339 ("2025-06-01T12:00:00Z",
// "...T12:00:00.5+02:00"), the same without an offset or with a space for
// the T (read as UTC), an ISO date "2025-06-01" (00:00 UTC), and Unix
// seconds ("1748779200").
absl::StatusOr<int64_t> ParseInstantMs(std::string_view text);

struct Window {
  std::optional<int64_t> from_unix_ms;  // inclusive
  std::optional<int64_t> to_unix_ms;    // exclusive
};
// The window of `usage`: --since D is [now - D, now]; --from T [--to T] is
// [T, T2) (no --to: up to now); --to alone is the 24 h before it; nothing
// is the last 24 h. --since with --from or --to is an error.
inline constexpr int64_t kDefaultWindowMs = 24LL * 3600 * 1000;
absl::StatusOr<Window> ResolveWindow(std::string_view since, std::string_view from,
                                     std::string_view to, int64_t now_unix_ms);

// "key" | "model" | "provider" | "endpoint" ("" = no grouping).
absl::StatusOr<v1::UsageGroupBy> ParseGroupBy(std::string_view text);

// --status: an exact code ("429"), a class ("4xx", "5XX"), or "error" (not
// 2xx). Sets the status oneof of `request`; "" leaves it unset.
absl::Status ApplyStatusFilter(std::string_view text, v1::ListUsageRequest* request);

// 1234567 -> "1.234567" (exact: integer arithmetic, no float).
std::string MicroUsd(int64_t micro_usd);
// Unix ms -> "2025-06-01T12:00:00Z" (UTC, seconds).
std::string UtcTime(int64_t unix_ms);
// Microseconds -> milliseconds for display: "812", "4.2" under 10 ms.
std::string Millis(int64_t micros);
// 1234567 -> "1,234,567".
std::string Grouped(int64_t n);
// A quoted, escaped JSON string.
std::string JsonQuoted(std::string_view text);
// Prints rows as columns two spaces apart, each as wide as its widest cell;
// `align` has one 'l' or 'r' per column (missing = 'l'). Row 0 is the header.
void PrintTable(const std::vector<std::vector<std::string>>& rows, std::string_view align);

}  // namespace bitrouter::ctl
