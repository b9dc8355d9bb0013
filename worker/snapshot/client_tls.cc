#include "worker/snapshot/client_tls.h"

#include <openssl/err.h>

#include "absl/strings/str_cat.h"

namespace bitrouter::worker {
std::string OpenSslErrorText() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

absl::StatusOr<std::shared_ptr<SSL_CTX>> MakeClientTlsContext(const std::string& extra_ca_file) {
  SSL_CTX* raw = SSL_CTX_new(TLS_client_method());
  if (raw == nullptr) return absl::InternalError("SSL_CTX_new failed");
  std::shared_ptr<SSL_CTX> ctx(raw, SSL_CTX_free);
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_default_verify_paths(raw) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot load system trust store: ", OpenSslErrorText()));
  }
  if (!extra_ca_file.empty() &&
      SSL_CTX_load_verify_locations(raw, extra_ca_file.c_str(), nullptr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load upstream.ca_file '", extra_ca_file, "': ", OpenSslErrorText()));
  }
  return ctx;
}

}  // namespace bitrouter::worker
