#include "worker/proxy_call.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "shared/common/log.h"
#include "shared/common/strings.h"
#include "shared/protocol/openai_errors.h"
#include "shared/protocol/openai_request.h"
#include "worker/server.h"

namespace bitrouter::worker {
namespace {

// Upstream response headers relayed to the client; everything else
// (hop-by-hop, framing, cookies) stays behind.
constexpr std::string_view kRelayedHeaders[] = {
    "content-type", "retry-after", "openai-processing-ms", "openai-version", "x-request-id",
    "x-ratelimit-limit-requests", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"};

// Client request headers forwarded upstream.
constexpr std::string_view kForwardedHeaders[] = {"openai-organization", "openai-project",
                                                  "openai-beta", "user-agent"};

std::string ActiveProviders(const WorkerSnapshot& snap) {
  std::string out;
  for (const auto& [name, p] : snap.providers) absl::StrAppend(&out, out.empty() ? "" : ", ", name);
  return out.empty() ? std::string("none") : out;
}

}  // namespace

void StartChatCompletion(HttpConnection* conn) {
  const InboundRequest& req = conn->request();
  const WorkerSnapshot& snap = *conn->snapshot();
  auto view = protocol::InspectRequest(req.body.data(), req.body.size());
  if (!view.ok()) {
    conn->SendError({400, "invalid_request_error", "invalid_request",
                     std::string(view.status().message())});
    return;
  }
  std::string_view model = view->model;
  size_t colon = model.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == model.size()) {
    conn->SendError({404, "invalid_request_error", "model_not_found",
                     absl::StrCat("model '", AV(model),
                                  "' not found: use provider:model_id (active providers: ",
                                  ActiveProviders(snap), ")")});
    return;
  }
  std::string_view provider_name = model.substr(0, colon);
  const ProviderRuntime* provider = snap.FindProvider(provider_name);
  if (provider == nullptr) {
    conn->SendError({404, "invalid_request_error", "model_not_found",
                     absl::StrCat("provider '", AV(provider_name), "' in model '", AV(model),
                                  "' is not configured or has no API key (active providers: ",
                                  ActiveProviders(snap), ")")});
    return;
  }
  if (provider->protocol != "openai") {
    conn->SendError({501, "invalid_request_error", "protocol_not_supported",
                     absl::StrCat("provider '", provider->name, "' speaks the ", provider->protocol,
                                  " protocol; Chat Completions can only reach openai-protocol "
                                  "providers in this version")});
    return;
  }
  auto* call = new ProxyCall(conn, provider, std::string(model.substr(colon + 1)),
                             view->model_begin, view->model_end, view->stream);
  conn->SetHandler(call);
  call->Start();
}

ProxyCall::ProxyCall(HttpConnection* conn, const ProviderRuntime* provider,
                     std::string upstream_model, size_t model_begin, size_t model_end, bool stream)
    : conn_(conn),
      snapshot_(conn->snapshot()),
      provider_(provider),
      model_begin_(model_begin),
      model_end_(model_end),
      stream_(stream) {
  protocol::AppendJsonString(upstream_model, &model_token_);
}

ProxyCall::~ProxyCall() = default;

void ProxyCall::Start() {
  const InboundRequest& req = conn_->request();
  const std::string& body = req.body;
  size_t length = body.size() - (model_end_ - model_begin_) + model_token_.size();
  head_ = absl::StrCat("POST ", provider_->base.path, "/chat/completions HTTP/1.1\r\n",
                       provider_->header_lines, "Content-Type: application/json\r\n",
                       "Content-Length: ", length, "\r\n", "x-bitrouter-request-id: ",
                       req.request_id, "\r\n");
  head_.append(stream_ ? "Accept: text/event-stream\r\n" : "Accept: application/json\r\n");
  for (std::string_view name : kForwardedHeaders) {
    std::string_view value = req.Header(name);
    if (!value.empty()) absl::StrAppend(&head_, AV(name), ": ", AV(value), "\r\n");
  }
  head_.append("\r\n");
  std::string_view b = body;
  UpstreamRequest up;
  up.origin = provider_->base;
  up.tls = snapshot_->tls;
  const Timeouts& t = snapshot_->timeouts;
  up.timeouts = t;
  up.pieces = {head_, b.substr(0, model_begin_), model_token_, b.substr(model_end_)};
  call_ = conn_->server()->pool().Start(std::move(up), this);
}

void ProxyCall::OnClientGone() {
  conn_ = nullptr;  // (a corked batch dies with the connection)
  call_.reset();  // cancels the upstream request; its connection is not reused
}

void ProxyCall::OnClientWritable() {
  if (paused_ && call_ != nullptr) {
    paused_ = false;
    call_->ResumeReading();
  }
}

void ProxyCall::OnUpstreamHeaders(const UpstreamHead& head) {
  if (conn_ == nullptr) return;
  std::string lines;
  for (const auto& [name, value] : head.headers) {
    for (std::string_view relayed : kRelayedHeaders) {
      if (EqualsIgnoreCase(name, relayed)) {
        absl::StrAppend(&lines, name, ": ", value, "\r\n");
        break;
      }
    }
  }
  std::string_view type = head.Header("content-type");
  sse_response_ = type.substr(0, 17) == "text/event-stream";
  if (sse_response_) lines.append("Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n");
  int64_t length = -1;
  std::string_view cl = head.Header("content-length");
  if (!cl.empty() && head.Header("transfer-encoding").empty()) {
    int64_t n = 0;
    if (absl::SimpleAtoi(AV(cl), &n) && n >= 0) length = n;
  }
  conn_->StartResponse(head.status, lines, length);
}

void ProxyCall::OnUpstreamBody(const char* data, size_t len) {
  if (conn_ == nullptr) return;
  conn_->WriteBody(data, len);
  if (conn_ != nullptr && conn_->congested() && call_ != nullptr && !paused_) {
    paused_ = true;
    call_->PauseReading();
  }
}

void ProxyCall::OnUpstreamReadBegin() {
  if (conn_ != nullptr) conn_->Cork();
}

void ProxyCall::OnUpstreamReadEnd() {
  if (conn_ != nullptr) conn_->Uncork();
}

void ProxyCall::OnUpstreamComplete() {
  if (conn_ == nullptr) return;
  HttpConnection* conn = conn_;
  conn_ = nullptr;
  conn->EndResponse();  // releases (deferred-deletes) this handler
}

void ProxyCall::OnUpstreamFailure(UpstreamFailure kind, const std::string& detail) {
  if (conn_ == nullptr) return;
  HttpConnection* conn = conn_;
  conn_ = nullptr;
  LOG_WARN("request ", conn->request().request_id, " to provider ", provider_->name, ": ", detail);
  int status = kind == UpstreamFailure::kTimeout ? 504 : 502;
  std::string_view code = kind == UpstreamFailure::kTimeout   ? "upstream_timeout"
                          : kind == UpstreamFailure::kConnect ? "upstream_connect_failed"
                          : kind == UpstreamFailure::kTls     ? "upstream_tls_failed"
                                                              : "upstream_error";
  protocol::HttpError error{status, "upstream_error", code,
                            absl::StrCat("provider ", provider_->name, ": ", detail)};
  if (!conn->response_started()) {
    conn->SendError(error);
    return;
  }
  // The head is out: the status cannot change. Tell an SSE client in-band,
  // then end the response without its terminator.
  // Only upstream bytes are ever corked: flush them before writing our own.
  conn->Uncork();
  std::string event;
  if (sse_response_) {
    event = protocol::RenderOpenAIStreamError(error);
    conn->WriteBody(event.data(), event.size());
  }
  conn->AbortResponse();
}

}  // namespace bitrouter::worker
