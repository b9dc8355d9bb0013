// Golden transcripts for stream translation. Each
// testdata/translate/<upstream>_stream_to_<client>/<case>.in.sse (the raw
// upstream SSE body) is run through the upstream protocol's decoder into the
// client protocol's encoder and compared with <case>.out.sse event by event
// (event names exactly, data as JSON with key order ignored, `[DONE]`
// literally). An optional <case>.opts.json sets EncoderOptions
// ({"include_usage":true}, {"gemini_sse":false}, {"fallback_id":"gen-x"}). A decoder error is
// handed to the encoder as OnError, exactly as the worker does, so error transcripts are golden
// too. The input is also fed one byte at a time: the output must not depend on how the upstream
// bytes were split.

#include <rapidjson/document.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "shared/protocol/adapters.h"
#include "shared/protocol/sse.h"
#include "shared/protocol/stream_translator.h"
#include "tests/unit/shared/protocol/golden_support.h"

namespace bitrouter::protocol {
namespace {

namespace fs = std::filesystem;
using golden::ByName;
using golden::ClientModel;
using golden::kCreated;
using golden::ReadFile;

struct RunResult {
  std::string out;
  std::string error;  // the decoder's error, if any
  bool done = false;
};

// Feeds `input` in pieces of `step` bytes (0 = whole) through decoder ->
// encoder, the way the worker does.
// Feeds `input` in pieces of `step` bytes (0 = whole) through the same
// StreamTranslator the worker uses; a failure is handed to the encoder.
RunResult Translate(Protocol up, Protocol client, const EncoderOptions& opts,
                    const std::string& input, size_t step) {
  RunResult run;
  StreamTranslator t(up, client, opts);
  absl::Status status;
  size_t n = step == 0 ? input.size() : step;
  for (size_t pos = 0; pos < input.size() && status.ok() && !t.upstream_done(); pos += n) {
    status = t.Feed(std::string_view(input).substr(pos, n));
    run.out.append(t.out());
    t.out().clear();
  }
  if (status.ok()) status = t.End();
  if (!status.ok()) {
    run.error = std::string(status.message());
    t.Fail({502, "upstream_error", run.error});
  }
  run.out.append(t.out());
  run.done = t.done();
  return run;
}

struct Event {
  std::string name;
  std::string data;
};

std::vector<Event> Events(const std::string& sse_text) {
  std::vector<Event> events;
  SseParser p;
  absl::Status s = p.Feed(sse_text, [&](std::string_view e, std::string_view d) {
    events.push_back({std::string(e), std::string(d)});
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_FALSE(p.mid_event()) << "transcript ends mid-event:\n" << sse_text;
  return events;
}

bool SameJson(const std::string& a, const std::string& b) {
  rapidjson::Document x, y;
  if (x.Parse(a.c_str()).HasParseError() || y.Parse(b.c_str()).HasParseError()) return a == b;
  return x == y;
}

struct StreamCase {
  std::string dir;
  std::string name;
};
void PrintTo(const StreamCase& c, std::ostream* os) { *os << c.dir << "/" << c.name; }

std::vector<StreamCase> ListCases() {
  std::vector<StreamCase> cases;
  for (const auto& d : fs::directory_iterator(BR_TESTDATA_DIR)) {
    std::string dir = d.path().filename().string();
    if (!d.is_directory() || dir.find("_stream_to_") == std::string::npos) continue;
    for (const auto& f : fs::directory_iterator(d.path())) {
      std::string file = f.path().filename().string();
      const std::string suffix = ".in.sse";
      if (file.size() > suffix.size() && file.substr(file.size() - suffix.size()) == suffix) {
        cases.push_back({dir, file.substr(0, file.size() - suffix.size())});
      }
    }
  }
  std::sort(cases.begin(), cases.end(), [](const StreamCase& a, const StreamCase& b) {
    return a.dir + "/" + a.name < b.dir + "/" + b.name;
  });
  return cases;
}

class StreamGolden : public ::testing::TestWithParam<StreamCase> {};

TEST_P(StreamGolden, MatchesTranscript) {
  const StreamCase& c = GetParam();
  size_t mid = c.dir.find("_stream_to_");
  std::optional<Protocol> up = ByName(c.dir.substr(0, mid));
  std::optional<Protocol> client = ByName(c.dir.substr(mid + 11));
  ASSERT_TRUE(up && client) << "bad directory name " << c.dir;
  fs::path base = fs::path(BR_TESTDATA_DIR) / c.dir;
  EncoderOptions opts;
  opts.client_model = ClientModel(*client);
  opts.created = kCreated;
  if (fs::exists(base / (c.name + ".opts.json"))) {
    rapidjson::Document o;
    ASSERT_FALSE(o.Parse(ReadFile(base / (c.name + ".opts.json")).c_str()).HasParseError());
    if (o.HasMember("include_usage")) opts.include_usage = o["include_usage"].GetBool();
    if (o.HasMember("gemini_sse")) opts.gemini_sse = o["gemini_sse"].GetBool();
    if (o.HasMember("fallback_id")) opts.fallback_id = o["fallback_id"].GetString();
  }
  std::string input = ReadFile(base / (c.name + ".in.sse"));
  RunResult whole = Translate(*up, *client, opts, input, 0);
  EXPECT_TRUE(whole.done) << "the encoder never reached a terminal event";
  RunResult bytewise = Translate(*up, *client, opts, input, 1);
  EXPECT_EQ(whole.out, bytewise.out) << "output depends on how the input was split";
  if (*client != Protocol::kResponses) {  // Responses snapshots carry nullable members as null
    EXPECT_EQ(whole.out.find("null"), std::string::npos) << "encoders never write null";
  }

  fs::path want_path = base / (c.name + ".out.sse");
  if (!fs::exists(want_path)) {
    // A new case: with BITROUTER_WRITE_GOLDEN=1 the output is written for
    // review; the test fails either way until the file is committed.
    if (std::getenv("BITROUTER_WRITE_GOLDEN") != nullptr) {
      std::ofstream(want_path, std::ios::binary) << whole.out;
    }
    FAIL() << want_path << " is missing; got:\n" << whole.out;
  }
  std::string want_text = ReadFile(want_path);
  if (*client == Protocol::kGemini && !opts.gemini_sse) {
    EXPECT_TRUE(SameJson(whole.out, want_text)) << "got:\n" << whole.out;
    return;
  }
  std::vector<Event> got = Events(whole.out);
  std::vector<Event> want = Events(want_text);
  for (size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    if (i >= got.size() || i >= want.size()) {
      ADD_FAILURE() << "event count differs: got " << got.size() << ", want " << want.size()
                    << "\ngot:\n"
                    << whole.out;
      break;
    }
    EXPECT_EQ(got[i].name, want[i].name) << "event " << i;
    EXPECT_TRUE(SameJson(got[i].data, want[i].data))
        << "event " << i << " (" << want[i].name << ")\ngot:  " << got[i].data
        << "\nwant: " << want[i].data;
  }
}

INSTANTIATE_TEST_SUITE_P(Streams, StreamGolden, ::testing::ValuesIn(ListCases()),
                         [](const ::testing::TestParamInfo<StreamCase>& info) {
                           return info.param.dir + "__" + info.param.name;
                         });

// ---- SSE framing ----

std::vector<Event> Frame(const std::string& text, size_t step) {
  std::vector<Event> events;
  SseParser p;
  for (size_t pos = 0; pos < text.size(); pos += step) {
    EXPECT_TRUE(p.Feed(std::string_view(text).substr(pos, step), [&](std::string_view e,
                                                                     std::string_view d) {
                   events.push_back({std::string(e), std::string(d)});
                   return absl::OkStatus();
                 }).ok());
  }
  return events;
}

TEST(SseParser, LineEndingsCommentsAndMultiLineData) {
  const std::string text =
      ": keep-alive\n\nevent: a\ndata: 1\n\nevent:b\r\ndata:x\r\ndata: y\r\n\r\nid: 7\rdata: z\r\r"
      "retry: 5\n\nevent: only-name\n\n";
  for (size_t step : {1, 2, 3, 1000}) {
    std::vector<Event> e = Frame(text, step);
    ASSERT_EQ(e.size(), 3u) << "step " << step;
    EXPECT_EQ(e[0].name, "a");
    EXPECT_EQ(e[0].data, "1");
    EXPECT_EQ(e[1].name, "b");
    EXPECT_EQ(e[1].data, "x\ny");
    EXPECT_EQ(e[2].name, "");
    EXPECT_EQ(e[2].data, "z");
  }
}

TEST(SseParser, MidEventAndErrorsStop) {
  SseParser p;
  int calls = 0;
  auto fail = [&](std::string_view, std::string_view) {
    ++calls;
    return absl::InvalidArgumentError("bad event");
  };
  EXPECT_TRUE(p.Feed("data: {\"a\":", fail).ok());
  EXPECT_TRUE(p.mid_event());
  absl::Status s = p.Feed("1}\n\ndata: 2\n\n", fail);
  EXPECT_EQ(s.message(), "bad event");
  EXPECT_EQ(calls, 1);
}

TEST(SseParser, OversizedEventFails) {
  SseParser p;
  std::string chunk(1 << 20, 'x');
  absl::Status s = absl::OkStatus();
  auto ok = [](std::string_view, std::string_view) { return absl::OkStatus(); };
  s = p.Feed("data: ", ok);
  for (int i = 0; i < 20 && s.ok(); ++i) s = p.Feed(chunk, ok);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace bitrouter::protocol
