#include "shared/common/log.h"

#include <limits.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>

namespace bitrouter::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::mutex g_tag_mu;
std::string g_tag = "bitrouter";

void WriteLine(const std::string& line) {
  // One write per line keeps lines whole across processes sharing stderr.
  ssize_t unused = ::write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

// Writes lines on its own thread, so a slow stderr never blocks a caller.
class AsyncWriter {
 public:
  explicit AsyncWriter(size_t max_queued) : max_queued_(max_queued) {
    thread_ = std::thread([this] { Run(); });
  }
  ~AsyncWriter() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  // `urgent` (warnings and errors) wakes the writer at once: such a line must
  // not wait in the queue for a process that may be killed the next moment.
  void Push(std::string line, bool urgent) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.size() >= max_queued_) {
        ++dropped_;
        return;
      }
      queue_.push_back(std::move(line));
      // The writer wakes on its own every kFlushEvery; waking it per line
      // would cost the caller a futex syscall and a context switch per line.
      urgent_ = urgent_ || urgent;
      if (!urgent && queue_.size() != kWakeAt) return;
    }
    cv_.notify_one();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait_for(lock, kFlushEvery,
                   [this] { return stop_ || urgent_ || queue_.size() >= kWakeAt; });
      urgent_ = false;
      if (queue_.empty()) {
        if (stop_) return;
        continue;
      }
      std::deque<std::string> batch;
      batch.swap(queue_);
      uint64_t dropped = dropped_;
      dropped_ = 0;
      lock.unlock();
      if (dropped > 0) {
        WriteLine(absl::StrCat("(log: ", dropped, " line(s) dropped: output too slow)\n"));
      }
      // Whole lines gathered into writes of at most PIPE_BUF bytes: one
      // syscall per batch, and a pipe shared with other processes still
      // never interleaves inside a line.
      std::string out;
      for (const std::string& line : batch) {
        if (!out.empty() && out.size() + line.size() > PIPE_BUF) {
          WriteLine(out);
          out.clear();
        }
        out += line;
      }
      if (!out.empty()) WriteLine(out);
      lock.lock();
    }
  }
  static constexpr size_t kWakeAt = 256;  // lines
  static constexpr std::chrono::milliseconds kFlushEvery{20};
  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  uint64_t dropped_ = 0;
  bool stop_ = false;
  bool urgent_ = false;  // a warning or error is waiting
  std::thread thread_;
};

std::mutex g_async_mu;
AsyncWriter* g_async = nullptr;  // guarded by g_async_mu

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
  {
    std::lock_guard<std::mutex> lock(g_async_mu);
    if (g_async != nullptr) {
      g_async->Push(std::move(line), level >= Level::kWarn);
      return;
    }
  }
  WriteLine(line);
}

void StartAsyncWriter(size_t max_queued) {
  std::lock_guard<std::mutex> lock(g_async_mu);
  if (g_async == nullptr) g_async = new AsyncWriter(max_queued);
}

void StopAsyncWriter() {
  AsyncWriter* w;
  {
    std::lock_guard<std::mutex> lock(g_async_mu);
    w = g_async;
    g_async = nullptr;
  }
  delete w;  // joins after writing what is queued
}

}  // namespace bitrouter::log
