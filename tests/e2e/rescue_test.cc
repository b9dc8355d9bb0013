// Mid-stream rescue through the real binaries: a primary whose stream breaks
// after part of the answer was sent, a backup that continues it. For every
// client protocol (passthrough and translated) the client's transcript must
// be one valid stream whose text is the primary's partial text followed by
// the backup's continuation; a backup that refuses an assistant prefill gets
// the continuation instruction; `upstream.stream_recovery: off` keeps the
// in-band error.
#include <rapidjson/document.h>

#include "controld/store/sqlite_store.h"
#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

constexpr char kMessagesPath[] = "/v1/messages";
constexpr char kResponsesPath[] = "/v1/responses";
constexpr char kGeminiStreamPath[] = "/v1beta/models/smart:streamGenerateContent?alt=sse";

// The primary sends "Hello, wor" and breaks; the backup sends "ld! Bye.".
const std::vector<std::string> kPrimaryPieces = {"Hello, ", "wor"};
const std::vector<std::string> kBackupPieces = {"ld! ", "Bye."};
constexpr char kWhole[] = "Hello, world! Bye.";

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

std::string Event(const std::string& name, const std::string& data) {
  return (name.empty() ? "" : "event: " + name + "\n") + "data: " + data + "\n\n";
}

std::string Str(const std::string& s) { return "\"" + JsonEscape(s) + "\""; }

std::string ChatStream(const std::vector<std::string>& pieces, bool finish) {
  auto chunks = ChatCompletionSseChunks("m", pieces, true);
  if (!finish) chunks.resize(pieces.size());
  std::string out;
  for (const auto& c : chunks) out += c;
  return out;
}

std::string MessagesStream(const std::vector<std::string>& pieces, bool finish) {
  std::string out = Event(
      "message_start",
      R"({"type":"message_start","message":{"id":"msg_up","type":"message","role":"assistant",)"
      R"("content":[],"model":"claude-up","stop_reason":null,"stop_sequence":null,)"
      R"("usage":{"input_tokens":7,"output_tokens":1}}})");
  out += Event(
      "content_block_start",
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})");
  for (const auto& p : pieces) {
    out += Event("content_block_delta",
                 R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":)" +
                     Str(p) + "}}");
  }
  if (!finish) return out;
  out += Event("content_block_stop", R"({"type":"content_block_stop","index":0})");
  out += Event("message_delta",
               R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
               R"("usage":{"output_tokens":5}})");
  return out + Event("message_stop", R"({"type":"message_stop"})");
}

// With `reasoning`, an empty reasoning item comes first (as OpenAI's
// reasoning models send): the message is output item 1.
std::string ResponsesStream(const std::vector<std::string>& pieces, bool finish, bool reasoning) {
  int seq = 0;
  auto ev = [&](const std::string& type, const std::string& fields) {
    return Event(type, R"({"type":")" + type + R"(","sequence_number":)" + std::to_string(seq++) +
                           "," + fields + "}");
  };
  std::string resp = R"("response":{"id":"resp_up","object":"response","created_at":1700000000,)"
                     R"("model":"gpt-up","output":[],"status":"in_progress"})";
  // One event per statement: the sequence numbers follow the order.
  std::string out = ev("response.created", resp);
  out += ev("response.in_progress", resp);
  int index = 0;
  if (reasoning) {
    std::string item = R"("output_index":0,"item":{"id":"rs_up","type":"reasoning","summary":[]})";
    out += ev("response.output_item.added", item);
    out += ev("response.output_item.done", item);
    index = 1;
  }
  std::string ref = R"("item_id":"msg_up","output_index":)" + std::to_string(index);
  out += ev(
      "response.output_item.added",
      R"("output_index":)" + std::to_string(index) +
          R"(,"item":{"id":"msg_up","type":"message","status":"in_progress","role":"assistant","content":[]})");
  out += ev("response.content_part.added",
            ref + R"(,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]})");
  std::string text;
  for (const auto& p : pieces) {
    text += p;
    out += ev("response.output_text.delta", ref + R"(,"content_index":0,"delta":)" + Str(p));
  }
  if (!finish) return out;
  out += ev("response.output_text.done", ref + R"(,"content_index":0,"text":)" + Str(text));
  std::string msg =
      R"({"id":"msg_up","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":)" +
      Str(text) + R"(,"annotations":[]}]})";
  out += ev("response.output_item.done",
            R"("output_index":)" + std::to_string(index) + R"(,"item":)" + msg);
  return out + ev("response.completed",
                  R"("response":{"id":"resp_up","object":"response","created_at":1700000000,)"
                  R"("model":"gpt-up","status":"completed","output":[)" +
                      msg + R"(],"usage":{"input_tokens":7,"output_tokens":5,"total_tokens":12}})");
}

