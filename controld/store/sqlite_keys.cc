// SQLite backend, virtual keys and budget leases (key_records.h). Writes run
// in BEGIN IMMEDIATE transactions: SQLite has one writer at a time, which is
// what makes SyncLease atomic against every other process on the file.
#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "controld/store/sqlite_rows.h"
#include "controld/store/sqlite_store.h"
#include "shared/common/status_macros.h"

namespace bitrouter::store {
namespace {

using sqlite_rows::BindOptional;
using sqlite_rows::BindText;
using sqlite_rows::ColumnOptional;
using sqlite_rows::ColumnText;

constexpr const char* kKeyColumns =
    "id, name, hash_hex, prefix, models, budget_micro_usd, budget_period, rpm, tpm, "
    "expires_unix_ms, created_unix_ms, updated_unix_ms, revoked_unix_ms, revision, mcp_tools";

std::vector<std::string> SplitModels(const std::string& joined) {
  if (joined.empty()) return {};
  return absl::StrSplit(joined, ',', absl::SkipEmpty());
}

KeyRecord ReadKey(sqlite3_stmt* s) {
  KeyRecord k;
  int i = 0;
  k.id = ColumnText(s, i++);
  k.name = ColumnText(s, i++);
  k.hash_hex = ColumnText(s, i++);
  k.prefix = ColumnText(s, i++);
  k.models = SplitModels(ColumnText(s, i++));
  k.budget_micro_usd = ColumnOptional(s, i++);
  k.budget_period = ColumnText(s, i++);
  k.rpm = ColumnOptional(s, i++);
  k.tpm = ColumnOptional(s, i++);
  k.expires_unix_ms = ColumnOptional(s, i++);
  k.created_unix_ms = sqlite3_column_int64(s, i++);
  k.updated_unix_ms = sqlite3_column_int64(s, i++);
  k.revoked_unix_ms = ColumnOptional(s, i++);
  k.revision = sqlite3_column_int64(s, i++);
  k.mcp_tools = SplitModels(ColumnText(s, i++));
  return k;
}

}  // namespace

absl::Status SqliteStore::InTransaction(const char* what, const std::function<absl::Status()>& fn) {
  if (db_ == nullptr) return absl::FailedPreconditionError("usage store not open");
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE", what));
  absl::Status status = fn();
  if (status.ok()) status = Exec("COMMIT", what);
  if (!status.ok()) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  return status;
}

absl::StatusOr<int64_t> SqliteStore::NextKeyRevision() {
  ASSIGN_OR_RETURN(Stmt bump, Prepare("UPDATE key_revision SET value = value + 1 WHERE one = 1 "
                                      "RETURNING value",
                                      "bump key revision"));
  int rc = sqlite3_step(bump.get());
  if (rc != SQLITE_ROW) return Error(rc, "bump key revision");
  return sqlite3_column_int64(bump.get(), 0);
}

absl::Status SqliteStore::KeyWriteError(int rc, const char* what) const {
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return absl::AlreadyExistsError(
        absl::StrCat(what, ": a key with this name (or secret) exists already"));
  }
  return Error(rc, what);
}

absl::StatusOr<int64_t> SqliteStore::InsertKey(const KeyRecord& key) {
  int64_t revision = 0;
  RETURN_IF_ERROR(InTransaction("insert key", [&]() -> absl::Status {
    ASSIGN_OR_RETURN(revision, NextKeyRevision());
    ASSIGN_OR_RETURN(Stmt s, Prepare(absl::StrCat("INSERT INTO keys (", kKeyColumns,
                                                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                                  "?, ?, ?)")
                                         .c_str(),
                                     "insert key"));
    const std::string models = absl::StrJoin(key.models, ",");
    const std::string mcp_tools = absl::StrJoin(key.mcp_tools, ",");  // bound, not copied
    int i = 0;
    BindText(s.get(), ++i, key.id);
    BindText(s.get(), ++i, key.name);
    BindText(s.get(), ++i, key.hash_hex);
    BindText(s.get(), ++i, key.prefix);
    BindText(s.get(), ++i, models);
    BindOptional(s.get(), ++i, key.budget_micro_usd);
    BindText(s.get(), ++i, key.budget_period);
    BindOptional(s.get(), ++i, key.rpm);
    BindOptional(s.get(), ++i, key.tpm);
    BindOptional(s.get(), ++i, key.expires_unix_ms);
    sqlite3_bind_int64(s.get(), ++i, key.created_unix_ms);
    sqlite3_bind_int64(s.get(), ++i, key.updated_unix_ms);
    BindOptional(s.get(), ++i, key.revoked_unix_ms);
    sqlite3_bind_int64(s.get(), ++i, revision);
    BindText(s.get(), ++i, mcp_tools);
    int rc = sqlite3_step(s.get());
    if (rc != SQLITE_DONE) return KeyWriteError(rc, "insert key");
    return absl::OkStatus();
  }));
  return revision;
}

