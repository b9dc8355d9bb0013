#include "shared/config/home.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace bitrouter::config {
namespace {

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool IsFile(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string Absolute(const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return p;
  return p == "." ? std::string(cwd) : absl::StrCat(cwd, "/", p);
}

absl::Status MakeDir(const std::string& p, mode_t mode) {
  if (::mkdir(p.c_str(), mode) == 0 || errno == EEXIST) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("cannot create ", p, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<HomePaths> ResolveHome(const std::string& flag_home_dir) {
  HomePaths paths;
  if (!flag_home_dir.empty()) {
    paths.home = Absolute(flag_home_dir);
    paths.how = "--home-dir";
  } else if (IsFile("bitrouter.yaml")) {
    paths.home = Absolute(".");
    paths.how = "./bitrouter.yaml in the current directory";
  } else if (const char* env = std::getenv("BITROUTER_HOME"); env && *env && IsDir(env)) {
    paths.home = Absolute(env);
    paths.how = "$BITROUTER_HOME";
  } else {
    const char* user_home = std::getenv("HOME");
    if (user_home == nullptr || *user_home == '\0') {
      return absl::FailedPreconditionError(
          "cannot resolve the home directory: pass --home-dir, set BITROUTER_HOME, or set HOME");
    }
    paths.home = absl::StrCat(user_home, "/.bitrouter");
    paths.how = "default ~/.bitrouter";
  }
  while (paths.home.size() > 1 && paths.home.back() == '/') paths.home.pop_back();
  paths.config_file = absl::StrCat(paths.home, "/bitrouter.yaml");
  paths.env_file = absl::StrCat(paths.home, "/.env");
  paths.run_dir = absl::StrCat(paths.home, "/run");
  paths.control_socket = absl::StrCat(paths.run_dir, "/control.sock");
  paths.pid_file = absl::StrCat(paths.run_dir, "/bitrouterd.pid");
  paths.listen_addr_file = absl::StrCat(paths.run_dir, "/listen.addr");
  paths.logs_dir = absl::StrCat(paths.home, "/logs");
  return paths;
}

void ApplyPathOverrides(const PathOverrides& overrides, HomePaths* paths) {
  if (!overrides.config_file.empty()) paths->config_file = Absolute(overrides.config_file);
  if (!overrides.env_file.empty()) paths->env_file = Absolute(overrides.env_file);
  if (!overrides.logs_dir.empty()) paths->logs_dir = Absolute(overrides.logs_dir);
  if (!overrides.run_dir.empty()) {
    paths->run_dir = Absolute(overrides.run_dir);
    while (paths->run_dir.size() > 1 && paths->run_dir.back() == '/') paths->run_dir.pop_back();
    paths->control_socket = absl::StrCat(paths->run_dir, "/control.sock");
    paths->pid_file = absl::StrCat(paths->run_dir, "/bitrouterd.pid");
    paths->listen_addr_file = absl::StrCat(paths->run_dir, "/listen.addr");
  }
}

void ApplyControlSocket(const std::string& configured, HomePaths* paths) {
  if (configured.empty()) return;
  paths->control_socket =
      configured[0] == '/' ? configured : absl::StrCat(paths->run_dir, "/", configured);
}

absl::Status EnsureHomeLayout(const HomePaths& paths) {
  if (absl::Status s = MakeDir(paths.home, 0755); !s.ok()) return s;
  if (absl::Status s = MakeDir(paths.run_dir, 0700); !s.ok()) return s;
  ::chmod(paths.run_dir.c_str(), 0700);
  return MakeDir(paths.logs_dir, 0755);
}

}  // namespace bitrouter::config
