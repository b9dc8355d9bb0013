#include "controld/run_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "shared/common/daemon_pid.h"
#include "shared/common/log.h"

namespace bitrouter::controld {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

bool IsSocket(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

// True if a server accepts connections on the Unix socket at `path`.
bool SocketServed(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool served = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return served;
}

}  // namespace

absl::StatusOr<int> LockHome(const config::HomePaths& paths) {
  const std::string lock_path = paths.run_dir + "/bitrouterd.lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", lock_path, ": ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err != EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot lock ", lock_path, ": ", std::strerror(err)));
    }
    pid_t pid = LiveDaemonPid(paths.pid_file);
    return absl::AlreadyExistsError(
        absl::StrCat("bitrouterd is already running in ", paths.home,
                     pid > 0 ? absl::StrCat(" (pid ", pid, ")") : std::string(" (starting up)"),
                     "; stop it with `bitrouterctl --home-dir ", paths.home, " stop`"));
  }
  return fd;
}

absl::Status ClaimHome(const config::HomePaths& paths) {
  std::string text = ReadAll(paths.pid_file);
  if (!text.empty()) {
    pid_t pid = LiveDaemonPid(paths.pid_file);
    if (pid > 0 && pid != getpid()) {
      return absl::AlreadyExistsError(
          absl::StrCat("bitrouterd is already running in ", paths.home, " (pid ", pid,
                       "); stop it with `bitrouterctl --home-dir ", paths.home, " stop`"));
    }
    LOG_INFO("removing stale run files from a previous bitrouterd (pid ",
             absl::StripAsciiWhitespace(text), ")");
    // The control socket is left to PrepareControlSocketPath, which checks
    // that nobody serves it before removing it.
    ::unlink(paths.pid_file.c_str());
    ::unlink(paths.listen_addr_file.c_str());
  }
  return absl::OkStatus();
}

absl::Status PrepareControlSocketPath(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("server.control.socket: cannot inspect ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "server.control.socket: ", path,
        " exists and is not a socket; refusing to replace it (choose another path or remove it)"));
  }
  if (SocketServed(path)) {
    return absl::AlreadyExistsError(absl::StrCat("server.control.socket: another process serves ",
                                                 path, " (another bitrouterd?)"));
  }
  ::unlink(path.c_str());  // stale: left by a process that died
  return absl::OkStatus();
}

absl::Status WriteFileAtomic(const std::string& path, const std::string& content, int mode) {
  std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return absl::InternalError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  ssize_t n = ::write(fd, content.data(), content.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(content.size()) || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

void RemoveRunFiles(const config::HomePaths& paths) {
  ::unlink(paths.pid_file.c_str());
  if (IsSocket(paths.control_socket)) ::unlink(paths.control_socket.c_str());
  ::unlink(paths.listen_addr_file.c_str());
}

}  // namespace bitrouter::controld
