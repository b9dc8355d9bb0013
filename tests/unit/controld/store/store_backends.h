#pragma once
// The conformance suites' fixture: each test runs once per backend, SQLite
// (a file in a temp dir) and PostgreSQL (a fresh database on a PgServer
// started once per test suite), through the UsageStore interface only.
// Raw SQL (for what the interface cannot express) goes through a second
// connection, as another process would.

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controld/store/pg_store.h"
#include "controld/store/sqlite_store.h"
#include "controld/store/usage_store.h"
#include "gtest/gtest.h"
#include "tests/support/pg_server.h"

namespace bitrouter::store {

enum class Backend { kSqlite, kPostgres };

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      char tmpl[] = "/tmp/br_conformance_XXXXXX";
      ASSERT_NE(mkdtemp(tmpl), nullptr);
      sqlite_dir_ = tmpl;
    } else {
      // Started by the first PostgreSQL test of the suite, kept for the rest.
      if (server_ == nullptr) {
        auto server = testing::PgServer::Start();
        ASSERT_TRUE(server.ok()) << server.status();
        server_ = std::move(*server);
      }
      static int databases = 0;
      auto url = server_->CreateDatabase(absl::StrCat("conformance_", ++databases));
      ASSERT_TRUE(url.ok()) << url.status();
      pg_url_ = *url;
    }
    store_ = NewStore();
    absl::Status status = store_->Open();
    ASSERT_TRUE(status.ok()) << status;
  }

  void TearDown() override {
    store_.reset();
    if (!sqlite_dir_.empty()) std::filesystem::remove_all(sqlite_dir_);
  }

  // A store on this test's database, not opened (a second node, a restart).
  std::unique_ptr<UsageStore> NewStore() const {
    if (GetParam() == Backend::kSqlite) {
      return std::make_unique<SqliteStore>(sqlite_dir_ + "/bitrouter.db");
    }
    return std::make_unique<PgStore>(pg_url_);
  }

  void Append(const std::vector<UsageRecord>& rows) {
    absl::Status status = store_->Append(rows);
    ASSERT_TRUE(status.ok()) << status;
  }

  // Runs `sql` (the backend's dialect) on a second connection; the first
  // column of the first row as text ("" when none), or "ERROR: ...".
  std::string Raw(const std::string& sql) const {
    std::string out;
    if (GetParam() == Backend::kSqlite) {
      sqlite3* db = nullptr;
      sqlite3_open((sqlite_dir_ + "/bitrouter.db").c_str(), &db);
      char* error = nullptr;
      int rc = sqlite3_exec(
          db, sql.c_str(),
          [](void* arg, int, char** values, char**) {
            auto* s = static_cast<std::string*>(arg);
            if (s->empty() && values[0] != nullptr) *s = values[0];
            return 0;
          },
          &out, &error);
      if (rc != SQLITE_OK) out = absl::StrCat("ERROR: ", error != nullptr ? error : "");
      sqlite3_free(error);
      sqlite3_close(db);
      return out;
    }
    PGconn* conn = PQconnectdb(pg_url_.c_str());
    PGresult* r = PQexec(conn, sql.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
      out = PQgetvalue(r, 0, 0);
    } else if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
      out = absl::StrCat("ERROR: ", PQerrorMessage(conn));
    }
    PQclear(r);
    PQfinish(conn);
    return out;
  }

  static inline std::unique_ptr<testing::PgServer> server_;
  std::string sqlite_dir_;
  std::string pg_url_;
  std::unique_ptr<UsageStore> store_;
};

// A record with every field set; n varies them.
inline UsageRecord FullRecord(int n, int64_t time_ms) {
  UsageRecord r;
  r.request_id = absl::StrCat("req-", n);
  r.time_unix_ms = time_ms;
  r.key_id = n % 2 == 0 ? "" : "key-1";
  r.client_protocol = "chat";
  r.model_requested = n % 3 == 0 ? "gpt-4o" : "claude-sonnet";
  r.provider = "openai";
  r.upstream_model = "gpt-4o-2024-08-06";
  r.upstream_protocol = "responses";
  r.attempts = {{"anthropic/claude", 0, "connect", 1500 + n},
                {"openai/gpt-4o \"quoted\"\n", 200, "", 250000}};
  r.final_status = 200;
  r.streamed = n % 2 == 1;
  r.bytes_in = 1000 + n;
  r.bytes_out = 5000 + n;
  r.time_to_first_byte_us = 12345 + n;
  r.total_latency_us = 800000 + n;
  r.router_overhead_us = 321 + n;
  r.prompt_tokens = 100 + n;
  r.completion_tokens = 50 + n;
  r.reasoning_tokens = 10;
  r.cache_read_tokens = 20;
  r.cache_write_tokens = 5;
  r.usage_origin = n % 2 == 0 ? UsageOrigin::kProvider : UsageOrigin::kEstimated;
  r.cost_micro_usd = 4321 + n;
  r.guardrails = "api_keys:redact:upgoing";
  if (n % 2 == 1) {  // classified: the other rows leave both empty
    r.route_category = "coding.high";
    r.route_model = "anthropic:claude-sonnet-4";
  }
  return r;
}

// A short record for the query tests.
inline UsageRecord Row(const std::string& id, int64_t time_ms, const std::string& model,
                       const std::string& provider, int status = 200) {
  UsageRecord r;
  r.request_id = id;
  r.time_unix_ms = time_ms;
  r.client_protocol = "chat";
  r.model_requested = model;
  r.provider = provider;
  r.upstream_model = provider.empty() ? "" : model + "-up";
  r.upstream_protocol = provider.empty() ? "" : "chat";
  r.final_status = status;
  r.total_latency_us = 1000;
  r.time_to_first_byte_us = 100;
  r.prompt_tokens = 10;
  r.completion_tokens = 5;
  r.cost_micro_usd = 7;
  return r;
}

}  // namespace bitrouter::store
