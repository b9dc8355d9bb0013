#include "controld/mcp_host/frame.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "absl/strings/str_cat.h"
#include "shared/mcp/jsonrpc.h"

namespace bitrouter::mcphost {

absl::Status LineSplitter::Feed(std::string_view data,
                                const std::function<absl::Status(std::string_view)>& on_line) {
  while (!data.empty()) {
    size_t nl = data.find('\n');
    if (nl == std::string_view::npos) {
      if (partial_.size() + data.size() > max_line_) {
        return absl::ResourceExhaustedError(absl::StrCat("a line exceeds ", max_line_, " bytes"));
      }
      partial_.append(data);
      return absl::OkStatus();
    }
    std::string_view piece = data.substr(0, nl);
    data.remove_prefix(nl + 1);
    if (partial_.size() + piece.size() > max_line_) {
      return absl::ResourceExhaustedError(absl::StrCat("a line exceeds ", max_line_, " bytes"));
    }
    std::string_view line = piece;
    if (!partial_.empty()) {
      partial_.append(piece);
      line = partial_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    absl::Status s = line.empty() ? absl::OkStatus() : on_line(line);
    partial_.clear();
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<Frame> ParseFrame(std::string_view line) {
  rapidjson::Document d;
  d.Parse(line.data(), line.size());
  if (d.HasParseError() || !d.IsObject()) {
    return absl::InvalidArgumentError("a frame is not a JSON object");
  }
  Frame f;
  auto server = d.FindMember("server");
  if (server == d.MemberEnd() || !server->value.IsString()) {
    return absl::InvalidArgumentError("a frame has no \"server\" string");
  }
  f.server.assign(server->value.GetString(), server->value.GetStringLength());
  auto message = d.FindMember("message");
  if (message == d.MemberEnd() || !message->value.IsObject()) {
    return absl::InvalidArgumentError("a frame has no \"message\" object");
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  message->value.Accept(w);
  f.message.assign(buf.GetString(), buf.GetSize());
  auto for_id = d.FindMember("for");
  if (for_id != d.MemberEnd()) {
    if (!for_id->value.IsString() && !for_id->value.IsInt64()) {
      return absl::InvalidArgumentError("a frame's \"for\" is not a request id");
    }
    rapidjson::StringBuffer id_buf;
    rapidjson::Writer<rapidjson::StringBuffer> id_writer(id_buf);
    for_id->value.Accept(id_writer);
    f.for_id.assign(id_buf.GetString(), id_buf.GetSize());
  }
  return f;
}

std::string FrameLine(std::string_view server, std::string_view message_json,
                      std::string_view for_id) {
  std::string out = absl::StrCat("{\"server\":", mcp::JsonString(server));
  if (!for_id.empty()) out.append(",\"for\":").append(for_id);
  out.append(",\"message\":").append(message_json).append("}\n");
  return out;
}

}  // namespace bitrouter::mcphost
