#include "shared/guardrails/patterns.h"

#include <algorithm>
#include <array>

#include "re2/re2.h"

namespace bitrouter::guardrails {
namespace {

// ip_addresses: a dotted quad that is part of a longer dotted number (a
// version such as 1.2.3.4.5) is not an address. The regex takes one more
// ".digit" when it follows, so such a match has four dots; a preceding
// "digit." is read here.
bool AcceptIpAddress(std::string_view text, size_t begin, size_t end) {
  size_t dots = 0;
  for (size_t i = begin; i < end; ++i) dots += text[i] == '.';
  if (dots != 3) return false;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return !(begin >= 2 && text[begin - 1] == '.' && digit(text[begin - 2]));
}

// The PEM key types between BEGIN and PRIVATE KEY.
#define BR_PEM_TYPE "(?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|ED25519) )?"

// private_keys: the regex finds the BEGIN line; the block runs through the
// first END line within kPemBody bytes of body (printable ASCII and
// whitespace, which covers base64 and the legacy Proc-Type/DEK-Info
// headers). Without one (an answer cut short, or a key too long) it runs
// over the base64 that follows, up to kPemBody bytes. As one regex the body
// would be 4096 unrolled repetitions (RE2 caps one at 1000): ~200 ms to
// compile and a DFA that overflows its cache.
constexpr size_t kPemBegin = 37;  // "-----BEGIN ENCRYPTED PRIVATE KEY-----"
constexpr size_t kPemBody = 4096;
constexpr size_t kPemEnd = 35;  // "-----END ENCRYPTED PRIVATE KEY-----"
constexpr size_t kPemMax = kPemBegin + kPemBody + kPemEnd;

bool PemBodyByte(char c) { return (c >= ' ' && c <= '~') || (c >= '\t' && c <= '\r'); }

bool Base64LineByte(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=' || c == '\n' || c == '\r';
}

size_t ExtendPrivateKey(std::string_view text, size_t /*begin*/, size_t end) {
  static const RE2* const kEndLine = [] {
    RE2::Options o;
    o.set_log_errors(false);
    return new RE2("-----END " BR_PEM_TYPE "PRIVATE KEY-----", o);
  }();
  const size_t body_limit = std::min(text.size(), end + kPemBody);
  const size_t limit = std::min(text.size(), end + kPemBody + kPemEnd);
  size_t at = end;
  for (;;) {
    size_t dash = text.substr(0, limit).find("-----END ", at);
    if (dash == std::string_view::npos || dash > body_limit) break;
    size_t k = at;
    while (k < dash && PemBodyByte(text[k])) ++k;
    if (k < dash) break;  // a byte no PEM body has: no END line for this block
    re2::StringPiece m;
    if (kEndLine->Match(re2::StringPiece(text.data(), text.size()), dash, limit, RE2::ANCHOR_START,
                        &m, 1)) {
      return dash + m.size();
    }
    at = dash + 1;
  }
  size_t run = end;
  while (run < body_limit && Base64LineByte(text[run])) ++run;
  return run;
}

// A shell argument: printable ASCII but & ; | (which end a command).
#define BR_SH_ARG "[\\x20-\\x25\\x27-\\x3a\\x3c-\\x7b\\x7d\\x7e]"
// What may follow a dangerous target ("/", "~", "/*") so it is that target and
// not the start of a longer path.
#define BR_SH_END "(?:[\\s;&|'\"`)]|$)"

constexpr std::array<BuiltinPattern, 7> kPatterns = {{
    {"api_keys", "API key",
     // OpenAI/Anthropic sk-, AWS access key ids, Google API keys, GitHub
     // tokens, Stripe keys.
     "\\b(?:sk-(?:(?:proj|ant|svcacct|admin)-[A-Za-z0-9_-]{20,200}|[A-Za-z0-9]{20,200})"
     "|(?:AKIA|ASIA)[0-9A-Z]{16}\\b"
     "|AIza[0-9A-Za-z_-]{35}"
     "|gh[pousr]_[A-Za-z0-9]{36,80}"
     "|github_pat_[A-Za-z0-9_]{22,120}"
     "|(?:sk|pk|rk)_(?:test|live)_[0-9A-Za-z]{16,128})",
     true, true, 211, "", nullptr, nullptr},
    {"private_keys", "private key", "-----BEGIN " BR_PEM_TYPE "PRIVATE KEY-----", true, true,
     kPemMax, "-----BEGIN ", nullptr, ExtendPrivateKey},
    {"credentials", "credential",
     // key = value / key: value (also JSON and identifiers ending in the key).
     "\\b[A-Za-z0-9_]{0,32}?(?i:password|passwd|pwd|client_secret|secret|api_key|apikey"
     "|access_token|refresh_token|auth_token|token)[\"']?\\s{0,4}[:=]\\s{0,4}[\"']?"
     "[A-Za-z0-9!#$%&()*+,./:;<=>?@\\[\\]^_{|}~-]{4,128}"
     // HTTP basic auth in an Authorization header.
     "|(?i:authorization)[\"']?\\s{0,4}[:=]\\s{0,4}[\"']?(?i:basic)\\s{1,4}"
     "[A-Za-z0-9+/]{8,256}={0,2}"
     // Database and broker URLs with user:password@host.
     "|\\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|rediss?|amqps?)://"
     "[A-Za-z0-9._~%!$&'()*+,;=-]{0,64}:[!-.0-?A-~]{1,128}@[A-Za-z0-9.-]{1,128}"
     "(?::[0-9]{1,5})?",
     true, true, 342, "", nullptr, nullptr},
    {"pii_emails", "email address",
     "\\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\\.[A-Za-z0-9-]{1,63}){0,4}"
     "\\.[A-Za-z]{2,24}\\b",
     true, true, 409, "", nullptr, nullptr},
    {"pii_phone_numbers", "phone number",
     // NANP 3-3-4 with separators, optionally +1 / 1-.
     "(?:\\+1[ .-]?|\\b1[ .-])?(?:\\([2-9][0-9]{2}\\)[ .-]?|\\b[2-9][0-9]{2}[ .-])"
     "[0-9]{3}[ .-][0-9]{4}\\b"
     // E.164: +country code and 8 to 14 digits, single separators allowed.
     "|\\+[1-9](?:[ .-]?[0-9]){7,13}\\b",
     true, true, 28, "", nullptr, nullptr},
    {"ip_addresses", "IP address",
     "\\b(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}"
     "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\b(?:\\.[0-9])?",
     true, true, 17, "", AcceptIpAddress, nullptr},
    {"suspicious_commands", "suspicious command",
     // rm -rf / (or ~ or /*).
     "\\brm(?:\\s{1,4}-{1,2}[A-Za-z-]{1,24}){1,4}\\s{1,4}(?:/\\*?|~/?)" BR_SH_END
     // mkfs on a device.
     "|\\bmkfs(?:\\.[a-z0-9]{2,10})?\\s{1,4}" BR_SH_ARG "{0,64}?/dev/[A-Za-z0-9/_-]{1,32}"
     // dd onto a block device.
     "|\\bdd\\s{1,4}" BR_SH_ARG "{0,128}?\\bof=/dev/"
     "(?:sd|hd|vd|xvd|nvme|mmcblk|disk|md|dm-|mapper/|rdisk)[A-Za-z0-9/_-]{0,32}"
     // The fork bomb.
     "|:\\(\\)\\s{0,4}\\{\\s{0,4}:\\s{0,4}\\|\\s{0,4}:\\s{0,4}&\\s{0,4}\\}\\s{0,4};\\s{0,4}:"
     // chmod -R 777 /.
     "|\\bchmod\\s{1,4}(?:-[A-Za-z]{0,4}R[A-Za-z]{0,4}|--recursive)\\s{1,4}0?777\\s{1,4}/"
     "\\*?" BR_SH_END
     // A download piped into a shell.
     "|\\b(?:curl|wget)\\s[\\x20-\\x7b\\x7d\\x7e]{1,200}\\|\\s{0,4}"
     "(?:sudo\\s{1,4}(?:-[A-Za-z]{1,8}\\s{1,4}){0,2})?(?:ba|z|da|k)?sh\\b"
     // Writing over a disk device.
     "|>\\s{0,4}/dev/(?:sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme[0-9]|mmcblk[0-9])",
     false, true, 248, "", nullptr, nullptr},
}};

#undef BR_PEM_TYPE
#undef BR_SH_ARG
#undef BR_SH_END

}  // namespace

std::span<const BuiltinPattern> BuiltinPatterns() { return kPatterns; }

const BuiltinPattern* FindBuiltinPattern(std::string_view name) {
  for (const BuiltinPattern& p : kPatterns) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace bitrouter::guardrails
