#pragma once
// Client-side TLS over memory BIOs, so libuv owns the socket and OpenSSL only
// transforms bytes. Certificate verification and SNI are always on.

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace bitrouter::worker {

// The SSL_CTX a session runs on comes with the snapshot
// (worker/snapshot/client_tls.h).
class TlsSession {
 public:
  enum class Result { kOk, kWantRead, kClosed, kError };

  // `host` is verified against the certificate (DNS name or IP literal) and
  // sent as SNI when it is a name.
  TlsSession(SSL_CTX* ctx, const std::string& host);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  void FeedCiphertext(const char* data, size_t len);
  Result Handshake();
  bool handshake_done() const { return handshake_done_; }
  // Decrypts what is available, appending to `out`.
  Result Read(std::string* out);
  Result Write(const char* data, size_t len);
  // Moves ciphertext waiting to go to the socket into `out` (appends).
  void TakeCiphertext(std::string* out);
  // Human-readable reason for the last kError (verification result included).
  std::string ErrorText() const { return error_; }

 private:
  Result Fail(const char* what);
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;  // owned by ssl_
  bool handshake_done_ = false;
  std::string error_;
};

}  // namespace bitrouter::worker
