#include "controld/store/pg_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "controld/store/attempts_json.h"
#include "controld/store/pg_rows.h"
#include "shared/common/status_macros.h"
#include "shared/common/wall_clock.h"

namespace bitrouter::store {
namespace {

using pg_rows::kColumnCount;
using pg_rows::kColumns;
using pg_rows::Params;

// The SQLite migrations in PostgreSQL's dialect, same numbering: version N =
// kMigrations[N - 1]. BIGINT wherever SQLite says INTEGER (SQLite's are 64
// bit), BIGSERIAL for the row id. Shipped entries are immutable.
constexpr const char* kMigrations[] = {
    // 1: usage records (see sqlite_store.cc for the units).
    R"sql(
CREATE TABLE usage_records (
  id                    BIGSERIAL PRIMARY KEY,
  request_id            TEXT    NOT NULL,
  time_unix_ms          BIGINT  NOT NULL,
  key_id                TEXT    NOT NULL DEFAULT '',
  client_protocol       TEXT    NOT NULL,
  model_requested       TEXT    NOT NULL,
  provider              TEXT    NOT NULL,
  upstream_model        TEXT    NOT NULL,
  upstream_protocol     TEXT    NOT NULL,
  attempts_json         TEXT    NOT NULL,
  final_status          BIGINT  NOT NULL,
  streamed              BIGINT  NOT NULL CHECK (streamed IN (0, 1)),
  bytes_in              BIGINT  NOT NULL,
  bytes_out             BIGINT  NOT NULL,
  time_to_first_byte_us BIGINT,
  total_latency_us      BIGINT  NOT NULL,
  router_overhead_us    BIGINT  NOT NULL,
  prompt_tokens         BIGINT  NOT NULL,
  completion_tokens     BIGINT  NOT NULL,
  reasoning_tokens      BIGINT  NOT NULL,
  cache_read_tokens     BIGINT  NOT NULL,
  cache_write_tokens    BIGINT  NOT NULL,
  usage_origin          TEXT    NOT NULL CHECK (usage_origin IN ('provider', 'estimated')),
  cost_micro_usd        BIGINT
);
CREATE INDEX usage_records_time ON usage_records (time_unix_ms);
CREATE INDEX usage_records_key_time ON usage_records (key_id, time_unix_ms);
)sql",
    // 2: the filters of `bitrouterctl requests`.
    R"sql(
CREATE INDEX usage_records_model_time ON usage_records (model_requested, time_unix_ms);
CREATE INDEX usage_records_status_time ON usage_records (final_status, time_unix_ms);
)sql",
    // 3: virtual keys and budget leases. key_revision is the same one-row
    // counter as SQLite's rather than a SEQUENCE: its row lock makes key
    // writes commit in revision order, so a node polling MaxKeyRevision can
    // never see revision N + 1 before a still-open N commits (a sequence
    // hands out numbers outside the transaction and would allow that).
    R"sql(
CREATE TABLE keys (
  id               TEXT    PRIMARY KEY,
  name             TEXT    NOT NULL UNIQUE,
  hash_hex         TEXT    NOT NULL UNIQUE,
  prefix           TEXT    NOT NULL,
  models           TEXT    NOT NULL DEFAULT '',
  budget_micro_usd BIGINT,
  budget_period    TEXT    NOT NULL CHECK (budget_period IN ('total', 'day', 'month')),
  rpm              BIGINT,
  tpm              BIGINT,
  expires_unix_ms  BIGINT,
  created_unix_ms  BIGINT  NOT NULL,
  updated_unix_ms  BIGINT  NOT NULL,
  revoked_unix_ms  BIGINT,
  revision         BIGINT  NOT NULL
);
CREATE TABLE key_revision (one BIGINT PRIMARY KEY CHECK (one = 1), value BIGINT NOT NULL);
INSERT INTO key_revision (one, value) VALUES (1, 0);
CREATE TABLE budget_leases (
  node_id          TEXT    NOT NULL,
  key_id           TEXT    NOT NULL,
  lease_micro_usd  BIGINT  NOT NULL,
  need_micro_usd   BIGINT  NOT NULL DEFAULT 0,
  updated_unix_ms  BIGINT  NOT NULL,
  PRIMARY KEY (node_id, key_id)
);
CREATE INDEX budget_leases_key ON budget_leases (key_id);
)sql",
    // 4: guardrail matches per request (see sqlite_store.cc).
    R"sql(
