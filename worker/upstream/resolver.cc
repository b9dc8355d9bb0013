#include "worker/upstream/resolver.h"

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
  std::string host;
  uint16_t port;
  Resolver::Callback cb;
};

}  // namespace

void Resolver::Resolve(const std::string& host, uint16_t port, Callback cb) {
  std::vector<sockaddr_storage> addrs(1);
  std::memset(&addrs[0], 0, sizeof(addrs[0]));
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addrs[0])) == 0 ||
      uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addrs[0])) == 0) {
    cb(0, addrs);
    return;
  }
  uint64_t now = uv_now(loop_);
  if (auto it = cache_.find(host); it != cache_.end() && it->second.expires_ms > now) {
    addrs = it->second.addrs;
    for (auto& a : addrs) SetPort(&a, port);
    cb(0, addrs);
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
        // Every address, IPv4 first: the connector tries them in order.
        std::vector<sockaddr_storage> found;
        for (int family : {AF_INET, AF_INET6}) {
          for (addrinfo* ai = status == 0 ? res : nullptr; ai != nullptr; ai = ai->ai_next) {
            if (ai->ai_family != family || found.size() >= 8) continue;
            sockaddr_storage a;
            std::memset(&a, 0, sizeof(a));
            std::memcpy(&a, ai->ai_addr, ai->ai_addrlen);
            found.push_back(a);
          }
        }
        if (status == 0 && found.empty()) status = UV_EAI_NONAME;
        if (status == 0) {
          if (auto owner = l->resolver.lock()) {
            Resolver* self = *owner;
            self->cache_[l->host] = Entry{found, uv_now(self->loop_) + kTtlMs};
          }
          for (auto& a : found) SetPort(&a, l->port);
        }
        uv_freeaddrinfo(res);
        l->cb(status, found);
        delete l;
      },
      host.c_str(), nullptr, &hints);
  if (rc != 0) {
    Callback failed = std::move(lookup->cb);
    delete lookup;
    failed(rc, {});
  }
}

}  // namespace bitrouter::worker
