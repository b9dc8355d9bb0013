#pragma once
// The canonical request/response form every wire-protocol adapter parses into
// and renders from (non-streaming). Plain data: no JSON library types leak
// out. "Absent" is an empty optional / empty string / empty vector, and
// renderers omit absent fields (they never write JSON null).
//
// Raw JSON members (tool parameters, JSON schemas, tool-call arguments) hold
// minified JSON text exactly as the client or upstream sent it.
//
// Thread: values only; safe to move between threads.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"

namespace bitrouter::protocol {

// kSystem: a system instruction inside the conversation (Anthropic's
// mid-conversation {"role":"system"} message), text parts only. Top-level
// system prompts stay in CanonicalRequest::system.
enum class Role { kUser, kAssistant, kTool, kSystem };

struct ContentPart {
  enum class Kind {
    kText,              // text
    kImage,             // image_url, or media_type + data (base64)
    kThinking,          // text = thinking text, signature = Anthropic signature
    kRedactedThinking,  // data = opaque Anthropic payload
    kToolCall,          // tool_call_id, name, arguments (assistant)
    kToolResult,        // tool_call_id, result, is_error (role kTool)
    // A file (PDF, plain text, ...): media_type + data (base64), or image_url
    // (a URL; media_type when known), or a plain-text document (media_type
    // "text/plain", text = its content, data empty). name = filename/title.
    kDocument,
  };
  Kind kind = Kind::kText;
  std::string text;
  std::string image_url;   // url for kImage/kDocument (never a data: URL; those are decoded)
  std::string media_type;  // kImage/kDocument, e.g. "image/png", "application/pdf"
  std::string data;        // kImage/kDocument base64 payload / kRedactedThinking payload
  std::string signature;   // kThinking
  std::string tool_call_id;
  std::string name;                 // kToolCall function name / kDocument filename or title
  std::string arguments;            // kToolCall: JSON text (an object), "{}" when empty
  std::vector<ContentPart> result;  // kToolResult: text/image/document parts
  bool is_error = false;            // kToolResult
  // kText in an answer: the model's refusal (Chat message.refusal, a
  // Responses refusal part). Protocols without a refusal field carry it as
  // plain text.
  bool refusal = false;

  static ContentPart Text(std::string t) {
    ContentPart p;
    p.text = std::move(t);
    return p;
  }
};

struct Message {
  Role role = Role::kUser;
  // User: text/image/document. Assistant: text/thinking/redacted/tool calls, in the
  // order produced. Tool: one or more kToolResult parts.
  std::vector<ContentPart> content;
};

struct Tool {
  std::string name;
  std::string description;     // empty = absent
  std::string parameters;      // JSON schema text; empty = absent
  std::optional<bool> strict;  // OpenAI strict schema adherence, when the client said
};

struct ToolChoice {
  enum class Mode { kAuto, kNone, kRequired, kSpecific };
  Mode mode = Mode::kAuto;
  std::string name;  // kSpecific
};

struct ResponseFormat {
  enum class Type { kText, kJsonObject, kJsonSchema };
  Type type = Type::kText;
  std::string name;         // kJsonSchema (OpenAI requires one)
  std::string description;  // optional
  std::string schema;       // kJsonSchema: JSON schema text
  std::optional<bool> strict;
};

struct Thinking {
  enum class Mode { kEnabled, kDisabled, kAdaptive };
  Mode mode = Mode::kEnabled;
  std::optional<int64_t> budget_tokens;
};

// What a Responses answer must echo of the request that produced it, filled by
// responses::ParseRequest (Responses clients only) and read by the Responses
// renderer and stream encoder.
struct ResponsesEcho {
  // Request members the response object echoes (tools, tool_choice, text,
  // temperature, ...), as the client sent them (minified JSON text), in
  // request order. Members not sent get the specification's defaults.
  std::vector<std::pair<std::string, std::string>> members;
  // Function tools flattened out of "namespace" tools: `flat` is the name
  // sent upstream, (ns, name) what the client's function_call items carry.
  struct Namespaced {
    std::string flat;
    std::string ns;
    std::string name;
  };
  std::vector<Namespaced> namespaced;
  // "custom" tools (free-form text input, e.g. Codex's apply_patch), sent
  // upstream as a function with one string argument "input"; their calls go
  // back to the client as custom_tool_call items.
  std::vector<std::string> custom_tools;
  bool IsCustom(std::string_view name) const {
    for (const std::string& c : custom_tools) {
      if (c == name) return true;
    }
    return false;
  }

