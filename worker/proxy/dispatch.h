#pragma once
// The proxy room's entry: the RequestDispatcher the HTTP server hands every
// request that is not its own. It answers the model catalogue endpoints and
// sends inference calls down the request's chain of stages
// (worker/stages/chain.h), whose last stage is the ProxyCall.

#include "worker/http/server.h"

namespace bitrouter::worker {

class ProxyDispatcher final : public RequestDispatcher {
 public:
  bool Dispatch(HttpConnection* conn) override;
};

}  // namespace bitrouter::worker
