#include "tests/support/openai_json.h"

#include <algorithm>
#include <cstdio>

namespace bitrouter::testing {
namespace {

constexpr std::string_view kCompletionPrefix = R"({"id":"chatcmpl-fake","object":")";
constexpr std::string_view kCreated = R"(","created":1700000000,"model":")";

std::string UsageJson(int completion_tokens) {
  return R"({"prompt_tokens":10,"completion_tokens":)" + std::to_string(completion_tokens) +
         R"(,"total_tokens":)" + std::to_string(10 + completion_tokens) + "}";
}

std::string ChunkJson(std::string_view model, std::string_view choices_and_more) {
  std::string out(kCompletionPrefix);
  out.append("chat.completion.chunk").append(kCreated).append(JsonEscape(model));
  out.append("\",").append(choices_and_more).append("}");
  return "data: " + out + "\n\n";
}

// Position just after `"key"` followed by optional whitespace and ':' and
// optional whitespace, or npos.
size_t FindJsonValue(std::string_view json, std::string_view key) {
  std::string quoted = "\"" + std::string(key) + "\"";
  for (size_t pos = json.find(quoted); pos != std::string_view::npos;
       pos = json.find(quoted, pos + 1)) {
    size_t i = pos + quoted.size();
    auto skip_ws = [&] {
      while (i < json.size() &&
             (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r')) {
        ++i;
      }
    };
    skip_ws();
    if (i >= json.size() || json[i] != ':') continue;
    ++i;
    skip_ws();
    return i;
  }
  return std::string_view::npos;
}

}  // namespace

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char tmp[8];
          std::snprintf(tmp, sizeof(tmp), "\\u%04x", c);
          out += tmp;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string JsonStringField(std::string_view json, std::string_view key) {
  size_t i = FindJsonValue(json, key);
  if (i == std::string_view::npos || i >= json.size() || json[i] != '"') return "";
  std::string out;
  for (++i; i < json.size() && json[i] != '"'; ++i) {
    if (json[i] == '\\' && i + 1 < json.size()) {
      char e = json[++i];
      out += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
    } else {
      out += json[i];
    }
  }
  return out;
}

bool JsonBoolField(std::string_view json, std::string_view key) {
  size_t i = FindJsonValue(json, key);
  return i != std::string_view::npos && json.substr(i, 4) == "true";
}

std::string ChatCompletionJson(std::string_view model, std::string_view content) {
  int words = 0;
  bool in_word = false;
  for (char c : content) {
    bool space = c == ' ' || c == '\n' || c == '\t';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  std::string out(kCompletionPrefix);
  out.append("chat.completion").append(kCreated).append(JsonEscape(model));
  out.append(R"(","choices":[{"index":0,"message":{"role":"assistant","content":")");
  out.append(JsonEscape(content));
  out.append(R"("},"finish_reason":"stop"}],"usage":)");
  out.append(UsageJson(std::max(words, 1))).append("}");
  return out;
}

std::vector<std::string> ChatCompletionSseChunks(std::string_view model,
                                                 const std::vector<std::string>& pieces,
                                                 bool include_usage) {
  std::vector<std::string> out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    std::string delta = i == 0 ? R"({"role":"assistant","content":")" : R"({"content":")";
    delta += JsonEscape(pieces[i]) + "\"}";
    out.push_back(ChunkJson(
        model, R"("choices":[{"index":0,"delta":)" + delta + R"(,"finish_reason":null}])"));
  }
  out.push_back(ChunkJson(model, R"("choices":[{"index":0,"delta":{},"finish_reason":"stop"}])"));
  if (include_usage) {
    out.push_back(
        ChunkJson(model, R"("choices":[],"usage":)" + UsageJson(static_cast<int>(pieces.size()))));
  }
  out.push_back("data: [DONE]\n\n");
  return out;
}

}  // namespace bitrouter::testing
