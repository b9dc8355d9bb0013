#include "controld/mcp_host/mux.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

namespace bitrouter::mcphost {
namespace {

rapidjson::Document Parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

std::string Call(const std::string& id, const std::string& token = "") {
  std::string meta = token.empty() ? "" : ",\"_meta\":{\"progressToken\":" + token + "}";
  return "{\"jsonrpc\":\"2.0\",\"id\":" + id +
         ",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"" + meta + "}}";
}

int64_t HostIdOf(const std::string& child_line) { return Parse(child_line)["id"].GetInt64(); }

std::string Result(int64_t host_id, const std::string& text) {
  return "{\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(host_id) + ",\"result\":{\"t\":\"" + text +
         "\"}}";
}

TEST(MultiplexerTest, SameIdsFromTwoConnectionsGetTheirOwnAnswers) {
  Multiplexer mux;
  MuxOut out;
  mux.FromConn(1, Call("1"), &out);
  mux.FromConn(2, Call("1"), &out);
  ASSERT_EQ(out.to_child.size(), 2u);
  const int64_t a = HostIdOf(out.to_child[0]);
  const int64_t b = HostIdOf(out.to_child[1]);
  EXPECT_NE(a, b);
  EXPECT_EQ(mux.in_flight(), 2u);

  MuxOut answers;
  mux.FromChild(Result(b, "for-2"), &answers);  // out of order
  mux.FromChild(Result(a, "for-1"), &answers);
  ASSERT_EQ(answers.to_conns.size(), 2u);
  EXPECT_EQ(answers.to_conns[0].conn, 2u);
  EXPECT_EQ(answers.to_conns[1].conn, 1u);
  for (const auto& c : answers.to_conns) {
    auto d = Parse(c.message);
    EXPECT_EQ(d["id"].GetInt(), 1);  // the caller's id restored
    EXPECT_EQ(std::string(d["result"]["t"].GetString()), c.conn == 1 ? "for-1" : "for-2");
  }
  EXPECT_EQ(mux.in_flight(), 0u);
  // A second answer to the same host id goes nowhere.
  MuxOut late;
  mux.FromChild(Result(a, "again"), &late);
  EXPECT_TRUE(late.to_conns.empty());
  EXPECT_EQ(late.dropped.size(), 1u);
}

TEST(MultiplexerTest, StringIdsAndProgressTokensAreRestored) {
  Multiplexer mux;
  MuxOut out;
  mux.FromConn(7, Call("\"abc\"", "\"tok\""), &out);
  mux.FromConn(8, Call("\"abc\"", "\"tok\""), &out);
  ASSERT_EQ(out.to_child.size(), 2u);
  auto first = Parse(out.to_child[0]);
  auto second = Parse(out.to_child[1]);
  const std::string t1 = first["params"]["_meta"]["progressToken"].GetString();
  const std::string t2 = second["params"]["_meta"]["progressToken"].GetString();
  EXPECT_NE(t1, "tok");
  EXPECT_NE(t1, t2);
  EXPECT_EQ(std::string(first["params"]["name"].GetString()), "echo");  // the rest untouched

  MuxOut progress;
  mux.FromChild(
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":"
      "{\"progressToken\":\"" +
          t2 + "\",\"progress\":1}}",
      &progress);
  ASSERT_EQ(progress.to_conns.size(), 1u);
  EXPECT_EQ(progress.to_conns[0].conn, 8u);
  EXPECT_EQ(progress.to_conns[0].for_id, "\"abc\"");
  auto p = Parse(progress.to_conns[0].message);
  EXPECT_EQ(std::string(p["params"]["progressToken"].GetString()), "tok");
  EXPECT_EQ(p["params"]["progress"].GetInt(), 1);

  // A numeric token comes back numeric.
  MuxOut out2;
  mux.FromConn(9, Call("5", "42"), &out2);
  auto sent = Parse(out2.to_child[0]);
  MuxOut progress2;
  mux.FromChild(std::string("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":"
                            "{\"progressToken\":\"") +
                    sent["params"]["_meta"]["progressToken"].GetString() + "\",\"progress\":2}}",
                &progress2);
  ASSERT_EQ(progress2.to_conns.size(), 1u);
  EXPECT_EQ(Parse(progress2.to_conns[0].message)["params"]["progressToken"].GetInt(), 42);
  // Progress for an unknown token is dropped.
  MuxOut stray;
  mux.FromChild(
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":"
      "{\"progressToken\":\"bitrouter-999\",\"progress\":1}}",
      &stray);
  EXPECT_TRUE(stray.to_conns.empty());
}

