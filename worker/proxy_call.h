#pragma once
// The OpenAI Chat Completions proxy pipeline for one request: resolve the
// model to an ordered list of endpoints, then try them until one answers.
//
// Failover that never lies:
//  - 5xx, 408, 429, connect errors, resets, timeouts and a 2xx whose body is
//    not valid JSON (or whose first SSE event is not) move to the next
//    endpoint; any other status is relayed unchanged;
//  - nothing reaches the client until an answer is accepted ("commit"); a
//    JSON answer is validated whole, a stream by its first event;
//  - after the commit there is no failover: a failure ends the response with
//    an in-band error and without its terminator, and a stream that ends
//    without its terminal event ([DONE] / finish_reason) is a failure too;
//  - when every endpoint failed, one aggregate error (429 / 504 / 503 / 502).
// The body is never re-serialised: only the `model` value is spliced.

#include <memory>
#include <string>
#include <vector>

#include "shared/routing/failover.h"
#include "shared/routing/route_table.h"
#include "worker/http_connection.h"
#include "worker/upstream.h"

namespace bitrouter::worker {

class OneShotTimer;

// Handles POST /v1/chat/completions on `conn` (answers errors itself).
void StartChatCompletion(HttpConnection* conn);

class ProxyCall : public RequestHandler, public UpstreamHandler {
 public:
  ProxyCall(HttpConnection* conn, routing::Resolution resolution, std::vector<size_t> order,
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
  enum class Phase { kTrying, kBufferJson, kBufferSse, kRelay, kDone };

  void NextAttempt();
  void StartAttempt();
  // The current attempt failed before the commit: record it and move on (or
  // retry the same endpoint after a backoff).
  void AttemptFailed(routing::Attempt attempt, bool count_for_breaker);
  void FailAll();
  void Commit(int64_t content_length);
  void RelayBody(const char* data, size_t len);
  void FinishOk();
  void FailAfterCommit(const std::string& code, const std::string& message);
  void ScanForTerminal(const char* data, size_t len);
  std::string EndpointName() const;
  uint64_t NowMs() const;

  HttpConnection* conn_;  // null once the client is gone or the response ended
  uv_loop_t* loop_;
  SnapshotPtr snapshot_;  // keeps the resolution's providers alive
  routing::Resolution resolution_;
  std::vector<size_t> order_;
  size_t next_ = 0;
  const routing::Target* target_ = nullptr;
  const ProviderRuntime* provider_ = nullptr;
  bool probe_ = false;
  uint32_t tries_on_target_ = 0;
  std::vector<routing::Attempt> attempts_;

  size_t model_begin_;
  size_t model_end_;
  bool stream_;
  std::string head_;         // upstream request line + headers
  std::string model_token_;  // the spliced JSON string for the model

  Phase phase_ = Phase::kTrying;
  UpstreamHead upstream_head_;  // kept until the commit
  std::string buffer_;          // body held back until it is validated
  bool sse_response_ = false;
  bool saw_terminal_ = false;
  std::string tail_;  // last bytes of the relayed stream (markers that straddle reads)
  bool paused_ = false;
  std::unique_ptr<UpstreamCall> call_;
  OneShotTimer* retry_timer_ = nullptr;
};

}  // namespace bitrouter::worker
