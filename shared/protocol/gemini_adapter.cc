// Gemini GenerateContentResponse <-> canonical response, plus the helpers
// the request and stream code share (gemini_internal.h).

#include "shared/protocol/gemini_adapter.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <utility>

#include "shared/common/status_macros.h"
#include "shared/protocol/gemini_internal.h"
#include "shared/protocol/json_fields.h"
#include "shared/protocol/scratch_parser.h"

namespace bitrouter::protocol::gemini {
namespace internal {

using json::Bad;
using json::Has;
using json::OptInt;
using json::Str;
using json::Sub;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

std::string Key(object o, std::string_view camel) {
  element e;
  if (Has(o, camel, &e)) return std::string(camel);
  std::string snake;
  for (char c : camel) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      snake += '_';
      snake += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      snake += c;
    }
  }
  if (Has(o, snake, &e)) return snake;
  return std::string(camel);
}

absl::StatusOr<Usage> ParseUsage(object usage, std::string_view path) {
  auto field = [&](std::string_view name) {
    std::string k = Key(usage, name);
    return OptInt(usage, k, Sub(path, k));
  };
  ASSIGN_OR_RETURN(std::optional<int64_t> prompt, field("promptTokenCount"));
  ASSIGN_OR_RETURN(std::optional<int64_t> tool_prompt, field("toolUsePromptTokenCount"));
  ASSIGN_OR_RETURN(std::optional<int64_t> candidates, field("candidatesTokenCount"));
  ASSIGN_OR_RETURN(std::optional<int64_t> thoughts, field("thoughtsTokenCount"));
  ASSIGN_OR_RETURN(std::optional<int64_t> cached, field("cachedContentTokenCount"));
  Usage u;
  u.prompt_tokens = prompt.value_or(0) + tool_prompt.value_or(0);
  u.completion_tokens = candidates.value_or(0) + thoughts.value_or(0);
  u.reasoning_tokens = thoughts;
  u.cache_read_tokens = cached;
  return u;
}

void WriteUsage(W& w, const Usage& u) {
  int64_t reasoning = u.reasoning_tokens.value_or(0);
  Str(w, "usageMetadata");
  w.StartObject();
  Str(w, "promptTokenCount"), w.Int64(u.prompt_tokens);
  Str(w, "candidatesTokenCount"), w.Int64(std::max<int64_t>(0, u.completion_tokens - reasoning));
  Str(w, "totalTokenCount"), w.Int64(u.prompt_tokens + u.completion_tokens);
  if (u.reasoning_tokens) Str(w, "thoughtsTokenCount"), w.Int64(*u.reasoning_tokens);
  if (u.cache_read_tokens) Str(w, "cachedContentTokenCount"), w.Int64(*u.cache_read_tokens);
  w.EndObject();
}

std::optional<FinishReason> FinishFromGemini(std::string_view r) {
  if (r.empty() || r == "FINISH_REASON_UNSPECIFIED") return std::nullopt;
  if (r == "MAX_TOKENS") return FinishReason::kLength;
  if (r == "SAFETY" || r == "RECITATION" || r == "BLOCKLIST" || r == "PROHIBITED_CONTENT" ||
      r == "SPII" || r == "IMAGE_SAFETY" || r == "IMAGE_PROHIBITED_CONTENT" ||
      r == "IMAGE_RECITATION") {
    return FinishReason::kContentFilter;
  }
  // STOP, LANGUAGE, OTHER, MALFORMED_FUNCTION_CALL, ... have no closer match.
  return FinishReason::kStop;
}

std::string_view FinishForClient(FinishReason r, std::string_view raw) {
  return raw.empty() ? std::string_view(FinishToGemini(r)) : raw;
}

bool IsServerToolPart(object part) {
  element e;
  return Has(part, Key(part, "executableCode"), &e) ||
         Has(part, Key(part, "codeExecutionResult"), &e);
}

const char* FinishToGemini(FinishReason r) {
  switch (r) {
    case FinishReason::kLength:
      return "MAX_TOKENS";
    case FinishReason::kContentFilter:
      return "SAFETY";
    case FinishReason::kStop:
    case FinishReason::kToolCalls:
      break;
  }
  return "STOP";
}

std::string MimeFromUrl(std::string_view url) {
  size_t end = url.find_first_of("?#");
  std::string_view path = url.substr(0, end);
  size_t dot = path.rfind('.');
  if (dot == std::string_view::npos) return "";
  std::string ext(path.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gif") return "image/gif";
  if (ext == "webp") return "image/webp";
  if (ext == "heic") return "image/heic";
  if (ext == "heif") return "image/heif";
  if (ext == "pdf") return "application/pdf";
  if (ext == "txt") return "text/plain";
  return "";
}

std::string DerivedCallId(std::string_view scope, size_t n) {
  return absl::StrCat("call_", AV(scope), "_", n);
}

absl::Status WriteFunctionCall(W& w, std::string_view id, std::string_view name,
                               std::string_view arguments) {
  thread_local protocol::ScratchDomParser parser;
  std::string_view text = arguments.empty() ? std::string_view("{}") : arguments;
  element args;
  if (parser.parse(text.data(), text.size(), true).get(args) || !args.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("arguments of tool call '", AV(id), "' are not a JSON object"));
  }
  w.StartObject();
  if (!id.empty()) Str(w, "id"), Str(w, id);
  Str(w, "name"), Str(w, name), Str(w, "args");
  json::Raw(w, simdjson::minify(args));
  w.EndObject();
  return absl::OkStatus();
}

