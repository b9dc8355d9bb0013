// Fuzzes the MCP host's input side with hostile bytes, as a worker
// connection and as a child's stdout would send them: the line splitter
// (small cap), the frame parser, and the id-rewriting multiplexer. It never
// crashes; what goes to the child is a JSON-RPC message the gateway's own
// parser accepts, what goes back to a caller a JSON-RPC object; a refused
// frame is an error status.

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "controld/mcp_host/frame.h"
#include "controld/mcp_host/mux.h"
#include "shared/mcp/jsonrpc.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using bitrouter::mcphost::MuxOut;

void CheckOut(const MuxOut& out) {
  for (const std::string& m : out.to_child) {
    auto parsed = bitrouter::mcp::ParseJsonRpc(m);
    FUZZ_CHECK(std::holds_alternative<bitrouter::mcp::JsonRpcMessage>(parsed));
  }
  // Back to a caller: a JSON-RPC object (an error about an unreadable
  // request carries "id":null, which a request parser rightly refuses).
  for (const auto& c : out.to_conns) {
    rapidjson::Document d;
    d.Parse(c.message.data(), c.message.size());
    FUZZ_CHECK(!d.HasParseError() && d.IsObject() && d.HasMember("jsonrpc") &&
               (d.HasMember("id") || d.HasMember("method")));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  bitrouter::mcphost::Multiplexer mux;
  bitrouter::mcphost::LineSplitter lines(4096);
  uint64_t n = 0;
  // Odd lines act as worker frames, even lines as the child's output; the
  // child's answers use the ids the multiplexer handed out (1, 2, ...).
  (void)lines.Feed(input, [&](std::string_view line) {
    MuxOut out;
    if (++n % 2 == 1) {
      auto frame = bitrouter::mcphost::ParseFrame(line);
      if (!frame.ok()) {
        FUZZ_CHECK(!frame.status().message().empty());
        mux.FromConn(n % 3, line, &out);  // the bare message too
      } else {
        FUZZ_CHECK(!frame->message.empty() && frame->message.front() == '{');
        mux.FromConn(n % 3, frame->message, &out);
      }
    } else {
      mux.FromChild(line, &out);
    }
    CheckOut(out);
    return absl::OkStatus();
  });
  MuxOut closed;
  mux.ConnClosed(1, &closed);
  CheckOut(closed);
  MuxOut failed;
  mux.FailAll("the server exited", &failed);
  CheckOut(failed);
  FUZZ_CHECK(mux.in_flight() == 0);
  return 0;
}
