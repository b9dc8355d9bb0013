// ProxyCall: mid-stream rescue (see proxy_rescue.h), and the relayed-stream
// watch it needs for passthrough streams.

#include "worker/proxy/proxy_rescue.h"

#include "shared/usage/stream_usage_tap.h"

#include <simdjson.h>

#include <ctime>
#include <utility>

#include "absl/strings/str_cat.h"
#include "shared/common/log.h"
#include "shared/common/strings.h"
#include "shared/protocol/json_budget.h"
#include "shared/protocol/scratch_parser.h"
#include "shared/protocol/sse.h"
#include "worker/http/server.h"
#include "worker/proxy/proxy_call.h"

namespace bitrouter::worker {
namespace {

using protocol::Protocol;

std::optional<int64_t> IntField(simdjson::dom::object o, std::string_view key) {
  int64_t v = 0;
  if (o[key].get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

routing::Attempt::Kind BreakKind(std::string_view code) {
  if (code == "upstream_timeout") return routing::Attempt::Kind::kTimeout;
  if (code == "upstream_error") return routing::Attempt::Kind::kReset;
  return routing::Attempt::Kind::kInvalidBody;
}

}  // namespace

RelayWatch::RelayWatch(Protocol client, protocol::StreamSink* record)
    : client_(client), decoder_(protocol::AdapterFor(client).make_decoder(record)) {}

absl::Status RelayWatch::Feed(std::string_view bytes) {
  pending_.append(bytes);
  std::string_view all(pending_);
  size_t start = 0;
  absl::Status status;
  while (true) {
    // Only new bytes are searched (a separator may straddle feeds: back up 3).
    size_t search = std::max(start, scanned_ > 3 ? scanned_ - 3 : 0);
    size_t rel = protocol::SseEventEnd(all.substr(search));
    if (rel == std::string_view::npos) break;
    size_t end = search + rel;
    std::string_view event = all.substr(start, end - start);
    status = sse_.Feed(event, [this](std::string_view name, std::string_view data) {
      if (decoder_->done()) return absl::OkStatus();  // what follows the terminal event
      Peek(name, data);
      return decoder_->OnEvent(name, data);
    });
    if (!status.ok()) break;  // withheld: the client never sees a malformed event
    if (!drop_usage_only_ || !usage::IsChatUsageOnlyChunk(event)) out_.append(event);
    start = end;
    scanned_ = end;
  }
  pending_.erase(0, start);
  scanned_ = pending_.size();
  if (status.ok() && pending_.size() > protocol::SseParser::kMaxEventBytes) {
    status = absl::ResourceExhaustedError(
        absl::StrCat("a stream event exceeds ", protocol::SseParser::kMaxEventBytes, " bytes"));
  }
  return status;
}

void RelayWatch::Peek(std::string_view event, std::string_view data) {
  if (client_ == Protocol::kGemini || data.empty() || data.front() != '{') return;
  if (client_ == Protocol::kChat && position_.created) return;  // the first chunk's is enough
  thread_local protocol::ScratchDomParser parser;
  simdjson::dom::object o;
  if (parser.parse(reinterpret_cast<const uint8_t*>(data.data()), data.size(), true).get(o)) {
    return;  // the decoder reports it
  }
  if (client_ == Protocol::kChat) {
    position_.created = IntField(o, "created");
    return;
  }
  std::string_view type = event;
  if (type.empty() && o["type"].get(type) != simdjson::SUCCESS) return;
  if (client_ == Protocol::kMessages) {
    std::optional<int64_t> index = IntField(o, "index");
    if (!index) return;
    position_.index = type == "content_block_stop" ? *index + 1 : *index;
    return;
  }
  // Responses.
  if (auto seq = IntField(o, "sequence_number")) position_.next_sequence = *seq + 1;
  simdjson::dom::object response;
  if (type == "response.created" && o["response"].get(response) == simdjson::SUCCESS) {
    if (auto created = IntField(response, "created_at")) position_.created = created;
  }
  std::optional<int64_t> index = IntField(o, "output_index");
  if (!index) return;
  if (type == "response.output_item.done") {
    position_.index = *index + 1;
    position_.open_item_id.clear();
    return;
  }
  position_.index = *index;
  simdjson::dom::object item;
  std::string_view id;
  if (type == "response.output_item.added" && o["item"].get(item) == simdjson::SUCCESS &&
      item["id"].get(id) == simdjson::SUCCESS) {
    position_.open_item_id = std::string(id);
  }
}

bool ProxyCall::RescueEnabled() const {
  return snapshot_->failover.stream_recovery && in_.stream && next_ < order_.size();
}

void ProxyCall::WatchTranslated() {
  if (!RescueEnabled()) {
    rescue_.reset();
    return;
  }
  // Fresh for every attempt: an attempt that fails before the commit left
  // nothing with the client.
  rescue_ = std::make_unique<StreamRescue>();
  rescue_->partial.set_next(translator_->encoder());
  translator_->Intercept(&rescue_->partial);
}

void ProxyCall::WatchRelay() {
  rescue_.reset();  // anything recorded was an attempt that failed before the commit
  if (!sse_response_ || !RescueEnabled()) return;
  rescue_ = std::make_unique<StreamRescue>();
  rescue_->watch = std::make_unique<RelayWatch>(in_.client, &rescue_->partial);
  rescue_->watch->DropUsageOnlyChunks(strip_usage_chunk_);
}

void ProxyCall::RelayWatched(const char* data, size_t len) {
  absl::Status s = rescue_->watch->Feed(std::string_view(data, len));
  std::string& out = rescue_->watch->out();
  if (!out.empty()) {
    ScanRelayed(out.data(), out.size());
    // As FlushTranslated: the connection outlives a close a failed write starts.
    HttpConnection* conn = conn_;
    SendBody(conn, out.data(), out.size());
    conn->Uncork();
    out.clear();
    if (conn_ == nullptr) return;
  }
  if (!s.ok()) {
    FailAfterCommit("upstream_error",
                    absl::StrCat("provider ", target_->provider, ": ", s.message()));
    return;
  }
  if (conn_->congested() && call_ != nullptr && !paused_) {
    paused_ = true;
    call_->PauseReading();
  }
}

void ProxyCall::RelayWatchedEnd() {
  // An upstream may end its last event with the body instead of a blank
  // line; the event still counts (and the client gets it properly ended).
  if (rescue_->watch->holding()) RelayWatched("\n\n", 2);
}

bool ProxyCall::TryRescue(const std::string& code, const std::string& message) {
  if (rescue_ == nullptr || conn_ == nullptr || !rescue_->partial.Continuable() ||
      !rescue_->partial.started() || next_ >= order_.size()) {
    return false;
  }
  StreamRescue& r = *rescue_;
  if (r.watch != nullptr) {
    // A passthrough stream: the continuation needs the request in canonical
    // form, and an encoder of the client's protocol where the relayed
    // stream stands.
    if (!canonical_) {
      const std::string& body = conn_->request().body;
      absl::Status budget = protocol::CheckJsonObjectBudget(body);
      if (!budget.ok()) return false;
      auto parsed = protocol::AdapterFor(in_.client).parse_request(body);
      if (!parsed.ok()) return false;
      canonical_ = std::move(*parsed);
      canonical_->model = in_.model;
      canonical_->stream = in_.stream;
    }
    protocol::EncoderOptions opts = EncoderOpts();
    if (!r.partial.start().model.empty()) opts.client_model = r.partial.start().model;
    if (r.watch->position().created) opts.created = *r.watch->position().created;
    r.encoder = protocol::AdapterFor(in_.client).make_encoder(opts);
    protocol::ReplayPartial(r.partial, r.encoder.get());
    r.encoder->Adopt(r.watch->position());
    r.encoder->out().clear();  // the client has all that already
    r.watch.reset();
  } else if (translator_ != nullptr) {
    r.encoder = translator_->TakeEncoder();  // with what it has not flushed yet
  }
  if (r.encoder == nullptr) return false;
  r.active = true;
  r.code = code;
  r.message = message;
  NoteRescuedUsage();
  translator_.reset();
  r.splice.reset();
  r.partial.set_next(r.encoder.get());
  call_.reset();
  conn_->Uncork();  // nothing of ours is corked; do not leave the cork on meanwhile
  LOG_INFO("request ", conn_->request().request_id, ": ", message, "; continuing the answer (",
           r.partial.Text().size(), " bytes of text so far) on the next endpoint");
  attempts_.push_back({BreakKind(code), EndpointName(), upstream_head_.status, std::nullopt,
                       absl::StrCat("stream broke after it started: ", message)});
  NextAttempt();
  return true;
}

absl::StatusOr<std::string> ProxyCall::RenderRescueRequest() {
  StreamRescue& r = *rescue_;
  if (r.mode_target != target_) {
    r.mode_target = target_;
    r.mode = protocol::DefaultContinuationMode(upstream_);
  }
  protocol::CanonicalRequest req =
      protocol::ContinuationRequest(*canonical_, r.partial.Text(), r.mode, &r.trimmed);
  return protocol::AdapterFor(upstream_).render_request(req, target_->model_id);
}

bool ProxyCall::RescueHeaders(const UpstreamHead& head) {
  StreamRescue& r = *rescue_;
  switch (routing::ClassifyStatus(head.status)) {
    case routing::StatusClass::kFailover:
      return false;  // as for any attempt
    case routing::StatusClass::kRelay:
      if (r.mode == protocol::ContinuationMode::kPrefill) {
        // Most likely the target refuses a final assistant turn: once more,
        // with the partial answer followed by the continuation instruction.
        ReleaseProbe();
        attempts_.push_back({routing::Attempt::Kind::kStatus, EndpointName(), head.status,
                             std::nullopt, "refused the prefilled continuation"});
        r.mode = protocol::ContinuationMode::kInstruction;
        call_.reset();
        StartAttempt();
        return true;
      }
      AttemptFailed({routing::Attempt::Kind::kStatus, EndpointName(), head.status, std::nullopt,
                     "refused the continuation"},
                    false);
      return true;
    case routing::StatusClass::kSuccess:
      if (!sse_response_) {
        AttemptFailed({routing::Attempt::Kind::kInvalidBody, EndpointName(), head.status,
                       std::nullopt, "answered a stream continuation without a stream"},
                      true);
        return true;
      }
      Accepted();
      StartSplice();
      return true;
  }
  return false;
}

void ProxyCall::StartSplice() {
  StreamRescue& r = *rescue_;
  // A thinking block left open ends here; an open text block is continued.
  if (r.partial.open() && !r.partial.text_open()) r.partial.OnBlockStop();
  phase_ = Phase::kTranslateSse;
  translator_ = std::make_unique<protocol::StreamTranslator>(upstream_, std::move(r.encoder));
  r.splice = std::make_unique<protocol::SpliceSink>(&r.partial, r.partial.text_open(), r.trimmed,
                                                    r.partial.usage());
  translator_->Intercept(r.splice.get());
  GuardStream();
  LOG_INFO("request ", conn_->request().request_id, ": ", EndpointName(), " continues the answer (",
           r.mode == protocol::ContinuationMode::kPrefill ? "prefill" : "instruction",
           "); attempts so far: ", attempts_.size());
}

void ProxyCall::EndRescueFailed() {
  StreamRescue& r = *rescue_;
  HttpConnection* conn = conn_;
  conn_ = nullptr;
  phase_ = Phase::kDone;
  std::unique_ptr<protocol::StreamEncoder> encoder =
      translator_ != nullptr ? translator_->TakeEncoder() : std::move(r.encoder);
  translator_.reset();
  LOG_WARN("request ", conn->request().request_id, ": ", r.message,
           "; no endpoint could continue the answer");
  if (encoder != nullptr) {
    encoder->OnError({502, r.code, r.message});
    std::string& out = encoder->out();
    SendBody(conn, out.data(), out.size());
    conn->Uncork();
    out.clear();
  } else {
    conn->Uncork();
  }
  r.encoder.reset();
  ResponseEnded(false);
  conn->AbortResponse();
}

}  // namespace bitrouter::worker
