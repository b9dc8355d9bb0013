#pragma once
// Self-signed certificate generation for TLS tests (OpenSSL 3 API).

#include <string>

namespace bitrouter::testing {

// Generates an EC P-256 key and a self-signed X.509 v3 certificate valid from
// now-1h to now+1day with CN=localhost, subjectAltName DNS:localhost,
// IP:127.0.0.1 and basicConstraints CA:TRUE (so the certificate can also be
// used as the client's trust anchor / extra CA file).
// Writes <dir>/cert.pem and <dir>/key.pem (key mode 0600); `dir` must exist.
// Returns false and fills *error (if non-null) on failure.
bool GenerateSelfSignedCert(const std::string& dir, std::string* cert_path, std::string* key_path,
                            std::string* error);

}  // namespace bitrouter::testing
