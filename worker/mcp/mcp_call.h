#pragma once
// One MCP request the gateway answers after upstream work: owned by its
// connection, which deletes it after the answer or when the client leaves
// first (then `alive()` expires and late upstream replies are dropped).
// Call-level outcomes are HTTP 200 with a JSON-RPC body: the spec's clients
// treat any other status as a broken transport.
//
// Loop thread only.

#include <memory>
#include <string>

#include "worker/http/http_connection.h"
#include "worker/mcp/mcp_upstream.h"

namespace bitrouter::worker {

class McpCall final : public RequestHandler {
 public:
  McpCall(HttpConnection* conn, std::string id, std::string server)
      : conn_(conn), id_(std::move(id)), server_(std::move(server)) {}
  std::weak_ptr<bool> alive() const { return alive_; }
  const std::string& id() const { return id_; }
  void OnClientGone() override {
    conn_ = nullptr;
    alive_.reset();
  }
  void OnClientWritable() override {}

  // The upstream's result, its JSON-RPC error, or a failure naming the
  // server (never upstream internals).
  void Answer(const McpReply& reply);
  // A result built here (JSON text).
  void AnswerResult(const std::string& result_json);
  void AnswerError(int code, const std::string& message);

 private:
  HttpConnection* Take();

  HttpConnection* conn_;
  std::string id_;
  std::string server_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace bitrouter::worker
