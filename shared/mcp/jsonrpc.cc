#include "shared/mcp/jsonrpc.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>

namespace bitrouter::mcp {
namespace {

JsonRpcError Invalid(std::string message, std::string id = "null") {
  return JsonRpcError{kInvalidRequest, std::move(message), std::move(id)};
}

}  // namespace

std::variant<JsonRpcMessage, JsonRpcError> ParseJsonRpc(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseStopWhenDoneFlag>(body.data(), body.size());
  if (doc.HasParseError()) {
    return JsonRpcError{kParseError, std::string("Parse error: ") +
                                         rapidjson::GetParseError_En(doc.GetParseError())};
  }
  if (doc.IsArray()) return Invalid("Invalid Request: JSON-RPC batches are not supported");
  if (!doc.IsObject()) return Invalid("Invalid Request: not a JSON-RPC message");
  JsonRpcMessage m;
  auto id = doc.FindMember("id");
  if (id != doc.MemberEnd()) {
    const rapidjson::Value& v = id->value;
    const bool integral = v.IsInt64() || v.IsUint64() ||
                          (v.IsDouble() && std::trunc(v.GetDouble()) == v.GetDouble() &&
                           std::isfinite(v.GetDouble()));
    if (!v.IsString() && !integral)
      return Invalid("Invalid Request: id must be a string or an integer");
    m.id = JsonText(v);
  }
  auto version = doc.FindMember("jsonrpc");
  if (version == doc.MemberEnd() || !version->value.IsString() ||
      std::string_view(version->value.GetString(), version->value.GetStringLength()) != "2.0") {
    return Invalid("Invalid Request: jsonrpc must be \"2.0\"", m.id.empty() ? "null" : m.id);
  }
  auto method = doc.FindMember("method");
  if (method != doc.MemberEnd()) {
    if (!method->value.IsString() || method->value.GetStringLength() == 0) {
      return Invalid("Invalid Request: method must be a non-empty string",
                     m.id.empty() ? "null" : m.id);
    }
    m.method.assign(method->value.GetString(), method->value.GetStringLength());
    auto params = doc.FindMember("params");
    if (params != doc.MemberEnd()) {
      if (!params->value.IsObject() && !params->value.IsArray()) {
        return Invalid("Invalid Request: params must be an object", m.id.empty() ? "null" : m.id);
      }
      m.params = JsonText(params->value);
    }
    m.kind = m.id.empty() ? JsonRpcMessage::Kind::kNotification : JsonRpcMessage::Kind::kRequest;
    return m;
  }
  auto result = doc.FindMember("result");
  auto error = doc.FindMember("error");
  if (m.id.empty() || (result == doc.MemberEnd()) == (error == doc.MemberEnd())) {
    return Invalid("Invalid Request: neither a request, a notification nor a response",
                   m.id.empty() ? "null" : m.id);
  }
  m.kind = JsonRpcMessage::Kind::kResponse;
  if (result != doc.MemberEnd()) m.result = JsonText(result->value);
  if (error != doc.MemberEnd()) m.error = JsonText(error->value);
  return m;
}

std::string JsonText(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string JsonString(std::string_view text) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string ResultBody(std::string_view id, std::string_view result_json) {
  std::string out = "{\"jsonrpc\":\"2.0\",\"id\":";
  out.append(id).append(",\"result\":").append(result_json).append("}");
  return out;
}

std::string ErrorBody(std::string_view id, int code, std::string_view message,
                      std::string_view data_json) {
  std::string out = "{\"jsonrpc\":\"2.0\",\"id\":";
  out.append(id.empty() ? "null" : id).append(",\"error\":{\"code\":").append(std::to_string(code));
  out.append(",\"message\":").append(JsonString(message));
  if (!data_json.empty()) out.append(",\"data\":").append(data_json);
  out.append("}}");
  return out;
}

std::string NotificationBody(std::string_view method, std::string_view params_json) {
  std::string out = "{\"jsonrpc\":\"2.0\",\"method\":";
  out.append(JsonString(method));
  if (!params_json.empty()) out.append(",\"params\":").append(params_json);
  out.append("}");
  return out;
}

std::string RequestBody(std::string_view id, std::string_view method,
                        std::string_view params_json) {
  std::string out = "{\"jsonrpc\":\"2.0\",\"id\":";
  out.append(id).append(",\"method\":").append(JsonString(method));
  if (!params_json.empty()) out.append(",\"params\":").append(params_json);
  out.append("}");
  return out;
}

}  // namespace bitrouter::mcp
