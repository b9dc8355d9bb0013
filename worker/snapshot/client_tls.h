#pragma once
// The client TLS context every upstream session runs on: TLS 1.2+, peer
// verification against the system trust store plus upstream.ca_file. It is
// part of a snapshot (built off the loop with the rest of it), so the
// snapshot room owns its construction and the upstream room only uses it.

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace bitrouter::worker {

// `extra_ca_file` is PEM and may be empty. Blocking file I/O: call off the loop.
absl::StatusOr<std::shared_ptr<SSL_CTX>> MakeClientTlsContext(const std::string& extra_ca_file);

// The thread's queued OpenSSL errors as one line (drains the queue).
std::string OpenSslErrorText();

}  // namespace bitrouter::worker
