// bitrouterctl start | restart: run bitrouterd as a daemon in this home and
// return only once it answers /health (or say why it did not).
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "ctl/client.h"
#include "ctl/v0_commands.h"
#include "shared/common/url.h"

namespace bitrouter::ctl {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string SiblingBinary(const char* name) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return name;
  self[n] = '\0';
  std::string path(self);
  return path.substr(0, path.rfind('/') + 1) + name;
}

// GET /health on host:port; true on a 200.
bool Healthy(const std::string& address) {
  std::string host;
  uint16_t port = 0;
  if (!ParseHostPort(std::string(absl::StripAsciiWhitespace(address)), &host, &port).ok())
    return false;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return false;
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  bool ok = connect(fd, res->ai_addr, res->ai_addrlen) == 0;
  freeaddrinfo(res);
  if (ok) {
    static constexpr char kReq[] =
        "GET /health HTTP/1.1\r\nHost: bitrouter\r\nConnection: close\r\n\r\n";
    ok = send(fd, kReq, sizeof(kReq) - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof(kReq) - 1);
    char buf[64] = {0};
    ok = ok && recv(fd, buf, sizeof(buf) - 1, 0) > 12 && std::strncmp(buf + 9, "200", 3) == 0;
  }
  close(fd);
  return ok;
}

pid_t PidFromFile(const std::string& path) {
  pid_t pid = 0;
  std::string text = ReadFile(path);
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid)) return 0;
  return pid;
}

}  // namespace

int RunStart(const Context& ctx, const std::vector<std::string>& daemon_args, int wait_seconds) {
  pid_t existing = RunningDaemonPid(ctx);
  if (existing > 0) {
    std::fprintf(stderr, "bitrouterctl: bitrouterd is already running in %s (pid %d)\n",
                 ctx.paths.home.c_str(), existing);
    return 1;
  }
  mkdir(ctx.paths.home.c_str(), 0755);
  mkdir(ctx.paths.logs_dir.c_str(), 0755);
  std::string log_file = ctx.paths.logs_dir + "/bitrouterd.log";
  std::vector<std::string> args = {SiblingBinary("bitrouterd"), "--home-dir", ctx.paths.home,
                                   "--log-file", log_file};
  for (const auto& a : daemon_args) args.push_back(a);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  off_t log_start = 0;
  struct stat st;
  if (stat(log_file.c_str(), &st) == 0) log_start = st.st_size;

  pid_t pid = fork();
  if (pid < 0) {
    std::fprintf(stderr, "bitrouterctl: fork: %s\n", std::strerror(errno));
    return 1;
  }
  if (pid == 0) {
    setsid();  // detach from the terminal's session and signals
    int null = open("/dev/null", O_RDWR);
    int log = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
    if (null >= 0) dup2(null, STDIN_FILENO);
    if (log >= 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);  // errors before --log-file applies land here too
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds);
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      std::string tail = ReadFile(log_file).substr(static_cast<size_t>(log_start));
      std::fprintf(stderr, "bitrouterctl: bitrouterd exited during start (status %d):\n%s",
                   WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), tail.c_str());
      return 1;
    }
    if (PidFromFile(ctx.paths.pid_file) == pid) {
      std::string addr =
          std::string(absl::StripAsciiWhitespace(ReadFile(ctx.paths.listen_addr_file)));
      if (!addr.empty() && Healthy(addr)) {
        if (ctx.json) {
          std::printf("{\"pid\":%d,\"listen\":\"%s\",\"log\":\"%s\"}\n", pid, addr.c_str(),
                      log_file.c_str());
        } else {
          std::printf("bitrouterd started (pid %d), listening on http://%s\n  logs: %s\n", pid,
                      addr.c_str(), log_file.c_str());
        }
        return 0;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr,
               "bitrouterctl: bitrouterd (pid %d) did not answer /health within %d s; see %s\n",
               pid, wait_seconds, log_file.c_str());
  return 1;
}

int RunServe(const std::vector<std::string>& daemon_args) {
  std::vector<std::string> args = {SiblingBinary("bitrouterd")};
  args.insert(args.end(), daemon_args.begin(), daemon_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  std::fprintf(stderr, "bitrouter: cannot run %s: %s\n", args[0].c_str(), std::strerror(errno));
  return 1;
}

}  // namespace bitrouter::ctl
