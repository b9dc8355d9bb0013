#pragma once
// The usage store: one row per answered request, owned by bitrouterd.
//
// Also the home of virtual keys and budget leases (key_records.h).
//
// Backends: embedded SQLite (default, <home>/bitrouter.db in WAL mode) and
// PostgreSQL (several nodes sharing one database); the interface speaks only
// in records, batches and time bounds - nothing backend-specific leaks out.
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
#include "controld/store/key_records.h"
#include "shared/usage/usage_record.h"

namespace bitrouter::store {

// The record itself is shared with the workers that measure it
// (shared/usage/usage_record.h).
using UsageAttempt = usage::UsageAttempt;
using UsageOrigin = usage::UsageOrigin;
using UsageRecord = usage::UsageRecord;

// Which final statuses a query keeps.
struct StatusMatch {
  enum class Kind {
    kAny,
    kExact,   // final_status == code
    kClass,   // final_status in [code * 100, code * 100 + 99]; code 1..5 ("4xx" = 4)
    kNot2xx,  // an error: final_status outside 200..299 (0 included)
  };
  Kind kind = Kind::kAny;
  int code = 0;
};

// Filters for Newest; an empty field does not filter.
struct UsageFilter {
  std::string model_requested;
  std::string key_id;
  std::optional<int64_t> since_unix_ms;  // time_unix_ms >= since
  StatusMatch status;
  // Set: only rows with row_id > after_row_id, OLDEST first (row_id order),
  // which is how a follower (`bitrouterctl requests --tail`) asks for what
  // arrived since the last row it saw.
  std::optional<int64_t> after_row_id;
};

// The dimension Summarize groups by.
enum class UsageGroupBy {
  kNone,      // one total row (also for an empty window)
  kKey,       // key_id ("" = no key)
  kModel,     // model_requested
  kProvider,  // provider ("" = no endpoint answered)
  kEndpoint,  // "provider:upstream_model" ("" = no endpoint answered)
};

struct UsageSummaryQuery {
  // Window on time_unix_ms: [from, to). nullopt = unbounded on that side.
  std::optional<int64_t> from_unix_ms;
  std::optional<int64_t> to_unix_ms;
  UsageGroupBy group_by = UsageGroupBy::kNone;
};

// Percentiles are nearest-rank: the value at rank ceil(p/100 * n) of the
// group's n values in ascending order (an actual observed value).
struct UsageSummaryRow {
  std::string group;  // empty for UsageGroupBy::kNone
  int64_t requests = 0;
  int64_t errors = 0;     // final_status outside 200..299
  int64_t estimated = 0;  // rows whose tokens are our estimate
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t reasoning_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t cost_micro_usd = 0;  // sum of the known costs
  int64_t cost_unknown = 0;    // rows whose cost is unknown (not in the sum)
  int64_t latency_p50_us = 0;  // total latency; 0 when requests == 0
  int64_t latency_p99_us = 0;
  // Over the rows that sent a byte; nullopt when none did.
  std::optional<int64_t> ttfb_p50_us;
  std::optional<int64_t> ttfb_p99_us;

  bool operator==(const UsageSummaryRow&) const = default;
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

  // Up to `limit` rows matching `filter`, newest (time, then insertion) first;
  // with filter.after_row_id, the oldest rows after it first (see UsageFilter).
  virtual absl::StatusOr<std::vector<UsageRecord>> Newest(int limit, const UsageFilter& filter) = 0;

  // Totals over a time window, one row per group sorted by requests
  // descending (then group ascending). kNone always yields exactly one row.
  virtual absl::StatusOr<std::vector<UsageSummaryRow>> Summarize(
      const UsageSummaryQuery& query) = 0;

  // The highest row_id stored so far (0 when empty): where a follower starts,
  // so it sees only rows that arrive after it asked, whatever its filter.
  virtual absl::StatusOr<int64_t> MaxRowId() = 0;

  // ---- virtual keys (key_records.h)

  // Inserts a new key; the store assigns `revision` (returned). AlreadyExists
  // when the id, name or hash is taken.
  virtual absl::StatusOr<int64_t> InsertKey(const KeyRecord& key) = 0;
  // Replaces the key with key.id (every field but id, hash_hex, prefix and
  // created_unix_ms); assigns and returns a new revision. NotFound if absent;
  // AlreadyExists when the new name is another key's.
  virtual absl::StatusOr<int64_t> UpdateKey(const KeyRecord& key) = 0;
  // Every key, revoked ones included, ordered by created_unix_ms then id.
  virtual absl::StatusOr<std::vector<KeyRecord>> ListKeys() = 0;
  // The newest revision of any key (0 with no keys): a cheap poll.
  virtual absl::StatusOr<int64_t> MaxKeyRevision() = 0;

  // ---- budget leases (key_records.h)

  // In one transaction that serializes with every other node's SyncLease for
  // the same key: reads the key's spend in the period (SUM of known
  // cost_micro_usd of its usage rows with time >= period_start) and the
  // other nodes' live leases, then sets this node's lease as LeaseGrant
  // describes and records it with now_unix_ms. Leases older than the live
  // window are ignored (a node that died) and may be deleted.
  virtual absl::StatusOr<LeaseGrant> SyncLease(const LeaseRequest& request) = 0;
  // Deletes every lease of `node_id` (a clean stop gives its share back).
  virtual absl::Status DropLeases(const std::string& node_id) = 0;
};

// Builds and opens the store that `url` names:
//   ""                      -> SQLite at default_sqlite_path (<home>/bitrouter.db)
//   "sqlite:///abs/path", "sqlite:rel/path", or a plain path -> SQLite there
//                           (relative paths under the directory of
//                           default_sqlite_path; a "?options" suffix is ignored)
//   "postgres://...", "postgresql://..." -> PostgreSQL (libpq connection URI)
//   any other scheme        -> InvalidArgumentError
// Any failure is a load error: bitrouterd must not start without its store.
absl::StatusOr<std::unique_ptr<UsageStore>> MakeStore(std::string_view url,
                                                      std::string_view default_sqlite_path);

const char* UsageOriginName(UsageOrigin origin);

// `url` for display (status, logs): a password in it becomes "***".
std::string RedactedUrl(std::string_view url);

}  // namespace bitrouter::store
