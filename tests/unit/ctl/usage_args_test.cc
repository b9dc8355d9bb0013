// What bitrouterctl usage / requests accept (windows, instants, statuses)
// and how they print money, times and durations.
#include "ctl/usage_args.h"

#include "gtest/gtest.h"

namespace bitrouter::ctl {
namespace {

constexpr int64_t kHourMs = 3600LL * 1000;

TEST(UsageArgsTest, Durations) {
  EXPECT_EQ(*ParseDurationMs("90s"), 90'000);
  EXPECT_EQ(*ParseDurationMs("30m"), 30 * 60'000);
  EXPECT_EQ(*ParseDurationMs("1h"), kHourMs);
  EXPECT_EQ(*ParseDurationMs("7d"), 7 * 24 * kHourMs);
  EXPECT_EQ(*ParseDurationMs("2w"), 14 * 24 * kHourMs);
  EXPECT_EQ(*ParseDurationMs("1h30m"), 90 * 60'000);
  for (const char* bad : {"", "1", "h", "1x", "-1h", "0h", "1.5h", "1h 30m", "9999999999h"}) {
    EXPECT_EQ(ParseDurationMs(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(UsageArgsTest, Instants) {
  const int64_t noon = 1748779200000;  // 2025-06-01T12:00:00Z
  EXPECT_EQ(*ParseInstantMs("2025-06-01T12:00:00Z"), noon);
  EXPECT_EQ(*ParseInstantMs("2025-06-01t12:00:00z"), noon);
  EXPECT_EQ(*ParseInstantMs("2025-06-01T14:00:00+02:00"), noon);
  EXPECT_EQ(*ParseInstantMs("2025-06-01T12:00:00.250Z"), noon + 250);
  EXPECT_EQ(*ParseInstantMs("2025-06-01T12:00:00"), noon);  // no offset: UTC
  EXPECT_EQ(*ParseInstantMs("2025-06-01 12:00:00"), noon);
  EXPECT_EQ(*ParseInstantMs("2025-06-01T12:00Z"), noon);
  EXPECT_EQ(*ParseInstantMs("2025-06-01"), noon - 12 * kHourMs);
  EXPECT_EQ(*ParseInstantMs("1748779200"), noon);
  EXPECT_EQ(*ParseInstantMs("0"), 0);
  for (const char* bad : {"", "yesterday", "2025-13-01", "2025-06-01T25:00:00Z", "12:00"}) {
    EXPECT_EQ(ParseInstantMs(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(UsageArgsTest, Windows) {
  const int64_t now = 1748779200000;
  Window w = *ResolveWindow("", "", "", now);  // the default: the last 24 h
  EXPECT_EQ(w.from_unix_ms, now - 24 * kHourMs);
  EXPECT_FALSE(w.to_unix_ms.has_value());
  w = *ResolveWindow("1h", "", "", now);
  EXPECT_EQ(w.from_unix_ms, now - kHourMs);
  EXPECT_FALSE(w.to_unix_ms.has_value());
  w = *ResolveWindow("", "2025-06-01", "2025-06-01T06:00:00Z", now);
  EXPECT_EQ(w.from_unix_ms, now - 12 * kHourMs);
  EXPECT_EQ(w.to_unix_ms, now - 6 * kHourMs);
  w = *ResolveWindow("", "0", "", now);
  EXPECT_EQ(w.from_unix_ms, 0);
  EXPECT_FALSE(w.to_unix_ms.has_value());
  w = *ResolveWindow("", "", "2025-06-01", now);  // --to alone: the 24 h before it
  EXPECT_EQ(w.from_unix_ms, now - 36 * kHourMs);
  EXPECT_EQ(w.to_unix_ms, now - 12 * kHourMs);

  EXPECT_FALSE(ResolveWindow("1h", "0", "", now).ok());
  EXPECT_FALSE(ResolveWindow("1h", "", "0", now).ok());
  EXPECT_FALSE(ResolveWindow("", "2025-06-02", "2025-06-01", now).ok());
  EXPECT_FALSE(ResolveWindow("", "2025-06-01", "2025-06-01", now).ok());
  EXPECT_FALSE(ResolveWindow("soon", "", "", now).ok());
}

TEST(UsageArgsTest, GroupBy) {
  EXPECT_EQ(*ParseGroupBy(""), v1::USAGE_GROUP_BY_NONE);
  EXPECT_EQ(*ParseGroupBy("key"), v1::USAGE_GROUP_BY_KEY);
  EXPECT_EQ(*ParseGroupBy("model"), v1::USAGE_GROUP_BY_MODEL);
  EXPECT_EQ(*ParseGroupBy("provider"), v1::USAGE_GROUP_BY_PROVIDER);
  EXPECT_EQ(*ParseGroupBy("endpoint"), v1::USAGE_GROUP_BY_ENDPOINT);
  EXPECT_FALSE(ParseGroupBy("route").ok());
}

TEST(UsageArgsTest, StatusFilters) {
  v1::ListUsageRequest r;
  ASSERT_TRUE(ApplyStatusFilter("429", &r).ok());
  EXPECT_EQ(r.status_case(), v1::ListUsageRequest::kStatusCode);
  EXPECT_EQ(r.status_code(), 429);
  ASSERT_TRUE(ApplyStatusFilter("5xx", &r).ok());
  EXPECT_EQ(r.status_case(), v1::ListUsageRequest::kStatusClass);
  EXPECT_EQ(r.status_class(), 5);
  ASSERT_TRUE(ApplyStatusFilter("2XX", &r).ok());
  EXPECT_EQ(r.status_class(), 2);
  ASSERT_TRUE(ApplyStatusFilter("error", &r).ok());
  EXPECT_EQ(r.status_case(), v1::ListUsageRequest::kStatusError);
  v1::ListUsageRequest none;
  ASSERT_TRUE(ApplyStatusFilter("", &none).ok());
  EXPECT_EQ(none.status_case(), v1::ListUsageRequest::STATUS_NOT_SET);
  for (const char* bad : {"6xx", "0xx", "42", "4290", "099", "x", "4x"}) {
    EXPECT_EQ(ApplyStatusFilter(bad, &r).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(UsageArgsTest, Printing) {
  EXPECT_EQ(MicroUsd(0), "0.000000");
  EXPECT_EQ(MicroUsd(1), "0.000001");
  EXPECT_EQ(MicroUsd(1'234'567), "1.234567");
  EXPECT_EQ(MicroUsd(-5), "-0.000005");
  EXPECT_EQ(UtcTime(1748779200123), "2025-06-01T12:00:00Z");
  EXPECT_EQ(Millis(812'345), "812");
  EXPECT_EQ(Millis(4'200), "4.2");
  EXPECT_EQ(Millis(0), "0.0");
  EXPECT_EQ(Grouped(0), "0");
  EXPECT_EQ(Grouped(999), "999");
  EXPECT_EQ(Grouped(1'234'567), "1,234,567");
  EXPECT_EQ(Grouped(-1000), "-1,000");
  EXPECT_EQ(JsonQuoted("a\"b\n"), "\"a\\\"b\\n\"");
}

}  // namespace
}  // namespace bitrouter::ctl
