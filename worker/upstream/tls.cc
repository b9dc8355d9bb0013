#include "worker/upstream/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "worker/snapshot/client_tls.h"

namespace bitrouter::worker {
namespace {

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

TlsSession::TlsSession(SSL_CTX* ctx, const std::string& host) {
  ssl_ = SSL_new(ctx);
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio_, -1);
  SSL_set_bio(ssl_, rbio_, wbio_);
  SSL_set_connect_state(ssl_);
  if (IsIpLiteral(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_, host.c_str());
    SSL_set1_host(ssl_, host.c_str());
  }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

void TlsSession::FeedCiphertext(const char* data, size_t len) {
  BIO_write(rbio_, data, static_cast<int>(len));
}

TlsSession::Result TlsSession::Fail(const char* what) {
  long verify = SSL_get_verify_result(ssl_);
  std::string detail = OpenSslErrorText();
  if (verify != X509_V_OK) {
    error_ =
        absl::StrCat(what, ": certificate verify failed: ", X509_verify_cert_error_string(verify));
  } else {
    error_ = absl::StrCat(what, detail.empty() ? "" : ": ", detail);
  }
  return Result::kError;
}

TlsSession::Result TlsSession::Handshake() {
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    handshake_done_ = true;
    return Result::kOk;
  }
  int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Result::kWantRead;
  return Fail("TLS handshake failed");
}

TlsSession::Result TlsSession::Read(std::string* out) {
  char buf[16384];
  while (true) {
    ERR_clear_error();
    int n = SSL_read(ssl_, buf, sizeof(buf));
    if (n > 0) {
      out->append(buf, static_cast<size_t>(n));
      continue;
    }
    int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Result::kWantRead;
    if (err == SSL_ERROR_ZERO_RETURN) return Result::kClosed;
    return Fail("TLS read failed");
  }
}

TlsSession::Result TlsSession::Write(const char* data, size_t len) {
  while (len > 0) {
    ERR_clear_error();
    size_t written = 0;
    if (SSL_write_ex(ssl_, data, len, &written) != 1) return Fail("TLS write failed");
    data += written;
    len -= written;
  }
  return Result::kOk;
}

void TlsSession::TakeCiphertext(std::string* out) {
  char* ptr = nullptr;
  long n = BIO_get_mem_data(wbio_, &ptr);
  if (n <= 0) return;
  out->append(ptr, static_cast<size_t>(n));
  (void)BIO_reset(wbio_);
}

}  // namespace bitrouter::worker