std::string GeminiStream(const std::vector<std::string>& pieces, bool finish) {
  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    bool last = finish && i + 1 == pieces.size();
    out += "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":" +
           Str(pieces[i]) + "}]}" + (last ? ",\"finishReason\":\"STOP\"" : "") + ",\"index\":0}]" +
           (last ? ",\"usageMetadata\":{\"promptTokenCount\":7,\"candidatesTokenCount\":5,"
                   "\"totalTokenCount\":12}"
                 : "") +
           ",\"modelVersion\":\"gem-up\",\"responseId\":\"gresp_up\"}\r\n\r\n";
  }
  return out;
}

// The upstream stream for a request on `target`.
std::string StreamFor(const std::string& target, const std::vector<std::string>& pieces,
                      bool finish, bool reasoning = false) {
  if (target.find("/chat/completions") != std::string::npos) return ChatStream(pieces, finish);
  if (target.find("/messages") != std::string::npos) return MessagesStream(pieces, finish);
  if (target.find("/responses") != std::string::npos) {
    return ResponsesStream(pieces, finish, reasoning);
  }
  return GeminiStream(pieces, finish);
}

// The primary's partial answer, then a reset.
Reply Cut(const RecordedRequest& req, bool reasoning = false) {
  Reply r;
  r.kind = Reply::Kind::kResetMidBody;
  r.content_type = "text/event-stream";
  r.chunked = true;
  r.chunks = {StreamFor(req.target, kPrimaryPieces, false, reasoning)};
  return r;
}

Reply Continue(const RecordedRequest& req) {
  Reply r;
  r.content_type = "text/event-stream";
  r.chunked = true;
  r.chunks = {StreamFor(req.target, kBackupPieces, true)};
  return r;
}

bool IsPrimary(const RecordedRequest& req) {
  return req.body.find("m-primary") != std::string::npos ||
         req.target.find("m-primary") != std::string::npos;
}

// SSE events of a body: (event name, data).
std::vector<std::pair<std::string, std::string>> Events(const std::string& body) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string name, data;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    std::string line = body.substr(pos, nl == std::string::npos ? nl : nl - pos);
    pos = nl == std::string::npos ? body.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("event: ", 0) == 0) name = line.substr(7);
    if (line.rfind("data: ", 0) == 0) data += line.substr(6);
    if (line.empty()) {
      if (!data.empty()) out.emplace_back(name, data);
      name.clear();
      data.clear();
    }
  }
  return out;
}

// Each checker asserts the transcript is one well-formed stream of its
// protocol and returns its text.
std::string ChatText(const std::string& body) {
  std::string text, id;
  int roles = 0, finishes = 0, dones = 0;
  for (const auto& [name, data] : Events(body)) {
    EXPECT_EQ(dones, 0) << "nothing after [DONE]: " << body;
    if (data == "[DONE]") {
      ++dones;
      continue;
    }
    auto d = Json(data);
    EXPECT_FALSE(d.HasMember("error")) << body;
    if (id.empty()) id = d["id"].GetString();
    EXPECT_EQ(id, d["id"].GetString()) << "one chunk id: " << body;
    if (!d.HasMember("choices") || d["choices"].Empty()) continue;
    const auto& c = d["choices"][0];
    if (c["delta"].HasMember("role")) ++roles;
    if (c["delta"].HasMember("content")) text += c["delta"]["content"].GetString();
    if (c.HasMember("finish_reason") && c["finish_reason"].IsString()) ++finishes;
  }
  EXPECT_EQ(roles, 1) << body;
  EXPECT_EQ(finishes, 1) << body;
  EXPECT_EQ(dones, 1) << body;
  return text;
}

