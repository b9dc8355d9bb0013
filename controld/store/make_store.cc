#include <algorithm>
#include <cctype>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "controld/store/pg_store.h"
#include "controld/store/sqlite_store.h"
#include "controld/store/usage_store.h"
#include "shared/common/status_macros.h"

namespace bitrouter::store {

absl::StatusOr<std::unique_ptr<UsageStore>> MakeStore(std::string_view url,
                                                      std::string_view default_sqlite_path) {
  std::string path;
  if (url.empty()) {
    path = std::string(default_sqlite_path);
  } else if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    // Passed to libpq as written; an unreachable server is a load error, not
    // a silent fallback to SQLite (usage would land somewhere unasked for).
    auto store = std::make_unique<PgStore>(std::string(url));
    RETURN_IF_ERROR(store->Open());
    return std::unique_ptr<UsageStore>(std::move(store));
  } else if (url.starts_with("sqlite://")) {
    path = std::string(url.substr(std::string_view("sqlite://").size()));
  } else if (url.starts_with("sqlite:")) {
    path = std::string(url.substr(std::string_view("sqlite:").size()));
  } else if (url.find("://") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("database.url: unknown scheme in '", std::string(url),
                     "'; expected sqlite:///path, a file path or postgres://"));
  } else {
    path = std::string(url);
  }
  // The manual's form "sqlite://bitrouter.db?mode=rwc": SQLite URI options
  // are not ours to interpret (the file is always created, in WAL mode).
  if (size_t q = path.find('?'); q != std::string::npos && !url.empty()) path.resize(q);
  // A relative path is relative to the home (where the default lives), not
  // to whatever directory bitrouterd was started from.
  if (!path.empty() && path.front() != '/' && !url.empty()) {
    std::string_view dir = default_sqlite_path;
    size_t slash = dir.rfind('/');
    if (slash != std::string_view::npos) path = std::string(dir.substr(0, slash + 1)) + path;
  }
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("database.url '", std::string(url), "' names no file"));
  }
  auto store = std::make_unique<SqliteStore>(std::move(path));
  RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<UsageStore>(std::move(store));
}

int64_t LeaseFor(const LeaseRequest& r, const LeaseGrant& g, int64_t others_need) {
  const int64_t left =
      r.budget_micro_usd - g.spent_micro_usd - g.others_micro_usd - r.need_micro_usd;
  const int64_t unclaimed = r.budget_micro_usd - g.spent_micro_usd - r.need_micro_usd - others_need;
  int64_t share = unclaimed > 0 ? unclaimed / std::max<int64_t>(1, g.live_nodes) : 0;
  share = std::max<int64_t>(0, std::min(share, left));
  return r.need_micro_usd + share;
}

std::string RedactedUrl(std::string_view url) {
  std::string out(url);
  // scheme://user:password@host...: the password is between the first ':'
  // after "//" and the last '@' before the path.
  if (size_t start = out.find("://"); start != std::string::npos) {
    start += 3;
    size_t path = out.find_first_of("/?", start);
    size_t end = path == std::string::npos ? out.size() : path;
    size_t at = out.rfind('@', end);
    size_t colon = out.find(':', start);
    if (at != std::string::npos && at >= start && colon != std::string::npos && colon < at) {
      out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ...?password=... (libpq's query-parameter form), any case.
  if (size_t q = out.find('?'); q != std::string::npos) {
    std::string lower = out;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (size_t at = lower.find("password=", q); at != std::string::npos;
         at = lower.find("password=", at + 1)) {
      if (lower[at - 1] != '?' && lower[at - 1] != '&') continue;
      size_t value = at + 9;
      size_t stop = out.find('&', value);
      if (stop == std::string::npos) stop = out.size();
      out.replace(value, stop - value, "***");
      lower.replace(value, stop - value, "***");
    }
  }
  return out;
}

}  // namespace bitrouter::store
