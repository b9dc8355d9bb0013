#pragma once
// Guardrails over a whole JSON body (a client's request, a JSON answer):
// every string that carries content - system prompts, message text, tool
// results, tool-call arguments (whether a JSON string or an object, both
// scanned as JSON text, as when they stream), in any of the four protocols -
// is scanned; strings that only name or describe
// things (model, role, type, ids, tool definitions and their schemas,
// base64 media) are not, so a schema's example e-mail or an image's bytes
// never trip a pattern.
//
// The body is walked once (simdjson); it is rewritten only when a redact
// rule matched (RapidJSON, the one place a body is re-serialised), so a body
// with nothing to redact goes on byte for byte.
//
// Thread: any (the parsers are thread-local). Pure functions of the input.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "shared/guardrails/guard.h"

namespace bitrouter::worker {

struct JsonScan {
  std::vector<guardrails::Match> matches;  // offsets are per string: only rule and action count
  guardrails::Action strongest = guardrails::Action::kNone;
};

// `body` must be followed by protocol::kJsonPadding readable bytes.
// InvalidArgument when it is not JSON (the caller's body check answers that).
absl::StatusOr<JsonScan> ScanJsonBody(const guardrails::Guard& guard, guardrails::Direction d,
                                      std::string_view body);

// `body` with every redact match of every scanned string replaced by
// "[REDACTED]" (same structure, same key order; numbers and other strings
// unchanged).
absl::StatusOr<std::string> RedactJsonBody(const guardrails::Guard& guard, guardrails::Direction d,
                                           std::string_view body);

// Keys whose values are never scanned (exposed for tests).
bool SkippedJsonKey(std::string_view key);

}  // namespace bitrouter::worker