std::string MessagesText(const std::string& body, int64_t* output_tokens = nullptr) {
  std::string text;
  std::vector<std::string> names;
  for (const auto& [name, data] : Events(body)) {
    names.push_back(name);
    auto d = Json(data);
    if (name == "content_block_delta") {
      EXPECT_EQ(d["index"].GetInt(), 0) << "one text block: " << body;
      text += d["delta"]["text"].GetString();
    }
    if (name == "message_delta" && output_tokens) {
      *output_tokens = d["usage"]["output_tokens"].GetInt64();
    }
  }
  EXPECT_EQ(std::count(names.begin(), names.end(), "message_start"), 1) << body;
  EXPECT_EQ(std::count(names.begin(), names.end(), "content_block_start"), 1) << body;
  EXPECT_EQ(std::count(names.begin(), names.end(), "content_block_stop"), 1) << body;
  EXPECT_EQ(std::count(names.begin(), names.end(), "error"), 0) << body;
  EXPECT_FALSE(names.empty());
  if (!names.empty()) {
    EXPECT_EQ(names.back(), "message_stop") << body;
  }
  return text;
}

std::string ResponsesText(const std::string& body) {
  std::string text;
  std::vector<std::string> names;
  int64_t seq = -1;
  std::string item_id;
  for (const auto& [name, data] : Events(body)) {
    names.push_back(name);
    auto d = Json(data);
    int64_t s = d["sequence_number"].GetInt64();
    if (seq >= 0) {
      EXPECT_EQ(s, seq + 1) << "sequence numbers continue: " << body;
    }
    seq = s;
    if (name == "response.output_text.delta") {
      if (item_id.empty()) item_id = d["item_id"].GetString();
      EXPECT_EQ(item_id, d["item_id"].GetString()) << body;
      text += d["delta"].GetString();
    }
    if (name == "response.output_text.done") {
      EXPECT_EQ(text, d["text"].GetString()) << body;
    }
  }
  EXPECT_EQ(std::count(names.begin(), names.end(), "response.created"), 1) << body;
  EXPECT_EQ(std::count(names.begin(), names.end(), "response.content_part.added"), 1) << body;
  EXPECT_FALSE(names.empty());
  if (!names.empty()) {
    EXPECT_EQ(names.back(), "response.completed") << body;
  }
  return text;
}

std::string GeminiText(const std::string& body) {
  std::string text;
  int finishes = 0;
  for (const auto& [name, data] : Events(body)) {
    auto d = Json(data);
    EXPECT_FALSE(d.HasMember("error")) << body;
    EXPECT_EQ(finishes, 0) << "nothing after the finishing chunk: " << body;
    const auto& c = d["candidates"][0];
    for (const auto& p : c["content"]["parts"].GetArray()) text += p["text"].GetString();
    if (c.HasMember("finishReason")) ++finishes;
  }
  EXPECT_EQ(finishes, 1) << body;
  return text;
}

class RescueTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(upstream_.Start()) << upstream_.last_error(); }
  void TearDown() override {
    if (router_ != nullptr) {
      EXPECT_EQ(router_->Stop(), 0) << router_->Log();
      std::string log = router_->Log();
      EXPECT_EQ(log.find("ERROR: AddressSanitizer"), std::string::npos) << log;
      EXPECT_EQ(log.find("runtime error:"), std::string::npos) << log;
    }
    upstream_.Stop();
  }
  // `smart`: the primary on provider `primary`, then the backup on `backup`
  // (provider names: oai, ant, gem, resp, all on the one fake upstream).
  void Start(const std::string& primary, const std::string& backup, const std::string& extra = "") {
    std::string base = upstream_.base_url();
    RouterProcess::Options o;
    o.config_yaml = "inherit_defaults: false\nproviders:\n";
    for (auto [name, proto] :
         std::vector<std::pair<std::string, std::string>>{{"oai", "openai"},
                                                          {"ant", "anthropic"},
                                                          {"gem", "google"},
                                                          {"resp", "openai_responses"}}) {
      o.config_yaml += "  " + name + ":\n    api_protocol: " + proto + "\n    api_base: " + base +
                       "\n    api_key: k-" + name + "\n";
    }
    o.config_yaml += "models:\n  smart:\n    endpoints:\n      - provider: " + primary +
                     "\n        model_id: m-primary\n      - provider: " + backup +
                     "\n        model_id: m-backup\n" + extra;
    o.workers = 1;
    router_ = std::make_unique<RouterProcess>(o);
    std::string error;
    ASSERT_TRUE(router_->Start(&error)) << error;
  }
  void Script(bool reasoning = false) {
    upstream_.SetHandler([reasoning](const RecordedRequest& req) {
      return IsPrimary(req) ? Cut(req, reasoning) : Continue(req);
    });
  }
  HttpResponse Post(const std::string& path, const std::string& body) {
    return Fetch(router_->port(), "POST", path, body, {}, 15000);
  }
  HttpResponse PostChat() {
    return Post(kChatPath,
                R"({"model":"smart","stream":true,"stream_options":{"include_usage":true},)"
                R"("messages":[{"role":"user","content":"hi"}]})");
  }
  HttpResponse PostMessages() {
    return Post(kMessagesPath, R"({"model":"smart","max_tokens":100,"stream":true,)"
                               R"("messages":[{"role":"user","content":"hi"}]})");
  }
  HttpResponse PostResponses() {
    return Post(kResponsesPath, R"({"model":"smart","stream":true,"input":"hi"})");
  }
  HttpResponse PostGemini() {
    return Post(kGeminiStreamPath, R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})");
  }
  // The request the backup got.
  RecordedRequest Backup() {
    for (const auto& r : upstream_.requests()) {
      if (!IsPrimary(r)) return r;
    }
    ADD_FAILURE() << "the backup got no request";
    return {};
  }

  FakeUpstream upstream_;
  std::unique_ptr<RouterProcess> router_;
};

TEST_F(RescueTest, TranslatedMessagesStreamIsContinuedOnTheBackup) {
  ASSERT_NO_FATAL_FAILURE(Start("oai", "oai"));
  Script();
  HttpResponse r = PostMessages();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete) << r.body;
  int64_t output_tokens = 0;
  EXPECT_EQ(MessagesText(r.body, &output_tokens), kWhole);
  EXPECT_EQ(output_tokens, 2) << "the backup's usage (the primary reported none)";
  // A Chat backup gets the partial answer and the continuation instruction.
  RecordedRequest b = Backup();
  EXPECT_NE(b.body.find(R"({"role":"assistant","content":"Hello, wor"})"), std::string::npos)
      << b.body;
  EXPECT_NE(b.body.find("Continue it exactly where it stops"), std::string::npos) << b.body;
}

TEST_F(RescueTest, ChatPassthroughStreamIsContinued) {
  ASSERT_NO_FATAL_FAILURE(Start("oai", "oai"));
  Script();
  HttpResponse r = PostChat();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete) << r.body;
  EXPECT_EQ(ChatText(r.body), kWhole);
}

