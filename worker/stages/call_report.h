#pragma once
// What the router measured about one request, handed to the response side
// when the request ends (the usage stage turns it into a usage record and
// metrics). Filled once, at the end, by the router (worker/proxy); views
// into the router's state stay valid for the OnResponseEnd call only.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "shared/protocol/adapters.h"
#include "shared/protocol/canonical.h"
#include "shared/routing/failover.h"
#include "shared/routing/route_table.h"

namespace bitrouter::worker {

struct CallReport {
  int64_t time_unix_ms = 0;        // when the router took the request
  int final_status = 0;            // what the client got; 499 when it left first
  bool streamed = false;           // the client's answer was a stream
  int64_t bytes_in = 0;            // client request body
  int64_t bytes_out = 0;           // client response body
  std::optional<int64_t> ttfb_us;  // response head to the client (nullopt: none sent)
  int64_t total_latency_us = 0;
  int64_t overhead_us = 0;  // router time, upstream waits excluded

  // Configured route or virtual model the name resolved through; "" for a
  // direct provider:model (or bare catalog id).
  std::string_view route;
  // Classified requests: the candidate model of the endpoint that served
  // (else the first candidate); "" when not classified.
  std::string_view route_model;
  // Attempts that did not serve, in order (failed, skipped, rescued-from).
  const std::vector<routing::Attempt>* attempts = nullptr;
  // The endpoint whose answer the client got (nullptr: none), its protocol,
  // the status it answered and its timings.
  const routing::Target* served = nullptr;
  protocol::Protocol served_protocol = protocol::Protocol::kChat;
  int served_status = 0;
  std::optional<int64_t> upstream_ttfb_us;  // request sent -> response head
  int64_t upstream_latency_us = 0;          // request sent -> end

  // Tokens: as the provider reported them, else estimated (and marked so);
  // nullopt when no tokens were spent (nothing served, or an error answer).
  std::optional<protocol::Usage> usage;
  bool usage_estimated = false;
};

}  // namespace bitrouter::worker
