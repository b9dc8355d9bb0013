#include "shared/common/log.h"

#include <unistd.h>

#include <atomic>
#include <ctime>
#include <mutex>

namespace bitrouter::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::mutex g_tag_mu;
std::string g_tag = "bitrouter";

const char* LevelName(Level level) {
  switch (level) {
    case Level::kTrace:
      return "TRACE";
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO";
    case Level::kWarn:
      return "WARN";
    case Level::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace

bool ParseLevel(std::string_view text, Level* out) {
  static constexpr std::pair<std::string_view, Level> kNames[] = {
      {"trace", Level::kTrace}, {"debug", Level::kDebug},  {"info", Level::kInfo},
      {"warn", Level::kWarn},   {"warning", Level::kWarn}, {"error", Level::kError}};
  for (const auto& [name, level] : kNames) {
    if (name == text) {
      *out = level;
      return true;
    }
  }
  return false;
}

void SetLevel(Level level) { g_level.store(level, std::memory_order_relaxed); }
Level GetLevel() { return g_level.load(std::memory_order_relaxed); }

void SetTag(std::string tag) {
  std::lock_guard<std::mutex> lock(g_tag_mu);
  g_tag = std::move(tag);
}

void Write(Level level, std::string_view message) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char stamp[40];
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string tag;
  {
    std::lock_guard<std::mutex> lock(g_tag_mu);
    tag = g_tag;
  }
  std::string line = absl::StrCat(stamp, ".", absl::Dec(ts.tv_nsec / 1000000, absl::kZeroPad3),
                                  "Z ", LevelName(level), " ", tag, ": ",
                                  absl::string_view(message.data(), message.size()), "\n");
  // One write per line keeps lines whole across processes sharing stderr.
  ssize_t unused = ::write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

}  // namespace bitrouter::log