TEST_F(RescueTest, MessagesPassthroughStreamIsContinuedWithAPrefill) {
  ASSERT_NO_FATAL_FAILURE(Start("ant", "ant"));
  Script();
  HttpResponse r = PostMessages();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete) << r.body;
  int64_t output_tokens = 0;
  EXPECT_EQ(MessagesText(r.body, &output_tokens), kWhole);
  // Both attempts: the primary's message_start reported 7 in, 1 out.
  EXPECT_EQ(output_tokens, 6);
  EXPECT_NE(r.body.find(R"("input_tokens":14)"), std::string::npos) << "both inputs: " << r.body;
  RecordedRequest b = Backup();
  auto d = Json(b.body);
  const auto& msgs = d["messages"];
  ASSERT_EQ(msgs.Size(), 2u) << b.body;
  EXPECT_STREQ(msgs[1]["role"].GetString(), "assistant");
  EXPECT_NE(b.body.find("Hello, wor"), std::string::npos) << b.body;
  // One usage record with both attempts, their usage added up: the broken
  // primary's input as reported and its output estimated, the backup's as
  // reported.
  std::optional<store::UsageRecord> rec;
  WaitUntil(
      [&] {
        store::SqliteStore db(router_->home() + "/bitrouter.db");
        if (!db.Open().ok()) return false;
        auto rows = db.Newest(10, {});
        if (!rows.ok() || rows->empty()) return false;
        rec = rows->front();
        return true;
      },
      5000);
  ASSERT_TRUE(rec.has_value());
  ASSERT_EQ(rec->attempts.size(), 2u);
  EXPECT_EQ(rec->attempts[0].endpoint, "ant:m-primary");
  EXPECT_EQ(rec->attempts[1].endpoint, "ant:m-backup");
  EXPECT_EQ(rec->upstream_model, "m-backup");
  EXPECT_EQ(rec->prompt_tokens, 14);
  EXPECT_GE(rec->completion_tokens, 5 + 3);  // "Hello, wor" is ~3 tokens
  EXPECT_EQ(rec->usage_origin, store::UsageOrigin::kEstimated);
}

TEST_F(RescueTest, ResponsesPassthroughStreamIsContinuedInTheSameItem) {
  ASSERT_NO_FATAL_FAILURE(Start("resp", "resp"));
  Script(/*reasoning=*/true);
  HttpResponse r = PostResponses();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete) << r.body;
  EXPECT_EQ(ResponsesText(r.body), kWhole);
  // The continued item keeps the id and output index the client knows.
  for (const auto& [name, data] : Events(r.body)) {
    if (name != "response.output_text.delta") continue;
    auto d = Json(data);
    EXPECT_STREQ(d["item_id"].GetString(), "msg_up") << data;
    EXPECT_EQ(d["output_index"].GetInt(), 1) << data;
  }
}

TEST_F(RescueTest, GeminiPassthroughStreamIsContinued) {
  ASSERT_NO_FATAL_FAILURE(Start("gem", "gem"));
  Script();
  HttpResponse r = PostGemini();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete) << r.body;
  EXPECT_EQ(GeminiText(r.body), kWhole);
}

TEST_F(RescueTest, AcrossProtocolsMessagesClientChatPrimaryMessagesBackup) {
  ASSERT_NO_FATAL_FAILURE(Start("oai", "ant"));
  Script();
  HttpResponse r = PostMessages();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete) << r.body;
  EXPECT_EQ(MessagesText(r.body), kWhole);
  // A Messages backup gets the prefill (trailing whitespace trimmed).
  auto d = Json(Backup().body);
  ASSERT_EQ(d["messages"].Size(), 2u);
  EXPECT_STREQ(d["messages"][1]["role"].GetString(), "assistant");
}

TEST_F(RescueTest, TranslatedResponsesAndGeminiClients) {
  ASSERT_NO_FATAL_FAILURE(Start("ant", "oai"));
  Script();
  HttpResponse r = PostResponses();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ResponsesText(r.body), kWhole);
  HttpResponse g = PostGemini();
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(GeminiText(g.body), kWhole);
  HttpResponse c = PostChat();
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(ChatText(c.body), kWhole);
}