absl::StatusOr<int64_t> SqliteStore::UpdateKey(const KeyRecord& key) {
  int64_t revision = 0;
  RETURN_IF_ERROR(InTransaction("update key", [&]() -> absl::Status {
    ASSIGN_OR_RETURN(revision, NextKeyRevision());
    ASSIGN_OR_RETURN(
        Stmt s, Prepare("UPDATE keys SET name = ?, models = ?, budget_micro_usd = ?, "
                        "budget_period = ?, rpm = ?, tpm = ?, expires_unix_ms = ?, "
                        "updated_unix_ms = ?, revoked_unix_ms = ?, revision = ?, mcp_tools = ? "
                        "WHERE id = ?",
                        "update key"));
    const std::string models = absl::StrJoin(key.models, ",");
    const std::string mcp_tools = absl::StrJoin(key.mcp_tools, ",");  // bound, not copied
    int i = 0;
    BindText(s.get(), ++i, key.name);
    BindText(s.get(), ++i, models);
    BindOptional(s.get(), ++i, key.budget_micro_usd);
    BindText(s.get(), ++i, key.budget_period);
    BindOptional(s.get(), ++i, key.rpm);
    BindOptional(s.get(), ++i, key.tpm);
    BindOptional(s.get(), ++i, key.expires_unix_ms);
    sqlite3_bind_int64(s.get(), ++i, key.updated_unix_ms);
    BindOptional(s.get(), ++i, key.revoked_unix_ms);
    sqlite3_bind_int64(s.get(), ++i, revision);
    BindText(s.get(), ++i, mcp_tools);
    BindText(s.get(), ++i, key.id);
    int rc = sqlite3_step(s.get());
    if (rc != SQLITE_DONE) return KeyWriteError(rc, "update key");
    if (sqlite3_changes(db_.get()) == 0) {
      return absl::NotFoundError(absl::StrCat("no key with id ", key.id));
    }
    return absl::OkStatus();
  }));
  return revision;
}

absl::StatusOr<std::vector<KeyRecord>> SqliteStore::ListKeys() {
  if (db_ == nullptr) return absl::FailedPreconditionError("usage store not open");
  ASSIGN_OR_RETURN(
      Stmt s,
      Prepare(
          absl::StrCat("SELECT ", kKeyColumns, " FROM keys ORDER BY created_unix_ms, id").c_str(),
          "list keys"));
  std::vector<KeyRecord> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(ReadKey(s.get()));
  if (rc != SQLITE_DONE) return Error(rc, "list keys");
  return out;
}

absl::StatusOr<int64_t> SqliteStore::MaxKeyRevision() {
  if (db_ == nullptr) return absl::FailedPreconditionError("usage store not open");
  ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT value FROM key_revision WHERE one = 1", "key revision"));
  int rc = sqlite3_step(s.get());
  if (rc != SQLITE_ROW) return Error(rc, "key revision");
  return sqlite3_column_int64(s.get(), 0);
}

