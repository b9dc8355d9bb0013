// Mid-stream rescue, the protocol half: the partial-answer record, the
// continuation request, the splice filter and an encoder rebuilt by replay.

#include "shared/protocol/stream_splice.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "shared/protocol/adapters.h"
#include "shared/protocol/stream_translator.h"

namespace bitrouter::protocol {
namespace {

// Records events as short strings.
struct Log : StreamSink {
  std::vector<std::string> events;
  std::optional<Usage> usage;
  void OnStart(const StreamStart& s) override { events.push_back("start:" + s.id); }
  void OnBlockStart(const BlockStart& b) override {
    events.push_back(b.kind == BlockKind::kText ? "block:text" : "block:other");
  }
  void OnDelta(DeltaKind, std::string_view t) override {
    events.push_back("delta:" + std::string(t));
  }
  void OnBlockStop() override { events.push_back("stop"); }
  void OnFinish(const StreamFinish& f) override {
    usage = f.usage;
    events.push_back("finish");
  }
  void OnError(const StreamError& e) override { events.push_back("error:" + e.message); }
};

TEST(PartialAnswerTest, RecordsTextAndForwards) {
  Log log;
  PartialAnswer p(&log);
  p.OnStart({"r1", "m", std::nullopt});
  p.OnBlockStart({BlockKind::kThinking, "", "", ""});
  p.OnDelta(DeltaKind::kThinking, "hmm");
  p.OnBlockStop();
  p.OnBlockStart({});
  p.OnDelta(DeltaKind::kText, "Hel");
  p.OnDelta(DeltaKind::kText, "lo");
  EXPECT_TRUE(p.Continuable());
  EXPECT_TRUE(p.text_open());
  EXPECT_EQ(p.Text(), "Hello");
  EXPECT_EQ(log.events.size(), 7u);
  p.OnBlockStop();
  p.OnBlockStart({BlockKind::kToolCall, "c1", "f", ""});
  EXPECT_FALSE(p.Continuable()) << "half a tool call is not continued";
}

TEST(PartialAnswerTest, TerminalAndOversizedAnswersAreNotContinued) {
  PartialAnswer done;
  done.OnStart({});
  done.OnFinish({});
  EXPECT_FALSE(done.Continuable());
  PartialAnswer big;
  big.OnStart({});
  big.OnDelta(DeltaKind::kText, std::string(PartialAnswer::kMaxBytes + 1, 'x'));
  EXPECT_FALSE(big.Continuable());
}

TEST(ContinuationRequestTest, PrefillTrimsAndInstructionAsks) {
  CanonicalRequest base;
  Message user;
  user.content.push_back(ContentPart::Text("hi"));
  base.messages.push_back(user);
  bool trimmed = false;
  CanonicalRequest pre = ContinuationRequest(base, "Hello, ", ContinuationMode::kPrefill, &trimmed);
  ASSERT_EQ(pre.messages.size(), 2u);
  EXPECT_EQ(pre.messages[1].role, Role::kAssistant);
  EXPECT_EQ(pre.messages[1].content[0].text, "Hello,");
  EXPECT_TRUE(trimmed);
  CanonicalRequest ins =
      ContinuationRequest(base, "Hello, ", ContinuationMode::kInstruction, &trimmed);
  ASSERT_EQ(ins.messages.size(), 3u);
  EXPECT_EQ(ins.messages[1].content[0].text, "Hello, ");
  EXPECT_EQ(ins.messages[2].role, Role::kUser);
  EXPECT_EQ(ins.messages[2].content[0].text, kContinueInstruction);
  EXPECT_FALSE(trimmed);
  EXPECT_EQ(ContinuationRequest(base, "  ", ContinuationMode::kPrefill, &trimmed).messages.size(),
            1u)
      << "nothing to continue: the request as it was";
}

TEST(SpliceSinkTest, ContinuesTheOpenTextBlockAndAddsUsage) {
  Log log;
  Usage before;
  before.prompt_tokens = 7;
  before.completion_tokens = 1;
  SpliceSink s(&log, /*text_open=*/true, /*strip_leading_space=*/true, before);
  s.OnStart({"second", "m", std::nullopt});
  s.OnBlockStart({BlockKind::kThinking, "", "", ""});
  s.OnDelta(DeltaKind::kThinking, "dropped");
  s.OnBlockStop();
  s.OnBlockStart({});
  s.OnDelta(DeltaKind::kText, "  ");
  s.OnDelta(DeltaKind::kText, " world");
  s.OnBlockStop();
  StreamFinish f;
  f.usage = Usage{5, 3, std::nullopt, std::nullopt, std::nullopt};
  s.OnFinish(f);
  EXPECT_EQ(log.events, (std::vector<std::string>{"delta:world", "stop", "finish"}));
  ASSERT_TRUE(log.usage);
  EXPECT_EQ(log.usage->prompt_tokens, 12);
  EXPECT_EQ(log.usage->completion_tokens, 4);
}

TEST(SpliceSinkTest, WithoutAnOpenBlockTheFallbacksBlocksPass) {
  Log log;
  SpliceSink s(&log, /*text_open=*/false, false, std::nullopt);
  s.OnStart({"second", "m", std::nullopt});
  s.OnBlockStart({});
  s.OnDelta(DeltaKind::kText, "more");
  s.OnBlockStop();
  s.OnFinish({});
  EXPECT_EQ(log.events, (std::vector<std::string>{"block:text", "delta:more", "stop", "finish"}));
}

// An encoder rebuilt by replay continues a Messages stream at the block
// index the client knows, with no second message_start.
TEST(ReplayPartialTest, RebuiltMessagesEncoderContinuesTheBlock) {
  PartialAnswer p;
  p.OnStart({"msg_up", "claude", std::nullopt});
  p.OnBlockStart({});
  p.OnDelta(DeltaKind::kText, "Hel");
  EncoderOptions o;
  o.client_model = "claude";
  auto enc = AdapterFor(Protocol::kMessages).make_encoder(o);
  ReplayPartial(p, enc.get());
  StreamPosition pos;
  pos.index = 2;  // e.g. two server-tool blocks came first upstream
  enc->Adopt(pos);
  enc->out().clear();
  enc->OnDelta(DeltaKind::kText, "lo");
  enc->OnFinish({});
  const std::string& out = enc->out();
  EXPECT_EQ(out.find("message_start"), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"type":"content_block_delta","index":2,)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"type":"content_block_stop","index":2})"), std::string::npos) << out;
  EXPECT_NE(out.find("message_stop"), std::string::npos) << out;
}

