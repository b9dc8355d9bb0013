#pragma once
// The JSON-RPC multiplexer of one stdio child: requests from many worker
// connections share the child's single id space. Each forwarded request
// gets a host id (1, 2, ...); its params._meta.progressToken, when present,
// becomes a host token. Answers and progress go back to the connection that
// asked, with its own id and token restored; a worker's
// notifications/cancelled has its requestId rewritten. So concurrent
// callers using the same ids never see each other's answers.
//
// Thread: one (the host's loop). Pure logic: the caller moves the bytes.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bitrouter::mcphost {

using ConnId = uint64_t;

struct MuxOut {
  struct ToConn {
    ConnId conn = 0;
    std::string message;  // a JSON-RPC message's JSON text, in the caller's ids
    std::string for_id;   // a notification: the caller's id of the request it is about
  };
  std::vector<std::string> to_child;  // JSON-RPC messages for the child, in order
  std::vector<ToConn> to_conns;
  std::vector<std::string> dropped;  // what was dropped, and why (for the log)
};

class Multiplexer {
 public:
  // A message a connection sent for this server. Requests are forwarded
  // (or answered with an error when malformed); notifications/cancelled is
  // rewritten and forwarded; anything else is dropped.
  void FromConn(ConnId conn, std::string_view message, MuxOut* out);
  // A message the child wrote. Responses and progress go to their caller;
  // requests from the child are refused (-32601); other notifications are
  // dropped.
  void FromChild(std::string_view message, MuxOut* out);
  // The connection is gone: its requests are cancelled at the child.
  void ConnClosed(ConnId conn, MuxOut* out);
  // The child is gone (or cannot take the requests): every request in
  // flight is answered with a JSON-RPC error carrying `why`.
  void FailAll(std::string_view why, MuxOut* out);
  // Answers one request from `conn` with an error, without forwarding it
  // (the child cannot take it now). False when `message` is no request.
  static bool Refuse(ConnId conn, std::string_view message, std::string_view why, MuxOut* out);

  size_t in_flight() const { return pending_.size(); }

 private:
  struct Pending {
    ConnId conn = 0;
    std::string id;     // the caller's id, JSON text
    std::string token;  // the caller's progressToken, JSON text ("" = none)
  };
  int64_t next_id_ = 1;
  std::map<int64_t, Pending> pending_;                           // by host id
  std::map<std::pair<ConnId, std::string>, int64_t> by_caller_;  // (conn, caller id) -> host id
};

}  // namespace bitrouter::mcphost
