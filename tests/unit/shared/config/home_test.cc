#include "shared/config/home.h"

#include <gtest/gtest.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>

namespace bitrouter::config {
namespace {

// Runs each test in a fresh temp directory with HOME and BITROUTER_HOME under
// its control; restores the cwd and both variables afterwards.
class ResolveHomeTest : public testing::Test {
 protected:
  void SetUp() override {
    char cwd[PATH_MAX];
    ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
    old_cwd_ = cwd;
    old_home_ = Get("HOME");
    old_br_home_ = Get("BITROUTER_HOME");
    char tmpl[] = "/tmp/br-home-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    // Resolve symlinks (e.g. /tmp on macOS) so expectations match getcwd().
    char real[PATH_MAX];
    ASSERT_NE(realpath(tmpl, real), nullptr);
    root_ = real;
    ASSERT_EQ(mkdir((root_ + "/cwd").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((root_ + "/user").c_str(), 0755), 0);
    ASSERT_EQ(chdir((root_ + "/cwd").c_str()), 0);
    setenv("HOME", (root_ + "/user").c_str(), 1);
    unsetenv("BITROUTER_HOME");
  }

  void TearDown() override {
    EXPECT_EQ(chdir(old_cwd_.c_str()), 0);
    Restore("HOME", old_home_);
    Restore("BITROUTER_HOME", old_br_home_);
    std::string cmd = "rm -rf '" + root_ + "'";
    EXPECT_EQ(system(cmd.c_str()), 0);
  }

  static std::optional<std::string> Get(const char* name) {
    const char* v = getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  }
  static void Restore(const char* name, const std::optional<std::string>& v) {
    if (v) {
      setenv(name, v->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  static bool IsDir(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  std::string root_, old_cwd_;
  std::optional<std::string> old_home_, old_br_home_;
};

TEST_F(ResolveHomeTest, DefaultsToDotBitrouterInHome) {
  auto paths = ResolveHome("");
  ASSERT_TRUE(paths.ok()) << paths.status();
  const std::string home = root_ + "/user/.bitrouter";
  EXPECT_EQ(paths->home, home);
  EXPECT_EQ(paths->how, "default ~/.bitrouter");
  EXPECT_EQ(paths->config_file, home + "/bitrouter.yaml");
  EXPECT_EQ(paths->env_file, home + "/.env");
  EXPECT_EQ(paths->run_dir, home + "/run");
  EXPECT_EQ(paths->control_socket, home + "/run/control.sock");
  EXPECT_EQ(paths->pid_file, home + "/run/bitrouterd.pid");
  EXPECT_EQ(paths->listen_addr_file, home + "/run/listen.addr");
  EXPECT_EQ(paths->logs_dir, home + "/logs");
  EXPECT_FALSE(IsDir(home)) << "ResolveHome must not create anything";
}

TEST_F(ResolveHomeTest, FlagWinsOverEverything) {
  std::ofstream(root_ + "/cwd/bitrouter.yaml") << "{}\n";
  ASSERT_EQ(mkdir((root_ + "/envhome").c_str(), 0755), 0);
  setenv("BITROUTER_HOME", (root_ + "/envhome").c_str(), 1);
  auto paths = ResolveHome(root_ + "/flag/");
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->home, root_ + "/flag") << "trailing slash is dropped";
  EXPECT_EQ(paths->how, "--home-dir");
  EXPECT_EQ(paths->config_file, root_ + "/flag/bitrouter.yaml");
}

TEST_F(ResolveHomeTest, RelativeFlagIsMadeAbsolute) {
  auto paths = ResolveHome("sub");
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->home, root_ + "/cwd/sub");
  paths = ResolveHome(".");
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->home, root_ + "/cwd");
}

TEST_F(ResolveHomeTest, RootFlagKeepsSlash) {
  auto paths = ResolveHome("///");
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->home, "/");
}

TEST_F(ResolveHomeTest, ConfigInCurrentDirectoryWinsOverEnv) {
  std::ofstream(root_ + "/cwd/bitrouter.yaml") << "{}\n";
  ASSERT_EQ(mkdir((root_ + "/envhome").c_str(), 0755), 0);
  setenv("BITROUTER_HOME", (root_ + "/envhome").c_str(), 1);
  auto paths = ResolveHome("");
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->home, root_ + "/cwd");
  EXPECT_EQ(paths->how, "./bitrouter.yaml in the current directory");
  EXPECT_EQ(paths->config_file, root_ + "/cwd/bitrouter.yaml");
}

TEST_F(ResolveHomeTest, DirectoryNamedBitrouterYamlIsIgnored) {
  ASSERT_EQ(mkdir((root_ + "/cwd/bitrouter.yaml").c_str(), 0755), 0);
  auto paths = ResolveHome("");
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->how, "default ~/.bitrouter");
}

TEST_F(ResolveHomeTest, BitrouterHomeWhenItExists) {
  ASSERT_EQ(mkdir((root_ + "/envhome").c_str(), 0755), 0);
  setenv("BITROUTER_HOME", (root_ + "/envhome/").c_str(), 1);
  auto paths = ResolveHome("");
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->home, root_ + "/envhome");
  EXPECT_EQ(paths->how, "$BITROUTER_HOME");
}