ALTER TABLE usage_records ADD COLUMN guardrails TEXT NOT NULL DEFAULT '';
)sql",
    // 5: a key's MCP scope (see sqlite_store.cc).
    R"sql(
ALTER TABLE keys ADD COLUMN mcp_tools TEXT NOT NULL DEFAULT '';
)sql",
    // 6: classified auto routing (see sqlite_store.cc).
    R"sql(
ALTER TABLE usage_records ADD COLUMN route_category TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_records ADD COLUMN route_model TEXT NOT NULL DEFAULT '';
)sql",
};

// Advisory lock ids (any constants; they only have to differ from each
// other and from what else shares the database).
constexpr const char* kLockMigrations = "SELECT pg_advisory_xact_lock(7280165100001)";
constexpr const char* kLockAppends = "SELECT pg_advisory_xact_lock(7280165100002)";

// Rows per INSERT: 23 parameters each stays far below libpq's 65535.
constexpr size_t kRowsPerInsert = 1000;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// Every spelling of the password the URI may carry, found by hand as well as
// through libpq: a URI libpq rejects still must not leak through its error.
std::vector<std::string> FindSecrets(const std::string& uri, const char* parsed_password) {
  std::vector<std::string> raw;
  if (parsed_password != nullptr) raw.emplace_back(parsed_password);
  std::string_view u = uri;
  if (size_t scheme = u.find("://"); scheme != std::string_view::npos) {
    std::string_view rest = u.substr(scheme + 3);
    std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
    if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
      std::string_view userinfo = authority.substr(0, at);
      if (size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
        raw.emplace_back(userinfo.substr(colon + 1));
      }
    }
  }
  for (size_t pos = u.find("password"); pos != std::string_view::npos;
       pos = u.find("password", pos + 1)) {
    size_t eq = u.find_first_not_of(' ', pos + 8);
    if (eq == std::string_view::npos || u[eq] != '=') continue;
    size_t begin = u.find_first_not_of(" '", eq + 1);
    if (begin == std::string_view::npos) continue;
    size_t end = u.find_first_of("&' ", begin);
    raw.emplace_back(u.substr(begin, end == std::string_view::npos ? end : end - begin));
  }
  std::vector<std::string> out;
  for (const std::string& s : raw) {
    for (std::string form : {s, PercentDecode(s)}) {
      if (!form.empty() && std::find(out.begin(), out.end(), form) == out.end()) {
        out.push_back(std::move(form));
      }
    }
  }
  // Longest first: a password containing another must go whole.
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

// libpq messages span lines ("...failed: ...\n\tIs the server running...");
// a log line and a Status read better as one line.
std::string OneLine(std::string_view message) {
  std::string out;
  for (char c : message) {
    const bool space = c == '\n' || c == '\t' || c == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

int64_t PgStore::LatestSchemaVersion() { return static_cast<int64_t>(std::size(kMigrations)); }

void PgStore::ResultDeleter::operator()(pg_result* result) const { PQclear(result); }

PgStore::PgStore(std::string uri) : uri_(std::move(uri)) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri_.c_str(), &error);
  const char* password = nullptr;
  std::string host, port, dbname;
  if (options != nullptr) {
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (o->val == nullptr) continue;
      std::string_view keyword = o->keyword;
      if (keyword == "password") password = o->val;
      if (keyword == "host" || (keyword == "hostaddr" && host.empty())) host = o->val;
      if (keyword == "port") port = o->val;
      if (keyword == "dbname") dbname = o->val;
    }
  }
  secrets_ = FindSecrets(uri_, password);
  target_ = absl::StrCat("PostgreSQL host ", host.empty() ? "(libpq default)" : host, " port ",
                         port.empty() ? "(default)" : port, " database ",
                         dbname.empty() ? "(default)" : dbname);
  target_ = Scrub(std::move(target_));
  if (options != nullptr) PQconninfoFree(options);
  if (error != nullptr) PQfreemem(error);
}

PgStore::~PgStore() { Disconnect(); }

std::string PgStore::Scrub(std::string message) const {
  for (const std::string& secret : secrets_) {
    message = absl::StrReplaceAll(message, {{secret, "***"}});
  }
  return message;
}

void PgStore::Disconnect() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