TEST(MultiplexerTest, CancelFromAWorkerIsRewrittenAndForgetsTheRequest) {
  Multiplexer mux;
  MuxOut out;
  mux.FromConn(1, Call("3"), &out);
  mux.FromConn(2, Call("3"), &out);
  const int64_t second = HostIdOf(out.to_child[1]);
  MuxOut cancel;
  mux.FromConn(2,
               "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
               "{\"requestId\":3,\"reason\":\"timed out\"}}",
               &cancel);
  ASSERT_EQ(cancel.to_child.size(), 1u);
  auto c = Parse(cancel.to_child[0]);
  EXPECT_EQ(c["params"]["requestId"].GetInt64(), second);
  EXPECT_EQ(std::string(c["params"]["reason"].GetString()), "timed out");
  EXPECT_EQ(mux.in_flight(), 1u);
  // The child's late answer is not delivered; connection 1's still is.
  MuxOut late;
  mux.FromChild(Result(second, "x"), &late);
  EXPECT_TRUE(late.to_conns.empty());
  // Cancelling something not in flight sends nothing.
  MuxOut none;
  mux.FromConn(2,
               "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
               "{\"requestId\":3}}",
               &none);
  EXPECT_TRUE(none.to_child.empty());
}

TEST(MultiplexerTest, AClosedConnectionCancelsItsRequestsOnly) {
  Multiplexer mux;
  MuxOut out;
  mux.FromConn(1, Call("1"), &out);
  mux.FromConn(1, Call("2"), &out);
  mux.FromConn(2, Call("1"), &out);
  MuxOut closed;
  mux.ConnClosed(1, &closed);
  ASSERT_EQ(closed.to_child.size(), 2u);
  for (const auto& line : closed.to_child) {
    EXPECT_EQ(std::string(Parse(line)["method"].GetString()), "notifications/cancelled");
  }
  EXPECT_EQ(mux.in_flight(), 1u);
}

TEST(MultiplexerTest, FailAllAnswersEveryCallerWithAnError) {
  Multiplexer mux;
  MuxOut out;
  mux.FromConn(1, Call("1"), &out);
  mux.FromConn(2, Call("\"x\""), &out);
  MuxOut failed;
  mux.FailAll("the server exited", &failed);
  ASSERT_EQ(failed.to_conns.size(), 2u);
  for (const auto& c : failed.to_conns) {
    auto d = Parse(c.message);
    EXPECT_EQ(std::string(d["error"]["message"].GetString()), "the server exited");
  }
  EXPECT_EQ(Parse(failed.to_conns[1].message)["id"].GetString(), std::string("x"));
  EXPECT_EQ(mux.in_flight(), 0u);
}

TEST(MultiplexerTest, RequestsFromTheChildAreRefused) {
  Multiplexer mux;
  MuxOut out;
  mux.FromChild("{\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"method\":\"sampling/createMessage\"}", &out);
  ASSERT_EQ(out.to_child.size(), 1u);
  auto d = Parse(out.to_child[0]);
  EXPECT_EQ(std::string(d["id"].GetString()), "s1");
  EXPECT_EQ(d["error"]["code"].GetInt(), -32601);
  // A notification not about a request is dropped.
  MuxOut n;
  mux.FromChild("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}", &n);
  EXPECT_TRUE(n.to_child.empty());
  EXPECT_TRUE(n.to_conns.empty());
}

TEST(MultiplexerTest, MalformedInputNeverReachesTheChild) {
  Multiplexer mux;
  for (const char* bad : {"", "[]", "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}", "{not json",
                          "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"x\"}",
                          "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"x\"}",
                          "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}"}) {
    MuxOut out;
    mux.FromConn(1, bad, &out);
    EXPECT_TRUE(out.to_child.empty()) << bad;
    EXPECT_EQ(out.to_conns.size(), 1u) << bad;  // answered with an error
  }
  // A duplicate id in flight on the same connection is refused.
  MuxOut out;
  mux.FromConn(1, Call("1"), &out);
  mux.FromConn(1, Call("1"), &out);
  EXPECT_EQ(out.to_child.size(), 1u);
  EXPECT_EQ(out.to_conns.size(), 1u);
  EXPECT_EQ(mux.in_flight(), 1u);
}

TEST(MultiplexerTest, RefuseAnswersRequestsOnly) {
  MuxOut out;
  EXPECT_TRUE(Multiplexer::Refuse(4, Call("9"), "not running", &out));
  ASSERT_EQ(out.to_conns.size(), 1u);
  EXPECT_EQ(out.to_conns[0].conn, 4u);
  EXPECT_FALSE(Multiplexer::Refuse(
      4, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\"}", "x", &out));
}

}  // namespace
}  // namespace bitrouter::mcphost