// The failoverbench scenario: a stream cut on the primary, a fallback that
// refuses an assistant prefill (400 to a request that ends with one).
TEST_F(RescueTest, FallbackThatRefusesThePrefillGetsTheInstruction) {
  ASSERT_NO_FATAL_FAILURE(Start("oai", "ant"));
  upstream_.SetHandler([](const RecordedRequest& req) {
    if (IsPrimary(req)) return Cut(req);
    auto d = Json(req.body);
    const auto& msgs = d["messages"];
    if (std::string(msgs[msgs.Size() - 1]["role"].GetString()) == "assistant") {
      Reply no;
      no.status = 400;
      no.body = R"({"type":"error","error":{"type":"invalid_request_error",)"
                R"("message":"This model does not support assistant message prefill."}})";
      return no;
    }
    return Continue(req);
  });
  HttpResponse r = PostChat();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete) << r.body;
  EXPECT_EQ(ChatText(r.body), kWhole);
  auto reqs = upstream_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  auto last = Json(reqs[2].body);
  const auto& msgs = last["messages"];
  ASSERT_EQ(msgs.Size(), 3u) << reqs[2].body;
  EXPECT_STREQ(msgs[1]["role"].GetString(), "assistant");
  EXPECT_STREQ(msgs[2]["role"].GetString(), "user");
  EXPECT_NE(reqs[2].body.find("Continue it exactly where it stops"), std::string::npos);
}

TEST_F(RescueTest, NothingCanContinueItEndsWithTheInBandError) {
  ASSERT_NO_FATAL_FAILURE(Start("ant", "ant"));
  upstream_.SetHandler([](const RecordedRequest& req) {
    if (IsPrimary(req)) return Cut(req);
    Reply r;
    r.status = 503;
    r.body = "{}";
    return r;
  });
  HttpResponse r = PostMessages();
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);
  auto events = Events(r.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().first, "error") << r.body;
  EXPECT_EQ(r.body.find("message_stop"), std::string::npos) << r.body;
}

TEST_F(RescueTest, AStalledPrimaryIsContinued) {
  ASSERT_NO_FATAL_FAILURE(Start("oai", "oai", "upstream:\n  timeouts: {idle: 300ms}\n"));
  upstream_.SetHandler([](const RecordedRequest& req) {
    if (!IsPrimary(req)) return Continue(req);
    Reply r;
    r.content_type = "text/event-stream";
    r.chunked = true;
    r.chunks = {ChatStream(kPrimaryPieces, false), ChatStream({"never sent"}, true)};
    r.delay_between_chunks_ms = 3000;
    return r;
  });
  HttpResponse r = PostChat();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete) << r.body;
  EXPECT_EQ(ChatText(r.body), kWhole);
}

TEST_F(RescueTest, AMalformedTailIsWithheldAndTheAnswerContinued) {
  ASSERT_NO_FATAL_FAILURE(Start("ant", "ant"));
  upstream_.SetHandler([](const RecordedRequest& req) {
    if (!IsPrimary(req)) return Continue(req);
    Reply r;
    r.content_type = "text/event-stream";
    r.chunked = true;
    r.chunks = {MessagesStream(kPrimaryPieces, false),
                "event: content_block_delta\ndata: {not json\n\n"};
    return r;
  });
  HttpResponse r = PostMessages();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete) << r.body;
  EXPECT_EQ(r.body.find("not json"), std::string::npos) << r.body;
  EXPECT_EQ(MessagesText(r.body), kWhole);
}

TEST_F(RescueTest, AStreamWithoutItsTerminalEventIsContinued) {
  ASSERT_NO_FATAL_FAILURE(Start("resp", "gem"));
  upstream_.SetHandler([](const RecordedRequest& req) {
    if (!IsPrimary(req)) return Continue(req);
    Reply r;  // ends cleanly, but before response.completed
    r.content_type = "text/event-stream";
    r.chunked = true;
    r.chunks = {ResponsesStream(kPrimaryPieces, false, false)};
    return r;
  });
  HttpResponse r = PostResponses();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete) << r.body;
  EXPECT_EQ(ResponsesText(r.body), kWhole);
}

TEST_F(RescueTest, StreamRecoveryOffKeepsTheError) {
  ASSERT_NO_FATAL_FAILURE(Start("oai", "oai", "upstream:\n  stream_recovery: off\n"));
  Script();
  HttpResponse r = PostChat();
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.body.find("data: {\"error\""), std::string::npos) << r.body;
  EXPECT_EQ(upstream_.request_count(), 1u);
}

}  // namespace
}  // namespace bitrouter::testing