absl::Status PgStore::Connect() {
  Disconnect();
  // Order matters (expand_dbname): keywords before "dbname" are defaults the
  // URI may override, those after it are ours whatever the URI says.
  // Keepalives and tcp_user_timeout bound a call on a TCP peer that vanished
  // (no RST), which statement_timeout cannot: the server is gone.
  const char* keywords[] = {"connect_timeout",     "application_name",
                            "keepalives",          "keepalives_idle",
                            "keepalives_interval", "keepalives_count",
                            "tcp_user_timeout",    "dbname",
                            "client_encoding",     nullptr};
  const char* values[] = {"3", "bitrouterd", "1",          "10",   "5",
                          "3", "15000",      uri_.c_str(), "UTF8", nullptr};
  conn_ = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn_ == nullptr) return absl::ResourceExhaustedError("libpq: out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    absl::Status status = absl::UnavailableError(Scrub(absl::StrCat(
        "usage store ", target_, ": cannot connect: ", OneLine(PQerrorMessage(conn_)))));
    Disconnect();
    return status;
  }
  // Server notices are not errors; libpq would print each to stderr.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  // A statement that runs longer (a lock another node holds, a server in
  // trouble) fails instead of stalling the store thread.
  absl::Status status = Exec("set statement_timeout", "SET statement_timeout = '5s'").status();
  if (!status.ok()) Disconnect();  // never a session without the bound
  return status;
}

absl::Status PgStore::Ready(bool* fresh) {
  if (!opened_) return absl::FailedPreconditionError("usage store not open");
  if (fresh != nullptr) *fresh = false;
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK &&
      PQtransactionStatus(conn_) == PQTRANS_IDLE) {
    return absl::OkStatus();
  }
  // Lost, or left inside a transaction by a failed ROLLBACK: start over,
  // once per call (the caller's next call tries again).
  if (fresh != nullptr) *fresh = true;
  return Connect();
}

absl::StatusOr<PgStore::Result> PgStore::Query(const char* what, const std::string& sql,
                                               const Params& params) {
  bool fresh = false;
  RETURN_IF_ERROR(Ready(&fresh));
  absl::StatusOr<Result> result = Exec(what, sql, params);
  // A connection idle across a server restart looks fine until used: one
  // new connection and one more try (this call's only reconnect). Safe for
  // every single statement here (reads, and deletes that are idempotent).
  if (!result.ok() && conn_ == nullptr && !fresh) {
    RETURN_IF_ERROR(Connect());
    result = Exec(what, sql, params);
  }
  return result;
}

absl::StatusOr<PgStore::Result> PgStore::Query(const char* what, const std::string& sql) {
  return Query(what, sql, Params());
}

absl::Status PgStore::ErrorFrom(const char* what, pg_result* result, OnUnique on_unique) {
  std::string sqlstate;
  std::string message;
  if (result != nullptr) {
    if (const char* s = PQresultErrorField(result, PG_DIAG_SQLSTATE)) sqlstate = s;
    if (const char* m = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) message = m;
    if (message.empty()) message = PQresultErrorMessage(result);
  }
  if (message.empty() && conn_ != nullptr) message = PQerrorMessage(conn_);
  if (message.empty()) message = "no connection";
  message = OneLine(message);
  const bool lost = conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD ||
                    sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
                    sqlstate == "57P03";
  absl::StatusCode code = absl::StatusCode::kInternal;
  if (lost) {
    code = absl::StatusCode::kUnavailable;
    message = absl::StrCat("connection lost: ", message);
    Disconnect();
  } else if (sqlstate == "57014" || sqlstate == "40001" || sqlstate == "40P01" ||
             sqlstate == "55P03" || sqlstate == "53300") {
    // Timeout, serialization failure, deadlock, lock wait, too many
    // connections: nothing wrong with the request, try again later.
    code = absl::StatusCode::kUnavailable;
  } else if (sqlstate == "23505" && on_unique == OnUnique::kAlreadyExists) {
    code = absl::StatusCode::kAlreadyExists;
  } else if (sqlstate.starts_with("23") || sqlstate.starts_with("22")) {
    code = absl::StatusCode::kInvalidArgument;  // as SQLite's CONSTRAINT/MISMATCH
  } else if (sqlstate == "42501" || sqlstate.starts_with("28")) {
    code = absl::StatusCode::kPermissionDenied;
  } else if (sqlstate.starts_with("53")) {
    code = absl::StatusCode::kResourceExhausted;
  }
  return absl::Status(code, Scrub(absl::StrCat("usage store ", target_, ": ", what, ": ", message,
                                               sqlstate.empty() ? "" : " (SQLSTATE ", sqlstate,
                                               sqlstate.empty() ? "" : ")")));
}

