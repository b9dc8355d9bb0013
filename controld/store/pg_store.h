#pragma once
// PostgreSQL backend of UsageStore: several bitrouterd nodes share one
// database (usage rows, virtual keys, budget leases).
//
// Results are the SQLite backend's, call for call (ordering, nearest-rank
// percentiles, follower semantics, NULL cost = unknown); the schema is the
// same list of migrations in PostgreSQL's dialect, with the same version
// numbers in `schema_migrations`. Migrations run under an advisory lock, so
// nodes opening one fresh database at the same instant both succeed.
//
// Outages: bitrouterd keeps serving while PostgreSQL is down, so nothing here
// may hang. Connecting gives up after connect_timeout (3 s unless the URI sets
// one), every statement after statement_timeout (5 s); a lost connection
// makes the call return UnavailableError naming the database host, and the
// next call (not this one, not in a loop) connects again.
//
// Secrets: the URI's password never appears in a Status, a log line or
// target(); libpq messages are scrubbed of it before they leave this class.
//
// Thread: as UsageStore - one thread at a time (one libpq connection).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "controld/store/usage_store.h"

struct pg_conn;
struct pg_result;

namespace bitrouter::store {

namespace pg_rows {
class Params;
}  // namespace pg_rows

class PgStore final : public UsageStore {
 public:
  // `uri`: a libpq connection URI exactly as the user wrote it
  // ("postgres://user:pw@host:5432/db?sslmode=require",
  // "postgresql:///db?host=/run/postgresql&port=5433").
  explicit PgStore(std::string uri);
  ~PgStore() override;

  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  // InvalidArgument for a URI libpq cannot parse, Unavailable when the server
  // cannot be reached, FailedPrecondition for a schema newer than this binary.
  absl::Status Open() override;
  absl::StatusOr<int64_t> SchemaVersion() override;
  absl::Status Append(const std::vector<UsageRecord>& records) override;
  absl::StatusOr<int64_t> PruneBefore(int64_t unix_ms) override;
  // Reads: pg_query.cc.
  absl::StatusOr<std::vector<UsageRecord>> Newest(int limit, const UsageFilter& filter) override;
  absl::StatusOr<std::vector<UsageSummaryRow>> Summarize(const UsageSummaryQuery& query) override;
  absl::StatusOr<int64_t> MaxRowId() override;
  // Keys and leases: pg_keys.cc.
  absl::StatusOr<int64_t> InsertKey(const KeyRecord& key) override;
  absl::StatusOr<int64_t> UpdateKey(const KeyRecord& key) override;
  absl::StatusOr<std::vector<KeyRecord>> ListKeys() override;
  absl::StatusOr<int64_t> MaxKeyRevision() override;
  absl::StatusOr<LeaseGrant> SyncLease(const LeaseRequest& request) override;
  absl::Status DropLeases(const std::string& node_id) override;

  // "host /run/postgresql port 5432 database bitrouter": what messages name
  // (never the password).
  const std::string& target() const { return target_; }

  // Number of migrations this binary ships (= the newest schema version).
  static int64_t LatestSchemaVersion();

 private:
  struct ResultDeleter {
    void operator()(pg_result* result) const;
  };
  using Result = std::unique_ptr<pg_result, ResultDeleter>;
  // How a failed command's SQLSTATE maps; key writes turn a unique
  // violation into AlreadyExists.
  enum class OnUnique { kInvalidArgument, kAlreadyExists };

  // Open, then the connection is up (reconnecting at most once), or an
  // error; *fresh tells whether it connected just now.
  absl::Status Ready(bool* fresh = nullptr);
  // One statement outside a transaction: Ready, Exec, and when a connection
  // that was not fresh turns out lost, one reconnect and one retry.
  absl::StatusOr<Result> Query(const char* what, const std::string& sql,
                               const pg_rows::Params& params);
  absl::StatusOr<Result> Query(const char* what, const std::string& sql);
  absl::Status Connect();
  void Disconnect();
  absl::Status Migrate();
  absl::Status MigrateOneStep(bool* done);
  // Runs one parameterized statement (PQexecParams, text format). A result
  // that is not PGRES_COMMAND_OK / PGRES_TUPLES_OK becomes an error.
  absl::StatusOr<Result> Exec(const char* what, const std::string& sql,
                              const pg_rows::Params& params,
                              OnUnique on_unique = OnUnique::kInvalidArgument);
  absl::StatusOr<Result> Exec(const char* what, const std::string& sql);
  // BEGIN (read committed), fn, COMMIT; ROLLBACK when either fails.
  absl::Status InTransaction(const char* what, const std::function<absl::Status()>& fn);
  absl::Status ErrorFrom(const char* what, pg_result* result, OnUnique on_unique);
  std::string Scrub(std::string message) const;
  absl::Status AppendChunk(const std::vector<UsageRecord>& records, size_t begin, size_t end);

  std::string uri_;
  std::string target_;
  // The password (and its percent-encoded spelling) to cut out of messages.
  std::vector<std::string> secrets_;
  bool opened_ = false;
  pg_conn* conn_ = nullptr;
};

}  // namespace bitrouter::store