TEST_F(ResolveHomeTest, RelativeBitrouterHomeIsMadeAbsolute) {
  ASSERT_EQ(mkdir((root_ + "/cwd/rel").c_str(), 0755), 0);
  setenv("BITROUTER_HOME", "rel", 1);
  auto paths = ResolveHome("");
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->home, root_ + "/cwd/rel");
}

TEST_F(ResolveHomeTest, MissingOrEmptyBitrouterHomeFallsThrough) {
  for (const std::string& value : {root_ + "/nope", std::string()}) {
    setenv("BITROUTER_HOME", value.c_str(), 1);
    auto paths = ResolveHome("");
    ASSERT_TRUE(paths.ok()) << paths.status();
    EXPECT_EQ(paths->home, root_ + "/user/.bitrouter") << "BITROUTER_HOME=" << value;
  }
  // A regular file is not a home directory either.
  std::ofstream(root_ + "/file") << "x";
  setenv("BITROUTER_HOME", (root_ + "/file").c_str(), 1);
  auto paths = ResolveHome("");
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->home, root_ + "/user/.bitrouter");
}

TEST_F(ResolveHomeTest, NoHomeAtAllIsAnError) {
  unsetenv("HOME");
  auto paths = ResolveHome("");
  ASSERT_FALSE(paths.ok());
  EXPECT_EQ(paths.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(paths.status().message().find("--home-dir"), absl::string_view::npos);
  setenv("HOME", "", 1);
  EXPECT_FALSE(ResolveHome("").ok());
  // The flag still works without HOME.
  EXPECT_TRUE(ResolveHome(root_ + "/x").ok());
}

TEST_F(ResolveHomeTest, EnsureHomeLayoutCreatesDirectories) {
  auto paths = ResolveHome(root_ + "/new-home");
  ASSERT_TRUE(paths.ok()) << paths.status();
  ASSERT_TRUE(EnsureHomeLayout(*paths).ok());
  EXPECT_TRUE(IsDir(paths->home));
  EXPECT_TRUE(IsDir(paths->logs_dir));
  struct stat st;
  ASSERT_EQ(stat(paths->run_dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // Idempotent, and tightens a run/ that exists with loose permissions.
  ASSERT_EQ(chmod(paths->run_dir.c_str(), 0755), 0);
  ASSERT_TRUE(EnsureHomeLayout(*paths).ok());
  ASSERT_EQ(stat(paths->run_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(ResolveHomeTest, EnsureHomeLayoutReportsFailure) {
  auto paths = ResolveHome(root_ + "/missing-parent/deeper/home");
  ASSERT_TRUE(paths.ok());
  absl::Status s = EnsureHomeLayout(*paths);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot create"), absl::string_view::npos) << s;
}

}  // namespace
}  // namespace bitrouter::config
