#pragma once
// The order of a request's stages, declared once (RequestJourney in
// journey.cc) and walked for every request. The request side runs in the
// declared order until a stage answers; the response side runs in reverse
// (the journey back). Built once per worker; immutable afterwards.

#include <initializer_list>
#include <string>
#include <vector>

#include "worker/stages/stage.h"

namespace bitrouter::worker {

class StageChain {
 public:
  // Stages in journey order; not owned (they live as long as the worker).
  explicit StageChain(std::initializer_list<Stage*> stages);

  // Runs the request side; kHandled when a stage answered or took the request.
  Stage::Verdict RunRequest(StageRequest& req) const;
  // The response side, reverse order. Empty when no stage takes part: the
  // caller then skips the calls altogether.
  const std::vector<Stage*>& response_side() const { return response_; }
  // "a -> b -> c": the order as declared (logs, README, tests).
  std::string Describe() const;

 private:
  std::vector<Stage*> all_;
  std::vector<Stage*> request_;
  std::vector<Stage*> response_;
};

// The worker's journey: inbound model check -> route (-> the router's
// attempts, translation, upstream, relay). Later issues insert their stages
// (auth, limits, guardrails, usage) here, in the order they run.
const StageChain& RequestJourney();

}  // namespace bitrouter::worker
