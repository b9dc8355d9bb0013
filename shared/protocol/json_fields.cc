#include "shared/protocol/json_fields.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "shared/common/status_macros.h"
#include "shared/common/strings.h"
#include "shared/protocol/scratch_parser.h"

namespace bitrouter::protocol::json {

using simdjson::dom::element;
using simdjson::dom::object;

absl::Status Bad(std::string_view path, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("field '", AV(path), "' ", AV(what)));
}
void Path::Append(std::string_view s) {
  constexpr size_t kCap = sizeof(buf_);
  if (len_ == kCap) return;  // already truncated
  if (len_ + s.size() <= kCap - 3) {
    // A byte loop: paths are short, and gcc misjudges memcpy from literals here.
    for (char c : s) buf_[len_++] = c;
    return;
  }
  while (len_ < kCap - 3 && !s.empty()) {
    buf_[len_++] = s.front();
    s.remove_prefix(1);
  }
  buf_[len_++] = '.';
  buf_[len_++] = '.';
  buf_[len_++] = '.';
}

Path Sub(std::string_view path, std::string_view key) {
  Path p;
  p.Append(path);
  p.Append(".");
  p.Append(key);
  return p;
}

Path Idx(std::string_view path, size_t i) {
  char digits[24];
  char* end = digits + sizeof(digits);
  char* d = end;
  *--d = ']';
  do {
    *--d = static_cast<char>('0' + i % 10);
    i /= 10;
  } while (i != 0);
  *--d = '[';
  Path p;
  p.Append(path);
  p.Append(std::string_view(d, static_cast<size_t>(end - d)));
  return p;
}

simdjson::dom::parser& ThreadParser() {
  thread_local protocol::ScratchDomParser parser;
  return parser;
}

absl::StatusOr<object> ParseObject(simdjson::dom::parser& parser, std::string_view json,
                                   std::string_view what) {
  // simdjson needs padding after the bytes. A per-thread buffer keeps its
  // capacity between calls: a fresh padded copy of a large body would be a
  // new mmap (and page faults) every time. The DOM copies what it keeps, so
  // the buffer is free again as soon as parse() returns.
  constexpr size_t kKeepBytes = 4u << 20;
  thread_local std::string scratch;
  scratch.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  scratch.assign(json.data(), json.size());
  element root;
  auto parsed = parser.parse(scratch.data(), scratch.size(), false).get(root);
  if (scratch.capacity() > kKeepBytes) std::string().swap(scratch);
  if (auto err = parsed) {
    return absl::InvalidArgumentError(
        absl::StrCat(AV(what), " is not valid JSON: ", simdjson::error_message(err)));
  }
  object obj;
  if (root.get_object().get(obj)) {
    return absl::InvalidArgumentError(absl::StrCat(AV(what), " must be a JSON object"));
  }
  return obj;
}

// Present and not null.
bool Has(object o, std::string_view key, element* out) {
  return !o.at_key(key).get(*out) && !out->is_null();
}

absl::StatusOr<std::optional<std::string>> OptString(object o, std::string_view key,
                                                     std::string_view path) {
  element e;
  if (!Has(o, key, &e)) return std::optional<std::string>();
  std::string_view s;
  if (e.get_string().get(s)) return Bad(path, "must be a string");
  return std::optional<std::string>(std::string(s));
}

absl::StatusOr<std::string> ReqString(object o, std::string_view key, std::string_view path) {
  ASSIGN_OR_RETURN(std::optional<std::string> s, OptString(o, key, path));
  if (!s)
    return absl::InvalidArgumentError(absl::StrCat("missing required field '", AV(path), "'"));
  return std::move(*s);
}

absl::StatusOr<std::optional<double>> OptNumber(object o, std::string_view key,
                                                std::string_view path) {
  element e;
  if (!Has(o, key, &e)) return std::optional<double>();
  double d = 0;
  if (e.get_double().get(d)) return Bad(path, "must be a number");
  return std::optional<double>(d);
}

absl::StatusOr<std::optional<int64_t>> OptInt(object o, std::string_view key,
                                              std::string_view path) {
  element e;
  if (!Has(o, key, &e)) return std::optional<int64_t>();
  int64_t v = 0;
  if (e.get_int64().get(v)) return Bad(path, "must be an integer");
  return std::optional<int64_t>(v);
}

absl::StatusOr<std::optional<bool>> OptBool(object o, std::string_view key, std::string_view path) {
  element e;
  if (!Has(o, key, &e)) return std::optional<bool>();
  bool b = false;
  if (e.get_bool().get(b)) return Bad(path, "must be a boolean");
  return std::optional<bool>(b);
}

void Str(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void Raw(Writer& w, std::string_view json) {
  w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
}

}  // namespace bitrouter::protocol::json
