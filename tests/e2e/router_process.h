#pragma once
// Runs the real bitrouterd (which starts real workers) in a fresh short temp
// home with a clean environment, for end-to-end tests. Every wait is bounded.

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace bitrouter::testing {

class RouterProcess {
 public:
  struct Options {
    std::map<std::string, std::string> env;  // e.g. OPENAI_API_KEY, OPENAI_BASE_URL
    std::string config_yaml;                 // written to <home>/bitrouter.yaml when set
    int workers = 1;                         // --workers N; 0 = leave it to the config
    std::vector<std::string> extra_args;
    std::string home;         // reuse this home instead of a fresh temp one (not removed)
    bool listen_flag = true;  // pass --listen 127.0.0.1:0 (false: the config decides)
  };

  RouterProcess();
  explicit RouterProcess(Options options);
  ~RouterProcess();  // stops (SIGTERM, then SIGKILL) and removes the home

  // Starts bitrouterd and waits until /health answers (10 s bound).
  bool Start(std::string* error);
  // Starts and expects bitrouterd to exit by itself; returns its exit code.
  int RunToExit(int timeout_ms = 10000);

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& home() const { return home_; }
  std::string Log() const;  // bitrouterd's stderr (workers included)

  // SIGTERM and wait; returns the exit code, 128+signal, or -1 on timeout.
  int Stop(int timeout_ms = 20000);
  void Kill(int sig);
  // True when bitrouterd has exited (reaps it).
  bool Exited(int timeout_ms, int* code = nullptr);

  // Direct children named bitrouter-worker.
  std::vector<pid_t> WorkerPids() const;
  // Waits until `count` workers exist and none of `exclude` is among them.
  bool WaitForWorkers(size_t count, const std::vector<pid_t>& exclude, int timeout_ms) const;

  // Runs bitrouterctl --home-dir <home> args...; returns its exit code.
  // `env` is the whole environment bitrouterctl (and a daemon it starts) sees.
  int Ctl(const std::vector<std::string>& args, std::string* out,
          const std::map<std::string, std::string>& env = {}) const;

 private:
  std::vector<std::string> BaseArgs() const;
  Options options_;
  std::string home_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool reaped_ = false;
  bool own_home_ = true;
  int exit_code_ = -1;
};

// Path of a binary in the build's bin/ directory.
std::string BinPath(const std::string& name);
// Sleeps in small steps until `pred` is true or `timeout_ms` passes.
bool WaitUntil(const std::function<bool()>& pred, int timeout_ms);
// Whether a process exists (and is not a zombie).
bool ProcessAlive(pid_t pid);
// A loopback port nothing listens on: bind port 0, read it back, release it.
int UnusedLoopbackPort();

}  // namespace bitrouter::testing
