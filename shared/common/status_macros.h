#pragma once
// RETURN_IF_ERROR / ASSIGN_OR_RETURN: Debian's Abseil (20220623) ships neither.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define BR_CONCAT_INNER(a, b) a##b
#define BR_CONCAT(a, b) BR_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                \
  do {                                       \
    ::absl::Status br_status_ = (expr);      \
    if (!br_status_.ok()) return br_status_; \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(*tmp)

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(BR_CONCAT(br_statusor_, __LINE__), lhs, expr)
