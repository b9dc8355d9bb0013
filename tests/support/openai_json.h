#pragma once
// Canonical OpenAI chat-completions bodies and tiny JSON helpers for tests.

#include <string>
#include <string_view>
#include <vector>

namespace bitrouter::testing {

// A chat.completion object (id "chatcmpl-fake", created 1700000000). usage:
// prompt_tokens=10, completion_tokens=number of whitespace-separated words in
// content (min 1), total_tokens=sum.
std::string ChatCompletionJson(std::string_view model, std::string_view content);

// SSE events, one string per event: "data: {chat.completion.chunk}\n\n" per
// piece (the first delta also carries role "assistant"), then a chunk with an
// empty delta and finish_reason "stop", then (if include_usage) a usage chunk
// with "choices":[] (prompt_tokens=10, completion_tokens=pieces.size()), then
// "data: [DONE]\n\n".
std::vector<std::string> ChatCompletionSseChunks(std::string_view model,
                                                 const std::vector<std::string>& pieces,
                                                 bool include_usage = false);

// JSON string escaping (without surrounding quotes).
std::string JsonEscape(std::string_view s);
// Naive lookups of the first occurrence of "key" (at any depth), tolerant of
// whitespace around ':'. JsonStringField returns "" if absent / not a string;
// JsonBoolField returns true iff the value is the literal true.
std::string JsonStringField(std::string_view json, std::string_view key);
bool JsonBoolField(std::string_view json, std::string_view key);

}  // namespace bitrouter::testing
