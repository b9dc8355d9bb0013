#pragma once
// The validated, immutable configuration model. Built by LoadConfig(); the
// control plane turns it into a Snapshot for the workers.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bitrouter::config {

struct ServerConfig {
  std::string listen = "127.0.0.1:4356";
  uint32_t workers = 0;  // 0 = one per CPU
  std::string log_level = "info";
  uint32_t drain_timeout_ms = 30'000;
  uint32_t header_timeout_ms = 10'000;
  uint32_t keepalive_timeout_ms = 75'000;
};

struct Timeouts {
  uint32_t connect_ms = 10'000;
  uint32_t first_byte_ms = 300'000;  // reasoning models can think for minutes
  uint32_t idle_ms = 300'000;
  uint32_t total_ms = 0;  // 0 = no overall limit
};

struct Limits {
  uint64_t max_body_bytes = 16u << 20;
  uint32_t max_header_bytes = 64u << 10;
  uint32_t max_headers = 100;
};

// kMpp (Machine Payment Protocol) is accepted from the manual's config but not
// served yet: such a provider is never active.
enum class AuthStyle { kBearer, kHeader, kMpp };

// A provider after built-ins, overrides and the environment are merged.
struct Provider {
  std::string name;
  std::string api_protocol;  // openai | anthropic | google
  std::string api_base;
  std::string api_key;
  std::string env_prefix;
  std::string alt_env_prefix;
  AuthStyle auth = AuthStyle::kBearer;
  std::string auth_header;
  std::vector<std::pair<std::string, std::string>> default_headers;
  std::vector<std::string> models;  // catalog model ids
  bool builtin = false;
  bool api_key_explicit = false;   // set in bitrouter.yaml (even if empty)
  bool api_base_explicit = false;  // set in bitrouter.yaml
  std::string base_source;         // env var the base URL came from, if any
  // Filled by resolution: whether it can serve, and why not / where the key came from.
  bool active = false;
  std::string reason;
};

struct Config {
  std::string source;  // file path, or "(defaults)" when no file exists
  ServerConfig server;
  Timeouts timeouts;
  Limits limits;
  std::string ca_file;
  bool inherit_defaults = true;
  std::map<std::string, Provider> providers;  // by name; deterministic order
  std::vector<std::string> warnings;          // accepted-but-ignored sections etc.
};

}  // namespace bitrouter::config
