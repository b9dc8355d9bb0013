// KeyRegistry, the Admin side: create, list, show, update, revoke.
#include "controld/keys/key_registry.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "controld/route_registry.h"
#include "controld/usage/intake.h"
#include "shared/common/log.h"
#include "shared/common/status_macros.h"
#include "shared/common/wall_clock.h"
#include "shared/keys/mcp_scope.h"
#include "shared/keys/virtual_key.h"

namespace bitrouter::controld {
namespace {

constexpr size_t kMaxNameBytes = 64;
// 1e9 USD in micro-USD still fits comfortably in int64.
constexpr double kMaxBudgetUsd = 1e9;

absl::Status ValidateName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= kMaxNameBytes;
  for (char c : name) ok = ok && c > 0x20 && c < 0x7f;
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat("key name must be 1 to ", kMaxNameBytes,
                                                   " printable ASCII characters without spaces"));
  }
  if (name.starts_with("key_")) {
    return absl::InvalidArgumentError("key names must not start with 'key_' (that is an id)");
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> BudgetMicros(double usd) {
  if (!std::isfinite(usd) || usd < 0 || usd > kMaxBudgetUsd) {
    return absl::InvalidArgumentError("--budget-usd must be between 0 and 1e9");
  }
  return static_cast<int64_t>(std::llround(usd * 1e6));
}

absl::Status ValidatePeriod(const std::string& period) {
  if (period == "total" || period == "day" || period == "month") return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("budget period '", period, "': expected total, day or month"));
}

absl::Status ValidateRate(uint64_t value, const char* what) {
  if (value == 0 || value > 1'000'000'000) {
    return absl::InvalidArgumentError(absl::StrCat("--", what, " must be 1 to 1e9"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ExpiresAt(int64_t in_s, int64_t now_ms) {
  if (in_s <= 0 || in_s > 100LL * 365 * 86400) {
    return absl::InvalidArgumentError("--expires must be a positive duration (at most 100 years)");
  }
  return now_ms + in_s * 1000;
}

std::vector<std::string> SplitPatterns(const std::string& joined) {
  std::vector<std::string> out;
  for (absl::string_view p : absl::StrSplit(joined, ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(p));
  }
  return out;
}

}  // namespace

std::string NewNodeId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  unsigned char r[4] = {};
  (void)RAND_bytes(r, sizeof(r));
  return absl::StrCat(host[0] ? host : "node", "-", getpid(), "-",
                      absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(r), 4)));
}

KeyRegistry::KeyRegistry(RouteRegistry* routes, node::KeyTable* table, std::string node_id)
    : routes_(routes), table_(table), node_id_(std::move(node_id)) {}

absl::Status KeyRegistry::OnStore(const std::function<absl::Status(store::UsageStore&)>& fn) {
  if (intake_ == nullptr) return absl::UnavailableError("no store");
  absl::Status s = intake_->Run(fn);
  intake_->NoteStore(s);
  return s;
}

KeyRegistry::Entry* KeyRegistry::FindLocked(const std::string& id_or_name) {
  auto it = keys_.find(id_or_name);
  if (it != keys_.end()) return &it->second;
  for (auto& [id, e] : keys_) {
    if (e.record.name == id_or_name) return &e;
  }
  return nullptr;
}

std::vector<bitrouter::v1::VirtualKey> KeyRegistry::SnapshotKeys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return SnapshotKeysLocked();
}

std::vector<bitrouter::v1::VirtualKey> KeyRegistry::SnapshotKeysLocked() const {
  std::vector<bitrouter::v1::VirtualKey> out;
  for (const auto& [id, e] : keys_) {
    const store::KeyRecord& r = e.record;
    if (r.revoked_unix_ms.has_value()) continue;
    bitrouter::v1::VirtualKey k;
    k.set_id(r.id);
    k.set_name(r.name);
    k.set_hash(keys::HexToRaw(r.hash_hex));
    for (const auto& m : r.models) k.add_models(m);
    for (const auto& m : r.mcp_tools) k.add_mcp_tools(m);
    k.set_has_budget(r.budget_micro_usd.has_value());
    k.set_rpm(r.rpm.value_or(0));
    k.set_tpm(r.tpm.value_or(0));
    k.set_expires_unix_ms(r.expires_unix_ms.value_or(0));
    k.set_slot(e.slot);
    out.push_back(std::move(k));
  }
  return out;
}

