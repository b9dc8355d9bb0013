// SqliteStore's reads: Newest (bitrouterctl requests), Summarize (bitrouterctl
// usage) and MaxRowId. Writes and the schema live in sqlite_store.cc.
#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "controld/store/attempts_json.h"
#include "controld/store/sqlite_rows.h"
#include "controld/store/sqlite_store.h"
#include "shared/common/status_macros.h"

namespace bitrouter::store {
namespace {

using sqlite_rows::BindText;
using sqlite_rows::ColumnOptional;
using sqlite_rows::ColumnText;
using sqlite_rows::kColumns;

// SQL for a status match, with `?` for its parameters (bound by BindStatus).
// Only an exact code may use the status index: a class or "not 2xx" range
// through it would sort every matching row by time (all of them for 2xx),
// while walking the time index newest first stops after `limit` matches.
// `follow`: no index at all (see Newest).
absl::StatusOr<std::string> StatusClause(const StatusMatch& match, bool follow) {
  switch (match.kind) {
    case StatusMatch::Kind::kAny:
      return std::string();
    case StatusMatch::Kind::kExact:
      return std::string(follow ? " AND +final_status = ?" : " AND final_status = ?");
    case StatusMatch::Kind::kClass:
      if (match.code < 1 || match.code > 5) {
        return absl::InvalidArgumentError(
            absl::StrCat("status class must be 1xx..5xx, not ", match.code, "xx"));
      }
      return std::string(" AND +final_status BETWEEN ? AND ?");
    case StatusMatch::Kind::kNot2xx:
      return std::string(" AND (+final_status < 200 OR +final_status > 299)");
  }
  return absl::InvalidArgumentError("unknown status match");
}

void BindStatus(sqlite3_stmt* s, const StatusMatch& match, int* b) {
  if (match.kind == StatusMatch::Kind::kExact) {
    sqlite3_bind_int(s, ++*b, match.code);
  } else if (match.kind == StatusMatch::Kind::kClass) {
    sqlite3_bind_int(s, ++*b, match.code * 100);
    sqlite3_bind_int(s, ++*b, match.code * 100 + 99);
  }
}

// The columns a group key is made of (selected last, from kGroupColumn on).
// The endpoint key is joined here rather than in SQL, which would allocate a
// string per row.
const char* GroupColumns(UsageGroupBy by) {
  switch (by) {
    case UsageGroupBy::kNone:
      return "''";
    case UsageGroupBy::kKey:
      return "key_id";
    case UsageGroupBy::kModel:
      return "model_requested";
    case UsageGroupBy::kProvider:
      return "provider";
    case UsageGroupBy::kEndpoint:
      return "provider, upstream_model";
  }
  return "''";
}
constexpr int kGroupColumn = 10;

// absl::string_view: Debian's Abseil does not alias std::string_view, and
// its hash maps look up only by absl::string_view.
absl::string_view ColumnView(sqlite3_stmt* s, int index) {
  const unsigned char* text = sqlite3_column_text(s, index);
  if (text == nullptr) return {};
  return absl::string_view(reinterpret_cast<const char*>(text),
                           static_cast<size_t>(sqlite3_column_bytes(s, index)));
}

// Nearest rank: the value at 1-based rank ceil(p * n / 100) in ascending
// order. Reorders `values` (nth_element); `values` must not be empty.
int64_t NearestRank(std::vector<int64_t>& values, int p) {
  const size_t n = values.size();
  size_t rank = (static_cast<size_t>(p) * n + 99) / 100;
  if (rank < 1) rank = 1;
  auto nth = values.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(values.begin(), nth, values.end());
  return *nth;
}

struct GroupAccumulator {
  UsageSummaryRow row;
  std::vector<int64_t> latencies;
  std::vector<int64_t> ttfbs;
};

}  // namespace

absl::StatusOr<std::vector<UsageRecord>> SqliteStore::Newest(int limit, const UsageFilter& filter) {
  if (db_ == nullptr) return absl::FailedPreconditionError("usage store not open");
  if (limit <= 0) return std::vector<UsageRecord>{};
  // A follower asks for the few rows after its cursor: the row-id range is
  // always the right plan (a unary + keeps SQLite off the column indexes),
  // and it stops after `limit` matches.
  const bool follow = filter.after_row_id.has_value();
  ASSIGN_OR_RETURN(std::string status_sql, StatusClause(filter.status, follow));
  const char* and_column = follow ? " AND +" : " AND ";
  std::string sql = absl::StrCat("SELECT id, ", kColumns, " FROM usage_records WHERE 1");
  if (!filter.model_requested.empty()) absl::StrAppend(&sql, and_column, "model_requested = ?");
  if (!filter.key_id.empty()) absl::StrAppend(&sql, and_column, "key_id = ?");
  if (filter.since_unix_ms.has_value()) absl::StrAppend(&sql, and_column, "time_unix_ms >= ?");
  sql += status_sql;
  if (follow) {
    sql += " AND id > ? ORDER BY id ASC LIMIT ?";
  } else {
    sql += " ORDER BY time_unix_ms DESC, id DESC LIMIT ?";
  }
  ASSIGN_OR_RETURN(Stmt stmt, Prepare(sql.c_str(), "prepare query"));
  sqlite3_stmt* s = stmt.get();
  int b = 0;
  if (!filter.model_requested.empty()) BindText(s, ++b, filter.model_requested);
  if (!filter.key_id.empty()) BindText(s, ++b, filter.key_id);
  if (filter.since_unix_ms.has_value()) sqlite3_bind_int64(s, ++b, *filter.since_unix_ms);
  BindStatus(s, filter.status, &b);
  if (follow) sqlite3_bind_int64(s, ++b, *filter.after_row_id);
  sqlite3_bind_int(s, ++b, limit);

  std::vector<UsageRecord> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    UsageRecord& r = out.emplace_back();
    int c = 0;
    r.row_id = sqlite3_column_int64(s, c++);
    r.request_id = ColumnText(s, c++);
    r.time_unix_ms = sqlite3_column_int64(s, c++);
    r.key_id = ColumnText(s, c++);
    r.client_protocol = ColumnText(s, c++);
    r.model_requested = ColumnText(s, c++);
    r.provider = ColumnText(s, c++);
    r.upstream_model = ColumnText(s, c++);
    r.upstream_protocol = ColumnText(s, c++);
    ASSIGN_OR_RETURN(r.attempts, AttemptsFromJson(ColumnText(s, c++)));
    r.final_status = sqlite3_column_int(s, c++);
    r.streamed = sqlite3_column_int(s, c++) != 0;
    r.bytes_in = sqlite3_column_int64(s, c++);
    r.bytes_out = sqlite3_column_int64(s, c++);
    r.time_to_first_byte_us = ColumnOptional(s, c++);
    r.total_latency_us = sqlite3_column_int64(s, c++);
    r.router_overhead_us = sqlite3_column_int64(s, c++);
    r.prompt_tokens = sqlite3_column_int64(s, c++);
    r.completion_tokens = sqlite3_column_int64(s, c++);
    r.reasoning_tokens = sqlite3_column_int64(s, c++);
    r.cache_read_tokens = sqlite3_column_int64(s, c++);
    r.cache_write_tokens = sqlite3_column_int64(s, c++);
    std::string origin = ColumnText(s, c++);
    r.usage_origin = origin == "estimated" ? UsageOrigin::kEstimated : UsageOrigin::kProvider;
    r.cost_micro_usd = ColumnOptional(s, c++);
    r.guardrails = ColumnText(s, c++);
    r.route_category = ColumnText(s, c++);
    r.route_model = ColumnText(s, c++);
  }
  if (rc != SQLITE_DONE) return Error(rc, "query usage records");
  return out;
}

