#pragma once
// Chat Completions pieces shared by chat_adapter.cc (whole bodies) and
// chat_stream.cc (stream chunks). Not part of the adapter's interface.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "shared/protocol/canonical.h"

namespace bitrouter::protocol::chat::internal {

// A `usage` object: prompt/completion tokens, prompt_tokens_details.
// cached_tokens, completion_tokens_details.reasoning_tokens.
absl::StatusOr<Usage> ParseUsage(simdjson::dom::object usage);

// Message content: a string or an array of parts. Images and files only
// where `allow_media` (user messages).
absl::StatusOr<std::vector<ContentPart>> ParseContent(simdjson::dom::element content,
                                                      std::string_view path, bool allow_media);
// The `tool_calls` of a message, appended to `out`.
absl::Status ParseToolCalls(simdjson::dom::object m, std::string_view path,
                            std::vector<ContentPart>* out);
void RenderToolCalls(rapidjson::Writer<rapidjson::StringBuffer>& w,
                     const std::vector<const ContentPart*>& calls);
// "stop" | "length" | "tool_calls" | "content_filter" (absent: "stop").
const char* FinishName(std::optional<FinishReason> reason);

// The OpenAI string forms of tool_choice ("auto", "none", "required"), shared
// by Chat and Responses; InvalidArgument naming the value otherwise.
absl::StatusOr<ToolChoice::Mode> ToolChoiceMode(std::string_view value);

}  // namespace bitrouter::protocol::chat::internal