size_t KeyRegistry::active_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [id, e] : keys_) n += !e.record.revoked_unix_ms.has_value();
  return n;
}

void KeyRegistry::PublishAndWait() {
  auto snap = routes_->SetKeys(SnapshotKeys());
  if (snap != nullptr) routes_->WaitForAnswers(snap->version());
}

bitrouter::v1::KeyInfo KeyRegistry::InfoLocked(const Entry& e, int64_t now_ms) const {
  const store::KeyRecord& r = e.record;
  bitrouter::v1::KeyInfo info;
  info.set_id(r.id);
  info.set_name(r.name);
  info.set_prefix(r.prefix);
  for (const auto& m : r.models) info.add_models(m);
  for (const auto& m : r.mcp_tools) info.add_mcp_tools(m);
  info.set_budget_period(r.budget_period);
  info.set_rpm(r.rpm.value_or(0));
  info.set_tpm(r.tpm.value_or(0));
  info.set_expires_unix_ms(r.expires_unix_ms.value_or(0));
  info.set_created_unix_ms(r.created_unix_ms);
  info.set_revoked_unix_ms(r.revoked_unix_ms.value_or(0));
  if (r.revoked_unix_ms) {
    info.set_state("revoked");
  } else if (r.expires_unix_ms && *r.expires_unix_ms <= now_ms) {
    info.set_state("expired");
  } else {
    info.set_state("active");
  }
  if (r.budget_micro_usd) {
    info.set_has_budget(true);
    info.set_budget_usd(static_cast<double>(*r.budget_micro_usd) / 1e6);
    int64_t unsettled = 0, reserved = 0;
    if (node::KeySlot* s = table_ != nullptr ? table_->slot(e.slot) : nullptr) {
      unsettled = s->settled.load() - e.budget.committed_at_sync;
      reserved = s->reserved.load();
    }
    info.set_spent_usd(static_cast<double>(e.budget.last.spent_micro_usd + unsettled) / 1e6);
    info.set_reserved_usd(static_cast<double>(reserved) / 1e6);
    // What the budget cannot count: catalog models in scope without a price,
    // and (always, when the scope admits any provider:model) models outside
    // the catalog. The workers refuse those while the budget is set.
    if (auto cfg = routes_->config()) {
      for (const auto& [pname, p] : cfg->providers) {
        if (!p.active) continue;
        bool any_in_scope = false;
        for (const auto& m : p.catalog) {
          if (!keys::ScopeAllows(r.models, pname, m.id)) continue;
          any_in_scope = true;
          if (m.pricing.input_no_cache < 0 || m.pricing.output_text < 0) {
            info.add_unpriced_models(absl::StrCat(pname, ":", m.id));
          }
        }
        // A pattern with a wildcard admits ids the catalog does not list.
        bool wildcard = r.models.empty();
        for (const auto& pat : r.models) wildcard = wildcard || pat.find('*') != std::string::npos;
        if (any_in_scope && wildcard) info.set_budget_unpriced_any(true);
      }
    }
  }
  return info;
}

