// bitrouterctl key create | list | show | update | revoke: virtual keys,
// kept by bitrouterd (its store; the secret is printed once, at create, and
// never stored anywhere).
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ctl/client.h"
#include "ctl/usage_args.h"
#include "shared/keys/mcp_scope.h"

namespace bitrouter::ctl {
namespace {

std::string Money(double usd) { return absl::StrCat("$", MicroUsd(std::llround(usd * 1e6))); }

std::string KeyJson(const v1::KeyInfo& k) {
  std::vector<std::string> models, unpriced, mcp;
  for (const auto& m : k.models()) models.push_back(JsonQuoted(m));
  for (const auto& m : k.mcp_tools()) mcp.push_back(JsonQuoted(m));
  for (const auto& m : k.unpriced_models()) unpriced.push_back(JsonQuoted(m));
  std::string out = absl::StrCat(
      "{\"id\":", JsonQuoted(k.id()), ",\"name\":", JsonQuoted(k.name()),
      ",\"prefix\":", JsonQuoted(k.prefix()), ",\"state\":", JsonQuoted(k.state()), ",\"models\":[",
      absl::StrJoin(models, ","), "]", ",\"mcp\":[", absl::StrJoin(mcp, ","), "]");
  if (k.has_budget()) {
    absl::StrAppend(
        &out, ",\"budget_usd\":", MicroUsd(std::llround(k.budget_usd() * 1e6)),
        ",\"budget_period\":", JsonQuoted(k.budget_period()),
        ",\"spent_usd\":", MicroUsd(std::llround(k.spent_usd() * 1e6)),
        ",\"reserved_usd\":", MicroUsd(std::llround(k.reserved_usd() * 1e6)),
        ",\"budget_unpriced_models\":[", absl::StrJoin(unpriced, ","), "]",
        ",\"budget_unpriced_outside_catalog\":", k.budget_unpriced_any() ? "true" : "false");
  } else {
    out += ",\"budget_usd\":null";
  }
  absl::StrAppend(
      &out, ",\"rpm\":", k.rpm() ? absl::StrCat(k.rpm()) : "null",
      ",\"tpm\":", k.tpm() ? absl::StrCat(k.tpm()) : "null",
      ",\"expires\":", k.expires_unix_ms() ? JsonQuoted(UtcTime(k.expires_unix_ms())) : "null",
      ",\"created\":", JsonQuoted(UtcTime(k.created_unix_ms())),
      ",\"revoked\":", k.revoked_unix_ms() ? JsonQuoted(UtcTime(k.revoked_unix_ms())) : "null",
      "}");
  return out;
}

// The budget's honesty note: what it cannot count.
void PrintBudgetNote(const v1::KeyInfo& k) {
  if (!k.has_budget()) return;
  if (k.unpriced_models_size() > 0) {
    std::vector<std::string> names(k.unpriced_models().begin(), k.unpriced_models().end());
    std::printf(
        "note:     the budget cannot be enforced for %d model(s) in scope without a known price;\n"
        "          requests for them are refused while the budget is set: %s\n",
        k.unpriced_models_size(), absl::StrJoin(names, ", ").c_str());
  }
  if (k.budget_unpriced_any()) {
    std::printf(
        "note:     models outside the catalog (provider:any-id) have no price either and are\n"
        "          refused for this key; add providers.<name>.models.<id>.pricing to allow one\n");
  }
}

void PrintKey(const v1::KeyInfo& k) {
  std::printf("id:       %s\nname:     %s\nprefix:   %s...\nstate:    %s\n", k.id().c_str(),
              k.name().c_str(), k.prefix().c_str(), k.state().c_str());
  std::vector<std::string> models(k.models().begin(), k.models().end());
  std::printf("models:   %s\n", models.empty() ? "(all)" : absl::StrJoin(models, ",").c_str());
  std::vector<std::string> mcp(k.mcp_tools().begin(), k.mcp_tools().end());
  std::printf("mcp:      %s\n", mcp.empty() ? "(all)" : absl::StrJoin(mcp, ",").c_str());
  if (k.has_budget()) {
    std::printf("budget:   %s per %s; spent %s, reserved %s\n", Money(k.budget_usd()).c_str(),
                k.budget_period() == "total" ? "lifetime" : k.budget_period().c_str(),
                Money(k.spent_usd()).c_str(), Money(k.reserved_usd()).c_str());
  } else {
    std::printf("budget:   none\n");
  }
  std::printf("rpm:      %s\ntpm:      %s\n", k.rpm() ? absl::StrCat(k.rpm()).c_str() : "no limit",
              k.tpm() ? absl::StrCat(k.tpm()).c_str() : "no limit");
  std::printf("expires:  %s\ncreated:  %s\n",
              k.expires_unix_ms() ? UtcTime(k.expires_unix_ms()).c_str() : "never",
              UtcTime(k.created_unix_ms()).c_str());
  if (k.revoked_unix_ms()) std::printf("revoked:  %s\n", UtcTime(k.revoked_unix_ms()).c_str());
  PrintBudgetNote(k);
}

int PrintOne(const Context& ctx, const v1::KeyInfo& k) {
  if (ctx.json) {
    std::printf("%s\n", KeyJson(k).c_str());
  } else {
    PrintKey(k);
  }
  return 0;
}

// --expires 30d -> seconds.
bool ExpiresSeconds(const std::string& text, int64_t* out) {
  auto ms = ParseDurationMs(text);
  if (!ms.ok()) {
    std::fprintf(stderr, "bitrouterctl: --expires: %s\n",
                 std::string(ms.status().message()).c_str());
    return false;
  }
  *out = std::max<int64_t>(1, *ms / 1000);
  return true;
}

// The limits create and update set alike: --budget-usd, --rpm, --tpm and
// --expires, each only when given. False (the error printed) when --expires
// does not parse.
template <typename KeyRequest>
bool SetLimitFlags(const KeyOptions& o, KeyRequest* req) {
  if (o.budget_usd) req->set_budget_usd(*o.budget_usd);
  if (o.rpm) req->set_rpm(*o.rpm);
  if (o.tpm) req->set_tpm(*o.tpm);
  if (!o.expires.empty()) {
    int64_t s = 0;
    if (!ExpiresSeconds(o.expires, &s)) return false;
    req->set_expires_in_s(s);
  }
  return true;
}

// --mcp checked before it is sent, with the daemon's wording. False (the
// error printed) when a pattern is invalid.
bool CheckMcpFlag(const std::string& joined) {
  std::vector<std::string> patterns;
  for (absl::string_view p : absl::StrSplit(joined, ',', absl::SkipWhitespace())) {
    patterns.emplace_back(absl::StripAsciiWhitespace(p));
  }
  absl::Status s = keys::ValidateMcpPatterns(patterns);
  if (!s.ok()) std::fprintf(stderr, "bitrouterctl: --mcp: %s\n", std::string(s.message()).c_str());
  return s.ok();
}

}  // namespace

int RunKeyCreate(const Context& ctx, const KeyOptions& o) {
  v1::CreateKeyRequest req;
  req.set_name(o.name);
  if (!o.models.empty()) req.add_models(o.models);
  if (!o.mcp.empty()) {
    if (!CheckMcpFlag(o.mcp)) return 2;
    req.add_mcp_tools(o.mcp);
  }
  req.set_budget_period(o.budget_period);
  if (!SetLimitFlags(o, &req)) return 2;
  v1::CreateKeyResponse resp;
  int rc = CallAdmin(ctx, 15, [&](v1::Admin::Stub& stub, grpc::ClientContext* c) {
    return stub.CreateKey(c, req, &resp);
  });
  if (rc != 0) return rc;
  if (ctx.json) {
    std::string key = KeyJson(resp.key());
    key.pop_back();  // the secret joins the key's object
    std::printf("%s,\"secret\":%s}\n", key.c_str(), JsonQuoted(resp.secret()).c_str());
    return 0;
  }
  std::printf("%s\n\n", resp.secret().c_str());
  std::printf(
      "The key above is shown only this once: store it now (only its SHA-256 is kept).\n\n");
  PrintKey(resp.key());
  return 0;
}

int RunKeyList(const Context& ctx) {
  v1::ListKeysResponse resp;
  int rc = CallAdmin(ctx, 10, [&](v1::Admin::Stub& stub, grpc::ClientContext* c) {
    return stub.ListKeys(c, v1::ListKeysRequest(), &resp);
  });
  if (rc != 0) return rc;
  if (ctx.json) {
    std::vector<std::string> keys;
    for (const auto& k : resp.keys()) keys.push_back(KeyJson(k));
    std::printf("{\"keys\":[%s]}\n", absl::StrJoin(keys, ",").c_str());
    return 0;
  }
  if (resp.keys_size() == 0) {
    std::printf("no keys (bitrouterctl key create --name NAME)\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"ID", "NAME", "PREFIX", "STATE", "MODELS", "MCP",
                                                 "BUDGET", "SPENT", "RPM", "TPM", "EXPIRES"}};
  for (const auto& k : resp.keys()) {
    std::vector<std::string> models(k.models().begin(), k.models().end());
    std::vector<std::string> mcp(k.mcp_tools().begin(), k.mcp_tools().end());
    rows.push_back(
        {k.id(), k.name(), k.prefix() + "...", k.state(),
         models.empty() ? "*" : absl::StrJoin(models, ","),
         mcp.empty() ? "*" : absl::StrJoin(mcp, ","),
         k.has_budget() ? absl::StrCat(Money(k.budget_usd()), "/", k.budget_period()) : "-",
         k.has_budget() ? Money(k.spent_usd()) : "-", k.rpm() ? absl::StrCat(k.rpm()) : "-",
         k.tpm() ? absl::StrCat(k.tpm()) : "-",
         k.expires_unix_ms() ? UtcTime(k.expires_unix_ms()) : "never"});
  }
  PrintTable(rows, "lllllllrrrl");
  return 0;
}

int RunKeyShow(const Context& ctx, const std::string& key) {
  v1::GetKeyRequest req;
  req.set_key(key);
  v1::KeyResponse resp;
  int rc = CallAdmin(ctx, 10, [&](v1::Admin::Stub& stub, grpc::ClientContext* c) {
    return stub.GetKey(c, req, &resp);
  });
  return rc != 0 ? rc : PrintOne(ctx, resp.key());
}

int RunKeyUpdate(const Context& ctx, const std::string& key, const KeyOptions& o,
                 const std::vector<std::string>& clear) {
  v1::UpdateKeyRequest req;
  req.set_key(key);
  if (!o.name.empty()) req.set_name(o.name);
  if (o.models_set) req.set_models(o.models);
  if (o.mcp_set) {
    if (!CheckMcpFlag(o.mcp)) return 2;
    req.set_mcp_tools(o.mcp);
  }
  if (!o.budget_period.empty()) req.set_budget_period(o.budget_period);
  if (!SetLimitFlags(o, &req)) return 2;
  for (const auto& c : clear) req.add_clear(c);
  v1::KeyResponse resp;
  int rc = CallAdmin(ctx, 15, [&](v1::Admin::Stub& stub, grpc::ClientContext* c) {
    return stub.UpdateKey(c, req, &resp);
  });
  return rc != 0 ? rc : PrintOne(ctx, resp.key());
}

int RunKeyRevoke(const Context& ctx, const std::string& key) {
  v1::RevokeKeyRequest req;
  req.set_key(key);
  v1::KeyResponse resp;
  int rc = CallAdmin(ctx, 15, [&](v1::Admin::Stub& stub, grpc::ClientContext* c) {
    return stub.RevokeKey(c, req, &resp);
  });
  return rc != 0 ? rc : PrintOne(ctx, resp.key());
}

}  // namespace bitrouter::ctl
