// bitrouterctl requests [--tail]: usage records from bitrouterd's store
// (ListUsage), newest first; --tail then follows new rows until Ctrl-C.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ctl/client.h"
#include "ctl/usage_args.h"

namespace bitrouter::ctl {
namespace {

// How often --tail asks, and how many rows one poll may bring.
constexpr std::chrono::milliseconds kTailInterval(500);
constexpr uint32_t kTailBatch = 500;

std::atomic<bool> interrupted{false};
void OnInterrupt(int) { interrupted.store(true); }

std::string OptionalJson(bool has, int64_t value) {
  return has ? std::to_string(value) : std::string("null");
}

std::string RecordJson(const v1::UsageRow& row) {
  const v1::UsageRecord& r = row.record();
  std::string out = absl::StrCat(
      "{\"row_id\":", row.row_id(), ",\"request_id\":", JsonQuoted(r.request_id()),
      ",\"time_unix_ms\":", r.time_unix_ms(), ",\"time\":", JsonQuoted(UtcTime(r.time_unix_ms())),
      ",\"key_id\":", JsonQuoted(r.key_id()),
      ",\"client_protocol\":", JsonQuoted(r.client_protocol()),
      ",\"model_requested\":", JsonQuoted(r.model_requested()),
      ",\"provider\":", JsonQuoted(r.provider()),
      ",\"upstream_model\":", JsonQuoted(r.upstream_model()),
      ",\"upstream_protocol\":", JsonQuoted(r.upstream_protocol()),
      ",\"final_status\":", r.final_status(), ",\"streamed\":", r.streamed() ? "true" : "false",
      ",\"bytes_in\":", r.bytes_in(), ",\"bytes_out\":", r.bytes_out(),
      ",\"time_to_first_byte_us\":", OptionalJson(r.has_ttfb(), r.time_to_first_byte_us()),
      ",\"total_latency_us\":", r.total_latency_us(),
      ",\"router_overhead_us\":", r.router_overhead_us(), ",\"prompt_tokens\":", r.prompt_tokens(),
      ",\"completion_tokens\":", r.completion_tokens(),
      ",\"reasoning_tokens\":", r.reasoning_tokens(),
      ",\"cache_read_tokens\":", r.cache_read_tokens(),
      ",\"cache_write_tokens\":", r.cache_write_tokens(),
      ",\"usage_origin\":", r.estimated() ? "\"estimated\"" : "\"provider\"",
      ",\"cost_micro_usd\":", OptionalJson(r.has_cost(), r.cost_micro_usd()),
      ",\"guardrails\":", JsonQuoted(r.guardrails()),
      ",\"route_category\":", JsonQuoted(r.route_category()),
      ",\"route_model\":", JsonQuoted(r.route_model()), ",\"attempts\":[");
  for (int i = 0; i < r.attempts_size(); ++i) {
    const v1::UsageAttempt& a = r.attempts(i);
    absl::StrAppend(&out, i ? "," : "", "{\"endpoint\":", JsonQuoted(a.endpoint()),
                    ",\"http_status\":", a.http_status(), ",\"failure\":", JsonQuoted(a.failure()),
                    ",\"latency_us\":", a.latency_us(), "}");
  }
  out += "]}";
  return out;
}

const std::vector<std::string>& Header() {
  static const std::vector<std::string> header = {
      "TIME (UTC)", "REQUEST ID",    "MODEL",      "ENDPOINT", "STATUS",
      "STREAM",     "TOKENS IN/OUT", "COST (USD)", "MS",       "ATT"};
  return header;
}
constexpr char kAlign[] = "llllrlrrrr";

std::vector<std::string> Cells(const v1::UsageRow& row) {
  const v1::UsageRecord& r = row.record();
  // "~": tokens the router estimated (the provider reported none).
  std::string tokens =
      absl::StrCat(r.estimated() ? "~" : "", r.prompt_tokens(), "/", r.completion_tokens());
  return {UtcTime(r.time_unix_ms()), r.request_id(),
          // A classified request: the category after the trigger it asked for.
          r.route_category().empty()
              ? r.model_requested()
              : absl::StrCat(r.model_requested(), " [", r.route_category(), "]"),
          r.provider().empty() ? "-" : absl::StrCat(r.provider(), ":", r.upstream_model()),
          std::to_string(r.final_status()), r.streamed() ? "yes" : "no", tokens,
          r.has_cost() ? MicroUsd(r.cost_micro_usd()) : "?", Millis(r.total_latency_us()),
          std::to_string(r.attempts_size())};
}

// A line of the --tail table: fixed widths, since later rows are unknown.
void PrintTailLine(const std::vector<std::string>& cells) {
  static constexpr int kWidths[] = {20, 26, 20, 32, 6, 6, 13, 10, 7, 3};
  std::string line;
  for (size_t c = 0; c < cells.size(); ++c) {
    const size_t width = static_cast<size_t>(kWidths[c]);
    const size_t pad = cells[c].size() < width ? width - cells[c].size() : 0;
    if (kAlign[c] == 'r') line.append(pad, ' ');
    line += cells[c];
    if (kAlign[c] != 'r' && c + 1 < cells.size()) line.append(pad, ' ');
    if (c + 1 < cells.size()) line += "  ";
  }
  line += '\n';
  std::fputs(line.c_str(), stdout);
}

void PrintTailRow(const Context& ctx, const v1::UsageRow& row) {
  if (ctx.json) {
    std::string line = RecordJson(row);
    line += '\n';
    std::fputs(line.c_str(), stdout);
  } else {
    PrintTailLine(Cells(row));
  }
}

// Prints the newest rows oldest first (as `tail` does), then polls for rows
// after the last row id seen, oldest first, until SIGINT (exit 0).
int Follow(const Context& ctx, v1::ListUsageRequest req) {
  auto channel = ConnectControl(ctx);
  if (!channel.ok()) {
    std::fprintf(stderr, "bitrouterctl: %s\n", std::string(channel.status().message()).c_str());
    return 3;
  }
  auto stub = v1::Admin::NewStub(*channel);
  struct sigaction sa = {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  auto call = [&](const v1::ListUsageRequest& r, v1::ListUsageResponse* resp) {
    grpc::ClientContext rpc;
    rpc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    grpc::Status st = stub->ListUsage(&rpc, r, resp);
    if (!st.ok() && !interrupted.load()) {
      std::fprintf(stderr, "bitrouterctl: %s\n", st.error_message().c_str());
    }
    return st.ok();
  };
  v1::ListUsageResponse first;
  if (!call(req, &first)) return interrupted.load() ? 0 : 1;
  int64_t cursor = first.max_row_id();
  if (!ctx.json) PrintTailLine(Header());
  for (int i = first.rows_size() - 1; i >= 0; --i) {
    PrintTailRow(ctx, first.rows(i));
    cursor = std::max(cursor, first.rows(i).row_id());
  }
  std::fflush(stdout);

  req.set_limit(kTailBatch);
  while (!interrupted.load()) {
    v1::ListUsageResponse next;
    req.set_after_row_id(cursor);
    if (!call(req, &next)) return interrupted.load() ? 0 : 1;
    for (const v1::UsageRow& row : next.rows()) {
      PrintTailRow(ctx, row);
      cursor = row.row_id();
    }
    // Rows that did not match the filter still move the cursor on.
    if (next.rows_size() < static_cast<int>(kTailBatch)) {
      cursor = std::max(cursor, next.max_row_id());
    }
    std::fflush(stdout);
    if (next.rows_size() == static_cast<int>(kTailBatch)) continue;  // more waiting
    auto until = std::chrono::steady_clock::now() + kTailInterval;
    while (!interrupted.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return 0;
}

}  // namespace

int RunRequests(const Context& ctx, const RequestsOptions& options) {
  v1::ListUsageRequest req;
  if (options.limit == 0 || options.limit > kMaxRequestsLimit) {
    std::fprintf(stderr, "bitrouterctl: --limit must be 1..%u\n", kMaxRequestsLimit);
    return 2;
  }
  req.set_limit(options.limit);
  req.set_model(options.model);
  req.set_key_id(options.key);
  if (absl::Status s = ApplyStatusFilter(options.status, &req); !s.ok()) {
    std::fprintf(stderr, "bitrouterctl: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (options.tail) return Follow(ctx, req);

  v1::ListUsageResponse resp;
  int rc = CallAdmin(ctx, 30, [&](v1::Admin::Stub& stub, grpc::ClientContext* rpc) {
    return stub.ListUsage(rpc, req, &resp);
  });
  if (rc != 0) return rc;
  if (ctx.json) {
    std::string out = "{\"records\":[";
    for (int i = 0; i < resp.rows_size(); ++i) {
      absl::StrAppend(&out, i ? "," : "", RecordJson(resp.rows(i)));
    }
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  if (resp.rows().empty()) {
    std::printf("no matching requests recorded\n");
    return 0;
  }
  std::vector<std::vector<std::string>> table = {Header()};
  for (const v1::UsageRow& row : resp.rows()) table.push_back(Cells(row));
  PrintTable(table, kAlign);
  return 0;
}

}  // namespace bitrouter::ctl