absl::StatusOr<bitrouter::v1::CreateKeyResponse> KeyRegistry::Create(
    const bitrouter::v1::CreateKeyRequest& req) {
  RETURN_IF_ERROR(ValidateName(req.name()));
  const int64_t now = UnixMillis();
  store::KeyRecord rec;
  rec.name = req.name();
  for (const auto& m : req.models()) {
    for (auto& p : SplitPatterns(m)) rec.models.push_back(std::move(p));
  }
  RETURN_IF_ERROR(keys::ValidatePatterns(rec.models));
  for (const auto& m : req.mcp_tools()) {
    for (auto& p : SplitPatterns(m)) rec.mcp_tools.push_back(std::move(p));
  }
  RETURN_IF_ERROR(keys::ValidateMcpPatterns(rec.mcp_tools));
  if (req.has_budget_usd()) {
    ASSIGN_OR_RETURN(int64_t micros, BudgetMicros(req.budget_usd()));
    rec.budget_micro_usd = micros;
    if (table_ == nullptr) {
      return absl::FailedPreconditionError(
          "this node has no shared key table (node region), so a budget cannot be enforced");
    }
  }
  rec.budget_period = req.budget_period().empty() ? "total" : req.budget_period();
  RETURN_IF_ERROR(ValidatePeriod(rec.budget_period));
  if (req.has_rpm()) {
    RETURN_IF_ERROR(ValidateRate(req.rpm(), "rpm"));
    rec.rpm = static_cast<int64_t>(req.rpm());
  }
  if (req.has_tpm()) {
    RETURN_IF_ERROR(ValidateRate(req.tpm(), "tpm"));
    rec.tpm = static_cast<int64_t>(req.tpm());
  }
  if (req.has_expires_in_s()) {
    ASSIGN_OR_RETURN(rec.expires_unix_ms, ExpiresAt(req.expires_in_s(), now));
  }
  ASSIGN_OR_RETURN(keys::NewKey nk, keys::GenerateKey());
  rec.id = nk.id;
  rec.hash_hex = nk.hash_hex;
  rec.prefix = nk.prefix;
  rec.created_unix_ms = now;
  rec.updated_unix_ms = now;
  RETURN_IF_ERROR(OnStore([&](store::UsageStore& st) -> absl::Status {
    ASSIGN_OR_RETURN(rec.revision, st.InsertKey(rec));
    std::lock_guard<std::mutex> lock(mu_);
    ApplyLocked(rec);
    Entry& e = keys_.at(rec.id);
    outage_ = false;  // the insert just reached the store
    if (rec.budget_micro_usd) RETURN_IF_ERROR(SyncBudgetLocked(st, e, now));
    return absl::OkStatus();
  }));
  LOG_INFO("key ", rec.id, " (", rec.name, ") created");
  PublishAndWait();
  bitrouter::v1::CreateKeyResponse out;
  out.set_secret(nk.secret);
  std::lock_guard<std::mutex> lock(mu_);
  *out.mutable_key() = InfoLocked(keys_.at(rec.id), UnixMillis());
  return out;
}

absl::StatusOr<std::vector<bitrouter::v1::KeyInfo>> KeyRegistry::List() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const Entry*> order;
  for (const auto& [id, e] : keys_) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return std::tie(a->record.created_unix_ms, a->record.id) <
           std::tie(b->record.created_unix_ms, b->record.id);
  });
  std::vector<bitrouter::v1::KeyInfo> out;
  const int64_t now = UnixMillis();
  for (const Entry* e : order) out.push_back(InfoLocked(*e, now));
  return out;
}

absl::StatusOr<bitrouter::v1::KeyInfo> KeyRegistry::Get(const std::string& id_or_name) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e = FindLocked(id_or_name);
  if (e == nullptr) return absl::NotFoundError(absl::StrCat("no key '", id_or_name, "'"));
  return InfoLocked(*e, UnixMillis());
}

