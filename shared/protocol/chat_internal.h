#pragma once
// Chat Completions pieces shared by chat_adapter.cc (whole bodies) and
// chat_stream.cc (stream chunks). Not part of the adapter's interface.

#include <simdjson.h>

#include "absl/status/statusor.h"
#include "shared/protocol/canonical.h"

namespace bitrouter::protocol::chat::internal {

// A `usage` object: prompt/completion tokens, prompt_tokens_details.
// cached_tokens, completion_tokens_details.reasoning_tokens.
absl::StatusOr<Usage> ParseUsage(simdjson::dom::object usage);

}  // namespace bitrouter::protocol::chat::internal
