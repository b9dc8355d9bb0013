#pragma once
// Virtual keys and budget leases as the store keeps them (both backends).
//
// A key's secret ("brvk_" + 43 base64url characters) is never stored: only
// its SHA-256 (hex) and a short display prefix. `id` is the public name that
// usage rows carry (key_id) and ctl commands accept.
//
// Budget leases are how several nodes share one budget without the database
// on the request path: each node holds a lease (an amount of the key's budget
// it may have in flight: open reservations plus spend not yet in the usage
// table), granted atomically against the key's budget, spend in the period
// and the leases of the other live nodes (see UsageStore::SyncLease).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bitrouter::store {

struct KeyRecord {
  std::string id;        // "key_" + 16 hex, unique
  std::string name;      // unique among all keys (revoked ones included)
  std::string hash_hex;  // SHA-256 of the secret, 64 lowercase hex, unique
  std::string prefix;    // the secret's first 12 characters ("brvk_AbCdEfG"), for display
  // Scope: model patterns ("openai:*", "anthropic:claude-*", "gpt-4o*");
  // empty = every model. Stored comma-joined.
  std::vector<std::string> models;
  // MCP scope: "server", "server:tool-glob" or "virtual:tool-glob"
  // (shared/keys/virtual_key.h); empty = every MCP tool. Stored comma-joined.
  std::vector<std::string> mcp_tools;
  std::optional<int64_t> budget_micro_usd;  // nullopt = no budget
  std::string budget_period = "total";      // total | day | month (UTC)
  std::optional<int64_t> rpm;               // nullopt = no limit
  std::optional<int64_t> tpm;
  std::optional<int64_t> expires_unix_ms;  // nullopt = never
  int64_t created_unix_ms = 0;
  int64_t updated_unix_ms = 0;
  std::optional<int64_t> revoked_unix_ms;  // set = revoked (kept for history)
  // Assigned by the store on every insert and update from one increasing
  // counter (a sequence), so a node that polls MaxKeyRevision sees any change
  // made by any node regardless of clock skew.
  int64_t revision = 0;

  bool operator==(const KeyRecord&) const = default;
};

struct LeaseRequest {
  std::string node_id;  // this bitrouterd run
  std::string key_id;
  int64_t budget_micro_usd = 0;
  int64_t period_start_unix_ms = 0;  // spend counts usage rows with time >= this (0 = all)
  // What this node already has in flight for the key: open reservations plus
  // spend settled locally but not yet in the usage table. Never taken away.
  int64_t need_micro_usd = 0;
  int64_t now_unix_ms = 0;
  // Another node's lease counts while it was renewed within this window.
  int64_t live_window_ms = 10'000;
};

struct LeaseGrant {
  int64_t spent_micro_usd = 0;   // known costs of the key's usage rows in the period (all nodes)
  int64_t others_micro_usd = 0;  // live leases of the other nodes
  int64_t live_nodes = 1;        // this node plus the other live lease holders
  // This node's lease now: need + its share of the unclaimed budget, where
  //   unclaimed = budget - spent - need - the other live nodes' needs
  //   share     = max(0, unclaimed / live_nodes), at most what the other
  //               nodes' leases leave (budget - spent - others - need)
  // and never less than need (what is admitted stays admitted). Each node's
  // need is stored with its lease, so shares converge to an equal split of
  // everything unclaimed (counting others' whole leases would strand a third
  // of it), while the leases plus spend never pass the budget.
  int64_t lease_micro_usd = 0;
};

}  // namespace bitrouter::store
