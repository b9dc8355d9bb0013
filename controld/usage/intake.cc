#include "controld/usage/intake.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "shared/common/log.h"
#include "shared/common/thread_priority.h"
#include "shared/common/wall_clock.h"

namespace bitrouter::controld {
namespace {

using Clock = std::chrono::steady_clock;

// A failed transaction is retried after this (the batch stays queued).
constexpr std::chrono::milliseconds kRetryBackoff{500};
// Batches that piled up are written together, up to this many rows per
// transaction (one fsync-free WAL commit each).
constexpr size_t kMaxRowsPerTransaction = 20'000;

}  // namespace

struct UsageIntake::Job {
  std::function<absl::Status(store::UsageStore&)> fn;
  bool started = false;
  bool finished = false;
  bool abandoned = false;  // the caller stopped waiting: never run it
  absl::Status result;
};

UsageIntake::UsageIntake(std::unique_ptr<store::UsageStore> store, Options options)
    : store_(std::move(store)), options_(std::move(options)) {}

UsageIntake::~UsageIntake() { Stop(); }

void UsageIntake::Start() {
  next_prune_ = Clock::now();  // once at start, then every prune_every
  next_tick_ = Clock::now();
  thread_ = std::thread([this] { Loop(); });
}

void UsageIntake::Stop(std::chrono::milliseconds drain) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      if (!thread_.joinable()) return;
    } else {
      stopping_ = true;
      drain_until_ = Clock::now() + drain;
    }
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::deque<Pending> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    left.swap(queue_);
    queued_records_ = 0;
    for (auto& job : jobs_) {
      job->finished = true;
      job->result = absl::UnavailableError("bitrouterd is stopping");
    }
    jobs_.clear();
  }
  cv_.notify_all();
  if (!left.empty()) {
    size_t rows = 0;
    for (const Pending& p : left) rows += p.records.size();
    LOG_ERROR("usage: ", rows, " record(s) not written before shutdown (store unavailable)");
  }
  for (Pending& p : left) {
    if (p.done) p.done(absl::UnavailableError("not written: bitrouterd stopped"));
  }
}

bool UsageIntake::Submit(std::vector<store::UsageRecord> batch, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || stopped_) return false;
    if (queued_records_ + batch.size() > options_.max_queued_records && !queue_.empty()) {
      ++stats_.refused_batches;
      return false;
    }
    queued_records_ += batch.size();
    queue_.push_back({std::move(batch), std::move(done)});
  }
  cv_.notify_all();
  return true;
}

absl::Status UsageIntake::Run(std::function<absl::Status(store::UsageStore&)> fn,
                              std::chrono::milliseconds timeout) {
  auto job = std::make_shared<Job>();
  job->fn = std::move(fn);
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_ || stopped_) return absl::UnavailableError("bitrouterd is stopping");
  jobs_.push_back(job);
  cv_.notify_all();
  // Wait to start within `timeout`; once started, wait for the end (the job
  // references the caller's state, so it must not outlive the caller).
  bool started = cv_.wait_for(lock, timeout, [&] { return job->started || job->finished; });
  if (!started) {
    job->abandoned = true;
    return absl::DeadlineExceededError(
        "the usage store is busy (a long write is ahead of this query); try again");
  }
  cv_.wait(lock, [&] { return job->finished; });
  return job->result;
}

