// Fuzzes ParseUrl / ParseHostPort: no crashes; accepted URLs are well-formed
// and survive a round trip through HostHeader().

#include <cstdint>
#include <string>
#include <string_view>

#include "shared/common/url.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto url = bitrouter::ParseUrl(text);
  if (url.ok()) {
    FUZZ_CHECK(!url->host.empty());
    FUZZ_CHECK(url->port != 0);
    FUZZ_CHECK(url->path.empty() || (url->path.front() == '/' && url->path.back() != '/'));
    for (char c : url->host) FUZZ_CHECK(c > ' ' && c != '/' && c != '\\' && c != '@');
    for (char c : url->path) FUZZ_CHECK(c != '?' && c != '#' && c != ' ' && c != '\r' && c != '\n');
    std::string again_text = (url->tls ? "https://" : "http://") + url->HostHeader() + url->path;
    auto again = bitrouter::ParseUrl(again_text);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->tls == url->tls);
    FUZZ_CHECK(again->host == url->host);
    FUZZ_CHECK(again->port == url->port);
    FUZZ_CHECK(again->path == url->path);
    FUZZ_CHECK(again->Origin() == url->Origin());
  } else {
    FUZZ_CHECK(url.status().code() == absl::StatusCode::kInvalidArgument);
  }

  std::string host = "unchanged";
  uint16_t port = 7;
  absl::Status s = bitrouter::ParseHostPort(text, &host, &port);
  if (s.ok()) {
    FUZZ_CHECK(!host.empty());
    std::string again_text = host.find(':') != std::string::npos
                                 ? "[" + host + "]:" + std::to_string(port)
                                 : host + ":" + std::to_string(port);
    std::string host2;
    uint16_t port2 = 0;
    FUZZ_CHECK(bitrouter::ParseHostPort(again_text, &host2, &port2).ok());
    FUZZ_CHECK(host2 == host);
    FUZZ_CHECK(port2 == port);
  } else {
    FUZZ_CHECK(host == "unchanged" && port == 7);
  }
  return 0;
}
