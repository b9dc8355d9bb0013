#include "shared/config/env.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"

extern char** environ;

namespace bitrouter::config {
namespace {

bool IsNameChar(char c, bool first) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
         (!first && c >= '0' && c <= '9');
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

absl::StatusOr<EnvMap> ParseDotEnv(std::string_view text, std::string_view file_name) {
  EnvMap out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    if (line.substr(0, 7) == "export ") line = Trim(line.substr(7));
    size_t eq = line.find('=');
    auto error = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(AV(file_name), ":", line_no, ": ", AV(why)));
    };
    if (eq == std::string_view::npos) return error("expected KEY=VALUE");
    std::string_view key = Trim(line.substr(0, eq));
    if (key.empty() || !IsNameChar(key[0], true)) return error("invalid variable name");
    for (char c : key) {
      if (!IsNameChar(c, false)) return error("invalid variable name");
    }
    std::string_view raw = Trim(line.substr(eq + 1));
    std::string value;
    if (!raw.empty() && (raw.front() == '"' || raw.front() == '\'')) {
      char quote = raw.front();
      size_t i = 1;
      bool closed = false;
      for (; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == quote) {
          closed = true;
          break;
        }
        if (quote == '"' && c == '\\' && i + 1 < raw.size()) {
          char n = raw[++i];
          value.push_back(n == 'n' ? '\n' : n == 't' ? '\t' : n);
        } else {
          value.push_back(c);
        }
      }
      if (!closed) return error("unterminated quoted value");
    } else {
      size_t hash = raw.find(" #");
      value = std::string(Trim(raw.substr(0, hash)));
    }
    out[std::string(key)] = std::move(value);
  }
  return out;
}

EnvMap ProcessEnvironment() {
  EnvMap out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    out[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  return out;
}

absl::StatusOr<EnvMap> LoadEnvironment(const std::string& dotenv_path) {
  EnvMap merged;
  std::ifstream in(dotenv_path);
  if (in) {
    std::stringstream buf;
    buf << in.rdbuf();
    auto parsed = ParseDotEnv(buf.str(), dotenv_path);
    if (!parsed.ok()) return parsed.status();
    merged = std::move(*parsed);
  } else if (errno != ENOENT) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", dotenv_path, ": ", std::strerror(errno)));
  }
  for (auto& [k, v] : ProcessEnvironment()) merged[k] = v;  // the process wins
  return merged;
}

absl::StatusOr<std::string> Substitute(std::string_view text, const EnvMap& env) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t start = text.find("${", pos);
    if (start == std::string_view::npos) {
      out.append(text.substr(pos));
      return out;
    }
    out.append(text.substr(pos, start - pos));
    size_t end = text.find('}', start + 2);
    if (end == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("unterminated placeholder in '", AV(text), "' (missing '}')"));
    }
    std::string_view inner = text.substr(start + 2, end - start - 2);
    std::string_view name = inner, fallback;
    bool has_default = false;
    if (size_t d = inner.find(":-"); d != std::string_view::npos) {
      name = inner.substr(0, d);
      fallback = inner.substr(d + 2);
      has_default = true;
    }
    bool valid = !name.empty() && IsNameChar(name[0], true);
    for (char c : name) valid = valid && IsNameChar(c, false);
    if (!valid) {
      return absl::InvalidArgumentError(absl::StrCat("invalid placeholder '${", AV(inner),
                                                     "}': want ${NAME} or ${NAME:-default}"));
    }
    auto it = env.find(name);
    if (it != env.end() && !it->second.empty()) {
      out.append(it->second);
    } else if (has_default) {
      out.append(fallback);
    }
    pos = end + 1;
  }
}

}  // namespace bitrouter::config
