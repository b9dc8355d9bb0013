#pragma once
// The usage store: one row per answered request, owned by bitrouterd.
//
// Backends: embedded SQLite (default, <home>/bitrouter.db in WAL mode) today;
// PostgreSQL arrives with the keys issue, so the interface speaks only in
// records, batches and time bounds - nothing SQLite-specific leaks out.
//
// Thread: every call blocks on disk (or, later, the network). A store object
// is not thread-safe: it belongs to one dedicated store thread at a time.
// bitrouterd never calls it from a thread that serves the control link or
// from any event loop; workers never see it.
//
// Errors: absl::Status carrying the backend's own message (for SQLite, the
// sqlite3_errmsg text) and the database path, so a load error is actionable.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "shared/usage/usage_record.h"

namespace bitrouter::store {

// The record itself is shared with the workers that measure it
// (shared/usage/usage_record.h).
using UsageAttempt = usage::UsageAttempt;
using UsageOrigin = usage::UsageOrigin;
using UsageRecord = usage::UsageRecord;

// Minimal filters for Newest; an empty field does not filter.
struct UsageFilter {
  std::string model_requested;
  std::string key_id;
  std::optional<int64_t> since_unix_ms;  // time_unix_ms >= since
};

class UsageStore {
 public:
  virtual ~UsageStore() = default;

  // Opens (creating if missing) and brings the schema to the newest version,
  // one migration per transaction. Call once, before anything else. Fails on a
  // database whose schema is newer than this binary knows.
  virtual absl::Status Open() = 0;

  // The schema version after Open.
  virtual absl::StatusOr<int64_t> SchemaVersion() = 0;

  // Appends the whole batch in one transaction: all rows or none.
  virtual absl::Status Append(const std::vector<UsageRecord>& records) = 0;

  // Deletes rows with time_unix_ms < unix_ms (retention); returns how many.
  virtual absl::StatusOr<int64_t> PruneBefore(int64_t unix_ms) = 0;

  // Up to `limit` rows matching `filter`, newest (time, then insertion) first.
  virtual absl::StatusOr<std::vector<UsageRecord>> Newest(int limit, const UsageFilter& filter) = 0;
};

// Builds and opens the store that `url` names:
//   ""                      -> SQLite at default_sqlite_path (<home>/bitrouter.db)
//   "sqlite:///abs/path", "sqlite:rel/path", or a plain path -> SQLite there
//                           (relative paths under the directory of
//                           default_sqlite_path; a "?options" suffix is ignored)
//   "postgres://...", "postgresql://..." -> UnimplementedError (keys issue)
//   any other scheme        -> InvalidArgumentError
// Any failure is a load error: bitrouterd must not start without its store.
absl::StatusOr<std::unique_ptr<UsageStore>> MakeStore(std::string_view url,
                                                      std::string_view default_sqlite_path);

const char* UsageOriginName(UsageOrigin origin);

}  // namespace bitrouter::store
