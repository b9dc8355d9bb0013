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
#include "worker/loop/timer.h"

#include "worker/http/http_connection.h"
#include "worker/mcp/mcp_exchange.h"
#include "worker/mcp/mcp_report.h"

namespace bitrouter::worker {

// The connection's loop, upstream pool and TLS context.
McpContext McpContextOf(HttpConnection* conn);

class McpCall final : public RequestHandler {
 public:
  static constexpr uint32_t kSseAfterMs = 1000;

  // `method`: the JSON-RPC method being answered. `may_stream`: the client
  // accepts an SSE answer for this request.
  McpCall(HttpConnection* conn, std::string id, std::string server, std::string method = "",
          bool may_stream = false, uint32_t keepalive_ms = 15'000);
  ~McpCall() override;

  std::weak_ptr<bool> alive() const { return alive_; }
  const std::string& id() const { return id_; }
  // The caller's key id ("" without keys).
  const std::string& key_id() const { return facts_.key_id; }
  void OnClientGone() override;
  void OnClientWritable() override {}

  // The upstream request this call waits for: cancelled ("the client
  // disconnected") when the client leaves first.
  void Track(std::shared_ptr<McpInFlight> inflight);
  // Relays the upstream's notifications about this call to the client (SSE
  // when allowed; dropped otherwise). Safe after the call is gone.
  McpNotify Notifier();
  // Makes the call findable by the client's notifications/cancelled on
  // this worker: `caller` is who asked (the key's id, "" without keys).
  void Register(std::string caller);
  // The one in-flight call of `caller` with JSON-RPC id `id` on this
  // worker; null when none or when several match (two clients without keys
  // that reuse an id: cancelling the wrong one would be worse).
  static McpCall* Find(const std::string& caller, const std::string& id);
  // Cancels the tracked upstream request (the client's own
  // notifications/cancelled) and answers nothing more: the spec says a
  // cancelled request gets no response.
  void CancelByClient(const std::string& reason);

  // Which server and tool the next upstream request goes to (for the
  // usage record and metrics); starts that try's clock. `tool_called` is
  // the name the client used.
  void SetTarget(const std::string& server, const std::string& tool);
  void SetToolCalled(const std::string& name) { facts_.tool_called = name; }
  void SetPrice(std::optional<int64_t> micro_usd) { facts_.price_micro_usd = micro_usd; }
  // A try that failed and is not the answer (failover goes on).
  void RecordTry(const McpReply& reply);

  // The upstream's result, its JSON-RPC error, or a failure naming the
  // server (never upstream internals). Records the try.
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
  // Sends the final JSON-RPC message (JSON or the stream's last event) and
  // reports the call.
  void Finish(const std::string& body, const std::string& outcome);

  HttpConnection* conn_;
  std::string id_;
  std::string server_;
  bool may_stream_;
  uint32_t keepalive_ms_;
  bool streaming_ = false;
  OneShotTimer* timer_ = nullptr;
  std::shared_ptr<McpInFlight> inflight_;
  std::string registered_;  // registry key; "" = not registered
  McpFacts facts_;
  uint64_t try_start_us_ = 0;
  bool reported_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace bitrouter::worker
