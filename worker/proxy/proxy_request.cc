// ProxyCall: building the upstream request for the current endpoint
// (passthrough splice or translated body, path and headers per protocol).

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "shared/common/log.h"
#include "shared/common/strings.h"
#include "shared/protocol/errors.h"
#include "shared/protocol/json_budget.h"
#include "shared/protocol/openai_request.h"
#include "worker/proxy/proxy_call.h"

namespace bitrouter::worker {
namespace {

using protocol::Protocol;

// Client request headers forwarded upstream, per upstream protocol family.
constexpr std::string_view kOpenAIHeaders[] = {"openai-organization", "openai-project",
                                               "openai-beta"};
constexpr std::string_view kDefaultAnthropicVersion = "2023-06-01";

// A model id as one path segment: RFC 3986 unreserved characters stay.
void AppendPathSegment(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

std::string UpstreamPath(const Url& base, Protocol p, std::string_view model, bool stream) {
  std::string path = base.path;
  switch (p) {
    case Protocol::kChat:
      path.append("/chat/completions");
      break;
    case Protocol::kResponses:
      path.append("/responses");
      break;
    case Protocol::kMessages:
      path.append("/messages");
      break;
    case Protocol::kGemini:
      path.append("/models/");
      AppendPathSegment(model, &path);
      path.append(stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
      break;
  }
  return path;
}

}  // namespace

bool ProxyCall::BuildRequest(UpstreamRequest* up) {
  const InboundRequest& req = conn_->request();
  const std::string& body = req.body;
  upstream_ = provider_->wire;
  if (!target_->api_protocol.empty()) {
    // Validated by the loader (and the snapshot is built from it).
    upstream_ = protocol::ProtocolFromConfig(target_->api_protocol).value_or(upstream_);
  }
  // A Gemini client streaming without alt=sse wants a JSON array, which no
  // upstream sends: that goes through the codecs even Gemini to Gemini.
  // A continuation (proxy_rescue.h) always goes through the canonical form.
  // A guarded stream too: the guard reads and redacts canonical deltas.
  translate_ = Rescuing() || upstream_ != in_.client ||
               (in_.client == Protocol::kGemini && in_.stream && !in_.gemini_sse) ||
               (in_.stream && GuardsAnswers());
  std::string_view b = body;
  if (translate_) {
    if (!canonical_) {
      // The work budget first: a body of countless tiny objects is refused
      // before it can hold the loop.
      absl::Status budget = protocol::CheckJsonObjectBudget(body);
      absl::StatusOr<protocol::CanonicalRequest> parsed =
          budget.ok() ? protocol::AdapterFor(in_.client).parse_request(body)
                      : absl::StatusOr<protocol::CanonicalRequest>(budget);
      if (!parsed.ok()) {
        // The client's request is invalid in its own protocol.
        HttpConnection* conn = conn_;
        conn_ = nullptr;
        phase_ = Phase::kDone;
        client_status_ = 400;
        ResponseEnded(false);
        conn->SendError({400, "invalid_request_error", "invalid_request",
                         std::string(parsed.status().message())},
                        RouteHeaders(false));
        return false;
      }
      canonical_ = std::move(*parsed);
      canonical_->model = in_.model;
      canonical_->stream = in_.stream;
      if (!canonical_->dropped_tools.empty()) {
        LOG_INFO("request ", req.request_id, ": tools no translated upstream can run left out: ",
                 absl::StrJoin(canonical_->dropped_tools, ", "));
      }
    }
    auto rendered =
        Rescuing() ? RenderRescueRequest()
                   : protocol::AdapterFor(upstream_).render_request(*canonical_, target_->model_id);
    if (!rendered.ok()) {
      untranslatable_ = std::string(rendered.status().message());
      attempts_.push_back(
          {routing::Attempt::Kind::kSkipped, EndpointName(), 0, std::nullopt,
           absl::StrCat("cannot carry the request in the ", AV(protocol::ProtocolName(upstream_)),
                        " protocol: ", untranslatable_)});
      return false;
    }
    body_ = std::move(*rendered);
  } else {
    body_.clear();
  }
  model_token_.clear();
  bool splice = !translate_ && in_.client != Protocol::kGemini;
  if (splice) protocol::AppendJsonString(target_->model_id, &model_token_);
  // A Chat stream relayed as is reports usage only when asked: ask for it
  // (right after the model value, inside the top-level object), and keep the
  // extra usage-only chunk from a client that did not ask (RelayBody).
  strip_usage_chunk_ = metering_ && splice && in_.client == Protocol::kChat && in_.stream &&
                       !in_.include_usage && !in_.has_stream_options;
  if (strip_usage_chunk_) model_token_.append(",\"stream_options\":{\"include_usage\":true}");

  Url base = provider_->base;
  std::string header_lines;
  if (!target_->api_base.empty() || !target_->api_key.empty()) {
    if (!target_->api_base.empty()) base = *ParseUrl(target_->api_base);  // validated
    std::string key = !target_->api_key.empty() ? target_->api_key
                      : target_->key_index > 0  ? provider_->keys[target_->key_index]
                                                : provider_->keys[0];
    header_lines = provider_->RenderHeaderLines(base, key);
  } else {
    size_t k = target_->key_index > 0 ? static_cast<size_t>(target_->key_index) : 0;
    header_lines = provider_->header_lines[k < provider_->header_lines.size() ? k : 0];
  }
  size_t length = translate_ ? body_.size()
                  : splice   ? body.size() - (in_.model_end - in_.model_begin) + model_token_.size()
                             : body.size();
  head_ = absl::StrCat("POST ", UpstreamPath(base, upstream_, target_->model_id, in_.stream),
                       " HTTP/1.1\r\n", header_lines,
                       "Content-Type: application/json\r\nContent-Length: ", length,
                       "\r\nx-bitrouter-request-id: ", req.request_id, "\r\n");
  head_.append(in_.stream ? "Accept: text/event-stream\r\n" : "Accept: application/json\r\n");
  std::string_view agent = req.Header("user-agent");
  if (!agent.empty()) absl::StrAppend(&head_, "User-Agent: ", AV(agent), "\r\n");
  if (upstream_ == Protocol::kChat || upstream_ == Protocol::kResponses) {
    for (std::string_view name : kOpenAIHeaders) {
      std::string_view value = req.Header(name);
      if (!value.empty()) absl::StrAppend(&head_, AV(name), ": ", AV(value), "\r\n");
    }
  } else if (upstream_ == Protocol::kMessages) {
    if (!provider_->has_anthropic_version) {
      // A Messages client's own version wins; everyone else gets the stable one.
      std::string_view version =
          in_.client == Protocol::kMessages ? req.Header("anthropic-version") : std::string_view();
      if (version.empty()) version = kDefaultAnthropicVersion;
      absl::StrAppend(&head_, "anthropic-version: ", AV(version), "\r\n");
    }
    std::string_view beta = req.Header("anthropic-beta");
    if (!beta.empty()) absl::StrAppend(&head_, "anthropic-beta: ", AV(beta), "\r\n");
  }
  head_.append("\r\n");

  up->origin = base;
  up->stream = in_.stream;
  up->tls = snapshot_->tls;
  up->timeouts = provider_->has_timeouts ? provider_->timeouts : snapshot_->timeouts;
  if (auto it = snapshot_->route_timeouts.find(resolution_.name);
      it != snapshot_->route_timeouts.end()) {
    up->timeouts = it->second;
  }
  if (translate_) {
    up->pieces = {head_, body_};
  } else if (splice) {
    up->pieces = {head_, b.substr(0, in_.model_begin), model_token_, b.substr(in_.model_end)};
  } else {
    up->pieces = {head_, b};
  }
  return true;
}

}  // namespace bitrouter::worker
