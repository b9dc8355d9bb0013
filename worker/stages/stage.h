#pragma once
// A request's journey through the worker, as Envoy's HTTP filter chain: each
// per-request concern is a Stage with a request side and a response side,
// and one StageChain (chain.h) declares their order. The proxy room's
// inference endpoints are the chain's entry (they detect the client's
// protocol and read what the body says about routing into an InboundCall);
// the last request-side stage hands the request to the router (attempts,
// failover, translation, upstream, relay: worker/proxy/proxy_call.h), whose
// answer comes back through the response side in reverse order.
//
// A stage sees its request through StageRequest, not a socket, so stages
// and the chain are tested without one. Stages are shared by every request
// of a worker (one instance each): per-request state belongs in the request,
// never in the stage. Loop thread only.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/guardrails/guard.h"
#include "shared/protocol/adapters.h"
#include "shared/protocol/openai_errors.h"
#include "shared/routing/route_table.h"
#include "worker/http/http_connection.h"
#include "worker/http/server.h"
#include "worker/snapshot/snapshot.h"
#include "worker/stages/call_report.h"

namespace bitrouter::worker {

// One guardrail match (never its text): the rule, where, what it did.
struct GuardHit {
  // guardrails.tools acted (a tool or argument removed: kRedact; a request
  // or answer refused: kBlock); recorded as the pattern "tool_policy".
  static constexpr uint16_t kToolPolicy = 0xFFFF;
  uint16_t rule = 0;  // index into the snapshot's guard rules, or kToolPolicy
  guardrails::Direction direction = guardrails::Direction::kUpgoing;
  guardrails::Action action = guardrails::Action::kWarn;
};

// What the entry learned from the client's request before routing.
struct InboundCall {
  protocol::Protocol client = protocol::Protocol::kChat;
  std::string model;  // the name the client asked for (the routing key)
  bool stream = false;
  // The `model` value's bytes in the body (not for Gemini: it is in the path).
  size_t model_begin = 0;
  size_t model_end = 0;
  bool include_usage = false;       // Chat: stream_options.include_usage
  bool has_stream_options = false;  // Chat: the body has stream_options at all
  bool gemini_sse = true;           // Gemini stream: ?alt=sse rather than a JSON array
  int64_t max_output_tokens = 0;    // the client's output limit; 0 = none given

  // Set by the request side's stages (journey.cc), read by later ones and by
  // the response side.
  const KeyPolicy* key = nullptr;  // "auth": the virtual key (in the request's snapshot)
  // "classify": the model was a trigger (a `routing:` rule or a Rungate
  // logical model). `route_category` is what the classifier chose ("coding",
  // "coding.high", "default", "vision", ...; "" = not classified);
  // `route_candidates` the model names to route, tried in order;
  // `llmrouter` says the Rungate headers go out too.
  std::string route_category;
  std::vector<std::string> route_candidates;
  bool llmrouter = false;
  // "route": for each target of the resolution, the index of the candidate
  // it came from (empty when not classified).
  std::vector<uint32_t> route_target_candidate;
  std::optional<routing::Resolution> resolution;  // "route": endpoints ...
  std::vector<size_t> order;                      // ... in the order to try
  int64_t budget_reserved = 0;                    // "budget": micro-USD reserved for this request
  // "guardrails" (and the router's answer checks): every match, by rule.
  std::vector<GuardHit> guard_hits;
};

// One request as a stage sees it.
class StageRequest {
 public:
  virtual ~StageRequest() = default;
  virtual const InboundRequest& request() const = 0;
  virtual InboundCall& call() = 0;
  // The snapshot the request started with (kept to its end).
  virtual const WorkerSnapshot& snapshot() const = 0;
  // Answers the client itself (in its protocol's error shape, with extra
  // header lines such as Retry-After); the request goes no further.
  virtual void Answer(const protocol::HttpError& error, std::string_view header_lines = {}) = 0;
  // The next value of a round-robin counter (per worker, keyed by a name
  // from the snapshot).
  virtual uint64_t NextCounter(const std::string& key) = 0;
  // Hands the request to the router with its endpoints in the order to try.
  virtual void Route(routing::Resolution resolution, std::vector<size_t> order) = 0;
  // The worker's services (key table, metrics); null in tests.
  virtual Server* server() const = 0;
  // Replaces the request body (a redacted request): what goes upstream.
  virtual void ReplaceBody(std::string body) = 0;
};

// The request whose answer a response-side stage sees (stages are shared by
// all requests of a worker, and answers interleave on the loop).
class StageResponse {
 public:
  virtual ~StageResponse() = default;
  virtual const InboundRequest& request() const = 0;
  virtual const InboundCall& call() const = 0;
  // The snapshot the request started with.
  virtual const WorkerSnapshot& snapshot() const = 0;
  // What the router measured; complete only in OnResponseEnd.
  virtual const CallReport& report() const = 0;
  // The worker's services (usage outbox, metrics, key table); null in tests.
  virtual Server* server() const = 0;
};

// The response as the response side sees it: the head, then each piece of
// body the client receives (in the client's protocol), then the end,
// exactly once per request (also when the client left or nothing answered).
struct ResponseHead {
  int status = 0;
  bool stream = false;
  std::string_view endpoint;  // provider:model that answered
};

class Stage {
 public:
  // kHandled: the stage answered the client, or took the request over (the
  // router); the chain goes no further.
  enum class Verdict { kContinue, kHandled };
  // Which sides a stage takes part in: a stage that has nothing to do on a
  // side is not called there at all (no virtual call, no allocation).
  enum Sides : unsigned { kRequest = 1, kResponse = 2 };

  virtual ~Stage() = default;
  virtual std::string_view name() const = 0;
  virtual unsigned sides() const = 0;
  // Request side: continue (possibly after changing the call), or answer.
  virtual Verdict OnRequest(StageRequest& /*req*/) { return Verdict::kContinue; }
  // Response side.
  virtual void OnResponseHead(StageResponse& /*resp*/, const ResponseHead& /*head*/) {}
  virtual void OnResponseBody(StageResponse& /*resp*/, std::string_view /*bytes*/) {}
  virtual void OnResponseEnd(StageResponse& /*resp*/, bool /*ok*/) {}
};

}  // namespace bitrouter::worker
