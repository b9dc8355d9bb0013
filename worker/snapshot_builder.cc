#include "worker/snapshot_builder.h"

#include "absl/strings/str_cat.h"
#include "bitrouter/v1/control.pb.h"
#include "shared/protocol/openai_request.h"
#include "worker/tls.h"

namespace bitrouter::worker {
namespace {

uint32_t OrDefault(uint32_t value, uint32_t fallback) { return value == 0 ? fallback : value; }

bool ValidHeaderText(const std::string& s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<SnapshotPtr> BuildWorkerSnapshot(const bitrouter::v1::Snapshot& proto) {
  auto snap = std::make_shared<WorkerSnapshot>();
  snap->version = proto.version();
  snap->content_hash = proto.content_hash();
  const auto& l = proto.limits();
  Limits defaults;
  snap->limits.max_body_bytes = l.max_body_bytes() == 0 ? defaults.max_body_bytes : l.max_body_bytes();
  snap->limits.max_header_bytes = OrDefault(l.max_header_bytes(), defaults.max_header_bytes);
  snap->limits.max_headers = OrDefault(l.max_headers(), defaults.max_headers);
  snap->limits.header_timeout_ms = OrDefault(l.header_timeout_ms(), defaults.header_timeout_ms);
  snap->limits.keepalive_timeout_ms = OrDefault(l.keepalive_timeout_ms(), defaults.keepalive_timeout_ms);
  snap->limits.drain_timeout_ms = OrDefault(l.drain_timeout_ms(), defaults.drain_timeout_ms);
  const auto& t = proto.timeouts();
  Timeouts tdef;
  snap->timeouts.connect_ms = OrDefault(t.connect_ms(), tdef.connect_ms);
  snap->timeouts.first_byte_ms = OrDefault(t.first_byte_ms(), tdef.first_byte_ms);
  snap->timeouts.idle_ms = OrDefault(t.idle_ms(), tdef.idle_ms);
  snap->timeouts.total_ms = t.total_ms();

  std::string models = "{\"object\":\"list\",\"data\":[";
  bool first = true;
  for (const auto& p : proto.providers()) {
    ProviderRuntime rt;
    rt.name = p.name();
    rt.protocol = p.protocol();
    auto url = ParseUrl(p.base_url());
    if (!url.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("provider ", p.name(), ": ", url.status().message()));
    }
    rt.base = *url;
    if (!ValidHeaderText(p.api_key()) || !ValidHeaderText(p.auth().header_name())) {
      return absl::InvalidArgumentError(
          absl::StrCat("provider ", p.name(), ": API key or auth header contains a line break"));
    }
    rt.header_lines = absl::StrCat("Host: ", rt.base.HostHeader(), "\r\n");
    if (p.auth().style() == bitrouter::v1::Auth::HEADER) {
      absl::StrAppend(&rt.header_lines, p.auth().header_name(), ": ", p.api_key(), "\r\n");
    } else {
      absl::StrAppend(&rt.header_lines, "Authorization: Bearer ", p.api_key(), "\r\n");
    }
    for (const auto& h : p.default_headers()) {
      if (!ValidHeaderText(h.name()) || !ValidHeaderText(h.value()) || h.name().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("provider ", p.name(), ": invalid default header '", h.name(), "'"));
      }
      absl::StrAppend(&rt.header_lines, h.name(), ": ", h.value(), "\r\n");
    }
    for (const auto& m : p.models()) {
      rt.models.push_back(m);
      absl::StrAppend(&models, first ? "" : ",", "{\"id\":");
      protocol::AppendJsonString(absl::StrCat(p.name(), ":", m), &models);
      absl::StrAppend(&models, ",\"object\":\"model\",\"created\":0,\"owned_by\":");
      protocol::AppendJsonString(p.name(), &models);
      models.append("}");
      first = false;
    }
    snap->providers.emplace(rt.name, std::move(rt));
  }
  models.append("]}");
  snap->models_json = std::move(models);

  // Rebuilt on every snapshot (off the loop) so a reload picks up a changed
  // CA bundle; connections made under the old context keep it alive.
  auto ctx = MakeClientTlsContext(proto.extra_ca_file());
  if (!ctx.ok()) return ctx.status();
  snap->tls = *ctx;
  return SnapshotPtr(std::move(snap));
}

}  // namespace bitrouter::worker
