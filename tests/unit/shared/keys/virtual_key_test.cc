#include "shared/keys/virtual_key.h"

#include <gtest/gtest.h>

#include <set>

#include "absl/strings/ascii.h"

namespace bitrouter::keys {
namespace {

TEST(VirtualKey, SecretsAreBrvkPlus32RandomBytesAndOnlyTheirHashIsKept) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto k = GenerateKey();
    ASSERT_TRUE(k.ok());
    EXPECT_EQ(k->secret.size(), kSecretLength);
    EXPECT_EQ(k->secret.rfind("brvk_", 0), 0u);
    for (char c : k->secret.substr(5)) {
      EXPECT_TRUE(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')
          << k->secret;
    }
    EXPECT_EQ(k->hash_hex, HashHex(k->secret));
    EXPECT_EQ(k->hash_hex.size(), 64u);
    EXPECT_EQ(HexToRaw(k->hash_hex), HashRaw(k->secret));
    EXPECT_EQ(k->prefix, k->secret.substr(0, 12));
    EXPECT_EQ(k->id.size(), 4u + 16u);
    EXPECT_TRUE(seen.insert(k->secret).second);
  }
  EXPECT_EQ(HashHex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexToRaw("zz"), "");
}

TEST(VirtualKey, PatternsMatchProviderAndModelGlobs) {
  EXPECT_TRUE(ScopeAllows({}, "any", "thing"));
  std::vector<std::string> scope = {"openai:*", "anthropic:claude-*"};
  EXPECT_TRUE(ScopeAllows(scope, "openai", "gpt-4o"));
  EXPECT_TRUE(ScopeAllows(scope, "anthropic", "claude-sonnet-4"));
  EXPECT_FALSE(ScopeAllows(scope, "anthropic", "haiku"));
  EXPECT_FALSE(ScopeAllows(scope, "openrouter", "openai/gpt-4o"));
  EXPECT_TRUE(PatternAllows("gpt-4o*", "openrouter", "gpt-4o-mini")) << "no provider: any";
  EXPECT_FALSE(PatternAllows("gpt-4o", "openai", "gpt-4o-mini"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "aXXbYY"));
  EXPECT_TRUE(GlobMatch("**x", "x"));
  // Linear even on a hostile text.
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*b", std::string(100000, 'a')));
}

TEST(VirtualKey, BadPatternsAreRefusedWithTheirText) {
  EXPECT_TRUE(ValidatePatterns({"openai:*", "m"}).ok());
  for (const char* bad : {"", "a b", "a:b:c", "x\ty"}) {
    absl::Status s = ValidatePatterns({bad});
    EXPECT_FALSE(s.ok()) << bad;
  }
}

}  // namespace
}  // namespace bitrouter::keys