  // The member's JSON text, or "" when the client did not send it.
  std::string_view Member(std::string_view key) const {
    for (const auto& [k, v] : members) {
      if (k == key) return v;
    }
    return {};
  }
  // The namespaced tool sent upstream as `flat`, or nullptr.
  const Namespaced* FindFlat(std::string_view flat) const {
    for (const Namespaced& n : namespaced) {
      if (n.flat == flat) return &n;
    }
    return nullptr;
  }
};

struct CanonicalRequest {
  std::string model;
  std::vector<std::string> system;  // system/developer prompts, in order
  std::vector<Message> messages;
  std::vector<Tool> tools;
  std::optional<ToolChoice> tool_choice;
  std::optional<bool> parallel_tool_calls;
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  // Sampling controls only Chat and Gemini carry (Gemini generationConfig
  // seed / frequencyPenalty / presencePenalty); Messages and Responses have
  // no such parameter, so their renderers leave them out on purpose.
  std::optional<int64_t> seed;
  std::optional<double> frequency_penalty;
  std::optional<double> presence_penalty;
  std::vector<std::string> stop;
  bool stream = false;
  std::optional<ResponseFormat> response_format;
  std::optional<std::string> reasoning_effort;   // e.g. "low", "medium", "high"
  std::optional<std::string> reasoning_summary;  // Responses reasoning.summary ("auto", ...)
  std::optional<Thinking> thinking;              // Anthropic extended thinking
  // Client tools no translated upstream can run (Responses hosted tools such
  // as web_search, custom tools): left out of the upstream request, by
  // name (or type when unnamed); the worker reports them in a header.
  std::vector<std::string> dropped_tools;
  // Chat web_search_options (minified JSON text): only a Chat upstream can
  // carry it; every other renderer refuses the request naming it (see
  // RejectWebSearchOptions), rather than answering without the search.
  std::optional<std::string> web_search_options;
  ResponsesEcho responses_echo;
};

enum class FinishReason { kStop, kLength, kToolCalls, kContentFilter };

struct Usage {
  // prompt_tokens counts ALL input tokens, including cache reads and writes
  // (OpenAI semantics); Anthropic's input_tokens excludes both.
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;  // includes reasoning tokens
  std::optional<int64_t> reasoning_tokens;
  std::optional<int64_t> cache_read_tokens;
  std::optional<int64_t> cache_write_tokens;
};

struct CanonicalResponse {
  std::string id;
  std::string model;
  std::optional<int64_t> created;       // unix seconds (OpenAI); absent -> renderer uses now
  std::optional<int64_t> completed_at;  // unix seconds; absent -> `created`
  // The request this answers, for protocols whose responses echo it
  // (Responses); nullptr = unknown. Must outlive rendering.
  const ResponsesEcho* echo = nullptr;
  // kText, kThinking, kRedactedThinking, kToolCall, in order.
  std::vector<ContentPart> content;
  std::optional<FinishReason> finish_reason;
  // A Gemini upstream's own finishReason (e.g. MALFORMED_FUNCTION_CALL,
  // RECITATION), which FinishReason cannot tell apart; a Gemini client gets it
  // back unchanged. "" = none (derive one from finish_reason).
  std::string gemini_finish_reason;
  std::optional<std::string> stop_sequence;  // which stop sequence fired, when known
  std::optional<Usage> usage;
  // Items the upstream's own server-side tools produced (Responses
  // web_search_call, Messages server_tool_use / *_tool_result, Gemini
  // executableCode, ...): no other protocol can carry them, so a translated
  // answer leaves them out, and counts them here for the usage record.
  int skipped_server_tool_items = 0;
};

// The filename OpenAI requires beside inline file data: the document's name,
// else "document" with an extension for the common types.
inline std::string DocumentFilename(const ContentPart& p) {
  if (!p.name.empty()) return p.name;
  if (p.media_type == "application/pdf") return "document.pdf";
  if (p.media_type == "text/plain") return "document.txt";
  return "document";
}

// Every kToolResult must answer a kToolCall from an earlier assistant message,
// and no call id may be answered twice. InvalidArgument with a client-facing
// message otherwise.
inline absl::Status ValidateToolResults(const CanonicalRequest& req) {
  std::set<std::string> open_calls;
  std::set<std::string> answered;
  for (const Message& m : req.messages) {
    for (const ContentPart& p : m.content) {
      if (p.kind == ContentPart::Kind::kToolCall) open_calls.insert(p.tool_call_id);
      if (p.kind != ContentPart::Kind::kToolResult) continue;
      if (!open_calls.count(p.tool_call_id)) {
        return absl::InvalidArgumentError(
            absl::StrCat("tool result for '", AV(p.tool_call_id),
                         "' has no matching tool call in an earlier assistant message"));
      }
      if (!answered.insert(p.tool_call_id).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("tool call '", AV(p.tool_call_id), "' is answered twice"));
      }
    }
  }
  return absl::OkStatus();
}

// InvalidArgument naming web_search_options when `req` has it: for renderers
// of protocols (`upstream`, e.g. "Anthropic Messages API") that cannot carry it.
inline absl::Status RejectWebSearchOptions(const CanonicalRequest& req, std::string_view upstream) {
  if (!req.web_search_options) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("web_search_options is not supported by this upstream (", AV(upstream), ")"));
}

// What every parsed request must satisfy, whatever its protocol: at least one
// message, no message without content (an empty turn would be dropped or
// rejected upstream), a positive token limit, and consistent tool results.
inline absl::Status ValidateConversation(const CanonicalRequest& req) {
  bool conversation = false;
  for (const Message& m : req.messages) conversation = conversation || m.role != Role::kSystem;
  if (!conversation) {
    return absl::InvalidArgumentError("the request has no user or assistant message");
  }
  for (size_t i = 0; i < req.messages.size(); ++i) {
    bool has_content = false;
    for (const ContentPart& p : req.messages[i].content) {
      has_content = has_content || p.kind != ContentPart::Kind::kText || !p.text.empty();
    }
    if (!has_content) {
      return absl::InvalidArgumentError(absl::StrCat(
          "message ", i + 1, " of the conversation has no content (empty text or no parts)"));
    }
  }
  if (req.max_tokens && *req.max_tokens < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the output token limit must be at least 1 (got ", *req.max_tokens, ")"));
  }
  return ValidateToolResults(req);
}

}  // namespace bitrouter::protocol
