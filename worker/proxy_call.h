#pragma once
// The OpenAI Chat Completions proxy pipeline for one request: resolve the
// model, splice the upstream model id into the body (the body is never
// re-serialised), send it upstream, and relay the answer as it arrives.
// A failure before the response head keeps its real status; a failure after
// it ends the response so that it can never pass for complete.

#include <memory>
#include <string>

#include "worker/http_connection.h"
#include "worker/upstream.h"

namespace bitrouter::worker {

// Handles POST /v1/chat/completions on `conn` (answers errors itself).
void StartChatCompletion(HttpConnection* conn);

class ProxyCall : public RequestHandler, public UpstreamHandler {
 public:
  ProxyCall(HttpConnection* conn, const ProviderRuntime* provider, std::string upstream_model,
            size_t model_begin, size_t model_end, bool stream);
  ~ProxyCall() override;
  void Start();

  // RequestHandler
  void OnClientGone() override;
  void OnClientWritable() override;
  // UpstreamHandler
  void OnUpstreamHeaders(const UpstreamHead& head) override;
  void OnUpstreamBody(const char* data, size_t len) override;
  void OnUpstreamComplete() override;
  void OnUpstreamFailure(UpstreamFailure kind, const std::string& detail) override;
  void OnUpstreamReadBegin() override;
  void OnUpstreamReadEnd() override;

 private:
  HttpConnection* conn_;  // null once the client is gone or the response ended
  SnapshotPtr snapshot_;  // keeps provider_ alive
  const ProviderRuntime* provider_;
  std::string head_;         // upstream request line + headers
  std::string model_token_;  // the spliced JSON string for the model
  size_t model_begin_;
  size_t model_end_;
  bool stream_;
  bool sse_response_ = false;
  bool paused_ = false;
  std::unique_ptr<UpstreamCall> call_;
};

}  // namespace bitrouter::worker
