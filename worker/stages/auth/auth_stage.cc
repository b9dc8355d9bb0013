#include "worker/stages/auth/auth_stage.h"

#include "shared/common/wall_clock.h"
#include "shared/keys/virtual_key.h"
#include "worker/http/inbound.h"

namespace bitrouter::worker {

Identity Identify(const InboundRequest& request, const WorkerSnapshot& snapshot,
                  int64_t now_unix_ms) {
  using Kind = Identity::Kind;
  std::string credential = ClientCredential(request);
  if (!credential.starts_with(keys::kSecretPrefix)) {
    // Not one of ours: an agent's placeholder key is fine while auth is
    // skipped (loopback), and never forwarded anywhere.
    if (!snapshot.require_key) return {Kind::kAnonymous, nullptr};
    return {credential.empty() ? Kind::kMissing : Kind::kUnknown, nullptr};
  }
  auto it = snapshot.keys.find(keys::HashRaw(credential));
  if (it == snapshot.keys.end()) return {Kind::kUnknown, nullptr};
  const KeyPolicy& key = it->second;
  if (key.expires_unix_ms != 0 && key.expires_unix_ms <= now_unix_ms) {
    return {Kind::kExpired, nullptr};
  }
  return {Kind::kKey, &key};
}

protocol::HttpError AuthError(const Identity& identity) {
  switch (identity.kind) {
    case Identity::Kind::kMissing:
      return {401, "authentication_error", "missing_api_key",
              "a BitRouter virtual key is required: send it as Authorization: Bearer <key>, "
              "x-api-key, x-goog-api-key or ?key="};
    case Identity::Kind::kExpired:
      return {401, "authentication_error", "expired_api_key", "this virtual key has expired"};
    default:
      return {401, "authentication_error", "invalid_api_key", "unknown or revoked virtual key"};
  }
}

Stage::Verdict AuthStage::OnRequest(StageRequest& req) {
  if (req.request().key_checked) {  // the entry did it (keys required)
    req.call().key = req.request().key;
    return Verdict::kContinue;
  }
  Identity who = Identify(req.request(), req.snapshot(), UnixMillis());
  if (!who.ok()) {
    req.Answer(AuthError(who), kAuthChallenge);
    return Verdict::kHandled;
  }
  req.call().key = who.key;
  return Verdict::kContinue;
}

}  // namespace bitrouter::worker
