#pragma once
// Virtual keys: the secret's format, its hash, and the model scope patterns,
// shared by bitrouterd (which issues keys), the workers (which check them)
// and bitrouterctl.
//
// A secret is "brvk_" + 32 random bytes in unpadded base64url (43
// characters). Only its SHA-256 is ever stored or sent to a worker.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace bitrouter::keys {

inline constexpr std::string_view kSecretPrefix = "brvk_";
inline constexpr size_t kSecretLength = 5 + 43;
inline constexpr size_t kDisplayPrefixLength = 12;

struct NewKey {
  std::string secret;    // shown once, never stored
  std::string hash_hex;  // SHA-256 of secret, lowercase hex
  std::string prefix;    // first kDisplayPrefixLength characters of secret
  std::string id;        // "key_" + 16 random hex
};

// Fails only if the system's random source does.
absl::StatusOr<NewKey> GenerateKey();

// SHA-256 of `secret`: raw 32 bytes (the workers' lookup key) or hex.
std::string HashRaw(std::string_view secret);
std::string HashHex(std::string_view secret);
std::string HexToRaw(std::string_view hex);  // "" when not 64 hex digits

// Scope patterns: "provider:model-glob", or "model-glob" for any provider;
// '*' matches any run of characters. Empty list = every model.
// Returns an error naming the bad pattern.
absl::Status ValidatePatterns(const std::vector<std::string>& patterns);
bool PatternAllows(std::string_view pattern, std::string_view provider, std::string_view model);
bool ScopeAllows(const std::vector<std::string>& patterns, std::string_view provider,
                 std::string_view model);
// '*' glob match.
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace bitrouter::keys
