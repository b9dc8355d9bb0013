// PostgreSQL backend, virtual keys and budget leases (key_records.h), with
// the SQLite backend's results (sqlite_keys.cc). Where SQLite relies on its
// single writer, this file takes row locks: key writes serialize on the
// key_revision row, SyncLease on the key's row (SELECT ... FOR UPDATE).
#include <libpq-fe.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "controld/store/pg_rows.h"
#include "controld/store/pg_store.h"
#include "shared/common/status_macros.h"

namespace bitrouter::store {
namespace {

using pg_rows::Int;
using pg_rows::Optional;
using pg_rows::Params;
using pg_rows::Text;

constexpr const char* kKeyColumns =
    "id, name, hash_hex, prefix, models, budget_micro_usd, budget_period, rpm, tpm, "
    "expires_unix_ms, created_unix_ms, updated_unix_ms, revoked_unix_ms, revision, mcp_tools";

constexpr const char* kBumpRevision =
    "UPDATE key_revision SET value = value + 1 WHERE one = 1 RETURNING value";

std::vector<std::string> SplitModels(const std::string& joined) {
  if (joined.empty()) return {};
  return absl::StrSplit(joined, ',', absl::SkipEmpty());
}

KeyRecord ReadKey(const PGresult* res, int row) {
  KeyRecord k;
  int i = 0;
  k.id = Text(res, row, i++);
  k.name = Text(res, row, i++);
  k.hash_hex = Text(res, row, i++);
  k.prefix = Text(res, row, i++);
  k.models = SplitModels(Text(res, row, i++));
  k.budget_micro_usd = Optional(res, row, i++);
  k.budget_period = Text(res, row, i++);
  k.rpm = Optional(res, row, i++);
  k.tpm = Optional(res, row, i++);
  k.expires_unix_ms = Optional(res, row, i++);
  k.created_unix_ms = Int(res, row, i++);
  k.updated_unix_ms = Int(res, row, i++);
  k.revoked_unix_ms = Optional(res, row, i++);
  k.revision = Int(res, row, i++);
  k.mcp_tools = SplitModels(Text(res, row, i++));
  return k;
}

// SQLite's wording for a unique violation, with the constraint PostgreSQL
// names appended.
absl::Status KeyWriteError(const char* what, const absl::Status& status) {
  if (status.code() != absl::StatusCode::kAlreadyExists) return status;
  return absl::AlreadyExistsError(absl::StrCat(
      what, ": a key with this name (or secret) exists already (", status.message(), ")"));
}

}  // namespace

absl::StatusOr<int64_t> PgStore::InsertKey(const KeyRecord& key) {
  int64_t revision = 0;
  RETURN_IF_ERROR(InTransaction("insert key", [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Result bump, Exec("bump key revision", kBumpRevision));
    revision = Int(bump.get(), 0, 0);
    Params p;
    std::string sql = absl::StrCat(
        "INSERT INTO keys (", kKeyColumns, ") VALUES (", p.Text(key.id), ", ", p.Text(key.name),
        ", ", p.Text(key.hash_hex), ", ", p.Text(key.prefix), ", ",
        p.Text(absl::StrJoin(key.models, ",")), ", ", p.Optional(key.budget_micro_usd), ", ",
        p.Text(key.budget_period), ", ", p.Optional(key.rpm), ", ", p.Optional(key.tpm), ", ",
        p.Optional(key.expires_unix_ms), ", ", p.Int(key.created_unix_ms), ", ",
        p.Int(key.updated_unix_ms), ", ", p.Optional(key.revoked_unix_ms), ", ", p.Int(revision),
        ", ", p.Text(absl::StrJoin(key.mcp_tools, ",")), ")");
    absl::Status status = Exec("insert key", sql, p, OnUnique::kAlreadyExists).status();
    return KeyWriteError("insert key", status);
  }));
  return revision;
}

absl::StatusOr<int64_t> PgStore::UpdateKey(const KeyRecord& key) {
  int64_t revision = 0;
  RETURN_IF_ERROR(InTransaction("update key", [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Result bump, Exec("bump key revision", kBumpRevision));
    revision = Int(bump.get(), 0, 0);
    Params p;
    std::string sql = absl::StrCat(
        "UPDATE keys SET name = ", p.Text(key.name),
        ", models = ", p.Text(absl::StrJoin(key.models, ",")),
        ", budget_micro_usd = ", p.Optional(key.budget_micro_usd),
        ", budget_period = ", p.Text(key.budget_period), ", rpm = ", p.Optional(key.rpm),
        ", tpm = ", p.Optional(key.tpm), ", expires_unix_ms = ", p.Optional(key.expires_unix_ms),
        ", updated_unix_ms = ", p.Int(key.updated_unix_ms),
        ", revoked_unix_ms = ", p.Optional(key.revoked_unix_ms), ", revision = ", p.Int(revision),
        ", mcp_tools = ", p.Text(absl::StrJoin(key.mcp_tools, ",")),
        " WHERE id = ", p.Text(key.id));
    absl::StatusOr<Result> updated = Exec("update key", sql, p, OnUnique::kAlreadyExists);
    if (!updated.ok()) return KeyWriteError("update key", updated.status());
    if (pg_rows::Affected(updated->get()) == 0) {
      // The rollback takes the revision back, as in SQLite.
      return absl::NotFoundError(absl::StrCat("no key with id ", key.id));
    }
    return absl::OkStatus();
  }));
  return revision;
}

