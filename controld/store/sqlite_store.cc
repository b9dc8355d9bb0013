#include "controld/store/sqlite_store.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "controld/store/attempts_json.h"
#include "controld/store/sqlite_rows.h"
#include "shared/common/status_macros.h"
#include "shared/common/wall_clock.h"

namespace bitrouter::store {
namespace {

using sqlite_rows::BindOptional;
using sqlite_rows::BindText;
using sqlite_rows::ColumnText;
using sqlite_rows::kColumnCount;
using sqlite_rows::kColumns;

// Ordered schema steps; version N = kMigrations[N - 1]. Shipped entries are
// immutable: a database records only the number, not the text it ran.
constexpr const char* kMigrations[] = {
    // 1: usage records. Latencies in microseconds (as x-bitrouter-overhead-us),
    // time in Unix milliseconds. NULL ttfb = no byte sent; NULL cost = unknown.
    R"sql(
CREATE TABLE usage_records (
  id                    INTEGER PRIMARY KEY,
  request_id            TEXT    NOT NULL,
  time_unix_ms          INTEGER NOT NULL,
  key_id                TEXT    NOT NULL DEFAULT '',
  client_protocol       TEXT    NOT NULL,
  model_requested       TEXT    NOT NULL,
  provider              TEXT    NOT NULL,
  upstream_model        TEXT    NOT NULL,
  upstream_protocol     TEXT    NOT NULL,
  attempts_json         TEXT    NOT NULL,
  final_status          INTEGER NOT NULL,
  streamed              INTEGER NOT NULL CHECK (streamed IN (0, 1)),
  bytes_in              INTEGER NOT NULL,
  bytes_out             INTEGER NOT NULL,
  time_to_first_byte_us INTEGER,
  total_latency_us      INTEGER NOT NULL,
  router_overhead_us    INTEGER NOT NULL,
  prompt_tokens         INTEGER NOT NULL,
  completion_tokens     INTEGER NOT NULL,
  reasoning_tokens      INTEGER NOT NULL,
  cache_read_tokens     INTEGER NOT NULL,
  cache_write_tokens    INTEGER NOT NULL,
  usage_origin          TEXT    NOT NULL CHECK (usage_origin IN ('provider', 'estimated')),
  cost_micro_usd        INTEGER
);
CREATE INDEX usage_records_time ON usage_records (time_unix_ms);
CREATE INDEX usage_records_key_time ON usage_records (key_id, time_unix_ms);
)sql",
    // 2: the filters of `bitrouterctl requests`: --model walks its own index
    // newest first instead of scanning the table when the model is rare, and
    // an exact --status (e.g. 429) finds its few rows at once.
    R"sql(
CREATE INDEX usage_records_model_time ON usage_records (model_requested, time_unix_ms);
CREATE INDEX usage_records_status_time ON usage_records (final_status, time_unix_ms);
)sql",
    // 3: virtual keys (SHA-256 only, never the secret) and the budget leases
    // several nodes share a key's budget by. key_revision is a one-row
    // counter: every insert/update of a key takes the next value, so pollers
    // see every change whatever the nodes' clocks say.
    R"sql(
CREATE TABLE keys (
  id               TEXT    PRIMARY KEY,
  name             TEXT    NOT NULL UNIQUE,
  hash_hex         TEXT    NOT NULL UNIQUE,
  prefix           TEXT    NOT NULL,
  models           TEXT    NOT NULL DEFAULT '',
  budget_micro_usd INTEGER,
  budget_period    TEXT    NOT NULL CHECK (budget_period IN ('total', 'day', 'month')),
  rpm              INTEGER,
  tpm              INTEGER,
  expires_unix_ms  INTEGER,
  created_unix_ms  INTEGER NOT NULL,
  updated_unix_ms  INTEGER NOT NULL,
  revoked_unix_ms  INTEGER,
  revision         INTEGER NOT NULL
);
CREATE TABLE key_revision (one INTEGER PRIMARY KEY CHECK (one = 1), value INTEGER NOT NULL);
INSERT INTO key_revision (one, value) VALUES (1, 0);
CREATE TABLE budget_leases (
  node_id          TEXT    NOT NULL,
  key_id           TEXT    NOT NULL,
  lease_micro_usd  INTEGER NOT NULL,
  need_micro_usd   INTEGER NOT NULL DEFAULT 0,
  updated_unix_ms  INTEGER NOT NULL,
  PRIMARY KEY (node_id, key_id)
);
CREATE INDEX budget_leases_key ON budget_leases (key_id);
)sql",
    // 4: the guardrail matches of a request ("pattern:action:direction", comma
    // separated; never the matched text).
    R"sql(
