#include "controld/usage_queries.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controld/store/usage_store.h"
#include "shared/usage/record_wire.h"

namespace bitrouter::controld {
namespace {

absl::StatusOr<store::UsageGroupBy> GroupByFromWire(v1::UsageGroupBy by) {
  switch (by) {
    case v1::USAGE_GROUP_BY_NONE:
      return store::UsageGroupBy::kNone;
    case v1::USAGE_GROUP_BY_KEY:
      return store::UsageGroupBy::kKey;
    case v1::USAGE_GROUP_BY_MODEL:
      return store::UsageGroupBy::kModel;
    case v1::USAGE_GROUP_BY_PROVIDER:
      return store::UsageGroupBy::kProvider;
    case v1::USAGE_GROUP_BY_ENDPOINT:
      return store::UsageGroupBy::kEndpoint;
    default:
      return absl::InvalidArgumentError(absl::StrCat("unknown group_by ", static_cast<int>(by)));
  }
}

absl::StatusOr<store::StatusMatch> StatusFromWire(const v1::ListUsageRequest& request) {
  using Kind = store::StatusMatch::Kind;
  switch (request.status_case()) {
    case v1::ListUsageRequest::kStatusCode:
      if (request.status_code() < 0 || request.status_code() > 999) {
        return absl::InvalidArgumentError(
            absl::StrCat("status ", request.status_code(), " is not an HTTP status"));
      }
      return store::StatusMatch{Kind::kExact, request.status_code()};
    case v1::ListUsageRequest::kStatusClass:
      if (request.status_class() < 1 || request.status_class() > 5) {
        return absl::InvalidArgumentError(
            absl::StrCat("status class must be 1xx..5xx, not ", request.status_class(), "xx"));
      }
      return store::StatusMatch{Kind::kClass, request.status_class()};
    case v1::ListUsageRequest::kStatusError:
      if (!request.status_error()) return store::StatusMatch{};
      return store::StatusMatch{Kind::kNot2xx, 0};
    case v1::ListUsageRequest::STATUS_NOT_SET:
      return store::StatusMatch{};
  }
  return store::StatusMatch{};
}

void RowToWire(const store::UsageSummaryRow& in, v1::UsageSummaryRow* out) {
  out->set_group(in.group);
  out->set_requests(in.requests);
  out->set_errors(in.errors);
  out->set_estimated(in.estimated);
  out->set_prompt_tokens(in.prompt_tokens);
  out->set_completion_tokens(in.completion_tokens);
  out->set_reasoning_tokens(in.reasoning_tokens);
  out->set_cache_read_tokens(in.cache_read_tokens);
  out->set_cache_write_tokens(in.cache_write_tokens);
  out->set_cost_micro_usd(in.cost_micro_usd);
  out->set_cost_unknown(in.cost_unknown);
  out->set_latency_p50_us(in.latency_p50_us);
  out->set_latency_p99_us(in.latency_p99_us);
  out->set_has_ttfb(in.ttfb_p50_us.has_value());
  out->set_ttfb_p50_us(in.ttfb_p50_us.value_or(0));
  out->set_ttfb_p99_us(in.ttfb_p99_us.value_or(0));
}

}  // namespace

absl::Status SummarizeUsage(UsageIntake& intake, const v1::SummarizeUsageRequest& request,
                            v1::SummarizeUsageResponse* response) {
  store::UsageSummaryQuery query;
  if (request.has_from_unix_ms()) query.from_unix_ms = request.from_unix_ms();
  if (request.has_to_unix_ms()) query.to_unix_ms = request.to_unix_ms();
  absl::StatusOr<store::UsageGroupBy> by = GroupByFromWire(request.group_by());
  if (!by.ok()) return by.status();
  query.group_by = *by;

  std::vector<store::UsageSummaryRow> rows;
  absl::Status status = intake.Run([&](store::UsageStore& st) -> absl::Status {
    absl::StatusOr<std::vector<store::UsageSummaryRow>> got = st.Summarize(query);
    if (!got.ok()) return got.status();
    rows = std::move(*got);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  for (const store::UsageSummaryRow& row : rows) RowToWire(row, response->add_rows());
  return absl::OkStatus();
}

absl::Status ListUsage(UsageIntake& intake, const v1::ListUsageRequest& request,
                       v1::ListUsageResponse* response) {
  store::UsageFilter filter;
  filter.model_requested = request.model();
  filter.key_id = request.key_id();
  absl::StatusOr<store::StatusMatch> status_match = StatusFromWire(request);
  if (!status_match.ok()) return status_match.status();
  filter.status = *status_match;
  if (request.has_after_row_id()) filter.after_row_id = request.after_row_id();
  if (request.limit() > kMaxListUsageRows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "limit ", request.limit(), " is over the most one answer holds (", kMaxListUsageRows, ")"));
  }
  const int limit =
      static_cast<int>(request.limit() == 0 ? kDefaultListUsageRows : request.limit());

  std::vector<store::UsageRecord> records;
  int64_t max_row_id = 0;
  absl::Status status = intake.Run([&](store::UsageStore& st) -> absl::Status {
    // The maximum first: a row committed in between (another process) is
    // then either in the answer or above the cursor a follower keeps.
    absl::StatusOr<int64_t> max = st.MaxRowId();
    if (!max.ok()) return max.status();
    max_row_id = *max;
    absl::StatusOr<std::vector<store::UsageRecord>> got = st.Newest(limit, filter);
    if (!got.ok()) return got.status();
    records = std::move(*got);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  for (const store::UsageRecord& record : records) {
    v1::UsageRow* row = response->add_rows();
    row->set_row_id(record.row_id);
    usage::ToWire(record, row->mutable_record());
  }
  response->set_max_row_id(max_row_id);
  return absl::OkStatus();
}

}  // namespace bitrouter::controld
