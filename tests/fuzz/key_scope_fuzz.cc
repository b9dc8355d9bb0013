// Fuzzes the virtual keys' scope patterns: GlobMatch against a reference
// dynamic-programming matcher, PatternAllows / ValidatePatterns never crash,
// and a key's secret hash is stable. Input: "pattern\ntext" (provider:model).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shared/keys/virtual_key.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool Reference(std::string_view p, std::string_view t) {
  // match[i][j]: p[0..i) matches t[0..j).
  std::vector<std::vector<char>> m(p.size() + 1, std::vector<char>(t.size() + 1, 0));
  m[0][0] = 1;
  for (size_t i = 1; i <= p.size(); ++i) {
    for (size_t j = 0; j <= t.size(); ++j) {
      if (p[i - 1] == '*') {
        m[i][j] = m[i - 1][j] || (j > 0 && m[i][j - 1]);
      } else {
        m[i][j] = j > 0 && m[i - 1][j - 1] && p[i - 1] == t[j - 1];
      }
    }
  }
  return m[p.size()][t.size()];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view pattern = in.substr(0, nl);
  std::string_view text = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  if (pattern.size() <= 64 && text.size() <= 256) {
    FUZZ_CHECK(bitrouter::keys::GlobMatch(pattern, text) == Reference(pattern, text));
  }
  FUZZ_CHECK(bitrouter::keys::GlobMatch("*", text));
  size_t colon = text.find(':');
  std::string_view provider = colon == std::string_view::npos ? "" : text.substr(0, colon);
  std::string_view model = colon == std::string_view::npos ? text : text.substr(colon + 1);
  bool allowed = bitrouter::keys::PatternAllows(pattern, provider, model);
  std::vector<std::string> scope = {std::string(pattern)};
  if (bitrouter::keys::ValidatePatterns(scope).ok()) {
    FUZZ_CHECK(bitrouter::keys::ScopeAllows(scope, provider, model) == allowed);
  }
  FUZZ_CHECK(bitrouter::keys::ScopeAllows({}, provider, model));
  FUZZ_CHECK(bitrouter::keys::HashRaw(in) ==
             bitrouter::keys::HexToRaw(bitrouter::keys::HashHex(in)));
  return 0;
}
