#include "tests/e2e/router_process.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/http_client.h"

namespace bitrouter::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void RemoveTree(const std::string& path) {
  DIR* dir = opendir(path.c_str());
  if (dir != nullptr) {
    while (dirent* e = readdir(dir)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string child = path + "/" + name;
      struct stat st;
      if (lstat(child.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        RemoveTree(child);
      } else {
        unlink(child.c_str());
      }
    }
    closedir(dir);
  }
  rmdir(path.c_str());
}

// The child's environment: only what the test gives, so a developer's real
// provider keys can never leak into a test (or a test into a provider).
std::vector<std::string> ChildEnv(const std::map<std::string, std::string>& extra,
                                  const std::string& home) {
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "HOME=" + home, "GRPC_VERBOSITY=ERROR"};
  if (const char* asan = std::getenv("ASAN_OPTIONS"))
    env.push_back(std::string("ASAN_OPTIONS=") + asan);
  if (const char* ubsan = std::getenv("UBSAN_OPTIONS"))
    env.push_back(std::string("UBSAN_OPTIONS=") + ubsan);
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

pid_t Spawn(const std::vector<std::string>& args, const std::vector<std::string>& env,
            const std::string& stdout_path, const std::string& stderr_path) {
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (out >= 0) dup2(out, 1);
    if (err >= 0) dup2(err, 2);
    setpgid(0, 0);  // keep test-runner signals away
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string BinPath(const std::string& name) { return std::string(BITROUTER_BIN_DIR) + "/" + name; }

bool WaitUntil(const std::function<bool()>& pred, int timeout_ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool ProcessAlive(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

int UnusedLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

RouterProcess::RouterProcess() : RouterProcess(Options{}) {}

RouterProcess::RouterProcess(Options options) : options_(std::move(options)) {
  if (!options_.home.empty()) {
    home_ = options_.home;
    own_home_ = false;
    return;
  }
  char tmpl[] = "/tmp/br-XXXXXX";
  if (mkdtemp(tmpl) != nullptr) home_ = tmpl;
}

RouterProcess::~RouterProcess() {
  if (pid_ > 0 && !reaped_) {
    if (Stop(15000) == -1) Kill(SIGKILL);
  }
  // Workers of a SIGKILLed daemon drain and exit on their own; do not leave
  // them behind in a test run.
  if (own_home_) RemoveTree(home_);
}

std::string RouterProcess::Log() const { return ReadFile(home_ + "/bitrouterd.log"); }

std::vector<std::string> RouterProcess::BaseArgs() const {
  std::vector<std::string> args = {BinPath("bitrouterd"), "--home-dir", home_};
  if (options_.listen_flag) {
    args.push_back("--listen");
    args.push_back("127.0.0.1:0");
  }
  if (options_.workers > 0) {
    args.push_back("--workers");
    args.push_back(std::to_string(options_.workers));
  }
  for (const auto& a : options_.extra_args) args.push_back(a);
  return args;
}

bool RouterProcess::Start(std::string* error) {
  if (home_.empty()) {
    *error = "mkdtemp failed";
    return false;
  }
  if (!options_.config_yaml.empty()) {
    std::ofstream(home_ + "/bitrouter.yaml") << options_.config_yaml;
  }
  std::vector<std::string> args = BaseArgs();
  pid_ =
      Spawn(args, ChildEnv(options_.env, home_), home_ + "/stdout.log", home_ + "/bitrouterd.log");
  reaped_ = false;
  bool up = WaitUntil(
      [&] {
        if (Exited(0)) return true;
        std::string addr = ReadFile(home_ + "/run/listen.addr");
        size_t colon = addr.rfind(':');
        if (colon == std::string::npos) return false;
        port_ = std::atoi(addr.c_str() + colon + 1);
        return port_ > 0 && Fetch(port_, "GET", "/health", {}, {}, 1000).status == 200;
      },
      10000);
  if (reaped_) {
    *error = "bitrouterd exited with " + std::to_string(exit_code_) + ":\n" + Log();
    return false;
  }
  if (!up) {
    *error = "bitrouterd did not become healthy within 10 s:\n" + Log();
    return false;
  }
  return true;
}

int RouterProcess::RunToExit(int timeout_ms) {
  std::string error;
  if (!options_.config_yaml.empty())
    std::ofstream(home_ + "/bitrouter.yaml") << options_.config_yaml;
  std::vector<std::string> args = BaseArgs();
  pid_ =
      Spawn(args, ChildEnv(options_.env, home_), home_ + "/stdout.log", home_ + "/bitrouterd.log");
  reaped_ = false;
  int code = -1;
  if (!Exited(timeout_ms, &code)) {
    Kill(SIGKILL);
    Exited(5000);
    return -1;
  }
  return code;
}

bool RouterProcess::Exited(int timeout_ms, int* code) {
  if (pid_ <= 0) return true;
  bool done = WaitUntil(
      [&] {
        if (reaped_) return true;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          reaped_ = true;
          exit_code_ = DecodeStatus(status);
        }
        return reaped_;
      },
      timeout_ms);
  if (done && code != nullptr) *code = exit_code_;
  return done;
}

int RouterProcess::Stop(int timeout_ms) {
  if (pid_ <= 0) return -1;
  if (!reaped_) kill(pid_, SIGTERM);
  int code = -1;
  if (!Exited(timeout_ms, &code)) return -1;
  return code;
}

void RouterProcess::Kill(int sig) {
  if (pid_ > 0 && !reaped_) kill(pid_, sig);
}

std::vector<pid_t> RouterProcess::WorkerPids() const {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* e = readdir(proc)) {
    pid_t p = std::atoi(e->d_name);
    if (p <= 0) continue;
    std::string stat = ReadFile("/proc/" + std::to_string(p) + "/stat");
    size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 4 >= stat.size())
      continue;
    std::string comm = stat.substr(open + 1, close - open - 1);
    char state = stat[close + 2];
    pid_t ppid = std::atoi(stat.c_str() + close + 4);
    if (ppid == pid_ && state != 'Z' && comm.find("bitrouter-work") == 0) out.push_back(p);
  }
  closedir(proc);
  return out;
}

bool RouterProcess::WaitForWorkers(size_t count, const std::vector<pid_t>& exclude,
                                   int timeout_ms) const {
  return WaitUntil(
      [&] {
        auto pids = WorkerPids();
        if (pids.size() != count) return false;
        for (pid_t p : pids) {
          for (pid_t x : exclude) {
            if (p == x) return false;
          }
        }
        return true;
      },
      timeout_ms);
}

int RouterProcess::Ctl(const std::vector<std::string>& args, std::string* out,
                       const std::map<std::string, std::string>& env) const {
  std::vector<std::string> argv = {BinPath("bitrouterctl"), "--home-dir", home_};
  for (const auto& a : args) argv.push_back(a);
  std::string out_path = home_ + "/ctl.out";
  unlink(out_path.c_str());
  pid_t pid = Spawn(argv, ChildEnv(env, home_), out_path, home_ + "/ctl.err");
  int status = 0;
  // Bounded: bitrouterctl's own RPCs have deadlines; stop waits up to --wait.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (waitpid(pid, &status, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (out != nullptr) *out = ReadFile(out_path) + ReadFile(home_ + "/ctl.err");
  unlink((home_ + "/ctl.err").c_str());
  return DecodeStatus(status);
}

}  // namespace bitrouter::testing
