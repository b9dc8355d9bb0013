// PgStore's reads: Newest (bitrouterctl requests), Summarize (bitrouterctl
// usage) and MaxRowId, with the SQLite backend's exact results
// (sqlite_query.cc). Writes and the schema live in pg_store.cc.
#include <libpq-fe.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controld/store/attempts_json.h"
#include "controld/store/pg_rows.h"
#include "controld/store/pg_store.h"
#include "shared/common/status_macros.h"

namespace bitrouter::store {
namespace {

using pg_rows::Int;
using pg_rows::Optional;
using pg_rows::Params;
using pg_rows::Text;

// SQL for a status match, its values added to `p`.
absl::StatusOr<std::string> StatusClause(const StatusMatch& match, Params& p) {
  switch (match.kind) {
    case StatusMatch::Kind::kAny:
      return std::string();
    case StatusMatch::Kind::kExact:
      return absl::StrCat(" AND final_status = ", p.Int(match.code));
    case StatusMatch::Kind::kClass:
      if (match.code < 1 || match.code > 5) {
        return absl::InvalidArgumentError(
            absl::StrCat("status class must be 1xx..5xx, not ", match.code, "xx"));
      }
      return absl::StrCat(" AND final_status BETWEEN ", p.Int(match.code * 100), " AND ",
                          p.Int(match.code * 100 + 99));
    case StatusMatch::Kind::kNot2xx:
      return std::string(" AND (final_status < 200 OR final_status > 299)");
  }
  return absl::InvalidArgumentError("unknown status match");
}

// The group key as SQLite's Summarize builds it: the endpoint is
// "provider:upstream_model", or "" when no endpoint answered (no provider).
const char* GroupExpression(UsageGroupBy by) {
  switch (by) {
    case UsageGroupBy::kNone:
      return "''::text";
    case UsageGroupBy::kKey:
      return "key_id";
    case UsageGroupBy::kModel:
      return "model_requested";
    case UsageGroupBy::kProvider:
      return "provider";
    case UsageGroupBy::kEndpoint:
      return "CASE WHEN provider = '' THEN '' ELSE provider || ':' || upstream_model END";
  }
  return "''::text";
}

}  // namespace

absl::StatusOr<std::vector<UsageRecord>> PgStore::Newest(int limit, const UsageFilter& filter) {
  if (!opened_) return absl::FailedPreconditionError("usage store not open");
  if (limit <= 0) return std::vector<UsageRecord>{};
  Params p;
  std::string sql =
      absl::StrCat("SELECT id, ", pg_rows::kColumns, " FROM usage_records WHERE TRUE");
  if (!filter.model_requested.empty()) {
    absl::StrAppend(&sql, " AND model_requested = ", p.Text(filter.model_requested));
  }
  if (!filter.key_id.empty()) absl::StrAppend(&sql, " AND key_id = ", p.Text(filter.key_id));
  if (filter.since_unix_ms.has_value()) {
    absl::StrAppend(&sql, " AND time_unix_ms >= ", p.Int(*filter.since_unix_ms));
  }
  ASSIGN_OR_RETURN(std::string status_sql, StatusClause(filter.status, p));
  sql += status_sql;
  if (filter.after_row_id.has_value()) {
    absl::StrAppend(&sql, " AND id > ", p.Int(*filter.after_row_id), " ORDER BY id ASC LIMIT ",
                    p.Int(limit));
  } else {
    absl::StrAppend(&sql, " ORDER BY time_unix_ms DESC, id DESC LIMIT ", p.Int(limit));
  }
  ASSIGN_OR_RETURN(Result result, Query("query usage records", sql, p));
  const PGresult* res = result.get();
  std::vector<UsageRecord> out;
  out.reserve(static_cast<size_t>(PQntuples(res)));
  for (int row = 0; row < PQntuples(res); ++row) {
    UsageRecord& r = out.emplace_back();
    int c = 0;
    r.row_id = Int(res, row, c++);
    r.request_id = Text(res, row, c++);
    r.time_unix_ms = Int(res, row, c++);
    r.key_id = Text(res, row, c++);
    r.client_protocol = Text(res, row, c++);
    r.model_requested = Text(res, row, c++);
    r.provider = Text(res, row, c++);
    r.upstream_model = Text(res, row, c++);
    r.upstream_protocol = Text(res, row, c++);
    ASSIGN_OR_RETURN(r.attempts, AttemptsFromJson(Text(res, row, c++)));
    r.final_status = static_cast<int>(Int(res, row, c++));
    r.streamed = Int(res, row, c++) != 0;
    r.bytes_in = Int(res, row, c++);
    r.bytes_out = Int(res, row, c++);
    r.time_to_first_byte_us = Optional(res, row, c++);
    r.total_latency_us = Int(res, row, c++);
    r.router_overhead_us = Int(res, row, c++);
    r.prompt_tokens = Int(res, row, c++);
    r.completion_tokens = Int(res, row, c++);
    r.reasoning_tokens = Int(res, row, c++);
    r.cache_read_tokens = Int(res, row, c++);
    r.cache_write_tokens = Int(res, row, c++);
    r.usage_origin =
        Text(res, row, c++) == "estimated" ? UsageOrigin::kEstimated : UsageOrigin::kProvider;
    r.cost_micro_usd = Optional(res, row, c++);
    r.guardrails = Text(res, row, c++);
    r.route_category = Text(res, row, c++);
    r.route_model = Text(res, row, c++);
  }
  return out;
}

// Aggregated in the server, unlike SQLite (which has no percentile function):
// here the rows would otherwise cross the network. percentile_disc(f) is the
// first value whose rank r has r/n >= f, i.e. rank ceil(f * n): nearest rank.
// The fractions are doubles, but the double nearest 0.99 is below 0.99, so
// f * n never rounds above an exact integer rank and ceil lands where
// integer arithmetic does (0.5 is exact).
absl::StatusOr<std::vector<UsageSummaryRow>> PgStore::Summarize(const UsageSummaryQuery& query) {
  if (!opened_) return absl::FailedPreconditionError("usage store not open");
  Params p;
  std::string sql = absl::StrCat(
      "SELECT ", GroupExpression(query.group_by),
      ", COUNT(*), COUNT(*) FILTER (WHERE final_status < 200 OR final_status > 299), "
      "COUNT(*) FILTER (WHERE usage_origin = 'estimated'), "
      "COALESCE(SUM(prompt_tokens), 0)::BIGINT, COALESCE(SUM(completion_tokens), 0)::BIGINT, "
      "COALESCE(SUM(reasoning_tokens), 0)::BIGINT, COALESCE(SUM(cache_read_tokens), 0)::BIGINT, "
      "COALESCE(SUM(cache_write_tokens), 0)::BIGINT, COALESCE(SUM(cost_micro_usd), 0)::BIGINT, "
      "COUNT(*) FILTER (WHERE cost_micro_usd IS NULL), "
      "percentile_disc(0.5) WITHIN GROUP (ORDER BY total_latency_us), "
      "percentile_disc(0.99) WITHIN GROUP (ORDER BY total_latency_us), "
      "percentile_disc(0.5) WITHIN GROUP (ORDER BY time_to_first_byte_us), "
      "percentile_disc(0.99) WITHIN GROUP (ORDER BY time_to_first_byte_us) "
      "FROM usage_records WHERE TRUE");
  if (query.from_unix_ms.has_value()) {
    absl::StrAppend(&sql, " AND time_unix_ms >= ", p.Int(*query.from_unix_ms));
  }
  if (query.to_unix_ms.has_value()) {
    absl::StrAppend(&sql, " AND time_unix_ms < ", p.Int(*query.to_unix_ms));
  }
  sql += " GROUP BY 1";
  ASSIGN_OR_RETURN(Result result, Query("summarize usage records", sql, p));
  const PGresult* res = result.get();
  std::vector<UsageSummaryRow> out;
  out.reserve(static_cast<size_t>(PQntuples(res)) + 1);
  for (int r = 0; r < PQntuples(res); ++r) {
    UsageSummaryRow& row = out.emplace_back();
    int c = 0;
    row.group = Text(res, r, c++);
    row.requests = Int(res, r, c++);
    row.errors = Int(res, r, c++);
    row.estimated = Int(res, r, c++);
    row.prompt_tokens = Int(res, r, c++);
    row.completion_tokens = Int(res, r, c++);
    row.reasoning_tokens = Int(res, r, c++);
    row.cache_read_tokens = Int(res, r, c++);
    row.cache_write_tokens = Int(res, r, c++);
    row.cost_micro_usd = Int(res, r, c++);
    row.cost_unknown = Int(res, r, c++);
    row.latency_p50_us = Int(res, r, c++);
    row.latency_p99_us = Int(res, r, c++);
    row.ttfb_p50_us = Optional(res, r, c++);  // NULL: no row of the group sent a byte
    row.ttfb_p99_us = Optional(res, r, c++);
  }
  // A total is a total even over nothing.
  if (query.group_by == UsageGroupBy::kNone && out.empty()) out.emplace_back();
  // Sorted here, not by ORDER BY: the server's collation would order groups
  // differently from SQLite's (and std::string's) byte order.
  std::sort(out.begin(), out.end(), [](const UsageSummaryRow& a, const UsageSummaryRow& b) {
    if (a.requests != b.requests) return a.requests > b.requests;
    return a.group < b.group;
  });
  return out;
}

absl::StatusOr<int64_t> PgStore::MaxRowId() {
  ASSIGN_OR_RETURN(Result r,
                   Query("read max row id", "SELECT COALESCE(MAX(id), 0) FROM usage_records"));
  return Int(r.get(), 0, 0);
}

}  // namespace bitrouter::store
