#include "shared/common/daemon_pid.h"

#include <fstream>
#include <iterator>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace bitrouter {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

bool IsLiveBitrouterd(pid_t pid) {
  if (pid <= 0) return false;
  const std::string proc = absl::StrCat("/proc/", pid);
  std::string stat = ReadAll(proc + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] == 'Z') {
    return false;
  }
  // argv[0]'s file name starts with bitrouterd: "bitrouterd", "/usr/bin/bitrouterd",
  // "./build/bin/bitrouterd".
  std::string cmdline = ReadAll(proc + "/cmdline");
  std::string argv0 = cmdline.substr(0, cmdline.find('\0'));
  std::string name = argv0.substr(argv0.rfind('/') + 1);
  return name.rfind("bitrouterd", 0) == 0;  // also bitrouterd-asan and the like
}

pid_t LiveDaemonPid(const std::string& pid_file) {
  pid_t pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadAll(pid_file)), &pid) || pid <= 0) return 0;
  return IsLiveBitrouterd(pid) ? pid : 0;
}

}  // namespace bitrouter
