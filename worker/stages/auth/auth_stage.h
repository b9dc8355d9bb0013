#pragma once
// Stage "auth": who is asking. Finds the client's virtual key (from
// Authorization: Bearer, x-api-key, x-goog-api-key or ?key=) by the SHA-256
// of the secret in the request's snapshot - never the store - and puts it on
// the call for the stages after it.
//
// With server.skip_auth (loopback only, the zero-config default) a request
// without a brvk_ key is served anonymously; a brvk_ key is still checked,
// so a client that holds one gets its scope, limits and budget. Without
// skip_auth every request needs a valid key. 401 with WWW-Authenticate in
// the client's error shape for a missing, unknown, revoked or expired key.

#include <cstdint>

#include "worker/stages/stage.h"

namespace bitrouter::worker {

// What a request's credential is, checked against `snapshot` at `now_unix_ms`.
struct Identity {
  enum class Kind { kAnonymous, kKey, kMissing, kUnknown, kExpired };
  Kind kind = Kind::kAnonymous;
  const KeyPolicy* key = nullptr;  // kKey only
  bool ok() const { return kind == Kind::kAnonymous || kind == Kind::kKey; }
};
Identity Identify(const InboundRequest& request, const WorkerSnapshot& snapshot,
                  int64_t now_unix_ms);
// The 401 for an identity that is not ok(), and its header line.
protocol::HttpError AuthError(const Identity& identity);
inline constexpr std::string_view kAuthChallenge =
    "WWW-Authenticate: Bearer realm=\"bitrouter\"\r\n";

class AuthStage final : public Stage {
 public:
  std::string_view name() const override { return "auth"; }
  unsigned sides() const override { return kRequest; }
  Verdict OnRequest(StageRequest& req) override;
};

}  // namespace bitrouter::worker
