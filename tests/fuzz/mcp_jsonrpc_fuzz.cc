// Fuzzes the MCP gateway's JSON-RPC envelope parser on hostile POST bodies:
// it never crashes, every refusal carries a JSON-RPC error code, and what it
// accepts round-trips: the body rebuilt from the parsed message parses to
// the same message.

#include <cstdint>
#include <string>
#include <string_view>

#include "shared/mcp/jsonrpc.h"
#include "tests/fuzz/fuzz_check.h"

using bitrouter::mcp::JsonRpcError;
using bitrouter::mcp::JsonRpcMessage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = bitrouter::mcp::ParseJsonRpc(body);
  if (const auto* e = std::get_if<JsonRpcError>(&parsed)) {
    FUZZ_CHECK(e->code == bitrouter::mcp::kParseError ||
               e->code == bitrouter::mcp::kInvalidRequest);
    FUZZ_CHECK(!e->id.empty());
    return 0;
  }
  const auto& m = std::get<JsonRpcMessage>(parsed);
  std::string rebuilt;
  switch (m.kind) {
    case JsonRpcMessage::Kind::kRequest:
      rebuilt = bitrouter::mcp::RequestBody(m.id, m.method, m.params);
      break;
    case JsonRpcMessage::Kind::kNotification:
      rebuilt = bitrouter::mcp::NotificationBody(m.method, m.params);
      break;
    case JsonRpcMessage::Kind::kResponse:
      rebuilt = m.error.empty()
                    ? bitrouter::mcp::ResultBody(m.id, m.result)
                    : "{\"jsonrpc\":\"2.0\",\"id\":" + m.id + ",\"error\":" + m.error + "}";
      break;
  }
  auto again = bitrouter::mcp::ParseJsonRpc(rebuilt);
  const auto* m2 = std::get_if<JsonRpcMessage>(&again);
  FUZZ_CHECK(m2 != nullptr);
  FUZZ_CHECK(m2->kind == m.kind && m2->id == m.id && m2->method == m.method &&
             m2->params == m.params && m2->result == m.result && m2->error == m.error);
  return 0;
}
