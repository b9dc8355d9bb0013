#include "shared/config/starter.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "shared/config/render.h"

namespace bitrouter::config {
namespace {

// The variable a provider's key should come from: where it came from, else
// {PREFIX}_API_KEY, else the name in upper case.
std::string KeyVariable(const Provider& p) {
  if (!p.key_env.empty()) return p.key_env;
  std::string base = p.env_prefix;
  if (base.empty()) {
    for (char c : p.name) {
      base += std::isalnum(static_cast<unsigned char>(c))
                  ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                  : '_';
    }
  }
  return base + "_API_KEY";
}

void ActiveStanza(const Provider& p, std::string* out) {
  const std::string name = YamlScalar(p.name);
  const bool keyless = !p.requires_key && p.api_key.empty();
  if (p.builtin && keyless && !p.api_base_explicit && !p.allow_insecure_http) {
    absl::StrAppend(out, "  ", name, ": {}  # local server, no key needed\n");
    return;
  }
  absl::StrAppend(out, "  ", name, ":\n");
  if (!p.builtin) {
    absl::StrAppend(out, "    api_protocol: ", p.api_protocol, "\n");
    // A base URL from {PREFIX}_BASE_URL stays in the environment.
    absl::StrAppend(
        out, "    api_base: ",
        p.base_source.empty() ? YamlScalar(p.api_base) : absl::StrCat("\"${", p.base_source, "}\""),
        "\n");
    if (p.auth == AuthStyle::kHeader) {
      absl::StrAppend(out, "    auth: {type: header, header_name: ", YamlScalar(p.auth_header),
                      "}\n");
    }
  } else if (p.api_base_explicit) {
    absl::StrAppend(out, "    api_base: ", YamlScalar(p.api_base), "\n");
  }
  if (p.allow_insecure_http) absl::StrAppend(out, "    allow_insecure_http: true\n");
  if (keyless) {
    absl::StrAppend(out, "    requires_key: false  # no key needed\n");
    return;
  }
  absl::StrAppend(out, "    api_key: \"${", KeyVariable(p), "}\"\n");
  if (!p.api_keys.empty()) {
    absl::StrAppend(out,
                    "    # Several keys/accounts of this provider, rotated:\n"
                    "    # api_keys: [\"${",
                    KeyVariable(p), "}\", \"${", KeyVariable(p), "_2}\"]\n");
  }
}

const Provider* ExampleProvider(const Config& cfg) {
  for (const auto& [name, p] : cfg.providers) {
    if (p.active && !p.catalog.empty()) return &p;
  }
  return nullptr;
}

}  // namespace

std::string StarterConfig(const Config& detected) {
  std::string out =
      "# bitrouter.yaml: starter configuration written by `bitrouterctl init`.\n"
      "#\n"
      "# Keys never go in this file: ${VAR} placeholders are filled from the\n"
      "# environment or from the .env file next to it (the process environment wins).\n"
      "# Check it with `bitrouterctl config validate`; apply changes with\n"
      "# `bitrouterctl reload`.\n"
      "\n"
      "server:\n"
      "  # Loopback only: nothing outside this machine can reach the router.\n"
      "  listen: \"127.0.0.1:4356\"\n"
      "  # workers: 0          # 0 = one per CPU\n"
      "  # log_level: info     # trace | debug | info | warn | error\n"
      "\n"
      "# upstream:\n"
      "#   timeouts: {connect: 10s, stream_first_byte: 30s, first_event: 60s, idle: 60s,\n"
      "#              first_byte: 10m, total: 0}\n"
      "#   retries: 0                                   # same-endpoint retries\n"
      "#   circuit_breaker: {failures: 5, cooldown: 30s}\n"
      "\n"
      "# Built-in providers (openai, anthropic, google, ...) are enabled by their\n"
      "# {PREFIX}_API_KEY variable; {PREFIX}_BASE_URL overrides the base URL.\n"
      "# inherit_defaults: false uses only the providers listed below.\n"
      "# inherit_defaults: true\n"
      "\n"
      "providers:\n";
  bool any_active = false;
  for (const auto& [name, p] : detected.providers) {
    if (!p.active) continue;
    if (!any_active) absl::StrAppend(&out, "  # Detected in your environment:\n");
    any_active = true;
    ActiveStanza(p, &out);
  }
  bool header = false;
  for (const auto& [name, p] : detected.providers) {
    if (p.active || !p.builtin) continue;
    if (!header) {
      absl::StrAppend(&out, "  # Other built-in providers: uncomment and set the variable.\n");
      header = true;
    }
    if (p.requires_key) {
      absl::StrAppend(&out, "  # ", YamlScalar(name), ": {api_key: \"${", KeyVariable(p), "}\"}\n");
    } else {
      absl::StrAppend(&out, "  # ", YamlScalar(name), ": {}  # local server at ", p.api_base,
                      ", no key\n");
    }
  }
  absl::StrAppend(&out,
                  "\n"
                  "# Virtual models: a name your clients send as \"model\", served by these\n"
                  "# endpoints. priority tries them in order and fails over on errors;\n"
                  "# load_balance rotates between them. Clients can also ask for\n"
                  "# provider:model (e.g. openai:gpt-4o) or a bare model id.\n");
  if (const Provider* p = ExampleProvider(detected)) {
    absl::StrAppend(&out,
                    "models:\n"
                    "  default:\n"
                    "    strategy: priority\n"
                    "    endpoints:\n"
                    "      - provider: ",
                    YamlScalar(p->name), "\n        model_id: ", YamlScalar(p->catalog[0].id),
                    "\n");
  } else {
    absl::StrAppend(&out,
                    "# models:\n"
                    "#   default:\n"
                    "#     strategy: priority\n"
                    "#     endpoints:\n"
                    "#       - provider: openai\n"
                    "#         model_id: gpt-4o\n");
  }
  return out;
}

}  // namespace bitrouter::config
