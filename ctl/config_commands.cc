// bitrouterctl init | config validate: both run the real loader locally (no
// daemon needed), exactly as bitrouterd would at start or reload.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "ctl/client.h"
#include "shared/config/env.h"
#include "shared/config/loader.h"
#include "shared/config/render.h"
#include "shared/config/starter.h"

namespace bitrouter::ctl {

int RunConfigValidate(const Context& ctx, const std::string& file) {
  std::string path = file.empty() ? ctx.paths.config_file : file;
  auto env = config::LoadEnvironment(ctx.paths.env_file);
  if (!env.ok()) {
    std::fprintf(stderr, "bitrouterctl: %s\n", std::string(env.status().message()).c_str());
    return 1;
  }
  struct stat st;
  if (!file.empty() && ::stat(file.c_str(), &st) != 0) {
    std::fprintf(stderr, "bitrouterctl: cannot read %s: %s\n", file.c_str(), std::strerror(errno));
    return 1;
  }
  auto cfg = config::LoadConfigFile(path, *env);
  if (!cfg.ok()) {
    std::fprintf(stderr, "%s\n", std::string(cfg.status().message()).c_str());
    return 1;
  }
  std::fputs(config::RenderEffectiveConfig(*cfg).c_str(), stdout);
  return 0;
}

int RunInit(const Context& ctx, bool force) {
  auto env = config::LoadEnvironment(ctx.paths.env_file);
  if (!env.ok()) {
    std::fprintf(stderr, "bitrouterctl: %s\n", std::string(env.status().message()).c_str());
    return 1;
  }
  // Detect providers with the built-ins and the environment only.
  auto detected = config::ParseConfig("", "(defaults)", *env);
  if (!detected.ok()) {
    std::fprintf(stderr, "bitrouterctl: %s\n", std::string(detected.status().message()).c_str());
    return 1;
  }
  std::string text = config::StarterConfig(*detected);
  ::mkdir(ctx.paths.home.c_str(), 0755);
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
  int fd = ::open(ctx.paths.config_file.c_str(), flags, 0644);
  if (fd < 0) {
    if (errno == EEXIST) {
      std::fprintf(stderr,
                   "bitrouterctl: %s already exists; not overwriting it (use --force to replace)\n",
                   ctx.paths.config_file.c_str());
      return 1;
    }
    std::fprintf(stderr, "bitrouterctl: cannot write %s: %s\n", ctx.paths.config_file.c_str(),
                 std::strerror(errno));
    return 1;
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) {
    std::fprintf(stderr, "bitrouterctl: short write to %s\n", ctx.paths.config_file.c_str());
    return 1;
  }
  std::printf("wrote %s\n", ctx.paths.config_file.c_str());
  for (const auto& [name, p] : detected->providers) {
    if (p.active) std::printf("  provider %s: %s\n", name.c_str(), p.reason.c_str());
  }
  std::printf("check it with `bitrouterctl config validate`, then start `bitrouterd`\n");
  return 0;
}

}  // namespace bitrouter::ctl
