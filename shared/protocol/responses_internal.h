#pragma once
// Pieces shared by the Responses request, response and stream code: ids,
// usage, reasoning items and the output-item / response-object writers (the
// stream encoder's response.completed carries the same object a non-streaming
// call returns).
//
// Reasoning mapping (both directions):
//   reasoning item with summary/content text  <-> kThinking (text = the parts
//     joined with "\n\n", signature = encrypted_content)
//   reasoning item without text but with encrypted_content <-> kRedactedThinking
//     (data = encrypted_content)
//   reasoning item with neither -> dropped.
// So an Anthropic signature travels to a Responses client as the reasoning
// item's encrypted_content and comes back on the next turn unchanged.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "absl/status/statusor.h"
#include "shared/protocol/canonical.h"
#include "shared/protocol/json_fields.h"

namespace bitrouter::protocol::responses::internal {

// The client-facing response id: `raw` when it already is a "resp_" id,
// else "resp_" + its id-safe characters; "resp_<fallback>" when `raw` is empty.
std::string ResponseId(std::string_view raw, std::string_view fallback);
// Deterministic item id "<prefix>_<response id without resp_>_<index>".
std::string ItemId(std::string_view prefix, std::string_view response_id, size_t index);

absl::StatusOr<Usage> ParseUsage(simdjson::dom::object usage, std::string_view path);
void WriteUsage(json::Writer& w, const Usage& u);

// A reasoning item as canonical content (see the mapping above); nullopt when
// it carries nothing.
absl::StatusOr<std::optional<ContentPart>> ParseReasoning(simdjson::dom::object item,
                                                          std::string_view path);

// An output item type produced by OpenAI's hosted tools (web_search_call,
// file_search_call, code_interpreter_call, image_generation_call, mcp_call,
// mcp_list_tools): the upstream ran the tool itself and no other protocol can
// carry the item, so translated answers skip it, JSON and stream alike
// (CanonicalResponse::skipped_server_tool_items). Client-executed items
// (computer_call, local_shell_call, ...) are not among them.
bool IsServerToolItem(std::string_view type);

// One output item for canonical part `p` (kText, kThinking,
// kRedactedThinking, kToolCall) at output index `index`; `status` is
// "incomplete" for an item a failure cut short.
void WriteOutputItem(json::Writer& w, const ContentPart& p, std::string_view response_id,
                     size_t index, const ResponsesEcho* echo = nullptr,
                     std::string_view status = "completed");
// A message content part: output_text (with empty annotations), or a
// refusal part when `refusal`.
void WriteTextPart(json::Writer& w, std::string_view text, bool refusal);
// A function_call item's name (and namespace, for a flattened namespace
// tool) as the client knows it.
void WriteCallName(json::Writer& w, std::string_view flat, const ResponsesEcho* echo);
// The tool call's call_id ("" -> derived from the item position).
std::string CallId(const ContentPart& p, std::string_view response_id, size_t index);

// Request side (responses_tools.cc): function and namespace tools into
// req->tools (namespace members flattened), other tools into
// req->dropped_tools; tool_choice; the members the answer echoes.
absl::Status ParseTools(simdjson::dom::object root, CanonicalRequest* req);
absl::Status ParseToolChoice(simdjson::dom::object root, CanonicalRequest* req);
void CollectEcho(simdjson::dom::object root, ResponsesEcho* echo);
// The flat name "<ns>__<name>" sent upstream for a namespaced function,
// recorded in `echo` so answers map back.
// A custom tool's free-form input as the arguments of the function it is sent
// upstream as ({"input": ...}), and back (the raw arguments when they are not
// that shape).
std::string CustomArguments(std::string_view input);
std::string CustomInput(std::string_view arguments);

std::string RegisterNamespaced(std::string_view ns, std::string_view name, ResponsesEcho* echo);

struct ResponseObject {
  std::string_view id;
  int64_t created_at = 0;
  std::string_view status;  // in_progress, completed, incomplete, failed
  std::string_view model;
  const std::vector<ContentPart>* output = nullptr;  // null: "output":[]
  bool last_incomplete = false;  // the last output item was cut short (a failure)
  const Usage* usage = nullptr;
  std::string_view incomplete_reason;  // "" = none
  std::string_view error_code;         // "" = no error object
  std::string_view error_message;
  std::optional<int64_t> completed_at;  // null when absent
  const ResponsesEcho* echo = nullptr;  // request members; nullptr = defaults
};
void WriteResponse(json::Writer& w, const ResponseObject& r);

// The finish reason the client gets, and the response status for it.
std::string_view StatusFor(std::optional<FinishReason> reason);
std::string_view IncompleteReasonFor(std::optional<FinishReason> reason);

}  // namespace bitrouter::protocol::responses::internal
