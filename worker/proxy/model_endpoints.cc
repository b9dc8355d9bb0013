#include "worker/proxy/model_endpoints.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <algorithm>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"
#include "shared/protocol/errors.h"
#include "shared/protocol/gemini_adapter.h"
#include "shared/protocol/json_budget.h"
#include "shared/protocol/scratch_parser.h"
#include "shared/usage/estimate.h"
#include "worker/http/inbound.h"
#include "worker/proxy/inference_endpoints.h"

namespace bitrouter::worker {
namespace {

using protocol::Protocol;
using W = rapidjson::Writer<rapidjson::StringBuffer>;
using Listed = WorkerSnapshot::ListedModel;

constexpr std::string_view kOpenAIPrefix = "/v1/models";
constexpr std::string_view kGeminiPrefix = "/v1beta/models";
// Anthropic: "May be set to an epoch value if the release date is unknown."
constexpr std::string_view kEpoch = "1970-01-01T00:00:00Z";

void S(W& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

std::string Done(const rapidjson::StringBuffer& buf) {
  return std::string(buf.GetString(), buf.GetSize());
}

// The listed model `id`, or one the routing table resolves (owned by its
// provider, or bitrouter); nullopt when neither.
std::optional<Listed> FindModel(const WorkerSnapshot& snap, std::string_view id) {
  for (const Listed& m : snap.model_list) {
    if (m.id == id) return m;
  }
  if (id.empty() || !snap.routes.Resolve(id).ok()) return std::nullopt;
  size_t colon = id.find(':');
  return Listed{std::string(id),
                colon == std::string_view::npos ? "bitrouter" : std::string(id.substr(0, colon))};
}

void AnthropicModel(W& w, const Listed& m) {
  w.StartObject();
  S(w, "type"), S(w, "model"), S(w, "id"), S(w, m.id), S(w, "display_name"), S(w, m.id);
  S(w, "created_at"), S(w, kEpoch);
  w.EndObject();
}

void GeminiModel(W& w, const Listed& m) {
  w.StartObject();
  S(w, "name"), S(w, absl::StrCat("models/", m.id)), S(w, "baseModelId"), S(w, m.id);
  S(w, "version"), S(w, "1"), S(w, "displayName"), S(w, m.id);
  S(w, "description"), S(w, absl::StrCat("Routed by BitRouter (", m.owned_by, ")"));
  S(w, "supportedGenerationMethods");
  w.StartArray();
  S(w, "generateContent"), S(w, "streamGenerateContent"), S(w, "countTokens");
  w.EndArray();
  w.EndObject();
}

int64_t IntParam(const InboundRequest& req, std::string_view name, int64_t def, int64_t max) {
  int64_t v = 0;
  std::optional<std::string> s = QueryParam(req.url, name);
  if (!s || !absl::SimpleAtoi(*s, &v) || v < 1) return def;
  return std::min(v, max);
}

// GET /v1/models with anthropic-version: a page of ModelInfo.
std::string AnthropicList(const InboundRequest& req, const std::vector<Listed>& models) {
  size_t begin = 0, end = models.size();
  auto index_of = [&](const std::string& id) {
    for (size_t i = 0; i < models.size(); ++i) {
      if (models[i].id == id) return i;
    }
    return models.size();
  };
  size_t limit = static_cast<size_t>(IntParam(req, "limit", 20, 1000));
  bool has_more = false;
  if (std::optional<std::string> before = QueryParam(req.url, "before_id")) {
    end = std::min(end, index_of(*before));
    begin = end > limit ? end - limit : 0;
    has_more = begin > 0;
  } else {
    if (std::optional<std::string> after = QueryParam(req.url, "after_id")) {
      size_t i = index_of(*after);
      begin = i < models.size() ? i + 1 : models.size();
    }
    end = std::min(end, begin + limit);
    has_more = end < models.size();
  }
  rapidjson::StringBuffer buf;
  W w(buf);
  w.StartObject();
  S(w, "data");
  w.StartArray();
  for (size_t i = begin; i < end; ++i) AnthropicModel(w, models[i]);
  w.EndArray();
  S(w, "has_more"), w.Bool(has_more);
  S(w, "first_id");
  begin < end ? S(w, models[begin].id) : (void)w.Null();
  S(w, "last_id");
  begin < end ? S(w, models[end - 1].id) : (void)w.Null();
  w.EndObject();
  return Done(buf);
}

// GET /v1beta/models: ListModelsResponse; the page token is the next index.
std::string GeminiList(const InboundRequest& req, const std::vector<Listed>& models) {
  size_t size = static_cast<size_t>(IntParam(req, "pageSize", 50, 1000));
  size_t begin = 0;
  if (std::optional<std::string> token = QueryParam(req.url, "pageToken")) {
    uint64_t v = 0;
    if (absl::SimpleAtoi(*token, &v)) begin = std::min<size_t>(v, models.size());
  }
  size_t end = std::min(models.size(), begin + size);
  rapidjson::StringBuffer buf;
  W w(buf);
  w.StartObject();
  S(w, "models");
  w.StartArray();
  for (size_t i = begin; i < end; ++i) GeminiModel(w, models[i]);
  w.EndArray();
  if (end < models.size()) S(w, "nextPageToken"), S(w, absl::StrCat(end));
  w.EndObject();
  return Done(buf);
}

void NotFound(HttpConnection* conn, Protocol p, std::string_view id) {
  std::string message = absl::StrCat("The model '", AV(id), "' does not exist");
  conn->SendResponse(
      404, "application/json",
      protocol::RenderError(
          p, {404, p == Protocol::kMessages ? "not_found_error" : "invalid_request_error",
              "model_not_found", std::move(message)}));
}

void MethodNotAllowed(HttpConnection* conn, Protocol p, std::string_view allow) {
  conn->SendResponse(
      405, "application/json",
      protocol::RenderError(p, {405, "invalid_request_error", "method_not_allowed",
                                absl::StrCat("use ", AV(allow), " ", AV(conn->request().Path()))}),
      absl::StrCat("Allow: ", AV(allow), "\r\n"));
}

// POST /v1beta/models/{m}:countTokens: {contents, ...} or
// {generateContentRequest: {...}}.
void GeminiCountTokens(HttpConnection* conn) {
  const InboundRequest& req = conn->request();
  std::string inner;
  std::string_view body = req.body;
  thread_local protocol::ScratchDomParser parser;
  simdjson::dom::element root, gcr;
  if (!parser.parse(req.body.data(), req.body.size(), false).get(root) && root.is_object() &&
      !root["generateContentRequest"].get(gcr) && gcr.is_object()) {
    inner = simdjson::minify(gcr);
    body = inner;
  }
  if (absl::Status s = protocol::CheckJsonObjectBudget(body); !s.ok()) {
    conn->SendError({400, "invalid_request_error", "invalid_request", std::string(s.message())});
    return;
  }
  auto parsed = protocol::gemini::ParseRequest(body);
  if (!parsed.ok()) {
    conn->SendError(
        {400, "invalid_request_error", "invalid_request", std::string(parsed.status().message())});
    return;
  }
  conn->SendResponse(200, "application/json",
                     absl::StrCat("{\"totalTokens\":", usage::EstimateTokens(*parsed), "}"));
}

}  // namespace

bool HandleModels(HttpConnection* conn) {
  const InboundRequest& req = conn->request();
  std::string_view path = req.Path();
  bool get = req.method == HTTP_GET || req.method == HTTP_HEAD;
  const WorkerSnapshot& snap = *conn->snapshot();
  bool anthropic = !req.Header("anthropic-version").empty();
  Protocol shape = anthropic ? Protocol::kMessages : Protocol::kChat;
  std::string_view rest;
  Protocol family;
  if (path.substr(0, kOpenAIPrefix.size()) == kOpenAIPrefix) {
    rest = path.substr(kOpenAIPrefix.size());
    family = shape;
  } else if (path.substr(0, kGeminiPrefix.size()) == kGeminiPrefix) {
    rest = path.substr(kGeminiPrefix.size());
    family = Protocol::kGemini;
  } else {
    return false;
  }
  if (!rest.empty() && rest[0] != '/') return false;
  if (rest.size() <= 1) {  // the list
    if (!get) {
      MethodNotAllowed(conn, family, "GET");
    } else if (family == Protocol::kGemini) {
      conn->SendResponse(200, "application/json", GeminiList(req, snap.model_list));
    } else if (anthropic) {
      conn->SendResponse(200, "application/json", AnthropicList(req, snap.model_list));
    } else {
      conn->SendResponse(200, "application/json", snap.models_json);
    }
    return true;
  }
  std::string id;
  if (!PercentDecode(rest.substr(1), &id)) return false;
  if (family == Protocol::kGemini) {
    constexpr std::string_view kCount = ":countTokens";
    if (id.size() > kCount.size() && id.substr(id.size() - kCount.size()) == kCount) {
      if (req.method != HTTP_POST) {
        MethodNotAllowed(conn, family, "POST");
      } else {
        GeminiCountTokens(conn);
      }
      return true;
    }
    // Generation calls ({m}:generateContent, ...) belong to the inference
    // endpoints; a GET of them is answered there (405).
    std::string error;
    if (!get || ParseGeminiPath(req, &error).has_value()) return false;
  } else if (!get) {
    return false;
  }
  std::optional<Listed> m = FindModel(snap, id);
  if (!m) {
    NotFound(conn, family, id);
    return true;
  }
  rapidjson::StringBuffer buf;
  W w(buf);
  if (family == Protocol::kGemini) {
    GeminiModel(w, *m);
  } else if (anthropic) {
    AnthropicModel(w, *m);
  } else {
    w.StartObject();
    S(w, "id"), S(w, m->id), S(w, "object"), S(w, "model"), S(w, "created"), w.Int(0);
    S(w, "owned_by"), S(w, m->owned_by);
    w.EndObject();
  }
  conn->SendResponse(200, "application/json", Done(buf));
  return true;
}

}  // namespace bitrouter::worker
