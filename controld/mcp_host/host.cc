#include "controld/mcp_host/host.h"

#include "absl/strings/str_cat.h"
#include "shared/common/log.h"

namespace bitrouter::mcphost {

Host::Host(uv_loop_t* loop, std::string self_exe,
           std::function<void(const std::vector<ServerStatus>&)> on_status)
    : loop_(loop),
      self_exe_(std::move(self_exe)),
      on_status_(std::move(on_status)),
      server_(loop, {[this](ConnId c, Frame f) { OnFrame(c, std::move(f)); },
                     [this](ConnId c) {
                       for (auto& [id, child] : children_) child->ConnClosed(c);
                     }}) {}

Host::~Host() = default;

absl::Status Host::Listen(const std::string& socket_path) { return server_.Listen(socket_path); }

void Host::OnFrame(ConnId conn, Frame frame) {
  auto it = children_.find(frame.server);
  if (it == children_.end()) {
    MuxOut out;
    Multiplexer::Refuse(conn, frame.message,
                        absl::StrCat("no stdio MCP server '", frame.server, "' runs here"), &out);
    for (auto& c : out.to_conns) server_.Send(c.conn, FrameLine(frame.server, c.message));
    return;
  }
  it->second->FromConn(conn, frame.message);
}

void Host::Apply(DesiredSet desired) {
  if (shutting_down_) return;
  for (auto it = children_.begin(); it != children_.end();) {
    auto want = desired.find(it->first);
    if (want != desired.end() && want->second == it->second->spec()) {
      desired.erase(want);  // unchanged: keeps running
      ++it;
      continue;
    }
    LOG_INFO("mcp server ", it->first,
             want == desired.end() ? ": removed from the config; stopping"
                                   : ": changed in the config; restarting");
    // Out of the set first: Retire reports status, which walks the set.
    std::unique_ptr<StdioChild> child = std::move(it->second);
    it = children_.erase(it);
    Retire(std::move(child));
  }
  for (auto& [id, spec] : desired) {
    const std::string server_id = id;
    auto child = std::make_unique<StdioChild>(
        loop_, id, std::move(spec), self_exe_,
        StdioChild::Hooks{[this, server_id](const MuxOut::ToConn& c) {
                            server_.Send(c.conn, FrameLine(server_id, c.message, c.for_id));
                          },
                          [this] { StatusChanged(); }});
    StdioChild* raw = child.get();
    children_[id] = std::move(child);
    raw->Start();
  }
  StatusChanged();
}

void Host::Retire(std::unique_ptr<StdioChild> child) {
  StdioChild* raw = child.get();
  retiring_[raw] = std::move(child);
  raw->Stop([this, raw] {
    retiring_.erase(raw);  // deletes it: Stop's callback runs last
    MaybeDone();
  });
}

std::vector<ServerStatus> Host::Status() const {
  std::vector<ServerStatus> out;
  for (const auto& [id, child] : children_) out.push_back(child->Status());
  return out;
}

void Host::StatusChanged() {
  std::vector<ServerStatus> now = Status();
  if (now == last_status_) return;
  last_status_ = now;
  if (on_status_) on_status_(now);
}

void Host::Shutdown(std::function<void()> done) {
  if (shutting_down_) return;
  shutting_down_ = true;
  done_ = std::move(done);
  server_.Close();
  auto children = std::move(children_);
  children_.clear();
  for (auto& [id, child] : children) Retire(std::move(child));
  MaybeDone();
}

void Host::MaybeDone() {
  if (!shutting_down_ || !retiring_.empty() || !done_) return;
  auto done = std::move(done_);
  done();
}

}  // namespace bitrouter::mcphost
