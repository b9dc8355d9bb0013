#include "shared/protocol/openai_request.h"

#include <simdjson.h>

#include "absl/strings/str_cat.h"
#include "shared/protocol/scratch_parser.h"

namespace bitrouter::protocol {
namespace {

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING, "padding too small for simdjson");

std::string ErrorText(simdjson::error_code code) { return simdjson::error_message(code); }

}  // namespace

absl::StatusOr<RequestView> InspectRequest(const char* data, size_t size) {
  thread_local protocol::ScratchDomParser dom_parser;
  thread_local protocol::ScratchOnDemandParser od_parser;
  RequestView view;
  // Full validation (ondemand alone is lazy and would accept trailing garbage).
  simdjson::dom::element root;
  if (auto err = dom_parser.parse(reinterpret_cast<const uint8_t*>(data), size, false).get(root)) {
    return absl::InvalidArgumentError(
        absl::StrCat("request body is not valid JSON: ", ErrorText(err)));
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) {
    return absl::InvalidArgumentError("request body must be a JSON object");
  }
  simdjson::dom::element model;
  if (obj.at_key("model").get(model)) {
    return absl::InvalidArgumentError("missing required field 'model'");
  }
  std::string_view model_text;
  if (model.get_string().get(model_text)) {
    return absl::InvalidArgumentError("field 'model' must be a string");
  }
  view.model = std::string(model_text);
  simdjson::dom::element stream;
  if (!obj.at_key("stream").get(stream)) {
    bool flag = false;
    if (stream.is_null()) {
      flag = false;
    } else if (stream.get_bool().get(flag)) {
      return absl::InvalidArgumentError("field 'stream' must be a boolean");
    }
    view.stream = flag;
  }
  simdjson::dom::element options;
  if (!obj.at_key("stream_options").get(options)) view.has_stream_options = true;
  if (view.has_stream_options && options.is_object()) {
    bool include = false;
    if (!options["include_usage"].get_bool().get(include)) view.include_usage = include;
  }
  // The output limit the client set (budgets reserve the worst case): Chat's
  // max_completion_tokens / max_tokens, Messages' max_tokens, Responses'
  // max_output_tokens. The largest one present counts.
  for (const char* name : {"max_tokens", "max_completion_tokens", "max_output_tokens"}) {
    int64_t limit = 0;
    if (!obj[name].get_int64().get(limit) && limit > view.max_output_tokens) {
      view.max_output_tokens = limit;
    }
  }
  // Locate the top-level `model` value in the original bytes. Duplicates of
  // `model` or `stream` are rejected: upstreams often keep the last one while
  // we would route on the first.
  simdjson::ondemand::document doc;
  if (od_parser.iterate(data, size, size + kJsonPadding).get(doc)) {
    return absl::InvalidArgumentError("request body is not valid JSON");
  }
  simdjson::ondemand::object od_obj;
  if (doc.get_object().get(od_obj))
    return absl::InvalidArgumentError("request body must be a JSON object");
  bool found = false;
  bool seen_stream = false;
  for (auto field : od_obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) {
      return absl::InvalidArgumentError("request body is not valid JSON");
    }
    if (key == "stream") {
      if (seen_stream) return absl::InvalidArgumentError("duplicate field 'stream'");
      seen_stream = true;
      continue;
    }
    if (key != "model") continue;
    if (found) return absl::InvalidArgumentError("duplicate field 'model'");
    std::string_view token = field.value().raw_json_token();
    size_t begin = static_cast<size_t>(token.data() - data);
    // The token starts at the opening quote; find the closing one.
    size_t i = begin + 1;
    while (i < size && data[i] != '"') i += data[i] == '\\' ? 2 : 1;
    if (i >= size) return absl::InvalidArgumentError("request body is not valid JSON");
    view.model_begin = begin;
    view.model_end = i + 1;
    found = true;
  }
  if (!found) return absl::InvalidArgumentError("missing required field 'model'");
  return view;
}

void AppendJsonString(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

}  // namespace bitrouter::protocol
