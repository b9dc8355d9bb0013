#include <gtest/gtest.h>

#include "controld/keys/key_registry.h"

namespace bitrouter::controld {
namespace {

TEST(BudgetPeriod, StartsAtUtcMidnightAndTheFirstOfTheMonth) {
  const int64_t t = 1'772'451'045'123;  // 2026-03-02T11:30:45.123Z
  EXPECT_EQ(BudgetPeriodStart("total", t), 0);
  EXPECT_EQ(BudgetPeriodStart("day", t), 1'772'409'600'000);    // 2026-03-02T00:00Z
  EXPECT_EQ(BudgetPeriodStart("month", t), 1'772'323'200'000);  // 2026-03-01T00:00Z
  EXPECT_EQ(BudgetPeriodStart("month", 1'772'323'200'000), 1'772'323'200'000);
}

}  // namespace
}  // namespace bitrouter::controld