absl::StatusOr<int64_t> UsageIntake::PruneNow() {
  int64_t deleted = 0;
  absl::Status s = Run([&](store::UsageStore& st) -> absl::Status {
    if (options_.retention.count() <= 0) return absl::OkStatus();
    auto n = st.PruneBefore(UnixMillis() - options_.retention.count());
    if (!n.ok()) return n.status();
    deleted = *n;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.rows_pruned += static_cast<uint64_t>(deleted);
  return deleted;
}

void UsageIntake::NoteStore(const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (status.ok()) {
    if (!stats_.store_ok) LOG_INFO("usage store: available again");
    stats_.store_ok = true;
    stats_.store_error.clear();
    stats_.store_down_since_ms = 0;
    return;
  }
  // A failing operation (a write, a key poll) only says the store is down
  // when the store itself failed, not when the operation was refused.
  if (status.code() != absl::StatusCode::kUnavailable &&
      status.code() != absl::StatusCode::kDeadlineExceeded &&
      status.code() != absl::StatusCode::kInternal &&
      status.code() != absl::StatusCode::kResourceExhausted &&
      status.code() != absl::StatusCode::kDataLoss &&
      status.code() != absl::StatusCode::kPermissionDenied) {
    return;
  }
  if (stats_.store_ok) stats_.store_down_since_ms = UnixMillis();
  stats_.store_ok = false;
  stats_.store_error = std::string(status.message());
}

IntakeStats UsageIntake::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  IntakeStats s = stats_;
  s.queued_records = queued_records_;
  return s;
}

void UsageIntake::Loop() {
  // Writes catch up in the gaps between requests, never in their way.
  SetThreadNice(19);
  std::unique_lock<std::mutex> lock(mu_);
  Clock::time_point retry_at{};
  while (true) {
    // Queries first: a person is waiting on them.
    while (!jobs_.empty()) {
      std::shared_ptr<Job> job = jobs_.front();
      jobs_.pop_front();
      if (job->abandoned) continue;
      job->started = true;
      lock.unlock();
      absl::Status s = job->fn(*store_);
      lock.lock();
      job->result = std::move(s);
      job->finished = true;
      cv_.notify_all();
    }
    Clock::time_point now = Clock::now();
    if (options_.tick && now >= next_tick_ && !stopping_) {
      next_tick_ = now + options_.tick_every;
      lock.unlock();
      absl::Status s = options_.tick(*store_);
      NoteStore(s);
      lock.lock();
      continue;
    }
    if (!queue_.empty() && now >= retry_at) {
      size_t before = stats_.write_errors;
      WriteQueued(lock);
      if (stats_.write_errors != before) retry_at = Clock::now() + kRetryBackoff;
      continue;
    }
    if (stopping_ && (queue_.empty() || now >= drain_until_)) break;
    if (options_.retention.count() > 0 && now >= next_prune_) {
      next_prune_ = now + options_.prune_every;
      lock.unlock();
      MaybePrune();
      lock.lock();
      continue;
    }
    Clock::time_point wake =
        options_.retention.count() > 0 ? next_prune_ : now + std::chrono::hours(1);
    if (!queue_.empty()) wake = std::min(wake, retry_at);
    if (options_.tick) wake = std::min(wake, next_tick_);
    if (stopping_) wake = std::min(wake, drain_until_);
    cv_.wait_until(lock, wake, [&] {
      return !jobs_.empty() || (!queue_.empty() && Clock::now() >= retry_at) || stopping_ ||
             (options_.tick && Clock::now() >= next_tick_);
    });
  }
}

void UsageIntake::WriteQueued(std::unique_lock<std::mutex>& lock) {
  // Take the batches that fit one transaction (at least one).
  std::vector<Pending> taking;
  size_t rows = 0;
  while (!queue_.empty() &&
         (taking.empty() || rows + queue_.front().records.size() <= kMaxRowsPerTransaction)) {
    rows += queue_.front().records.size();
    taking.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  lock.unlock();
  if (taking.size() > 1) {
    // One transaction for all: the rows become one batch that answers each
    // of its callers (also when it goes back to the queue after a failure).
    Pending merged;
    merged.records.reserve(rows);
    std::vector<Done> dones;
    dones.reserve(taking.size());
    for (Pending& p : taking) {
      std::move(p.records.begin(), p.records.end(), std::back_inserter(merged.records));
      dones.push_back(std::move(p.done));
    }
    merged.done = [dones = std::move(dones)](const absl::Status& st) {
      for (const Done& d : dones) {
        if (d) d(st);
      }
    };
    taking.clear();
    taking.push_back(std::move(merged));
  }
  Pending& batch = taking.front();
  auto t0 = Clock::now();
  absl::Status s = store_->Append(batch.records);
  int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
  if (options_.on_write) options_.on_write(s.ok(), static_cast<int64_t>(rows), us);
  NoteStore(s);
  if (!s.ok()) {
    // Once per 30 s during an outage: a retry every 500 ms must not flood the log.
    if (Clock::now() >= next_error_log_) {
      next_error_log_ = Clock::now() + std::chrono::seconds(30);
      LOG_ERROR("usage: writing ", rows, " record(s) failed (will retry): ", s.message());
    }
    lock.lock();
    ++stats_.write_errors;
    queue_.push_front(std::move(batch));  // first again, in order
    return;
  }
  if (options_.on_committed) options_.on_committed(batch.records);
  if (batch.done) batch.done(absl::OkStatus());
  lock.lock();
  stats_.rows_written += rows;
  ++stats_.batches_written;
  stats_.last_write_us = us;
  queued_records_ -= std::min(queued_records_, rows);
}

void UsageIntake::MaybePrune() {
  auto n = store_->PruneBefore(UnixMillis() - options_.retention.count());
  if (!n.ok()) {
    LOG_WARN("usage: retention prune failed: ", n.status().message());
    return;
  }
  if (*n > 0) LOG_INFO("usage: retention pruned ", *n, " record(s)");
  std::lock_guard<std::mutex> lock(mu_);
  stats_.rows_pruned += static_cast<uint64_t>(*n);
}

}  // namespace bitrouter::controld
