#include "shared/common/log_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace bitrouter::log {

absl::Status RedirectStderrTo(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open log file ", path, ": ", std::strerror(errno)));
  }
  // dup2 clears FD_CLOEXEC on fd 2, so child processes inherit it.
  if (::dup2(fd, STDERR_FILENO) < 0) {
    int err = errno;
    ::close(fd);
    return absl::InternalError(absl::StrCat("dup2 onto stderr: ", std::strerror(err)));
  }
  ::close(fd);
  return absl::OkStatus();
}

absl::Status ReopenStderr(const std::string& path) { return RedirectStderrTo(path); }

uint64_t StderrSize() {
  struct stat st;
  if (::fstat(STDERR_FILENO, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return static_cast<uint64_t>(st.st_size);
}

absl::Status RotateStderr(const std::string& path, int keep) {
  for (int i = keep - 1; i >= 1; --i) {
    std::string from = absl::StrCat(path, ".", i);
    std::string to = absl::StrCat(path, ".", i + 1);
    ::rename(from.c_str(), to.c_str());  // missing files are fine
  }
  if (::rename(path.c_str(), absl::StrCat(path, ".1").c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(absl::StrCat("cannot rotate ", path, ": ", std::strerror(errno)));
  }
  return ReopenStderr(path);
}

}  // namespace bitrouter::log
