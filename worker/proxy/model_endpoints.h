#pragma once
// The model catalogue endpoints, each in its protocol's own shape, from the
// snapshot's listed models (providers' catalogues and virtual models):
//
//   GET  /v1/models                       OpenAI list; Anthropic's list (data,
//                                         has_more, first_id, last_id; limit,
//                                         after_id, before_id) when the request
//                                         carries anthropic-version
//   GET  /v1/models/{id}                  OpenAI model object / Anthropic ModelInfo
//   GET  /v1beta/models                   Gemini ListModelsResponse (pageSize, pageToken)
//   GET  /v1beta/models/{m}               Gemini Model
//   POST /v1beta/models/{m}:countTokens   Gemini CountTokensResponse (local estimate)
//
// A model that is not listed but resolves (e.g. any provider:model_id of an
// active provider) is answered too; anything else is a 404 in the client's
// shape. Loop thread only.

#include "worker/http/http_connection.h"

namespace bitrouter::worker {

// True when the request was for one of the endpoints above (it is answered).
bool HandleModels(HttpConnection* conn);

}  // namespace bitrouter::worker