ALTER TABLE usage_records ADD COLUMN guardrails TEXT NOT NULL DEFAULT '';
)sql",
    // 5: a key's MCP scope ("server" or "server:tool-glob" or
    // "virtual:tool-glob", comma separated; '' = every MCP tool).
    R"sql(
ALTER TABLE keys ADD COLUMN mcp_tools TEXT NOT NULL DEFAULT '';
)sql",
    // 6: classified auto routing: the category chosen and the model name
    // routed to ('' when the request was not classified).
    R"sql(
ALTER TABLE usage_records ADD COLUMN route_category TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_records ADD COLUMN route_model TEXT NOT NULL DEFAULT '';
)sql",
};

// The busy timeout covers a reader (bitrouterctl) holding the WAL checkpoint;
// the store thread can afford to wait, a control-link thread never would.
constexpr int kBusyTimeoutMs = 5000;

absl::StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {  // primary result code
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return absl::StatusCode::kPermissionDenied;
    case SQLITE_FULL:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
      return absl::StatusCode::kInvalidArgument;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

const char* UsageOriginName(UsageOrigin origin) {
  return origin == UsageOrigin::kEstimated ? "estimated" : "provider";
}

void SqliteStore::DbCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void SqliteStore::StmtFinalizer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

SqliteStore::SqliteStore(std::string path) : path_(std::move(path)) {}
SqliteStore::~SqliteStore() = default;

int64_t SqliteStore::LatestSchemaVersion() { return static_cast<int64_t>(std::size(kMigrations)); }

absl::Status SqliteStore::Error(int rc, const char* what) const {
  const char* message = db_ != nullptr ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
  return absl::Status(CodeFor(rc), absl::StrCat("usage store ", path_, ": ", what, ": ", message));
}

absl::Status SqliteStore::Exec(const char* sql, const char* what) {
  int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, what);
  return absl::OkStatus();
}

absl::StatusOr<SqliteStore::Stmt> SqliteStore::Prepare(const char* sql, const char* what) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  Stmt stmt(raw);
  if (rc != SQLITE_OK) return Error(rc, what);
  return stmt;
}

absl::Status SqliteStore::Open() {
  if (db_ != nullptr) return absl::FailedPreconditionError("usage store already open");
  absl::Status status = OpenAndMigrate();
  if (!status.ok()) {
    // Leave the object as if never opened: no half-set-up connection lingers.
    prune_.reset();
    insert_.reset();
    db_.reset();
  }
  return status;
}

absl::Status SqliteStore::OpenAndMigrate() {
  if (path_.empty()) return absl::InvalidArgumentError("usage store: empty SQLite path");
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path_.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  // sqlite3_open_v2 hands back a handle even on failure; it carries the message.
  db_.reset(raw);
  if (rc != SQLITE_OK) {
    absl::Status status = Error(rc, "open");
    db_.reset();
    return status;
  }
  sqlite3_extended_result_codes(db_.get(), 1);
  sqlite3_busy_timeout(db_.get(), kBusyTimeoutMs);

  // journal_mode answers with the mode now in force; a file that is not a
  // database fails here, since open itself reads nothing.
  {
    ASSIGN_OR_RETURN(Stmt wal, Prepare("PRAGMA journal_mode=WAL", "enable WAL"));
    rc = sqlite3_step(wal.get());
    if (rc != SQLITE_ROW) return Error(rc, "enable WAL");
    std::string mode = ColumnText(wal.get(), 0);
    if (mode != "wal") {
      return absl::FailedPreconditionError(
          absl::StrCat("usage store ", path_, ": journal_mode is '", mode, "', not 'wal'"));
    }
  }
  RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL", "set synchronous"));
  RETURN_IF_ERROR(Exec("PRAGMA foreign_keys=ON", "enable foreign keys"));
  RETURN_IF_ERROR(Migrate());

  std::string insert_sql = absl::StrCat("INSERT INTO usage_records (", kColumns, ") VALUES (?");
  for (int i = 1; i < kColumnCount; ++i) insert_sql += ", ?";
  insert_sql += ")";
  ASSIGN_OR_RETURN(insert_, Prepare(insert_sql.c_str(), "prepare insert"));
  ASSIGN_OR_RETURN(prune_,
                   Prepare("DELETE FROM usage_records WHERE time_unix_ms < ?", "prepare prune"));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqliteStore::SchemaVersion() {
  if (db_ == nullptr) return absl::FailedPreconditionError("usage store not open");
  ASSIGN_OR_RETURN(Stmt stmt, Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                                      "read schema version"));
  int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return Error(rc, "read schema version");
  return sqlite3_column_int64(stmt.get(), 0);
}

