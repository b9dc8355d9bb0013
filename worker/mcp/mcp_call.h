#pragma once
// One MCP request the gateway answers after upstream work: owned by its
// connection, which deletes it after the answer or when the client leaves
// first (then `alive()` expires, late upstream replies are dropped and the
// upstream request is cancelled). Call-level outcomes are HTTP 200 with a
// JSON-RPC body: the spec's clients treat any other status as a broken
// transport.
//
// A tools/call whose client accepts text/event-stream turns into an SSE
// answer when the first notification about it arrives (progress is relayed
// as it comes) or when it has taken kSseAfterMs; from then on a keep-alive
// comment goes out every keepalive interval, and the response (or error)
// is the stream's last event. Calls that answer quickly stay plain JSON.
//
// Loop thread only.

#include <memory>
#include <string>

#include "worker/http/http_connection.h"
#include "worker/mcp/mcp_exchange.h"

namespace bitrouter::worker {

class OneShotTimer;

// The connection's loop, upstream pool and TLS context.
McpContext McpContextOf(HttpConnection* conn);

class McpCall final : public RequestHandler {
 public:
  static constexpr uint32_t kSseAfterMs = 1000;

  // `may_stream`: the client accepts an SSE answer for this request.
  McpCall(HttpConnection* conn, std::string id, std::string server, bool may_stream = false,
          uint32_t keepalive_ms = 15'000);
  ~McpCall() override;

  std::weak_ptr<bool> alive() const { return alive_; }
  const std::string& id() const { return id_; }
  void OnClientGone() override;
  void OnClientWritable() override {}

  // The upstream request this call waits for: cancelled ("the client
  // disconnected") when the client leaves first.
  void Track(std::shared_ptr<McpInFlight> inflight);
  // Relays the upstream's notifications about this call to the client (SSE
  // when allowed; dropped otherwise). Safe after the call is gone.
  McpNotify Notifier();
  // Cancels the tracked upstream request (the client's own
  // notifications/cancelled) and answers nothing more: the spec says a
  // cancelled request gets no response.
  void CancelByClient(const std::string& reason);

  // The upstream's result, its JSON-RPC error, or a failure naming the
  // server (never upstream internals).
  void Answer(const McpReply& reply);
  // A result built here (JSON text).
  void AnswerResult(const std::string& result_json);
  void AnswerError(int code, const std::string& message);

 private:
  void Send(const std::string& message_json);
  void StartStream();
  void ArmTimer(uint32_t ms);
  void OnTimer();
  void Detach();

  HttpConnection* conn_;
  std::string id_;
  std::string server_;
  bool may_stream_;
  uint32_t keepalive_ms_;
  bool streaming_ = false;
  OneShotTimer* timer_ = nullptr;
  std::shared_ptr<McpInFlight> inflight_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace bitrouter::worker
