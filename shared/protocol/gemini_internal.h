#pragma once
// Helpers shared by the Gemini request, response and stream code (not a
// public interface: include only from gemini_*.cc).
//
// Usage conversion (documented once here):
//   Gemini promptTokenCount includes cachedContentTokenCount (like OpenAI
//   prompt_tokens), so canonical prompt_tokens = promptTokenCount +
//   toolUsePromptTokenCount and cache_read_tokens = cachedContentTokenCount.
//   Gemini candidatesTokenCount EXCLUDES thoughtsTokenCount, while canonical
//   completion_tokens includes reasoning: completion_tokens =
//   candidatesTokenCount + thoughtsTokenCount, reasoning_tokens =
//   thoughtsTokenCount. Rendering reverses it: candidatesTokenCount =
//   completion_tokens - reasoning_tokens, totalTokenCount = prompt +
//   completion. Gemini has no cache-write count (cache_write_tokens are
//   already part of prompt_tokens and are not rendered separately).
//
// Thought signatures: canonical carries a signature only on a kThinking
// part. A Gemini thoughtSignature on a thought part stays on that part; one
// on any other part (text, functionCall) becomes a kThinking part with empty
// text placed just before it, and rendering attaches such a signature-only
// part back onto the part that follows it.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "shared/protocol/canonical.h"

namespace bitrouter::protocol::gemini::internal {

using W = rapidjson::Writer<rapidjson::StringBuffer>;

// The key under which `o` holds a field: `camel` when present, else its
// snake_case spelling when present, else `camel` (Google's API accepts both).
std::string Key(simdjson::dom::object o, std::string_view camel);

// usageMetadata -> canonical usage (see the header comment).
absl::StatusOr<Usage> ParseUsage(simdjson::dom::object usage, std::string_view path);
void WriteUsage(W& w, const Usage& u);

// A Gemini finishReason; nullopt for FINISH_REASON_UNSPECIFIED.
std::optional<FinishReason> FinishFromGemini(std::string_view reason);
const char* FinishToGemini(FinishReason r);
// The finishReason a Gemini client gets: the Gemini upstream's own `raw`
// reason when there is one (MALFORMED_FUNCTION_CALL, RECITATION, ... have no
// canonical FinishReason of their own), else FinishToGemini(r).
std::string_view FinishForClient(FinishReason r, std::string_view raw);

// A model-turn part produced by Gemini's own code execution tool
// (executableCode, codeExecutionResult): the upstream ran it itself and no
// other protocol can carry it, so translated answers skip it, JSON and stream
// alike (CanonicalResponse::skipped_server_tool_items).
bool IsServerToolPart(simdjson::dom::object part);

// A MIME type (image/*, application/pdf, text/plain) guessed from a URL's
// extension ("" when unknown).
std::string MimeFromUrl(std::string_view url);

// A deterministic tool-call id for a Gemini functionCall without one.
std::string DerivedCallId(std::string_view scope, size_t n);

// Writes a functionCall part body value {"id"?,"name","args"} from canonical
// arguments JSON text; InvalidArgument when they are not a JSON object.
absl::Status WriteFunctionCall(W& w, std::string_view id, std::string_view name,
                               std::string_view arguments);

// Minified JSON text of a functionCall's args ("{}" when absent); `args` must
// be an object.
absl::StatusOr<std::string> ArgsText(simdjson::dom::object call, std::string_view path);

// Parses one part of a model turn into canonical parts (thought signatures as
// described above). A functionCall without an id gets DerivedCallId(scope, n)
// where scope is `id_scope`, or the call's name when `id_scope` is empty, and
// n = *calls, which counts the calls seen; with `derive_ids` false it stays
// empty (an answer without responseId: see FillMissingIds).
absl::Status ParseModelPart(simdjson::dom::object part, std::string_view path,
                            std::string_view id_scope, size_t* calls, std::vector<ContentPart>* out,
                            bool derive_ids = true);

// Renders assistant parts as a Gemini parts array (JSON text; "[]" when none
// renders). Redacted thinking has no Gemini form and is dropped.
// `inject_signature`: when no functionCall carries a signature, the first
// functionCall gets Google's documented placeholder signature (Gemini 3
// rejects a function-calling turn without one, e.g. history from a client of
// another protocol).
absl::StatusOr<std::string> RenderModelParts(const std::vector<const ContentPart*>& parts,
                                             bool inject_signature);

}  // namespace bitrouter::protocol::gemini::internal