absl::Status SqliteStore::Migrate() {
  RETURN_IF_ERROR(
      Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
           "version INTEGER PRIMARY KEY, applied_unix_ms INTEGER NOT NULL)",
           "create schema_migrations"));
  ASSIGN_OR_RETURN(int64_t version, SchemaVersion());
  const int64_t latest = LatestSchemaVersion();
  if (version > latest) {
    // A newer bitrouterd migrated this file; writing with an older schema
    // idea would corrupt its meaning, so refuse rather than guess.
    return absl::FailedPreconditionError(
        absl::StrCat("usage store ", path_, ": schema version ", version,
                     " is newer than this bitrouterd knows (", latest, ")"));
  }
  for (int64_t next = version + 1; next <= latest; ++next) {
    // IMMEDIATE takes the write lock up front, so two processes opening the
    // same new file serialize instead of both running step N.
    RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE", "begin migration"));
    absl::Status status = Exec(kMigrations[next - 1], "apply migration");
    if (status.ok()) {
      // Not ASSIGN_OR_RETURN: a failure here must still reach the ROLLBACK.
      absl::StatusOr<Stmt> mark =
          Prepare("INSERT INTO schema_migrations (version, applied_unix_ms) VALUES (?, ?)",
                  "record migration");
      if (mark.ok()) {
        sqlite3_bind_int64(mark->get(), 1, next);
        sqlite3_bind_int64(mark->get(), 2, UnixMillis());
        int rc = sqlite3_step(mark->get());
        if (rc != SQLITE_DONE) status = Error(rc, "record migration");
      } else {
        status = mark.status();
      }
    }
    if (status.ok()) status = Exec("COMMIT", "commit migration");
    if (!status.ok()) {
      sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      return absl::Status(status.code(),
                          absl::StrCat(status.message(), " (to version ", next, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::AppendOne(const UsageRecord& r) {
  sqlite3_stmt* s = insert_.get();
  const std::string attempts = AttemptsToJson(r.attempts);
  const std::string origin = UsageOriginName(r.usage_origin);
  int i = 0;
  BindText(s, ++i, r.request_id);
  sqlite3_bind_int64(s, ++i, r.time_unix_ms);
  BindText(s, ++i, r.key_id);
  BindText(s, ++i, r.client_protocol);
  BindText(s, ++i, r.model_requested);
  BindText(s, ++i, r.provider);
  BindText(s, ++i, r.upstream_model);
  BindText(s, ++i, r.upstream_protocol);
  BindText(s, ++i, attempts);
  sqlite3_bind_int(s, ++i, r.final_status);
  sqlite3_bind_int(s, ++i, r.streamed ? 1 : 0);
  sqlite3_bind_int64(s, ++i, r.bytes_in);
  sqlite3_bind_int64(s, ++i, r.bytes_out);
  BindOptional(s, ++i, r.time_to_first_byte_us);
  sqlite3_bind_int64(s, ++i, r.total_latency_us);
  sqlite3_bind_int64(s, ++i, r.router_overhead_us);
  sqlite3_bind_int64(s, ++i, r.prompt_tokens);
  sqlite3_bind_int64(s, ++i, r.completion_tokens);
  sqlite3_bind_int64(s, ++i, r.reasoning_tokens);
  sqlite3_bind_int64(s, ++i, r.cache_read_tokens);
  sqlite3_bind_int64(s, ++i, r.cache_write_tokens);
  BindText(s, ++i, origin);
  BindOptional(s, ++i, r.cost_micro_usd);
  BindText(s, ++i, r.guardrails);
  BindText(s, ++i, r.route_category);
  BindText(s, ++i, r.route_model);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  // The bound texts point into locals that die on return.
  sqlite3_clear_bindings(s);
  if (rc != SQLITE_DONE) return Error(rc, "insert usage record");
  return absl::OkStatus();
}

absl::Status SqliteStore::Append(const std::vector<UsageRecord>& records) {
  if (db_ == nullptr) return absl::FailedPreconditionError("usage store not open");
  if (records.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE", "begin append"));
  absl::Status status;
  for (const UsageRecord& record : records) {
    status = AppendOne(record);
    if (!status.ok()) break;
  }
  if (status.ok()) status = Exec("COMMIT", "commit append");
  if (!status.ok()) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  return status;
}

absl::StatusOr<int64_t> SqliteStore::PruneBefore(int64_t unix_ms) {
  if (db_ == nullptr) return absl::FailedPreconditionError("usage store not open");
  sqlite3_stmt* s = prune_.get();
  sqlite3_bind_int64(s, 1, unix_ms);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return Error(rc, "prune usage records");
  return static_cast<int64_t>(sqlite3_changes64(db_.get()));
}

}  // namespace bitrouter::store
