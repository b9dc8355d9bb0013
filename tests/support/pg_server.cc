#include "tests/support/pg_server.h"

#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace bitrouter::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kInitDbTimeout = std::chrono::seconds(60);
constexpr auto kStopTimeout = std::chrono::seconds(30);

// The bin directory of the newest PostgreSQL the Debian packages installed.
absl::StatusOr<std::string> FindBinDir() {
  glob_t g{};
  std::string best;
  int best_version = -1;
  if (glob("/usr/lib/postgresql/*/bin/postgres", 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::string path = g.gl_pathv[i];
      std::string dir = path.substr(0, path.size() - std::string("/postgres").size());
      int version = atoi(dir.c_str() + std::string("/usr/lib/postgresql/").size());
      if (version > best_version && access((dir + "/initdb").c_str(), X_OK) == 0 &&
          access(path.c_str(), X_OK) == 0) {
        best_version = version;
        best = dir;
      }
    }
  }
  globfree(&g);
  if (best.empty()) {
    return absl::FailedPreconditionError(
        "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/{initdb,postgres}); "
        "run deploy/install-deps.sh (it installs the postgresql package)");
  }
  return best;
}

// Waits for `pid` to exit, up to `timeout`; its exit status, or nullopt.
std::optional<int> WaitExit(pid_t pid, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;  // not our child any more: nothing to wait for
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgServer>> PgServer::Start() {
  auto bin = FindBinDir();
  if (!bin.ok()) return bin.status();
  std::unique_ptr<PgServer> server(new PgServer());
  server->bin_dir_ = *bin;
  // Short, outside the build tree: a socket path has 107 characters at most.
  char tmpl[] = "/tmp/br-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  server->dir_ = tmpl;
  // Anyone reaches the socket and the postgres user may write here.
  if (chmod(server->dir_.c_str(), 0777) != 0) return absl::InternalError("chmod temp dir failed");
  if (geteuid() == 0) {
    struct passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return absl::FailedPreconditionError(
          "running as root, and PostgreSQL refuses root, but there is no 'postgres' user; run "
          "deploy/install-deps.sh (the postgresql package creates it)");
    }
    server->as_postgres_ = true;
    server->uid_ = pw->pw_uid;
    server->gid_ = pw->pw_gid;
    if (chown(server->dir_.c_str(), server->uid_, server->gid_) != 0) {
      return absl::InternalError("chown temp dir to postgres failed");
    }
  }
  std::mt19937 rng(std::random_device{}());
  // The port only names the socket file (.s.PGSQL.<port>) in our own dir.
  server->port_ = std::uniform_int_distribution<int>(20000, 60000)(rng);
  if (absl::Status s = server->InitDb(); !s.ok()) return s;
  if (absl::Status s = server->Launch(); !s.ok()) return s;
  return server;
}

PgServer::~PgServer() {
  (void)Stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string PgServer::url(std::string_view database) const {
  return absl::StrCat("postgresql://postgres@/", std::string(database), "?host=", dir_,
                      "&port=", port_);
}

absl::StatusOr<pid_t> PgServer::Spawn(const std::vector<std::string>& argv) {
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string log = dir_ + "/log";
  int fd = open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open ", log));
  pid_t pid = fork();
  if (pid < 0) {
    close(fd);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    if (as_postgres_) {
      if (setgroups(0, nullptr) != 0 || setgid(gid_) != 0 || setuid(uid_) != 0) _exit(126);
    }
    if (chdir(dir_.c_str()) != 0) _exit(126);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fd);
  return pid;
}

std::string PgServer::LogTail() const {
  std::ifstream in(dir_ + "/log");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > 2000) text = text.substr(text.size() - 2000);
  return text;
}

absl::Status PgServer::InitDb() {
  auto pid = Spawn({bin_dir_ + "/initdb", "-D", dir_ + "/data", "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"});
  if (!pid.ok()) return pid.status();
  std::optional<int> status = WaitExit(*pid, kInitDbTimeout);
  if (!status.has_value()) {
    kill(*pid, SIGKILL);
    WaitExit(*pid, std::chrono::seconds(5));
    return absl::DeadlineExceededError(absl::StrCat("initdb timed out; log:\n", LogTail()));
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(absl::StrCat("initdb failed; log:\n", LogTail()));
  }
  return absl::OkStatus();
}

absl::Status PgServer::Launch() {
  auto pid =
      Spawn({bin_dir_ + "/postgres", "-D", dir_ + "/data", "-k", dir_, "-p", std::to_string(port_),
             "-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
             "full_page_writes=off", "-c", "max_connections=40"});
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  const std::string conninfo = absl::StrCat("host=", dir_, " port=", port_,
                                            " dbname=postgres user=postgres connect_timeout=2");
  const auto deadline = Clock::now() + kStartTimeout;
  // A real connection attempt, not just the socket file: the server accepts
  // connections only once recovery/startup is done.
  while (PQping(conninfo.c_str()) != PQPING_OK) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("postgres exited at start; log:\n", LogTail()));
    }
    if (Clock::now() >= deadline) {
      (void)Stop();
      return absl::DeadlineExceededError(
          absl::StrCat("postgres did not accept connections within 30 s; log:\n", LogTail()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::OkStatus();
}

absl::Status PgServer::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  const pid_t pid = pid_;
  pid_ = -1;
  kill(pid, SIGINT);  // fast shutdown: disconnect clients, checkpoint, exit
  if (WaitExit(pid, kStopTimeout).has_value()) return absl::OkStatus();
  kill(pid, SIGKILL);
  WaitExit(pid, std::chrono::seconds(5));
  return absl::DeadlineExceededError(
      absl::StrCat("postgres did not stop within 30 s (killed); log:\n", LogTail()));
}

absl::Status PgServer::StartAgain() {
  if (pid_ > 0) return absl::FailedPreconditionError("postgres is running");
  return Launch();
}

absl::StatusOr<std::string> PgServer::CreateDatabase(std::string_view name) {
  for (char c : name) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return absl::InvalidArgumentError(absl::StrCat("bad database name ", std::string(name)));
    }
  }
  PGconn* conn = PQconnectdb(
      absl::StrCat("host=", dir_, " port=", port_, " dbname=postgres user=postgres").c_str());
  absl::Status status;
  if (PQstatus(conn) != CONNECTION_OK) {
    status = absl::UnavailableError(absl::StrCat("connect: ", PQerrorMessage(conn)));
  } else {
    // An identifier cannot be a parameter; `name` was checked above.
    PGresult* r = PQexec(conn, absl::StrCat("CREATE DATABASE ", std::string(name)).c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      status = absl::InternalError(absl::StrCat("CREATE DATABASE: ", PQerrorMessage(conn)));
    }
    PQclear(r);
  }
  PQfinish(conn);
  if (!status.ok()) return status;
  return url(name);
}

}  // namespace bitrouter::testing