// One pass over the window, aggregated here: SQLite has no percentile
// function and sorts for GROUP BY and for every window function, so sums
// plus nearest-rank percentiles in SQL cost a sort of the window per
// percentile column (measured: ~3x slower on 1e6 rows); a scan into a hash
// map plus nth_element per group costs one scan.
absl::StatusOr<std::vector<UsageSummaryRow>> SqliteStore::Summarize(
    const UsageSummaryQuery& query) {
  if (db_ == nullptr) return absl::FailedPreconditionError("usage store not open");
  std::string sql = absl::StrCat(
      "SELECT final_status, usage_origin = 'estimated', prompt_tokens, completion_tokens, "
      "reasoning_tokens, cache_read_tokens, cache_write_tokens, cost_micro_usd, "
      "total_latency_us, time_to_first_byte_us, ",
      GroupColumns(query.group_by), " FROM usage_records WHERE 1");
  if (query.from_unix_ms.has_value()) sql += " AND time_unix_ms >= ?";
  if (query.to_unix_ms.has_value()) sql += " AND time_unix_ms < ?";
  ASSIGN_OR_RETURN(Stmt stmt, Prepare(sql.c_str(), "prepare summary"));
  sqlite3_stmt* s = stmt.get();
  int b = 0;
  if (query.from_unix_ms.has_value()) sqlite3_bind_int64(s, ++b, *query.from_unix_ms);
  if (query.to_unix_ms.has_value()) sqlite3_bind_int64(s, ++b, *query.to_unix_ms);

  absl::flat_hash_map<std::string, GroupAccumulator> groups;
  std::string endpoint;  // reused: no allocation per row
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    absl::string_view key = ColumnView(s, kGroupColumn);
    if (query.group_by == UsageGroupBy::kEndpoint && !key.empty()) {
      absl::string_view model = ColumnView(s, kGroupColumn + 1);
      endpoint.assign(key.data(), key.size());
      endpoint += ':';
      endpoint.append(model.data(), model.size());
      key = endpoint;
    }
    auto it = groups.find(key);
    if (it == groups.end()) it = groups.try_emplace(std::string(key)).first;
    GroupAccumulator& acc = it->second;
    UsageSummaryRow& row = acc.row;
    ++row.requests;
    const int status = sqlite3_column_int(s, 0);
    if (status < 200 || status > 299) ++row.errors;
    if (sqlite3_column_int(s, 1) != 0) ++row.estimated;
    row.prompt_tokens += sqlite3_column_int64(s, 2);
    row.completion_tokens += sqlite3_column_int64(s, 3);
    row.reasoning_tokens += sqlite3_column_int64(s, 4);
    row.cache_read_tokens += sqlite3_column_int64(s, 5);
    row.cache_write_tokens += sqlite3_column_int64(s, 6);
    if (sqlite3_column_type(s, 7) == SQLITE_NULL) {
      ++row.cost_unknown;
    } else {
      row.cost_micro_usd += sqlite3_column_int64(s, 7);
    }
    acc.latencies.push_back(sqlite3_column_int64(s, 8));
    if (sqlite3_column_type(s, 9) != SQLITE_NULL) acc.ttfbs.push_back(sqlite3_column_int64(s, 9));
  }
  if (rc != SQLITE_DONE) return Error(rc, "summarize usage records");

  std::vector<UsageSummaryRow> out;
  out.reserve(groups.size() + 1);
  for (auto& [group, acc] : groups) {
    UsageSummaryRow& row = out.emplace_back(std::move(acc.row));
    row.group = group;
    row.latency_p50_us = NearestRank(acc.latencies, 50);
    row.latency_p99_us = NearestRank(acc.latencies, 99);
    if (!acc.ttfbs.empty()) {
      row.ttfb_p50_us = NearestRank(acc.ttfbs, 50);
      row.ttfb_p99_us = NearestRank(acc.ttfbs, 99);
    }
  }
  // A total is a total even over nothing.
  if (query.group_by == UsageGroupBy::kNone && out.empty()) out.emplace_back();
  std::sort(out.begin(), out.end(), [](const UsageSummaryRow& a, const UsageSummaryRow& b) {
    if (a.requests != b.requests) return a.requests > b.requests;
    return a.group < b.group;
  });
  return out;
}

absl::StatusOr<int64_t> SqliteStore::MaxRowId() {
  if (db_ == nullptr) return absl::FailedPreconditionError("usage store not open");
  ASSIGN_OR_RETURN(Stmt stmt,
                   Prepare("SELECT COALESCE(MAX(id), 0) FROM usage_records", "prepare max row id"));
  int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return Error(rc, "read max row id");
  return sqlite3_column_int64(stmt.get(), 0);
}

}  // namespace bitrouter::store
