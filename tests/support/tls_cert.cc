#include "tests/support/tls_cert.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace bitrouter::testing {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct FileClose {
  void operator()(FILE* f) const { std::fclose(f); }
};

std::string OpenSslError(const char* what) {
  std::string msg = what;
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  return msg;
}

bool AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// Opens `path` for writing with the given mode (truncating). The mode is
// enforced with fchmod so a pre-existing file gets it too.
std::unique_ptr<FILE, FileClose> OpenForWrite(const std::string& path, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return nullptr;
  if (::fchmod(fd, mode) != 0) {
    ::close(fd);
    return nullptr;
  }
  FILE* f = ::fdopen(fd, "w");
  if (f == nullptr) ::close(fd);
  return std::unique_ptr<FILE, FileClose>(f);
}

bool Fail(std::string* error, std::string msg) {
  if (error != nullptr) *error = std::move(msg);
  return false;
}

}  // namespace

bool GenerateSelfSignedCert(const std::string& dir, std::string* cert_path, std::string* key_path,
                            std::string* error) {
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(EVP_EC_gen("P-256"));
  if (!pkey) return Fail(error, OpenSslError("EVP_EC_gen"));

  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) return Fail(error, OpenSslError("X509_new"));
  if (X509_set_version(cert.get(), 2) != 1) return Fail(error, OpenSslError("X509_set_version"));

  // Random positive 64-bit serial so repeated runs never collide.
  BIGNUM* serial_bn = BN_new();
  if (serial_bn == nullptr || BN_rand(serial_bn, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial_bn, X509_get_serialNumber(cert.get())) == nullptr) {
    BN_free(serial_bn);
    return Fail(error, OpenSslError("serial"));
  }
  BN_free(serial_bn);

  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600) == nullptr) {
    return Fail(error, OpenSslError("validity"));
  }
  if (X509_set_pubkey(cert.get(), pkey.get()) != 1) {
    return Fail(error, OpenSslError("X509_set_pubkey"));
  }

  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("BitRouter Test"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1) {
    return Fail(error, OpenSslError("subject"));
  }

  if (!AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign") ||
      !AddExtension(cert.get(), NID_ext_key_usage, "serverAuth") ||
      !AddExtension(cert.get(), NID_subject_key_identifier, "hash") ||
      !AddExtension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1")) {
    return Fail(error, OpenSslError("extensions"));
  }

  if (X509_sign(cert.get(), pkey.get(), EVP_sha256()) == 0) {
    return Fail(error, OpenSslError("X509_sign"));
  }

  const std::string cert_file = dir + "/cert.pem";
  const std::string key_file = dir + "/key.pem";
  {
    auto f = OpenForWrite(key_file, 0600);
    if (!f) return Fail(error, "cannot open " + key_file);
    if (PEM_write_PrivateKey(f.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      return Fail(error, OpenSslError("PEM_write_PrivateKey"));
    }
    if (std::fflush(f.get()) != 0) return Fail(error, "write failed: " + key_file);
  }
  {
    auto f = OpenForWrite(cert_file, 0644);
    if (!f) return Fail(error, "cannot open " + cert_file);
    if (PEM_write_X509(f.get(), cert.get()) != 1) {
      return Fail(error, OpenSslError("PEM_write_X509"));
    }
    if (std::fflush(f.get()) != 0) return Fail(error, "write failed: " + cert_file);
  }
  if (cert_path != nullptr) *cert_path = cert_file;
  if (key_path != nullptr) *key_path = key_file;
  return true;
}

}  // namespace bitrouter::testing
