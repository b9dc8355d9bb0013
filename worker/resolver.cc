#include "worker/resolver.h"

#include <cstring>

namespace bitrouter::worker {
namespace {

void SetPort(sockaddr_storage* addr, uint16_t port) {
  if (addr->ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(addr)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(addr)->sin6_port = htons(port);
  }
}

struct Lookup {
  uv_getaddrinfo_t req;
  std::weak_ptr<Resolver*> resolver;
  std::map<std::string, sockaddr_storage>* unused = nullptr;
  std::string host;
  uint16_t port;
  Resolver::Callback cb;
};

}  // namespace

void Resolver::Resolve(const std::string& host, uint16_t port, Callback cb) {
  sockaddr_storage addr;
  std::memset(&addr, 0, sizeof(addr));
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) == 0 ||
      uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) == 0) {
    cb(0, addr);
    return;
  }
  uint64_t now = uv_now(loop_);
  if (auto it = cache_.find(host); it != cache_.end() && it->second.expires_ms > now) {
    addr = it->second.addr;
    SetPort(&addr, port);
    cb(0, addr);
    return;
  }
  auto* lookup = new Lookup{};
  lookup->req.data = lookup;
  lookup->resolver = self_;
  lookup->host = host;
  lookup->port = port;
  lookup->cb = std::move(cb);
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = uv_getaddrinfo(
      loop_, &lookup->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
        auto* l = static_cast<Lookup*>(req->data);
        sockaddr_storage found;
        std::memset(&found, 0, sizeof(found));
        if (status == 0 && res != nullptr) {
          std::memcpy(&found, res->ai_addr, res->ai_addrlen);
          if (auto owner = l->resolver.lock()) {
            Resolver* self = *owner;
            self->cache_[l->host] = Entry{found, uv_now(self->loop_) + kTtlMs};
          }
          SetPort(&found, l->port);
        } else if (status == 0) {
          status = UV_EAI_NONAME;
        }
        uv_freeaddrinfo(res);
        l->cb(status, found);
        delete l;
      },
      host.c_str(), nullptr, &hints);
  if (rc != 0) {
    Callback failed = std::move(lookup->cb);
    delete lookup;
    failed(rc, addr);
  }
}

}  // namespace bitrouter::worker