absl::StatusOr<std::string> ArgsText(object call, std::string_view path) {
  element args;
  if (!Has(call, "args", &args)) return std::string("{}");
  if (!args.is_object()) return Bad(Sub(path, "args"), "must be an object");
  return std::string(simdjson::minify(args));
}

}  // namespace internal

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;
using W = internal::W;
using Kind = ContentPart::Kind;
using internal::Key;
using json::Bad;
using json::Has;
using json::Idx;
using json::OptString;
using json::ParseObject;
using json::Str;
using json::Sub;

}  // namespace

absl::StatusOr<CanonicalResponse> ParseResponse(std::string_view json) {
  thread_local protocol::ScratchDomParser parser;
  ASSIGN_OR_RETURN(object root, ParseObject(parser, json, "upstream response"));
  element e;
  if (Has(root, "error", &e)) return Bad("error", "is set: the upstream returned an error");
  CanonicalResponse resp;
  std::string k = Key(root, "responseId");
  ASSIGN_OR_RETURN(std::optional<std::string> id, OptString(root, k, k));
  // No responseId: the ids stay empty for the caller's FillMissingIds (a
  // hash of the body would repeat for equal answers).
  resp.id = id && !id->empty() ? std::move(*id) : std::string();
  k = Key(root, "modelVersion");
  ASSIGN_OR_RETURN(std::optional<std::string> model, OptString(root, k, k));
  resp.model = model.value_or("");
  k = Key(root, "usageMetadata");
  if (Has(root, k, &e)) {
    object usage;
    if (e.get_object().get(usage)) return Bad(k, "must be an object");
    ASSIGN_OR_RETURN(resp.usage, internal::ParseUsage(usage, k));
  }
  array candidates;
  if (!Has(root, "candidates", &e) || e.get_array().get(candidates) || candidates.size() == 0) {
    // A blocked prompt has no candidates, only promptFeedback.blockReason.
    object feedback;
    k = Key(root, "promptFeedback");
    if (Has(root, k, &e) && !e.get_object().get(feedback)) {
      std::string br = Key(feedback, "blockReason");
      ASSIGN_OR_RETURN(std::optional<std::string> reason, OptString(feedback, br, Sub(k, br)));
      if (reason) {
        resp.finish_reason = FinishReason::kContentFilter;
        return resp;
      }
    }
    return Bad("candidates", "must be a non-empty array");
  }
  object cand;
  if (candidates.at(0).get_object().get(cand)) return Bad("candidates[0]", "must be an object");
  object content;
  if (Has(cand, "content", &e)) {
    if (e.get_object().get(content)) return Bad("candidates[0].content", "must be an object");
    array parts;
    element pe;
    if (Has(content, "parts", &pe)) {
      if (pe.get_array().get(parts)) return Bad("candidates[0].content.parts", "must be an array");
      size_t i = 0, calls = 0;
      for (element p : parts) {
        json::Path path = Idx("candidates[0].content.parts", i++);
        object part;
        if (p.get_object().get(part)) return Bad(path, "must be an object");
        if (internal::IsServerToolPart(part)) {
          ++resp.skipped_server_tool_items;
          continue;
        }
        RETURN_IF_ERROR(internal::ParseModelPart(part, path, resp.id, &calls, &resp.content,
                                                 /*derive_ids=*/!resp.id.empty()));
      }
    }
  }
  k = Key(cand, "finishReason");
  ASSIGN_OR_RETURN(std::optional<std::string> finish, OptString(cand, k, Sub("candidates[0]", k)));
  if (finish) {
    resp.finish_reason = internal::FinishFromGemini(*finish);
    if (resp.finish_reason) resp.gemini_finish_reason = *finish;
  }
  bool calls = std::any_of(resp.content.begin(), resp.content.end(),
                           [](const ContentPart& p) { return p.kind == Kind::kToolCall; });
  if (calls && resp.finish_reason.value_or(FinishReason::kStop) == FinishReason::kStop) {
    resp.finish_reason = FinishReason::kToolCalls;
  }
  return resp;
}

absl::StatusOr<std::string> RenderResponse(const CanonicalResponse& resp,
                                           std::string_view client_model) {
  rapidjson::StringBuffer buf;
  W w(buf);
  w.StartObject();
  Str(w, "candidates");
  w.StartArray();
  w.StartObject();
  FinishReason reason = resp.finish_reason.value_or(FinishReason::kStop);
  std::vector<const ContentPart*> parts;
  for (const ContentPart& p : resp.content) parts.push_back(&p);
  absl::StatusOr<std::string> rendered = internal::RenderModelParts(parts, false);
  if (!rendered.ok()) return rendered.status();
  // No parts: blocked output has no content; otherwise one empty text part.
  bool none = rendered->size() == 2;
  if (!none || reason != FinishReason::kContentFilter) {
    std::string_view text = none ? std::string_view(R"([{"text":""}])") : *rendered;
    Str(w, "content");
    w.StartObject();
    Str(w, "role"), Str(w, "model"), Str(w, "parts");
    w.RawValue(text.data(), text.size(), rapidjson::kArrayType);
    w.EndObject();
  }
  Str(w, "finishReason"), Str(w, internal::FinishForClient(reason, resp.gemini_finish_reason));
  Str(w, "index"), w.Int(0);
  w.EndObject();
  w.EndArray();
  if (resp.usage) internal::WriteUsage(w, *resp.usage);
  Str(w, "modelVersion"), Str(w, client_model);
  Str(w, "responseId"), Str(w, resp.id);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace bitrouter::protocol::gemini
