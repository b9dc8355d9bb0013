#include "controld/run_files.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "shared/common/log.h"

namespace bitrouter::controld {
namespace {

bool IsBitrouterd(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/cmdline"));
  std::string cmd;
  std::getline(in, cmd, '\0');
  return cmd.find("bitrouterd") != std::string::npos;
}

}  // namespace

absl::Status ClaimHome(const config::HomePaths& paths) {
  std::ifstream in(paths.pid_file);
  if (in) {
    std::stringstream buf;
    buf << in.rdbuf();
    int pid = 0;
    std::string text = buf.str();
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid) && pid > 0 && pid != getpid() &&
        kill(pid, 0) == 0 && IsBitrouterd(pid)) {
      return absl::AlreadyExistsError(
          absl::StrCat("bitrouterd is already running in ", paths.home, " (pid ", pid,
                       "); stop it with `bitrouterctl --home-dir ", paths.home, " stop`"));
    }
    LOG_INFO("removing stale run files from a previous bitrouterd (pid ",
             text.empty() ? "?" : absl::StripAsciiWhitespace(text), ")");
    RemoveRunFiles(paths);
  }
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
  ::unlink(paths.control_socket.c_str());
  ::unlink(paths.listen_addr_file.c_str());
}

}  // namespace bitrouter::controld