absl::StatusOr<std::vector<KeyRecord>> PgStore::ListKeys() {
  // COLLATE "C": byte order, as SQLite's (the server's collation may differ).
  ASSIGN_OR_RETURN(Result r, Query("list keys", absl::StrCat("SELECT ", kKeyColumns,
                                                             " FROM keys ORDER BY created_unix_ms, "
                                                             "id COLLATE \"C\"")));
  std::vector<KeyRecord> out;
  out.reserve(static_cast<size_t>(PQntuples(r.get())));
  for (int row = 0; row < PQntuples(r.get()); ++row) out.push_back(ReadKey(r.get(), row));
  return out;
}

absl::StatusOr<int64_t> PgStore::MaxKeyRevision() {
  ASSIGN_OR_RETURN(Result r, Query("key revision", "SELECT value FROM key_revision WHERE one = 1"));
  if (PQntuples(r.get()) != 1) {
    return absl::DataLossError(absl::StrCat("usage store ", target_, ": key_revision has no row"));
  }
  return Int(r.get(), 0, 0);
}

absl::StatusOr<LeaseGrant> PgStore::SyncLease(const LeaseRequest& r) {
  LeaseGrant grant;
  int64_t others_need = 0;
  RETURN_IF_ERROR(InTransaction("sync budget lease", [&]() -> absl::Status {
    {
      // Every node's SyncLease for this key queues here until the one before
      // it commits; READ COMMITTED then shows each the previous one's lease.
      Params p;
      std::string sql =
          absl::StrCat("SELECT 1 FROM keys WHERE id = ", p.Text(r.key_id), " FOR UPDATE");
      ASSIGN_OR_RETURN(Result k, Exec("lock key", sql, p));
      if (PQntuples(k.get()) == 0) {
        return absl::NotFoundError(absl::StrCat("no key with id ", r.key_id));
      }
    }
    const int64_t live_since = r.now_unix_ms - r.live_window_ms;
    {
      Params p;
      const std::string key = p.Text(r.key_id);
      std::string sql = absl::StrCat(
          "SELECT (SELECT COALESCE(SUM(cost_micro_usd), 0)::BIGINT FROM usage_records WHERE "
          "key_id = ",
          key, " AND time_unix_ms >= ", p.Int(r.period_start_unix_ms),
          " AND cost_micro_usd IS NOT NULL), COALESCE(SUM(lease_micro_usd), 0)::BIGINT, COUNT(*), "
          "COALESCE(SUM(need_micro_usd), 0)::BIGINT FROM budget_leases WHERE key_id = ",
          key, " AND node_id <> ", p.Text(r.node_id),
          " AND updated_unix_ms >= ", p.Int(live_since));
      ASSIGN_OR_RETURN(Result s, Exec("sum key spend and leases", sql, p));
      grant.spent_micro_usd = Int(s.get(), 0, 0);
      grant.others_micro_usd = Int(s.get(), 0, 1);
      grant.live_nodes = 1 + Int(s.get(), 0, 2);
      others_need = Int(s.get(), 0, 3);
    }
    grant.lease_micro_usd = LeaseFor(r, grant, others_need);
    {
      Params p;
      std::string sql = absl::StrCat(
          "INSERT INTO budget_leases (node_id, key_id, lease_micro_usd, need_micro_usd, "
          "updated_unix_ms) VALUES (",
          p.Text(r.node_id), ", ", p.Text(r.key_id), ", ", p.Int(grant.lease_micro_usd), ", ",
          p.Int(r.need_micro_usd), ", ", p.Int(r.now_unix_ms),
          ") ON CONFLICT (node_id, key_id) DO UPDATE SET lease_micro_usd = "
          "excluded.lease_micro_usd, need_micro_usd = excluded.need_micro_usd, "
          "updated_unix_ms = excluded.updated_unix_ms");
      RETURN_IF_ERROR(Exec("write lease", sql, p).status());
    }
    {
      Params p;
      std::string sql = absl::StrCat("DELETE FROM budget_leases WHERE key_id = ", p.Text(r.key_id),
                                     " AND updated_unix_ms < ", p.Int(live_since));
      RETURN_IF_ERROR(Exec("drop stale leases", sql, p).status());
    }
    return absl::OkStatus();
  }));
  return grant;
}

absl::Status PgStore::DropLeases(const std::string& node_id) {
  Params p;
  std::string sql = absl::StrCat("DELETE FROM budget_leases WHERE node_id = ", p.Text(node_id));
  return Query("drop leases", sql, p).status();
}

}  // namespace bitrouter::store
