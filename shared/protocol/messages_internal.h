#pragma once
// Anthropic Messages pieces shared by messages_adapter.cc (whole bodies) and
// messages_stream.cc (stream events). Not part of the adapter's interface.

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "shared/protocol/canonical.h"
#include "shared/protocol/json_fields.h"

namespace bitrouter::protocol::messages::internal {

// An answer's content block produced by Anthropic's own server-side tools
// (server_tool_use, mcp_tool_use, container_upload, web_search_tool_result and
// the other *_tool_result blocks): the upstream ran them itself and no other
// protocol can carry them, so translated answers skip them, JSON and stream
// alike (CanonicalResponse::skipped_server_tool_items).
bool IsServerToolBlock(std::string_view type);

// stop_reason -> finish reason: max_tokens and model_context_window_exceeded
// -> length, tool_use -> tool calls, refusal -> content filter, anything else
// (end_turn, stop_sequence, pause_turn) -> stop.
FinishReason FinishFromStopReason(std::string_view stop_reason);
// The reverse; a stop with a known stop sequence is "stop_sequence".
const char* StopReasonName(std::optional<FinishReason> reason, bool stop_sequence_fired);

// One content block of a request or response (messages_render.cc);
// InvalidArgument when Messages cannot carry it.
absl::Status RenderBlock(json::Writer& w, const ContentPart& p);

}  // namespace bitrouter::protocol::messages::internal