absl::StatusOr<bitrouter::v1::KeyInfo> KeyRegistry::Change(
    const std::string& id_or_name, const std::function<absl::Status(store::KeyRecord*)>& edit) {
  store::KeyRecord rec;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = FindLocked(id_or_name);
    if (e == nullptr) return absl::NotFoundError(absl::StrCat("no key '", id_or_name, "'"));
    rec = e->record;
  }
  RETURN_IF_ERROR(edit(&rec));
  const int64_t now = UnixMillis();
  rec.updated_unix_ms = now;
  RETURN_IF_ERROR(OnStore([&](store::UsageStore& st) -> absl::Status {
    ASSIGN_OR_RETURN(rec.revision, st.UpdateKey(rec));
    std::lock_guard<std::mutex> lock(mu_);
    ApplyLocked(rec);
    Entry& e = keys_.at(rec.id);
    outage_ = false;  // the update just reached the store
    if (rec.budget_micro_usd && !rec.revoked_unix_ms) {
      RETURN_IF_ERROR(SyncBudgetLocked(st, e, now));
    }
    return absl::OkStatus();
  }));
  PublishAndWait();
  std::lock_guard<std::mutex> lock(mu_);
  return InfoLocked(keys_.at(rec.id), UnixMillis());
}

absl::StatusOr<bitrouter::v1::KeyInfo> KeyRegistry::Update(
    const bitrouter::v1::UpdateKeyRequest& req) {
  return Change(req.key(), [&](store::KeyRecord* rec) -> absl::Status {
    if (rec->revoked_unix_ms) return absl::FailedPreconditionError("the key is revoked");
    const int64_t now = UnixMillis();
    for (const std::string& c : req.clear()) {
      if (c == "budget") {
        rec->budget_micro_usd.reset();
      } else if (c == "rpm") {
        rec->rpm.reset();
      } else if (c == "tpm") {
        rec->tpm.reset();
      } else if (c == "expires") {
        rec->expires_unix_ms.reset();
      } else if (c == "models") {
        rec->models.clear();
      } else if (c == "mcp") {
        rec->mcp_tools.clear();
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("--clear ", c, ": expected budget, rpm, tpm, expires, models or mcp"));
      }
    }
    if (req.has_name()) {
      RETURN_IF_ERROR(ValidateName(req.name()));
      rec->name = req.name();
    }
    if (req.has_models()) {
      rec->models = SplitPatterns(req.models());
      RETURN_IF_ERROR(keys::ValidatePatterns(rec->models));
    }
    if (req.has_mcp_tools()) {
      rec->mcp_tools = SplitPatterns(req.mcp_tools());
      RETURN_IF_ERROR(keys::ValidateMcpPatterns(rec->mcp_tools));
    }
    if (req.has_budget_usd()) {
      ASSIGN_OR_RETURN(int64_t micros, BudgetMicros(req.budget_usd()));
      if (table_ == nullptr) {
        return absl::FailedPreconditionError("no shared key table: a budget cannot be enforced");
      }
      rec->budget_micro_usd = micros;
    }
    if (req.has_budget_period()) {
      RETURN_IF_ERROR(ValidatePeriod(req.budget_period()));
      rec->budget_period = req.budget_period();
    }
    if (req.has_rpm()) {
      RETURN_IF_ERROR(ValidateRate(req.rpm(), "rpm"));
      rec->rpm = static_cast<int64_t>(req.rpm());
    }
    if (req.has_tpm()) {
      RETURN_IF_ERROR(ValidateRate(req.tpm(), "tpm"));
      rec->tpm = static_cast<int64_t>(req.tpm());
    }
    if (req.has_expires_in_s()) {
      ASSIGN_OR_RETURN(rec->expires_unix_ms, ExpiresAt(req.expires_in_s(), now));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<bitrouter::v1::KeyInfo> KeyRegistry::Revoke(const std::string& id_or_name) {
  auto info = Change(id_or_name, [](store::KeyRecord* rec) -> absl::Status {
    if (rec->revoked_unix_ms) return absl::FailedPreconditionError("the key is revoked already");
    rec->revoked_unix_ms = UnixMillis();
    return absl::OkStatus();
  });
  if (info.ok()) LOG_INFO("key ", info->id(), " (", info->name(), ") revoked");
  return info;
}

}  // namespace bitrouter::controld
