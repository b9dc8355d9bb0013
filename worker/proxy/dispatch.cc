#include "worker/proxy/dispatch.h"

#include "worker/proxy/inference_endpoints.h"
#include "worker/proxy/model_endpoints.h"

namespace bitrouter::worker {

bool ProxyDispatcher::Dispatch(HttpConnection* conn) {
  return HandleModels(conn) || HandleInference(conn);
}

}  // namespace bitrouter::worker
