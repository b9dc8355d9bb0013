#include "controld/snapshot_hub.h"

#include <openssl/sha.h>

#include <algorithm>

namespace bitrouter::controld {

std::string ContentHash(const bitrouter::v1::Snapshot& snapshot) {
  bitrouter::v1::Snapshot copy = snapshot;
  copy.set_version(0);
  copy.clear_content_hash();
  std::string bytes;
  copy.SerializeToString(&bytes);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

SnapshotHub::SnapshotPtr SnapshotHub::Publish(bitrouter::v1::Snapshot snapshot) {
  snapshot.set_content_hash(ContentHash(snapshot));
  std::lock_guard<std::mutex> lock(mu_);
  snapshot.set_version(next_version_++);
  latest_ = std::make_shared<const bitrouter::v1::Snapshot>(std::move(snapshot));
  cv_.notify_all();
  return latest_;
}

SnapshotHub::SnapshotPtr SnapshotHub::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

SnapshotHub::SnapshotPtr SnapshotHub::ChooseLocked(Stream* stream) {
  auto refused_here = [&](uint64_t v) {
    return std::find(stream->nacked.begin(), stream->nacked.end(), v) != stream->nacked.end();
  };
  const bool fallback_usable = stream->serving == 0 && current_ != nullptr &&
                               !refused_here(current_->version()) &&
                               current_->version() != stream->answered;
  if (latest_ != nullptr && latest_->version() > stream->answered) {
    const uint64_t v = latest_->version();
    const bool refused_elsewhere =
        newest_nacked_ >= v && (current_ == nullptr || current_->version() < v);
    if (!refused_elsewhere || !fallback_usable) return latest_;
    // A worker with nothing to serve starts on the accepted snapshot, not on
    // a candidate the others refused (it would refuse it too and never
    // accept connections). Recorded like a NACK so waiters see an answer.
    stream->answered = v;
    auto it = ledger_.find(stream->worker_id);
    if (it != ledger_.end() && it->second.pid == stream->pid) {
      it->second.nacked_version = std::max(it->second.nacked_version, v);
      it->second.nack_error = "not pushed: every worker that answered refused it";
    }
    cv_.notify_all();
    return current_;
  }
  // A worker that refused the candidate and serves nothing falls back too.
  if (fallback_usable && current_->version() < stream->answered) return current_;
  return nullptr;
}

SnapshotHub::SnapshotPtr SnapshotHub::NextFor(Stream* stream, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  SnapshotPtr next;
  cv_.wait_for(lock, timeout, [&] {
    if (shutdown_) return true;
    next = ChooseLocked(stream);
    return next != nullptr;
  });
  return shutdown_ ? nullptr : next;
}

void SnapshotHub::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

bool SnapshotHub::shut_down() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutdown_;
}

void SnapshotHub::WorkerSpawned(uint32_t worker_id, pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& e = ledger_[worker_id];
  if (e.pid == pid && e.stream_open) return;  // the new process connected first
  // A new process: nothing of the previous one's answers applies to it.
  e.worker_id = worker_id;
  e.pid = pid;
  e.state = "starting";
  e.acked_version = 0;
  e.nacked_version = 0;
  e.nack_error.clear();
  e.stream_open = false;
}

void SnapshotHub::WorkerConnected(uint32_t worker_id, pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& e = ledger_[worker_id];
  if (e.pid != 0 && e.pid != pid) return;  // a previous process, already replaced
  e.worker_id = worker_id;
  e.pid = pid;
  e.state = "connected";
  e.stream_open = true;
}

void SnapshotHub::WorkerAcked(Stream* stream, const SnapshotPtr& snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  stream->answered = std::max(stream->answered, snapshot->version());
  stream->serving = snapshot->version();
  auto it = ledger_.find(stream->worker_id);
  if (it == ledger_.end() || it->second.pid != stream->pid) return;
  auto& e = it->second;
  e.acked_version = std::max(e.acked_version, snapshot->version());
  if (e.state == "starting" || e.state == "connected" || e.state == "ready") e.state = "ready";
  if (current_ == nullptr || snapshot->version() > current_->version()) current_ = snapshot;
  cv_.notify_all();
}

void SnapshotHub::WorkerNacked(Stream* stream, uint64_t rejected, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  stream->answered = std::max(stream->answered, rejected);
  stream->nacked.push_back(rejected);
  auto it = ledger_.find(stream->worker_id);
  if (it == ledger_.end() || it->second.pid != stream->pid) return;
  auto& e = it->second;
  e.nacked_version = std::max(e.nacked_version, rejected);
  e.nack_error = error;
  e.last_error = error;
  newest_nacked_ = std::max(newest_nacked_, rejected);
  cv_.notify_all();
}

void SnapshotHub::WorkerStreamClosed(uint32_t worker_id, pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ledger_.find(worker_id);
  if (it != ledger_.end() && it->second.pid == pid) it->second.stream_open = false;
}

void SnapshotHub::WorkerExited(uint32_t worker_id, const std::string& why, bool will_restart) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& e = ledger_[worker_id];
  e.state = will_restart ? "restarting" : "exited";
  e.last_error = why;
  e.stream_open = false;
  e.pid = 0;
  if (will_restart) ++e.restarts;
}

void SnapshotHub::WorkerDraining(uint32_t worker_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ledger_.find(worker_id);
  if (it != ledger_.end() && it->second.pid != 0) it->second.state = "draining";
}

void SnapshotHub::RemoveWorker(uint32_t worker_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ledger_.erase(worker_id);
}

std::vector<WorkerLedgerEntry> SnapshotHub::Ledger() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<WorkerLedgerEntry> out;
  for (const auto& [id, e] : ledger_) out.push_back(e);
  return out;
}

bool SnapshotHub::AllAnswered(uint64_t version) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, e] : ledger_) {
    if (e.pid == 0) continue;
    if (e.acked_version < version && e.nacked_version < version) return false;
  }
  return true;
}

}  // namespace bitrouter::controld
