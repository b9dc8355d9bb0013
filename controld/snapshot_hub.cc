#include "controld/snapshot_hub.h"

#include <openssl/sha.h>

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
  current_ = std::make_shared<const bitrouter::v1::Snapshot>(std::move(snapshot));
  cv_.notify_all();
  return current_;
}

SnapshotHub::SnapshotPtr SnapshotHub::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

SnapshotHub::SnapshotPtr SnapshotHub::WaitNewer(uint64_t have, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout,
               [&] { return shutdown_ || (current_ != nullptr && current_->version() > have); });
  if (shutdown_ || current_ == nullptr || current_->version() <= have) return nullptr;
  return current_;
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
  e.worker_id = worker_id;
  e.pid = pid;
  e.state = "starting";
  e.acked_version = 0;
  e.stream_open = false;
}

void SnapshotHub::WorkerConnected(uint32_t worker_id, pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& e = ledger_[worker_id];
  e.worker_id = worker_id;
  e.pid = pid;
  e.state = "connected";
  e.stream_open = true;
}

void SnapshotHub::WorkerAcked(uint32_t worker_id, uint64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& e = ledger_[worker_id];
  e.acked_version = version;
  if (e.state == "connected" || e.state == "ready") e.state = "ready";
  cv_.notify_all();
}

void SnapshotHub::WorkerNacked(uint32_t worker_id, uint64_t rejected, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& e = ledger_[worker_id];
  e.nacked_version = rejected;
  e.last_error = error;
  cv_.notify_all();
}

void SnapshotHub::WorkerStreamClosed(uint32_t worker_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ledger_.find(worker_id);
  if (it != ledger_.end()) it->second.stream_open = false;
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
