// bitrouterctl usage: totals over a time window from bitrouterd's usage
// store (SummarizeUsage), one total row or one row per group.
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ctl/client.h"
#include "ctl/usage_args.h"
#include "shared/common/wall_clock.h"

namespace bitrouter::ctl {
namespace {

const char* GroupName(v1::UsageGroupBy by) {
  switch (by) {
    case v1::USAGE_GROUP_BY_KEY:
      return "key";
    case v1::USAGE_GROUP_BY_MODEL:
      return "model";
    case v1::USAGE_GROUP_BY_PROVIDER:
      return "provider";
    case v1::USAGE_GROUP_BY_ENDPOINT:
      return "endpoint";
    default:
      return "";
  }
}

std::string ErrorRate(const v1::UsageSummaryRow& r) {
  if (r.requests() == 0) return "0";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4f", static_cast<double>(r.errors()) / r.requests());
  return buf;
}

std::string RowJson(const v1::UsageSummaryRow& r, bool grouped) {
  std::string out = "{";
  if (grouped) absl::StrAppend(&out, "\"group\":", JsonQuoted(r.group()), ",");
  absl::StrAppend(
      &out, "\"requests\":", r.requests(), ",\"errors\":", r.errors(),
      ",\"error_rate\":", ErrorRate(r), ",\"estimated\":", r.estimated(),
      ",\"tokens\":{\"prompt\":", r.prompt_tokens(), ",\"completion\":", r.completion_tokens(),
      ",\"reasoning\":", r.reasoning_tokens(), ",\"cache_read\":", r.cache_read_tokens(),
      ",\"cache_write\":", r.cache_write_tokens(), "},\"cost_usd\":", MicroUsd(r.cost_micro_usd()),
      ",\"cost_micro_usd\":", r.cost_micro_usd(), ",\"cost_unknown\":", r.cost_unknown(),
      ",\"latency_us\":");
  if (r.requests() == 0) {
    out += "null";
  } else {
    absl::StrAppend(&out, "{\"p50\":", r.latency_p50_us(), ",\"p99\":", r.latency_p99_us(), "}");
  }
  out += ",\"ttfb_us\":";
  if (!r.has_ttfb()) {
    out += "null";
  } else {
    absl::StrAppend(&out, "{\"p50\":", r.ttfb_p50_us(), ",\"p99\":", r.ttfb_p99_us(), "}");
  }
  out += "}";
  return out;
}

std::string Percentiles(bool has, int64_t p50, int64_t p99) {
  if (!has) return "-";
  return absl::StrCat(Millis(p50), "/", Millis(p99));
}

void PrintTotal(const v1::UsageSummaryRow& r) {
  char rate[16];
  std::snprintf(rate, sizeof(rate), "%.2f",
                r.requests() ? static_cast<double>(r.errors()) * 100 / r.requests() : 0.0);
  std::printf("requests  %s  (%s errors, %s%%; %s with estimated tokens)\n",
              Grouped(r.requests()).c_str(), Grouped(r.errors()).c_str(), rate,
              Grouped(r.estimated()).c_str());
  std::printf("tokens    prompt %s  completion %s  reasoning %s  cache read %s  cache write %s\n",
              Grouped(r.prompt_tokens()).c_str(), Grouped(r.completion_tokens()).c_str(),
              Grouped(r.reasoning_tokens()).c_str(), Grouped(r.cache_read_tokens()).c_str(),
              Grouped(r.cache_write_tokens()).c_str());
  std::printf("cost      $%s", MicroUsd(r.cost_micro_usd()).c_str());
  if (r.cost_unknown() > 0) {
    std::printf("  (+ %s request%s of unknown cost, not included)",
                Grouped(r.cost_unknown()).c_str(), r.cost_unknown() == 1 ? "" : "s");
  }
  std::printf("\n");
  if (r.requests() > 0) {
    std::printf("latency   p50 %s ms  p99 %s ms\n", Millis(r.latency_p50_us()).c_str(),
                Millis(r.latency_p99_us()).c_str());
  }
  if (r.has_ttfb()) {
    std::printf("ttfb      p50 %s ms  p99 %s ms\n", Millis(r.ttfb_p50_us()).c_str(),
                Millis(r.ttfb_p99_us()).c_str());
  }
}

void PrintGroups(const v1::SummarizeUsageResponse& resp, v1::UsageGroupBy by) {
  if (resp.rows().empty()) {
    std::printf("no requests in this window\n");
    return;
  }
  std::string header = GroupName(by);
  for (char& c : header) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::vector<std::vector<std::string>> table = {{header, "REQS", "ERR%", "PROMPT", "COMPL",
                                                  "REASON", "C.READ", "C.WRITE", "COST (USD)",
                                                  "UNPRICED", "LAT p50/p99 ms", "TTFB p50/p99 ms"}};
  for (const auto& r : resp.rows()) {
    char err[16];
    std::snprintf(err, sizeof(err), "%.1f",
                  r.requests() ? static_cast<double>(r.errors()) * 100 / r.requests() : 0.0);
    table.push_back({r.group().empty() ? "(none)" : r.group(), Grouped(r.requests()), err,
                     Grouped(r.prompt_tokens()), Grouped(r.completion_tokens()),
                     Grouped(r.reasoning_tokens()), Grouped(r.cache_read_tokens()),
                     Grouped(r.cache_write_tokens()), MicroUsd(r.cost_micro_usd()),
                     Grouped(r.cost_unknown()),
                     Percentiles(r.requests() > 0, r.latency_p50_us(), r.latency_p99_us()),
                     Percentiles(r.has_ttfb(), r.ttfb_p50_us(), r.ttfb_p99_us())});
  }
  PrintTable(table, "lrrrrrrrrrrr");
}

}  // namespace

int RunUsage(const Context& ctx, const UsageOptions& options) {
  const int64_t now = UnixMillis();
  absl::StatusOr<Window> window = ResolveWindow(options.since, options.from, options.to, now);
  absl::StatusOr<v1::UsageGroupBy> by = ParseGroupBy(options.by);
  for (const absl::Status& s : {window.status(), by.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "bitrouterctl: %s\n", std::string(s.message()).c_str());
      return 2;
    }
  }
  v1::SummarizeUsageRequest req;
  if (window->from_unix_ms) req.set_from_unix_ms(*window->from_unix_ms);
  if (window->to_unix_ms) req.set_to_unix_ms(*window->to_unix_ms);
  req.set_group_by(*by);
  v1::SummarizeUsageResponse resp;
  int rc = CallAdmin(ctx, 30, [&](v1::Admin::Stub& stub, grpc::ClientContext* rpc) {
    return stub.SummarizeUsage(rpc, req, &resp);
  });
  if (rc != 0) return rc;

  const bool grouped = *by != v1::USAGE_GROUP_BY_NONE;
  if (ctx.json) {
    std::string out = "{\"from_unix_ms\":";
    out += window->from_unix_ms ? std::to_string(*window->from_unix_ms) : "null";
    out += ",\"to_unix_ms\":";
    out += window->to_unix_ms ? std::to_string(*window->to_unix_ms) : "null";
    absl::StrAppend(&out, ",\"by\":", grouped ? JsonQuoted(GroupName(*by)) : "null", ",\"rows\":[");
    for (int i = 0; i < resp.rows_size(); ++i) {
      absl::StrAppend(&out, i ? "," : "", RowJson(resp.rows(i), grouped));
    }
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  std::printf("window    %s .. %s\n",
              window->from_unix_ms ? UtcTime(*window->from_unix_ms).c_str() : "(start)",
              window->to_unix_ms ? UtcTime(*window->to_unix_ms).c_str() : "now");
  if (!grouped) {
    if (!resp.rows().empty()) PrintTotal(resp.rows(0));
  } else {
    PrintGroups(resp, *by);
  }
  return 0;
}

}  // namespace bitrouter::ctl
