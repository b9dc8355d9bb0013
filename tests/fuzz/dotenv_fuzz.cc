// Fuzzes ParseDotEnv and Substitute: no crashes; errors name "file:line";
// parsed names are valid; a parsed map written back out re-parses to itself;
// text without "${" substitutes to itself.

#include <cstdint>
#include <string>
#include <string_view>

#include "shared/config/env.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using bitrouter::config::EnvMap;

bool ValidName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string Serialize(const EnvMap& env) {
  std::string out;
  for (const auto& [k, v] : env) {
    out += k;
    out += "=\"";
    for (char c : v) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += "\"\n";
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto env = bitrouter::config::ParseDotEnv(text, "fuzz.env");
  if (!env.ok()) {
    FUZZ_CHECK(env.status().message().substr(0, 9) == "fuzz.env:");
  } else {
    for (const auto& [k, v] : *env) FUZZ_CHECK(ValidName(k));
    auto again = bitrouter::config::ParseDotEnv(Serialize(*env), "again.env");
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(*again == *env);
  }

  static const EnvMap kEnv = {{"A", "1"}, {"EMPTY", ""}, {"KEY", "${A}"}};
  auto out = bitrouter::config::Substitute(text, env.ok() ? *env : kEnv);
  if (text.find("${") == std::string_view::npos) {
    FUZZ_CHECK(out.ok());
    FUZZ_CHECK(*out == text);
  }
  return 0;
}