absl::StatusOr<LeaseGrant> SqliteStore::SyncLease(const LeaseRequest& r) {
  LeaseGrant grant;
  int64_t others_need = 0;
  RETURN_IF_ERROR(InTransaction("sync budget lease", [&]() -> absl::Status {
    {
      ASSIGN_OR_RETURN(Stmt k, Prepare("SELECT 1 FROM keys WHERE id = ?", "sync lease"));
      BindText(k.get(), 1, r.key_id);
      int rc = sqlite3_step(k.get());
      if (rc == SQLITE_DONE) return absl::NotFoundError(absl::StrCat("no key with id ", r.key_id));
      if (rc != SQLITE_ROW) return Error(rc, "sync lease");
    }
    {
      ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT COALESCE(SUM(cost_micro_usd), 0) FROM usage_records "
                                       "WHERE key_id = ? AND time_unix_ms >= ? AND "
                                       "cost_micro_usd IS NOT NULL",
                                       "sum key spend"));
      BindText(s.get(), 1, r.key_id);
      sqlite3_bind_int64(s.get(), 2, r.period_start_unix_ms);
      int rc = sqlite3_step(s.get());
      if (rc != SQLITE_ROW) return Error(rc, "sum key spend");
      grant.spent_micro_usd = sqlite3_column_int64(s.get(), 0);
    }
    const int64_t live_since = r.now_unix_ms - r.live_window_ms;
    {
      ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT COALESCE(SUM(lease_micro_usd), 0), COUNT(*), "
                                       "COALESCE(SUM(need_micro_usd), 0) FROM budget_leases "
                                       "WHERE key_id = ? AND node_id <> ? AND updated_unix_ms >= ?",
                                       "sum leases"));
      BindText(s.get(), 1, r.key_id);
      BindText(s.get(), 2, r.node_id);
      sqlite3_bind_int64(s.get(), 3, live_since);
      int rc = sqlite3_step(s.get());
      if (rc != SQLITE_ROW) return Error(rc, "sum leases");
      grant.others_micro_usd = sqlite3_column_int64(s.get(), 0);
      grant.live_nodes = 1 + sqlite3_column_int64(s.get(), 1);
      others_need = sqlite3_column_int64(s.get(), 2);
    }
    grant.lease_micro_usd = LeaseFor(r, grant, others_need);
    {
      ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT INTO budget_leases (node_id, key_id, "
                                       "lease_micro_usd, need_micro_usd, updated_unix_ms) "
                                       "VALUES (?, ?, ?, ?, ?) "
                                       "ON CONFLICT (node_id, key_id) DO UPDATE SET "
                                       "lease_micro_usd = excluded.lease_micro_usd, "
                                       "need_micro_usd = excluded.need_micro_usd, "
                                       "updated_unix_ms = excluded.updated_unix_ms",
                                       "write lease"));
      BindText(s.get(), 1, r.node_id);
      BindText(s.get(), 2, r.key_id);
      sqlite3_bind_int64(s.get(), 3, grant.lease_micro_usd);
      sqlite3_bind_int64(s.get(), 4, r.need_micro_usd);
      sqlite3_bind_int64(s.get(), 5, r.now_unix_ms);
      int rc = sqlite3_step(s.get());
      if (rc != SQLITE_DONE) return Error(rc, "write lease");
    }
    {
      ASSIGN_OR_RETURN(Stmt s, Prepare("DELETE FROM budget_leases WHERE key_id = ? AND "
                                       "updated_unix_ms < ?",
                                       "drop stale leases"));
      BindText(s.get(), 1, r.key_id);
      sqlite3_bind_int64(s.get(), 2, live_since);
      int rc = sqlite3_step(s.get());
      if (rc != SQLITE_DONE) return Error(rc, "drop stale leases");
    }
    return absl::OkStatus();
  }));
  return grant;
}

absl::Status SqliteStore::DropLeases(const std::string& node_id) {
  return InTransaction("drop leases", [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Stmt s, Prepare("DELETE FROM budget_leases WHERE node_id = ?", "drop leases"));
    BindText(s.get(), 1, node_id);
    int rc = sqlite3_step(s.get());
    if (rc != SQLITE_DONE) return Error(rc, "drop leases");
    return absl::OkStatus();
  });
}

}  // namespace bitrouter::store