TEST(ReplayPartialTest, RebuiltResponsesEncoderAdoptsSequenceIndexAndItemId) {
  PartialAnswer p;
  p.OnStart({"resp_up", "gpt", std::nullopt});
  p.OnBlockStart({});
  p.OnDelta(DeltaKind::kText, "Hel");
  auto enc = AdapterFor(Protocol::kResponses).make_encoder({});
  ReplayPartial(p, enc.get());
  StreamPosition pos;
  pos.next_sequence = 9;
  pos.index = 1;
  pos.open_item_id = "msg_up";
  enc->Adopt(pos);
  enc->out().clear();
  enc->OnDelta(DeltaKind::kText, "lo");
  const std::string& out = enc->out();
  EXPECT_NE(out.find(R"("sequence_number":9,"item_id":"msg_up","output_index":1,)"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("response.created"), std::string::npos) << out;
}

// The translated path: the client's encoder moves to a translator fed by the
// fallback, behind a SpliceSink.
TEST(StreamTranslatorTest, AnEncoderCarriesOverToTheContinuation) {
  EncoderOptions o;
  o.client_model = "smart";
  StreamTranslator first(Protocol::kChat, Protocol::kMessages, o);
  PartialAnswer p(first.encoder());
  first.Intercept(&p);
  ASSERT_TRUE(first
                  .Feed("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                        "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
                        "\"assistant\",\"content\":\"Hel\"}}]}\n\n")
                  .ok());
  std::string client = first.out();
  first.out().clear();
  StreamTranslator second(Protocol::kChat, first.TakeEncoder());
  SpliceSink splice(&p, p.text_open(), false, p.usage());
  p.set_next(second.encoder());
  second.Intercept(&splice);
  ASSERT_TRUE(second
                  .Feed("data: {\"id\":\"c2\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                        "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
                        "\"assistant\",\"content\":\"lo\"}}]}\n\n"
                        "data: {\"id\":\"c2\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                        "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},"
                        "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
                  .ok());
  EXPECT_TRUE(second.End().ok());
  client += second.out();
  EXPECT_EQ(p.Text(), "Hello");
  auto count = [&](std::string_view what) {
    size_t n = 0;
    for (size_t pos = client.find(what); pos != std::string::npos;
         pos = client.find(what, pos + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(count("event: message_start"), 1u) << client;
  EXPECT_EQ(count("event: content_block_start"), 1u) << client;
  EXPECT_EQ(count("event: message_stop"), 1u) << client;
  EXPECT_NE(client.find("message_stop"), std::string::npos) << client;
}

}  // namespace
}  // namespace bitrouter::protocol
