#include "worker/stages/guardrails/json_scan.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <array>

#include "shared/guardrails/json_text.h"
#include "shared/protocol/scratch_parser.h"

namespace bitrouter::worker {
namespace {

using guardrails::Action;
using guardrails::Direction;

// Values under these keys name, describe or encode things; content lives
// elsewhere. (Tool definitions: Chat/Responses "tools", Messages "tools",
// Gemini "tools"/"functionDeclarations"; schemas; media bytes.)
constexpr std::array<std::string_view, 30> kSkipped = {"model",
                                                       "role",
                                                       "type",
                                                       "id",
                                                       "tool_call_id",
                                                       "tool_use_id",
                                                       "call_id",
                                                       "name",
                                                       "tools",
                                                       "functionDeclarations",
                                                       "tool_choice",
                                                       "toolConfig",
                                                       "response_format",
                                                       "text_format",
                                                       "schema",
                                                       "parameters",
                                                       "input_schema",
                                                       "metadata",
                                                       "stream_options",
                                                       "safetySettings",
                                                       "cache_control",
                                                       "signature",
                                                       "thoughtSignature",
                                                       "media_type",
                                                       "mimeType",
                                                       "mime_type",
                                                       "data",
                                                       "image_url",
                                                       "inlineData",
                                                       "file_data"};

constexpr size_t kMaxDepth = 64;  // the body checks already bound nesting

// Tool-call arguments given as a JSON object (Messages tool_use "input",
// Gemini functionCall "args") are scanned as their JSON text, the way the
// same arguments are scanned as a JSON string (Chat, Responses) or when they
// stream: a key=value pattern (credentials) sees a key with its value.
bool ArgumentsObject(std::string_view key, bool is_object) {
  return is_object && (key == "input" || key == "args");
}

void ScanText(const guardrails::Guard& guard, Direction d, std::string_view text, JsonScan* out) {
  size_t before = out->matches.size();
  guard.Scan(text, d, &out->matches);
  for (size_t i = before; i < out->matches.size(); ++i) {
    Action a = guard.rules()[out->matches[i].rule].action[static_cast<int>(d)];
    if (a > out->strongest) out->strongest = a;
  }
}

void ScanElement(const guardrails::Guard& guard, Direction d, simdjson::dom::element e,
                 size_t depth, JsonScan* out) {
  if (depth > kMaxDepth) return;
  switch (e.type()) {
    case simdjson::dom::element_type::STRING: {
      std::string_view text;
      if (e.get_string().get(text)) return;
      ScanText(guard, d, text, out);
      return;
    }
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array array;
      if (e.get_array().get(array)) return;
      for (simdjson::dom::element child : array) ScanElement(guard, d, child, depth + 1, out);
      return;
    }
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object object;
      if (e.get_object().get(object)) return;
      for (auto field : object) {
        if (SkippedJsonKey(field.key)) continue;
        if (ArgumentsObject(field.key, field.value.type() == simdjson::dom::element_type::OBJECT)) {
          ScanText(guard, d, simdjson::to_string(field.value), out);
          continue;
        }
        ScanElement(guard, d, field.value, depth + 1, out);
      }
      return;
    }
    default:
      return;
  }
}

using RjValue = rapidjson::Value;

void RedactValue(const guardrails::Guard& guard, Direction d, RjValue& v,
                 rapidjson::Document::AllocatorType& alloc, size_t depth,
                 std::vector<guardrails::Match>* scratch, bool json_text);

// An arguments object redacted as its JSON text (see ArgumentsObject); false
// when that text would not parse back (then its strings are redacted one by
// one instead).
bool RedactObjectAsText(const guardrails::Guard& guard, Direction d, RjValue& v,
                        rapidjson::Document::AllocatorType& alloc,
                        std::vector<guardrails::Match>* scratch) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  const std::string_view text(buffer.GetString(), buffer.GetSize());
  scratch->clear();
  guard.Scan(text, d, scratch);
  if (scratch->empty()) return true;
  const std::string redacted = guardrails::RedactJsonText(guard, text, *scratch, d);
  rapidjson::Document parsed;
  parsed.Parse(redacted.data(), redacted.size());
  if (parsed.HasParseError() || !parsed.IsObject()) return false;
  v.CopyFrom(parsed, alloc);
  return true;
}

// `json_text`: the string holds JSON text (Chat and Responses tool-call
// "arguments"), whose redaction keeps it valid JSON.
void RedactValue(const guardrails::Guard& guard, Direction d, RjValue& v,
                 rapidjson::Document::AllocatorType& alloc, size_t depth,
                 std::vector<guardrails::Match>* scratch, bool json_text) {
  if (depth > kMaxDepth) return;
  if (v.IsString()) {
    std::string_view text(v.GetString(), v.GetStringLength());
    scratch->clear();
    guard.Scan(text, d, scratch);
    if (scratch->empty()) return;
    std::string redacted = json_text ? guardrails::RedactJsonText(guard, text, *scratch, d)
                                     : guard.Redact(text, *scratch, d);
    v.SetString(redacted.data(), static_cast<rapidjson::SizeType>(redacted.size()), alloc);
  } else if (v.IsArray()) {
    for (auto& child : v.GetArray()) RedactValue(guard, d, child, alloc, depth + 1, scratch, false);
  } else if (v.IsObject()) {
    for (auto& m : v.GetObject()) {
      std::string_view key(m.name.GetString(), m.name.GetStringLength());
      if (SkippedJsonKey(key)) continue;
      if (ArgumentsObject(key, m.value.IsObject()) &&
          RedactObjectAsText(guard, d, m.value, alloc, scratch)) {
        continue;
      }
      RedactValue(guard, d, m.value, alloc, depth + 1, scratch, key == "arguments");
    }
  }
}

}  // namespace

bool SkippedJsonKey(std::string_view key) {
  for (std::string_view k : kSkipped) {
    if (k == key) return true;
  }
  return false;
}

absl::StatusOr<JsonScan> ScanJsonBody(const guardrails::Guard& guard, Direction d,
                                      std::string_view body) {
  thread_local protocol::ScratchDomParser parser;
  simdjson::dom::element root;
  if (parser.parse(reinterpret_cast<const uint8_t*>(body.data()), body.size(), false).get(root)) {
    return absl::InvalidArgumentError("body is not valid JSON");
  }
  JsonScan out;
  ScanElement(guard, d, root, 0, &out);
  return out;
}

absl::StatusOr<std::string> RedactJsonBody(const guardrails::Guard& guard, Direction d,
                                           std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseStopWhenDoneFlag>(body.data(), body.size());
  if (doc.HasParseError()) return absl::InvalidArgumentError("body is not valid JSON");
  std::vector<guardrails::Match> scratch;
  RedactValue(guard, d, doc, doc.GetAllocator(), 0, &scratch, false);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace bitrouter::worker
