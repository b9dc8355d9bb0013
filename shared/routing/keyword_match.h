#pragma once
// Keyword tests for the classifiers: a keyword (lowercase ASCII) found in a
// lowercased text, as a substring (Rungate's behaviour: "trust" holds
// "rust") or as a whole word (no letter, digit or '_' on either side).

#include <string>
#include <string_view>

namespace bitrouter::routing {

// ASCII lowercase (other bytes unchanged).
std::string LowerAscii(std::string_view text);

// `text` must already be lowercase; an empty keyword never matches.
bool ContainsKeyword(std::string_view text, std::string_view keyword, bool whole_word);

}  // namespace bitrouter::routing
