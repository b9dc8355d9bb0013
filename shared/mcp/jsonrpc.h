#pragma once
// MCP's JSON-RPC 2.0 messages as one Streamable HTTP POST carries them: one
// request, notification or response per body (batches were removed in
// 2025-06-18). Parsing validates the envelope and keeps `id` and `params` as
// JSON text, so the gateway forwards them without rebuilding them.
//
// Thread: any. Pure functions of the input.

#include <rapidjson/fwd.h>

#include <string>
#include <string_view>
#include <variant>

namespace bitrouter::mcp {

// JSON-RPC and MCP error codes.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
// The SDK's ErrorCode.RequestTimeout (implementation-defined range).
inline constexpr int kRequestTimeout = -32001;

struct JsonRpcMessage {
  enum class Kind { kRequest, kNotification, kResponse };
  Kind kind = Kind::kRequest;
  std::string id;      // the id's JSON text (a string or an integer); "" for a notification
  std::string method;  // "" for a response
  std::string params;  // the params' JSON text (an object); "" when absent
  // A response: its "result" or "error" JSON text (one of them).
  std::string result;
  std::string error;
};

struct JsonRpcError {
  int code = kInvalidRequest;
  std::string message;
  std::string id = "null";  // the request's id when it could be read
};

// One POSTed body: -32700 when it is not JSON, -32600 when it is a batch or
// not a valid JSON-RPC 2.0 message (jsonrpc != "2.0", no method and no
// result/error, an id that is null, fractional or not a string or number,
// params that are not an object or array).
std::variant<JsonRpcMessage, JsonRpcError> ParseJsonRpc(std::string_view body);

// {"jsonrpc":"2.0","id":<id>,"result":<result>}
std::string ResultBody(std::string_view id, std::string_view result_json);
// {"jsonrpc":"2.0","id":<id>,"error":{"code":..,"message":..[,"data":..]}}
// (`id` "null" when unknown).
std::string ErrorBody(std::string_view id, int code, std::string_view message,
                      std::string_view data_json = {});
// {"jsonrpc":"2.0","method":<method>[,"params":<params>]}
std::string NotificationBody(std::string_view method, std::string_view params_json);
// {"jsonrpc":"2.0","id":<id>,"method":<method>[,"params":<params>]}
std::string RequestBody(std::string_view id, std::string_view method, std::string_view params_json);

// A JSON string literal for `text` (quoted and escaped).
std::string JsonString(std::string_view text);

// A parsed value written back as compact JSON text.
std::string JsonText(const rapidjson::Value& value);

}  // namespace bitrouter::mcp
