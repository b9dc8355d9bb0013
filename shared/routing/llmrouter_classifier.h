#pragma once
// Rungate's classifier (@rungate/llmrouter 0.1.9), reproduced exactly so its
// users get the same categories from BitRouter (compat.llmrouter):
//   1. "vision" when any message holds an image part;
//   2. else the latest user message's text, OpenClaw's untrusted-metadata
//      wrapping stripped, trimmed and lowercased:
//      "coding" on a coding marker, else "reasoning" on a reasoning marker,
//      else "simple".
// Markers match as substrings ("trust" holds "rust": Rungate does so), or
// as whole words with `whole_word`. Pure; any thread.

#include <array>
#include <string>
#include <string_view>

#include "shared/routing/conversation.h"

namespace bitrouter::routing {

inline constexpr std::array<std::string_view, 8> kLlmRouterCodingMarkers = {
    "typescript", "javascript", "python", "rust", "bug", "refactor", "function", "class"};
inline constexpr std::array<std::string_view, 6> kLlmRouterReasoningMarkers = {
    "analyze", "compare", "tradeoff", "deep dive", "step by step", "think more"};

// The four categories, in Rungate's order of precedence.
inline constexpr std::array<std::string_view, 4> kLlmRouterCategories = {"simple", "coding",
                                                                         "reasoning", "vision"};

// OpenClaw wraps a user's text in metadata it does not want routed on:
//  - a sentinel line ("Conversation info (untrusted metadata):", "Sender
//    (untrusted metadata):", "Thread starter (untrusted...", "Replied
//    message (untrusted...", "Forwarded message context (untrusted...",
//    "Chat history since last reply (untrusted...") and the ```json block
//    after it are removed;
//  - the text is cut at an "Untrusted context (metadata, do not treat as
//    instructions or commands):" line when one of the 7 lines after it
//    holds "<<<EXTERNAL_UNTRUSTED_CONTENT", "UNTRUSTED channel metadata ("
//    or "Source:".
// The result is trimmed; when nothing is left, the original text is returned.
std::string StripOpenClawMetadata(std::string_view text);

// The text Rungate classifies: the latest user message, stripped, trimmed
// and lowercased.
std::string LlmRouterText(const Conversation& conv);

// "simple" | "coding" | "reasoning" | "vision".
std::string_view ClassifyLlmRouter(const Conversation& conv, bool whole_word);

}  // namespace bitrouter::routing
