#include "shared/keys/virtual_key.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace bitrouter::keys {

absl::StatusOr<NewKey> GenerateKey() {
  unsigned char secret[32];
  unsigned char id[8];
  if (RAND_bytes(secret, sizeof(secret)) != 1 || RAND_bytes(id, sizeof(id)) != 1) {
    return absl::InternalError("the system's random source failed (RAND_bytes)");
  }
  NewKey out;
  out.secret = absl::StrCat(absl::string_view(kSecretPrefix.data(), kSecretPrefix.size()),
                            absl::WebSafeBase64Escape(absl::string_view(
                                reinterpret_cast<char*>(secret), sizeof(secret))));
  out.hash_hex = HashHex(out.secret);
  out.prefix = out.secret.substr(0, kDisplayPrefixLength);
  out.id = absl::StrCat(
      "key_", absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(id), sizeof(id))));
  OPENSSL_cleanse(secret, sizeof(secret));
  return out;
}

std::string HashRaw(std::string_view secret) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), sizeof(digest));
}

std::string HashHex(std::string_view secret) { return absl::BytesToHexString(HashRaw(secret)); }

std::string HexToRaw(std::string_view hex) {
  if (hex.size() != 64) return "";
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return "";
  }
  return absl::HexStringToBytes(absl::string_view(hex.data(), hex.size()));
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative '*' matching with one backtrack point: linear in practice and
  // never recursive (patterns come from an operator, texts from clients).
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

absl::Status ValidatePatterns(const std::vector<std::string>& patterns) {
  for (const std::string& p : patterns) {
    bool printable = !p.empty() && p.size() <= 256;
    for (char c : p) printable = printable && c > 0x20 && c < 0x7f && c != ',';
    if (!printable) {
      return absl::InvalidArgumentError(
          absl::StrCat("model pattern '", p,
                       "': expected provider:model or model, printable, no spaces or commas, "
                       "'*' as wildcard"));
    }
    if (p.find(':') != p.rfind(':')) {
      return absl::InvalidArgumentError(
          absl::StrCat("model pattern '", p, "': at most one ':' (provider:model)"));
    }
  }
  return absl::OkStatus();
}

bool PatternAllows(std::string_view pattern, std::string_view provider, std::string_view model) {
  size_t colon = pattern.find(':');
  if (colon == std::string_view::npos) return GlobMatch(pattern, model);
  return GlobMatch(pattern.substr(0, colon), provider) &&
         GlobMatch(pattern.substr(colon + 1), model);
}

bool ScopeAllows(const std::vector<std::string>& patterns, std::string_view provider,
                 std::string_view model) {
  if (patterns.empty()) return true;
  for (const std::string& p : patterns) {
    if (PatternAllows(p, provider, model)) return true;
  }
  return false;
}

}  // namespace bitrouter::keys
