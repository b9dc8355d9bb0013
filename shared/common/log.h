#pragma once
// A small leveled logger writing single lines to stderr (or a file fd).
// Thread-safe: each line is one write(2). Never pass secrets to it.

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace bitrouter::log {

enum class Level { kTrace = 0, kDebug, kInfo, kWarn, kError };

// Parses "trace|debug|info|warn|error"; false if unknown.
bool ParseLevel(std::string_view text, Level* out);
void SetLevel(Level level);
Level GetLevel();
// The component tag printed on every line, e.g. "bitrouterd" or "worker[2]".
void SetTag(std::string tag);
void Write(Level level, std::string_view message);
// From now on lines are handed to a background thread that writes them, so a
// slow or full stderr never blocks the caller (an event loop). At most
// `max_queued` lines wait; beyond that lines are dropped and counted (the
// count is reported in the next line written). Call once.
void StartAsyncWriter(size_t max_queued);
// Writes what is queued and stops the thread (before exit).
void StopAsyncWriter();

inline bool Enabled(Level level) { return level >= GetLevel(); }

}  // namespace bitrouter::log

#define BR_LOG(level, ...)                                                                  \
  do {                                                                                      \
    if (::bitrouter::log::Enabled(::bitrouter::log::Level::level))                          \
      ::bitrouter::log::Write(::bitrouter::log::Level::level, ::absl::StrCat(__VA_ARGS__)); \
  } while (0)
#define LOG_DEBUG(...) BR_LOG(kDebug, __VA_ARGS__)
#define LOG_INFO(...) BR_LOG(kInfo, __VA_ARGS__)
#define LOG_WARN(...) BR_LOG(kWarn, __VA_ARGS__)
#define LOG_ERROR(...) BR_LOG(kError, __VA_ARGS__)
