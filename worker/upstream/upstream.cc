#include "worker/upstream/upstream.h"

#include <llhttp.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"
#include "worker/upstream/resolver.h"
#include "worker/upstream/upstream_conn.h"

namespace bitrouter::worker {
namespace {

constexpr size_t kMaxIdlePerOrigin = 256;

}  // namespace

std::string_view UpstreamHead::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

const llhttp_settings_t UpstreamConn::kSettings = [] {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_header_field = &UpstreamConn::OnHeaderField;
  s.on_header_value = &UpstreamConn::OnHeaderValue;
  s.on_headers_complete = &UpstreamConn::OnHeadersComplete;
  s.on_body = &UpstreamConn::OnBody;
  s.on_message_complete = &UpstreamConn::OnMessageComplete;
  return s;
}();

// ------------------------------------------------------------ call

UpstreamCall::UpstreamCall(UpstreamPool* pool, UpstreamRequest request, UpstreamHandler* handler)
    : pool_(pool), request_(std::move(request)), handler_(handler) {}

UpstreamCall::~UpstreamCall() {
  if (deferred_failure_ != nullptr) deferred_failure_->Cancel();
  if (conn_ != nullptr) conn_->Abort();
}

void UpstreamCall::PauseReading() {
  if (conn_ != nullptr) conn_->Pause();
}
void UpstreamCall::ResumeReading() {
  if (conn_ != nullptr) conn_->Resume();
}
void UpstreamCall::ContentStarted() {
  if (conn_ != nullptr) conn_->ContentStarted();
}

// ------------------------------------------------------------ pool

UpstreamPool::UpstreamPool(uv_loop_t* loop)
    : loop_(loop), resolver_(std::make_unique<Resolver>(loop)) {}

UpstreamPool::~UpstreamPool() = default;

std::string UpstreamPool::PoolKey(const UpstreamRequest& request) {
  return absl::StrCat(request.origin.Origin(), "|", reinterpret_cast<uintptr_t>(request.tls.get()));
}

std::unique_ptr<UpstreamCall> UpstreamPool::Start(UpstreamRequest request,
                                                  UpstreamHandler* handler) {
  std::unique_ptr<UpstreamCall> call(new UpstreamCall(this, std::move(request), handler));
  call->starting_ = true;
  Assign(call.get());
  call->starting_ = false;
  return call;
}

void UpstreamPool::Assign(UpstreamCall* call) {
  std::string key = PoolKey(call->request_);
  auto it = idle_.find(key);
  if (it != idle_.end() && !it->second.empty()) {
    UpstreamConn* conn = it->second.back();
    it->second.pop_back();
    conn->state_ = UpstreamConn::State::kActive;
    conn->Send(call);
    return;
  }
  auto* conn = new UpstreamConn(this, std::move(key), call->request_);
  conn->Begin(call);
}

void UpstreamPool::ReturnIdle(UpstreamConn* conn) {
  auto& list = idle_[conn->key_];
  if (list.size() >= kMaxIdlePerOrigin) {
    UpstreamConn* oldest = list.front();
    list.erase(list.begin());
    oldest->state_ = UpstreamConn::State::kActive;  // not in the list any more
    oldest->Close();
  }
  list.push_back(conn);
}

void UpstreamPool::ForgetIdle(UpstreamConn* conn) {
  auto it = idle_.find(conn->key_);
  if (it == idle_.end()) return;
  auto& list = it->second;
  list.erase(std::remove(list.begin(), list.end(), conn), list.end());
}

void UpstreamPool::CloseIdle() {
  closing_ = true;
  auto idle = std::move(idle_);
  idle_.clear();
  for (auto& [key, list] : idle) {
    for (UpstreamConn* conn : list) {
      conn->state_ = UpstreamConn::State::kActive;  // already out of the list
      conn->Close();
    }
  }
}

size_t UpstreamPool::idle_count() const {
  size_t n = 0;
  for (const auto& [key, list] : idle_) n += list.size();
  return n;
}

}  // namespace bitrouter::worker
