#pragma once
// Shared set-up for the worker's HTTP glue fuzz targets: a private libuv loop
// and loopback TCP sockets, so the real connection and upstream-client code
// runs on real sockets (split writes, resets and all), in process.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bitrouter::fuzzing {

// A listening 127.0.0.1:0 socket (non-blocking); returns the fd, sets *port.
inline int ListenLoopback(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

// A non-blocking client socket connecting to 127.0.0.1:port.
inline int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));  // EINPROGRESS on loopback is fine
  return fd;
}

// Writes what the socket takes now (the rest is dropped: a fuzz input may
// fill the buffers of a peer that stopped reading).
inline void SendSome(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

inline void DrainSocket(int fd) {
  char buf[16384];
  while (::recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
  }
}

// RST instead of FIN.
inline void ResetClose(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  ::close(fd);
}

// Runs the loop without blocking, `turns` times, sleeping `sleep_us` between.
inline void Turn(uv_loop_t* loop, int turns = 3, int sleep_us = 0) {
  for (int i = 0; i < turns; ++i) {
    uv_run(loop, UV_RUN_NOWAIT);
    if (sleep_us > 0) ::usleep(static_cast<useconds_t>(sleep_us));
  }
}

// Splits `payload` into pieces whose sizes come from the input itself.
class Splitter {
 public:
  Splitter(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool Next(std::string_view* piece) {
    if (pos_ >= size_) return false;
    size_t len = 1 + data_[pos_] % 97;
    if (data_[pos_] >= 0xF0) len = 4096;  // now and then a big piece
    len = len > size_ - pos_ ? size_ - pos_ : len;
    *piece = std::string_view(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return true;
  }
  size_t index() const { return index_++; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  mutable size_t index_ = 0;
};

}  // namespace bitrouter::fuzzing
