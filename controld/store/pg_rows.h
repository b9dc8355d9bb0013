#pragma once
// Internal to the PostgreSQL backend (pg_store.cc, pg_query.cc, pg_keys.cc):
// statement parameters and result readers. Everything travels in libpq's text
// format: values are never spliced into SQL, and text results parse exactly.
// Not part of the store interface; nothing outside controld/store includes it.

#include <libpq-fe.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"

namespace bitrouter::store::pg_rows {

// The same column list as sqlite_rows::kColumns: one order for INSERT,
// SELECT and the read helpers.
inline constexpr const char* kColumns =
    "request_id, time_unix_ms, key_id, client_protocol, model_requested, provider, "
    "upstream_model, upstream_protocol, attempts_json, final_status, streamed, bytes_in, "
    "bytes_out, time_to_first_byte_us, total_latency_us, router_overhead_us, prompt_tokens, "
    "completion_tokens, reasoning_tokens, cache_read_tokens, cache_write_tokens, usage_origin, "
    "cost_micro_usd, guardrails, route_category, route_model";
inline constexpr int kColumnCount = 26;

// PostgreSQL text cannot hold a NUL byte or invalid UTF-8 (the connection
// speaks UTF8), where SQLite stores any bytes. One such value would fail its
// whole batch on every retry and stall usage writes for good, so it is
// stored with U+FFFD in place of each offending byte. Valid text is returned
// unchanged.
std::string ToPgText(std::string_view text);

// Parameters of one statement, $1.. in the order added.
class Params {
 public:
  // Returns the placeholder ("$3") of the value just added.
  std::string Text(std::string_view value) { return Add(ToPgText(value)); }
  std::string Int(int64_t value) { return Add(std::to_string(value)); }
  std::string Optional(const std::optional<int64_t>& value) {
    if (!value.has_value()) return Add(std::nullopt);
    return Int(*value);
  }

  int size() const { return static_cast<int>(values_.size()); }
  // Pointers into this object (NULL for SQL NULL), valid while it is unchanged.
  std::vector<const char*> Pointers() const {
    std::vector<const char*> out;
    out.reserve(values_.size());
    for (const auto& v : values_) out.push_back(v.has_value() ? v->c_str() : nullptr);
    return out;
  }

 private:
  std::string Add(std::optional<std::string> value) {
    values_.push_back(std::move(value));
    return "$" + std::to_string(values_.size());
  }
  std::vector<std::optional<std::string>> values_;
};

inline std::string Text(const PGresult* res, int row, int col) {
  return std::string(PQgetvalue(res, row, col), static_cast<size_t>(PQgetlength(res, row, col)));
}

// Integers come back as decimal text; every column read here is NOT NULL or
// checked with Optional first, so a parse failure cannot happen on our schema.
inline int64_t Int(const PGresult* res, int row, int col) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(absl::string_view(PQgetvalue(res, row, col),
                                          static_cast<size_t>(PQgetlength(res, row, col))),
                        &value)) {
    return 0;
  }
  return value;
}

inline std::optional<int64_t> Optional(const PGresult* res, int row, int col) {
  if (PQgetisnull(res, row, col)) return std::nullopt;
  return Int(res, row, col);
}

// Rows a DELETE/UPDATE touched (PQcmdTuples), 0 when not reported.
inline int64_t Affected(PGresult* res) {
  int64_t n = 0;
  if (!absl::SimpleAtoi(PQcmdTuples(res), &n)) return 0;
  return n;
}

}  // namespace bitrouter::store::pg_rows
