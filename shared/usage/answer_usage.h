#pragma once
// Token usage read from an answer's own JSON, per wire protocol, with the
// same parsers the translation uses (so OpenRouter's cache writes, DeepSeek's
// cache hits, Gemini's thought and cached tokens mean the same everywhere).
// Absent or malformed usage is nullopt: the caller estimates instead.
//
// Thread: pure functions; any thread.

#include <simdjson.h>

#include <cstdint>
#include <optional>

#include "shared/protocol/adapters.h"
#include "shared/protocol/canonical.h"

namespace bitrouter::usage {

// A whole answer object (a JSON answer; a Chat chunk; a Gemini chunk; the
// `response` of a Responses terminal event): Chat, Messages and Responses
// read "usage", Gemini "usageMetadata".
std::optional<protocol::Usage> AnswerUsage(protocol::Protocol p, simdjson::dom::object root);

// Messages splits usage over message_start and message_delta; each field as
// reported (input_tokens excludes the cache reads and writes).
struct MessagesUsageFields {
  std::optional<int64_t> input, output, cache_read, cache_write;
};
MessagesUsageFields ReadMessagesUsage(simdjson::dom::object usage);
protocol::Usage MessagesUsage(const MessagesUsageFields& f);

}  // namespace bitrouter::usage
