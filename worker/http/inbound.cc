#include "worker/http/inbound.h"

#include "shared/common/strings.h"

namespace bitrouter::worker {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::optional<std::string> QueryParam(std::string_view url, std::string_view name) {
  size_t q = url.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = url.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      std::string value;
      if (eq == std::string_view::npos) return value;
      if (!PercentDecode(pair.substr(eq + 1), &value)) return std::nullopt;
      return value;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

protocol::Protocol ProtocolForPath(std::string_view path) {
  if (path == "/v1/messages" || path.substr(0, 13) == "/v1/messages/") {
    return protocol::Protocol::kMessages;
  }
  if (path == "/v1/responses" || path.substr(0, 14) == "/v1/responses/") {
    return protocol::Protocol::kResponses;
  }
  if (path.substr(0, 7) == "/v1beta") return protocol::Protocol::kGemini;
  return protocol::Protocol::kChat;
}

std::string ClientCredential(const InboundRequest& req) {
  std::string_view auth = req.Header("authorization");
  if (auth.size() > 7 && EqualsIgnoreCase(auth.substr(0, 7), "bearer ")) {
    std::string_view k = auth.substr(7);
    while (!k.empty() && k.front() == ' ') k.remove_prefix(1);
    if (!k.empty()) return std::string(k);
  }
  for (std::string_view h : {"x-api-key", "x-goog-api-key"}) {
    std::string_view v = req.Header(h);
    if (!v.empty()) return std::string(v);
  }
  return QueryParam(req.url, "key").value_or("");
}

std::optional<GeminiTarget> ParseGeminiPath(const InboundRequest& req, std::string* error) {
  constexpr std::string_view kPrefix = "/v1beta/models/";
  std::string_view path = req.Path();
  if (path.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string decoded;
  if (!PercentDecode(path.substr(kPrefix.size()), &decoded)) {
    *error = "the model in the path has a malformed percent-escape";
    return GeminiTarget{};
  }
  size_t colon = decoded.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string_view method = std::string_view(decoded).substr(colon + 1);
  GeminiTarget t;
  if (method == "generateContent") {
    t.stream = false;
  } else if (method == "streamGenerateContent") {
    t.stream = true;
    t.sse = QueryParam(req.url, "alt").value_or("") == "sse";
  } else {
    return std::nullopt;
  }
  t.model = decoded.substr(0, colon);
  if (t.model.empty()) *error = "the path names no model";
  return t;
}

}  // namespace bitrouter::worker
