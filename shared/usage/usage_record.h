#pragma once
// One request's usage record: what a worker measured about one answered (or
// failed) request, and what bitrouterd stores (controld/store). Plain data.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bitrouter::usage {

// One try at one endpoint within a request (failover makes several).
struct UsageAttempt {
  std::string endpoint;  // "provider/upstream-model" as routing names it
  int http_status = 0;   // upstream HTTP status; 0 when none arrived
  std::string failure;   // failure kind ("connect", "timeout", ...); empty if a status arrived
  int64_t latency_us = 0;

  bool operator==(const UsageAttempt&) const = default;
};

// Where the token counts came from: the provider's usage block, or our own
// estimate when the provider sent none (e.g. an aborted stream).
enum class UsageOrigin { kProvider, kEstimated };

struct UsageRecord {
  // Assigned by the store on Append (ignored there); filled by Newest.
  int64_t row_id = 0;

  std::string request_id;
  int64_t time_unix_ms = 0;     // when the request arrived
  std::string key_id;           // empty until API keys exist
  std::string client_protocol;  // "chat", "responses", "messages", "gemini"
  std::string model_requested;  // the model name the client asked for

  // The endpoint that produced the final answer; all empty when none did.
  std::string provider;
  std::string upstream_model;
  std::string upstream_protocol;

  std::vector<UsageAttempt> attempts;  // in the order they were tried

  int final_status = 0;  // HTTP status the client got
  bool streamed = false;
  int64_t bytes_in = 0;   // client request body
  int64_t bytes_out = 0;  // client response body
  // nullopt when not one byte reached the client.
  std::optional<int64_t> time_to_first_byte_us;
  int64_t total_latency_us = 0;
  int64_t router_overhead_us = 0;

  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t reasoning_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  UsageOrigin usage_origin = UsageOrigin::kProvider;
  // nullopt = unknown (never stored as 0: unknown is not free).
  std::optional<int64_t> cost_micro_usd;
  // Guardrail matches: "pattern:action:direction", comma-separated, each
  // once; never the matched text. "" = none.
  std::string guardrails;
  // Classified auto routing: the category chosen and the model name routed
  // to (the candidate that answered, else the first). "" = not classified.
  std::string route_category;
  std::string route_model;

  bool operator==(const UsageRecord&) const = default;
};

}  // namespace bitrouter::usage
