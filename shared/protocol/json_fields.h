#pragma once
// Field access for the protocol adapters: typed, optional-aware reads from a
// simdjson DOM object (errors name the JSON path) and small RapidJSON
// writing helpers. Absent and null fields read as "not set".

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bitrouter::protocol::json {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// InvalidArgument "field '<path>' <what>".
absl::Status Bad(std::string_view path, std::string_view what);
// A JSON path for error messages, built on the stack: paths are made for
// every field read but printed only on error, so they must not allocate.
// Longer than its buffer, it keeps the head and ends in "...".
class Path {
 public:
  Path() = default;
  operator std::string_view() const { return {buf_, len_}; }        // NOLINT: implicit by design
  operator std::string() const { return std::string(buf_, len_); }  // NOLINT
  void Append(std::string_view s);

 private:
  char buf_[120];
  size_t len_ = 0;
};
Path Sub(std::string_view path, std::string_view key);  // "path.key"
Path Idx(std::string_view path, size_t i);              // "path[i]"

// The calling thread's parser for short-lived parses (stream events).
simdjson::dom::parser& ThreadParser();

// Parses `json` (`what` names it in errors) and requires an object.
absl::StatusOr<simdjson::dom::object> ParseObject(simdjson::dom::parser& parser,
                                                  std::string_view json, std::string_view what);
// Present and not null.
bool Has(simdjson::dom::object o, std::string_view key, simdjson::dom::element* out);
absl::StatusOr<std::optional<std::string>> OptString(simdjson::dom::object o, std::string_view key,
                                                     std::string_view path);
absl::StatusOr<std::string> ReqString(simdjson::dom::object o, std::string_view key,
                                      std::string_view path);
absl::StatusOr<std::optional<double>> OptNumber(simdjson::dom::object o, std::string_view key,
                                                std::string_view path);
absl::StatusOr<std::optional<int64_t>> OptInt(simdjson::dom::object o, std::string_view key,
                                              std::string_view path);
absl::StatusOr<std::optional<bool>> OptBool(simdjson::dom::object o, std::string_view key,
                                            std::string_view path);

void Str(Writer& w, std::string_view s);
// Writes already-valid JSON text as a value.
void Raw(Writer& w, std::string_view json);

}  // namespace bitrouter::protocol::json
