#pragma once
// Failover policy: which upstream outcomes move on to the next endpoint, and
// the one answer the client gets when every endpoint failed.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bitrouter::routing {

enum class StatusClass {
  kSuccess,   // 2xx: relay (after validating the body)
  kFailover,  // 5xx, 408, 429: try the next endpoint
  kRelay,     // any other status (400, 401, 403, 404, 422, ...): back to the client unchanged
};
StatusClass ClassifyStatus(int status);

// Retry-After as delta-seconds or an HTTP-date; milliseconds from now, or
// nullopt if absent/unparseable. Capped at one day.
std::optional<uint64_t> ParseRetryAfterMs(std::string_view value, int64_t now_unix_seconds);

struct Attempt {
  enum class Kind { kStatus, kTimeout, kConnect, kTls, kReset, kInvalidBody, kSkipped };
  Kind kind = Kind::kStatus;
  std::string endpoint;  // provider:model (no secrets)
  int status = 0;        // for kStatus
  std::optional<uint64_t> retry_after_ms;
  std::string detail;  // public description
  // kSkipped because the endpoint is waiting out an upstream 429's Retry-After.
  bool rate_limit_wait = false;
  int64_t latency_us = 0;  // request sent -> outcome (0 when never sent)
};

struct FinalError {
  int status = 502;
  std::string code;
  std::string message;
  std::optional<uint64_t> retry_after_s;
};

// All attempts failed: all 429 (or waiting out a 429's Retry-After) → 429
// with the smallest remaining Retry-After; all
// timeouts → 504; nothing tried because every endpoint was cooling down →
// 503 with the shortest wait; otherwise 502. The message lists each
// endpoint's outcome without upstream bodies or secrets.
FinalError Aggregate(const std::vector<Attempt>& attempts);

// An upstream 400 body that says the prompt does not fit the model's context
// window (OpenAI / Azure / DeepSeek / OpenRouter `context_length_exceeded`
// and "maximum context length", Anthropic "prompt is too long", Gemini
// "exceeds the maximum number of tokens", vLLM / Ollama wordings). A
// content-filter refusal never matches: it must not be routed around.
bool IsContextLengthError(std::string_view body);

// The x-bitrouter-attempts value: "provider:model=503,provider:model=timeout"
// (outcome per attempt: the status, or timeout / connect / tls / reset /
// invalid / skipped). Endpoint names only: never a key or an upstream body.
std::string AttemptsHeaderValue(const std::vector<Attempt>& attempts);

}  // namespace bitrouter::routing
