// CPU cost of protocol translation (not a test: run it and read the numbers).
//
//   build/bin/translate_bench
//
// For bodies of ~10 KB, 100 KB and 1 MB: a Chat request translated to
// Messages (parse + render) and a Messages response translated back to Chat,
// plus a Chat stream translated event by event to Messages. Reports the
// median of repeated runs in microseconds of wall time on an idle core
// (single-threaded, no I/O), so it is CPU cost. Targets (issue 4): 10 KB
// request + response <= 20 us; 1 MB <= 2 ms; cost linear in size.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "shared/protocol/adapters.h"
#include "shared/protocol/stream_translator.h"

namespace {

using bitrouter::protocol::AdapterFor;
using bitrouter::protocol::Protocol;
using Clock = std::chrono::steady_clock;

std::string Filler(size_t n, int seed) {
  static const char* kWords[] = {"router ", "token ",    "stream ",  "agent ",
                                 "model ",  "provider ", "latency ", "canonical "};
  std::string s;
  while (s.size() < n) s += kWords[(s.size() + seed) % 8];
  s.resize(n);
  return s;
}

// A multi-turn Chat request with a tool, about `size` bytes.
std::string ChatRequest(size_t size) {
  std::string body =
      R"({"model":"gpt-4o","max_tokens":1024,"temperature":0.2,"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],"messages":[{"role":"system","content":"You are terse."})";
  int turn = 0;
  while (body.size() < size) {
    body += R"(,{"role":"user","content":")" + Filler(400, turn) + R"("})";
    body += R"(,{"role":"assistant","content":")" + Filler(400, turn + 1) + R"("})";
    ++turn;
  }
  body += R"(,{"role":"user","content":"and now?"}]})";
  return body;
}

std::string MessagesResponse(size_t size) {
  std::string text = Filler(size > 400 ? size - 400 : 10, 3);
  return R"({"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":")" +
         text +
         R"("},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","usage":{"input_tokens":100,"output_tokens":50,"cache_read_input_tokens":20}})";
}

std::string ChatStream(size_t size) {
  std::string s =
      R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})"
      "\n\n";
  int i = 0;
  while (s.size() < size) {
    s +=
        R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":")" +
        Filler(24, i++) + "\"}}]}\n\n";
  }
  s +=
      R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"
      "\n\n";
  s +=
      R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":9,"total_tokens":14}})"
      "\n\ndata: [DONE]\n\n";
  return s;
}

template <typename F>
double MedianMicros(F f, int runs) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    auto a = Clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main() {
  std::printf("%-10s %14s %14s %14s %16s\n", "size", "req chat>msg", "resp msg>chat", "sum",
              "stream chat>msg");
  for (size_t size : {10u << 10, 100u << 10, 1u << 20}) {
    std::string req = ChatRequest(size);
    std::string resp = MessagesResponse(size);
    std::string stream = ChatStream(size);
    int runs = size <= (10u << 10) ? 2000 : size <= (100u << 10) ? 300 : 40;
    bool ok = true;
    double req_us = MedianMicros(
        [&] {
          auto c = AdapterFor(Protocol::kChat).parse_request(req);
          auto out = AdapterFor(Protocol::kMessages).render_request(*c, "claude");
          ok = ok && out.ok();
        },
        runs);
    double resp_us = MedianMicros(
        [&] {
          auto c = AdapterFor(Protocol::kMessages).parse_response(resp);
          auto out = AdapterFor(Protocol::kChat).render_response(*c, "gpt-4o");
          ok = ok && out.ok();
        },
        runs);
    double stream_us = MedianMicros(
        [&] {
          bitrouter::protocol::EncoderOptions o;
          o.client_model = "claude";
          bitrouter::protocol::StreamTranslator t(Protocol::kChat, Protocol::kMessages, o);
          // Fed in 4 KB reads, as a socket would deliver it.
          for (size_t pos = 0; pos < stream.size(); pos += 4096) {
            ok = ok && t.Feed(std::string_view(stream).substr(pos, 4096)).ok();
            t.out().clear();
          }
          ok = ok && t.End().ok() && t.done();
        },
        runs);
    // Where the request time goes: parsing into the canonical form vs rendering.
    auto parsed = AdapterFor(Protocol::kChat).parse_request(req);
    double parse_us =
        MedianMicros([&] { ok = ok && AdapterFor(Protocol::kChat).parse_request(req).ok(); }, runs);
    double render_us = MedianMicros(
        [&] { ok = ok && AdapterFor(Protocol::kMessages).render_request(*parsed, "c").ok(); },
        runs);
    std::printf("           (request: parse %.1f us + render %.1f us)\n", parse_us, render_us);
    if (!ok) {
      std::fprintf(stderr, "translation failed\n");
      return 1;
    }
    std::printf("%-10zu %11.1f us %11.1f us %11.1f us %13.1f us\n", size, req_us, resp_us,
                req_us + resp_us, stream_us);
  }
  return 0;
}
