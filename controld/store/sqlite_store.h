#pragma once
// SQLite backend of UsageStore: one file, WAL journal, synchronous=NORMAL.
//
// Why WAL + NORMAL: readers (bitrouterctl, a later stats endpoint) never block
// the writer, and a commit costs no fsync of the main file; a power loss can
// drop the last few committed batches but never corrupts the database, which
// is the right trade for usage accounting written in batches.
//
// Schema: `schema_migrations(version, applied_unix_ms)` records each applied
// step of kMigrations (an ordered list of SQL scripts; never edit a shipped
// one, append a new one). Each step runs in its own transaction together
// with its schema_migrations row, so a crash leaves a whole version.
//
// Thread: as UsageStore - one thread at a time (the connection is opened
// SQLITE_OPEN_NOMUTEX). Lifetime: the destructor finalizes the statements and
// closes the connection.

#include <functional>
#include <memory>
#include <string>

#include "controld/store/usage_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace bitrouter::store {

class SqliteStore final : public UsageStore {
 public:
  explicit SqliteStore(std::string path);
  ~SqliteStore() override;

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  absl::Status Open() override;
  absl::StatusOr<int64_t> SchemaVersion() override;
  absl::Status Append(const std::vector<UsageRecord>& records) override;
  absl::StatusOr<int64_t> PruneBefore(int64_t unix_ms) override;
  // Reads: sqlite_query.cc.
  absl::StatusOr<std::vector<UsageRecord>> Newest(int limit, const UsageFilter& filter) override;
  absl::StatusOr<std::vector<UsageSummaryRow>> Summarize(const UsageSummaryQuery& query) override;
  absl::StatusOr<int64_t> MaxRowId() override;
  // Keys and leases: sqlite_keys.cc.
  absl::StatusOr<int64_t> InsertKey(const KeyRecord& key) override;
  absl::StatusOr<int64_t> UpdateKey(const KeyRecord& key) override;
  absl::StatusOr<std::vector<KeyRecord>> ListKeys() override;
  absl::StatusOr<int64_t> MaxKeyRevision() override;
  absl::StatusOr<LeaseGrant> SyncLease(const LeaseRequest& request) override;
  absl::Status DropLeases(const std::string& node_id) override;

  const std::string& path() const { return path_; }

  // Number of migrations this binary ships (= the newest schema version).
  static int64_t LatestSchemaVersion();

 private:
  struct DbCloser {
    void operator()(sqlite3* db) const;
  };
  struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const;
  };
  using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

  absl::Status Exec(const char* sql, const char* what);
  absl::StatusOr<Stmt> Prepare(const char* sql, const char* what);
  absl::Status Error(int rc, const char* what) const;
  absl::Status OpenAndMigrate();
  absl::Status Migrate();
  absl::Status AppendOne(const UsageRecord& record);
  // BEGIN IMMEDIATE, fn, COMMIT (ROLLBACK when either fails).
  absl::Status InTransaction(const char* what, const std::function<absl::Status()>& fn);
  absl::StatusOr<int64_t> NextKeyRevision();
  absl::Status KeyWriteError(int rc, const char* what) const;

  std::string path_;
  // Declared before the statements: members die in reverse order, so the
  // statements are finalized before the connection closes.
  std::unique_ptr<sqlite3, DbCloser> db_;
  Stmt insert_;  // reused by every Append
  Stmt prune_;
};

}  // namespace bitrouter::store
