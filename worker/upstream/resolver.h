#pragma once
// Asynchronous DNS with a small positive cache (uv_getaddrinfo runs on the
// libuv threadpool, so the loop never blocks). Loop thread only.

#include <netinet/in.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bitrouter::worker {

class Resolver {
 public:
  // status 0 on success (addrs non-empty, ports set), a negative uv error otherwise.
  using Callback = std::function<void(int status, const std::vector<sockaddr_storage>& addrs)>;

  explicit Resolver(uv_loop_t* loop) : loop_(loop) {}
  // IP literals and cache hits answer synchronously; others asynchronously.
  void Resolve(const std::string& host, uint16_t port, Callback cb);

 private:
  struct Entry {
    std::vector<sockaddr_storage> addrs;
    uint64_t expires_ms;
  };
  static constexpr uint64_t kTtlMs = 60'000;
  uv_loop_t* loop_;
  std::map<std::string, Entry> cache_;
  std::shared_ptr<Resolver*> self_ = std::make_shared<Resolver*>(this);
};

}  // namespace bitrouter::worker
