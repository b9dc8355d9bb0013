#pragma once
// The inference endpoints: what each client protocol's request says about
// routing (model, stream), read without re-serialising the body, then handed
// to a ProxyCall; plus the local token estimate for count_tokens.
//
//   POST /v1/chat/completions                      Chat Completions
//   POST /v1/responses                             Responses
//   POST /v1/messages                              Messages
//   POST /v1/messages/count_tokens                 Messages token estimate
//   POST /v1beta/models/{m}:generateContent        Gemini
//   POST /v1beta/models/{m}:streamGenerateContent  Gemini stream (?alt=sse)

#include <cstdint>

#include "shared/protocol/canonical.h"
#include "worker/http/http_connection.h"

namespace bitrouter::worker {

// True when `conn`'s request was for an inference endpoint (it is answered or
// in progress); false to let the caller answer 404/405.
bool HandleInference(HttpConnection* conn);

}  // namespace bitrouter::worker