absl::StatusOr<PgStore::Result> PgStore::Exec(const char* what, const std::string& sql,
                                              const Params& params, OnUnique on_unique) {
  if (conn_ == nullptr) return ErrorFrom(what, nullptr, on_unique);
  std::vector<const char*> values = params.Pointers();
  Result result(PQexecParams(conn_, sql.c_str(), params.size(), /*paramTypes=*/nullptr,
                             values.data(), /*paramLengths=*/nullptr, /*paramFormats=*/nullptr,
                             /*resultFormat=*/0));
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ErrorFrom(what, result.get(), on_unique);
  }
  return result;
}

absl::StatusOr<PgStore::Result> PgStore::Exec(const char* what, const std::string& sql) {
  if (conn_ == nullptr) return ErrorFrom(what, nullptr, OnUnique::kInvalidArgument);
  // PQexec: the only way to run a multi-statement script (the migrations);
  // callers pass constant SQL only.
  Result result(PQexec(conn_, sql.c_str()));
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ErrorFrom(what, result.get(), OnUnique::kInvalidArgument);
  }
  return result;
}

absl::Status PgStore::InTransaction(const char* what, const std::function<absl::Status()>& fn) {
  bool fresh = false;
  RETURN_IF_ERROR(Ready(&fresh));
  // READ COMMITTED whatever the server's default: after SyncLease's row lock
  // each statement must see what the node before it committed.
  const char* begin_sql = "BEGIN ISOLATION LEVEL READ COMMITTED";
  absl::Status begin = Exec(what, begin_sql).status();
  if (!begin.ok() && conn_ == nullptr && !fresh) {
    // As in Query: nothing was done yet, so one reconnect and retry is safe.
    RETURN_IF_ERROR(Connect());
    begin = Exec(what, begin_sql).status();
  }
  RETURN_IF_ERROR(begin);
  absl::Status status = fn();
  if (status.ok()) status = Exec(what, "COMMIT").status();
  if (!status.ok() && conn_ != nullptr) PQclear(PQexec(conn_, "ROLLBACK"));
  return status;
}

absl::Status PgStore::Open() {
  if (opened_) return absl::FailedPreconditionError("usage store already open");
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri_.c_str(), &error);
  if (options == nullptr) {
    absl::Status status = absl::InvalidArgumentError(
        Scrub(absl::StrCat("database.url: not a PostgreSQL connection URI: ",
                           OneLine(error != nullptr ? error : "out of memory"))));
    if (error != nullptr) PQfreemem(error);
    return status;
  }
  PQconninfoFree(options);
  absl::Status status = Connect();
  if (status.ok()) status = Migrate();
  if (!status.ok()) {
    Disconnect();  // as if never opened
    return status;
  }
  opened_ = true;
  return absl::OkStatus();
}

absl::Status PgStore::Migrate() {
  for (bool done = false; !done;) {
    if (conn_ == nullptr) return absl::UnavailableError("usage store: connection lost");
    RETURN_IF_ERROR(Exec("begin migration", "BEGIN ISOLATION LEVEL READ COMMITTED").status());
    absl::Status status = MigrateOneStep(&done);
    if (status.ok()) status = Exec("commit migration", "COMMIT").status();
    if (!status.ok()) {
      if (conn_ != nullptr) PQclear(PQexec(conn_, "ROLLBACK"));
      return status;
    }
  }
  return absl::OkStatus();
}

