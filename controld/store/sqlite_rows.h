#pragma once
// Internal to the SQLite backend (sqlite_store.cc writes, sqlite_query.cc
// reads): the usage_records column list and the bind/read helpers both use.
// Not part of the store interface; nothing outside controld/store includes it.

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>

namespace bitrouter::store::sqlite_rows {

// One list drives INSERT, SELECT and the bind/read order.
inline constexpr const char* kColumns =
    "request_id, time_unix_ms, key_id, client_protocol, model_requested, provider, "
    "upstream_model, upstream_protocol, attempts_json, final_status, streamed, bytes_in, "
    "bytes_out, time_to_first_byte_us, total_latency_us, router_overhead_us, prompt_tokens, "
    "completion_tokens, reasoning_tokens, cache_read_tokens, cache_write_tokens, usage_origin, "
    "cost_micro_usd, guardrails, route_category, route_model";
inline constexpr int kColumnCount = 26;

inline void BindText(sqlite3_stmt* stmt, int index, const std::string& text) {
  // SQLITE_STATIC: the caller keeps `text` alive until the statement is reset.
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

inline void BindOptional(sqlite3_stmt* stmt, int index, const std::optional<int64_t>& value) {
  if (value.has_value()) {
    sqlite3_bind_int64(stmt, index, *value);
  } else {
    sqlite3_bind_null(stmt, index);
  }
}

inline std::string ColumnText(sqlite3_stmt* stmt, int index) {
  const unsigned char* text = sqlite3_column_text(stmt, index);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt, index));
}

inline std::optional<int64_t> ColumnOptional(sqlite3_stmt* stmt, int index) {
  if (sqlite3_column_type(stmt, index) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt, index);
}

}  // namespace bitrouter::store::sqlite_rows