// One step per transaction, each taken under the migration lock and after
// re-reading the version: a node that waited for another one's step finds it
// done and moves on (or finds nothing left to do).
absl::Status PgStore::MigrateOneStep(bool* done) {
  // Index builds over a large table, or waiting for another node's, may
  // well take longer than the 5 s a normal statement gets.
  RETURN_IF_ERROR(Exec("migration timeout", "SET LOCAL statement_timeout = '10min'").status());
  RETURN_IF_ERROR(Exec("migration lock", kLockMigrations).status());
  // Looked up before CREATE: since PostgreSQL 15 a role may write tables it
  // does not own without CREATE on the schema, and CREATE TABLE IF NOT
  // EXISTS checks that privilege even when the table is there.
  ASSIGN_OR_RETURN(Result found, Exec("find schema_migrations",
                                      "SELECT to_regclass('schema_migrations') IS NOT NULL"));
  if (pg_rows::Text(found.get(), 0, 0) != "t") {
    RETURN_IF_ERROR(Exec("create schema_migrations",
                         "CREATE TABLE schema_migrations ("
                         "version BIGINT PRIMARY KEY, applied_unix_ms BIGINT NOT NULL)")
                        .status());
  }
  ASSIGN_OR_RETURN(Result current, Exec("read schema version",
                                        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  const int64_t version = pg_rows::Int(current.get(), 0, 0);
  const int64_t latest = LatestSchemaVersion();
  if (version > latest) {
    // A newer bitrouterd migrated this database; writing with an older
    // schema idea would corrupt its meaning, so refuse rather than guess.
    return absl::FailedPreconditionError(
        absl::StrCat("usage store ", target_, ": schema version ", version,
                     " is newer than this bitrouterd knows (", latest, ")"));
  }
  if (version == latest) {
    *done = true;
    return absl::OkStatus();
  }
  const int64_t next = version + 1;
  absl::Status status = Exec("apply migration", kMigrations[next - 1]).status();
  if (status.ok()) {
    Params p;
    std::string sql =
        absl::StrCat("INSERT INTO schema_migrations (version, applied_unix_ms) VALUES (",
                     p.Int(next), ", ", p.Int(UnixMillis()), ")");
    status = Exec("record migration", sql, p).status();
  }
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat(status.message(), " (to version ", next, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> PgStore::SchemaVersion() {
  ASSIGN_OR_RETURN(Result r, Query("read schema version",
                                   "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return pg_rows::Int(r.get(), 0, 0);
}

absl::Status PgStore::AppendChunk(const std::vector<UsageRecord>& records, size_t begin,
                                  size_t end) {
  Params p;
  std::string sql = absl::StrCat("INSERT INTO usage_records (", kColumns, ") VALUES ");
  for (size_t n = begin; n < end; ++n) {
    const UsageRecord& r = records[n];
    const std::string values[kColumnCount] = {
        p.Text(r.request_id),
        p.Int(r.time_unix_ms),
        p.Text(r.key_id),
        p.Text(r.client_protocol),
        p.Text(r.model_requested),
        p.Text(r.provider),
        p.Text(r.upstream_model),
        p.Text(r.upstream_protocol),
        p.Text(AttemptsToJson(r.attempts)),
        p.Int(r.final_status),
        p.Int(r.streamed ? 1 : 0),
        p.Int(r.bytes_in),
        p.Int(r.bytes_out),
        p.Optional(r.time_to_first_byte_us),
        p.Int(r.total_latency_us),
        p.Int(r.router_overhead_us),
        p.Int(r.prompt_tokens),
        p.Int(r.completion_tokens),
        p.Int(r.reasoning_tokens),
        p.Int(r.cache_read_tokens),
        p.Int(r.cache_write_tokens),
        p.Text(UsageOriginName(r.usage_origin)),
        p.Optional(r.cost_micro_usd),
        p.Text(r.guardrails),
        p.Text(r.route_category),
        p.Text(r.route_model),
    };
    absl::StrAppend(&sql, n == begin ? "(" : ", (");
    for (int c = 0; c < kColumnCount; ++c) absl::StrAppend(&sql, c == 0 ? "" : ", ", values[c]);
    sql += ")";
  }
  return Exec("insert usage records", sql, p).status();
}

absl::Status PgStore::Append(const std::vector<UsageRecord>& records) {
  if (!opened_) return absl::FailedPreconditionError("usage store not open");
  if (records.empty()) return absl::OkStatus();
  return InTransaction("append usage records", [&]() -> absl::Status {
    // Appends from all nodes take turns, so row ids become visible in
    // increasing order: a follower that saw id N never later misses a row
    // below N (a BIGSERIAL alone hands out ids before commit, in any order).
    RETURN_IF_ERROR(Exec("append lock", kLockAppends).status());
    for (size_t begin = 0; begin < records.size(); begin += kRowsPerInsert) {
      RETURN_IF_ERROR(
          AppendChunk(records, begin, std::min(records.size(), begin + kRowsPerInsert)));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> PgStore::PruneBefore(int64_t unix_ms) {
  Params p;
  std::string sql = absl::StrCat("DELETE FROM usage_records WHERE time_unix_ms < ", p.Int(unix_ms));
  ASSIGN_OR_RETURN(Result r, Query("prune usage records", sql, p));
  return pg_rows::Affected(r.get());
}

}  // namespace bitrouter::store
