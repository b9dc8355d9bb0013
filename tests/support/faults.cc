#include "tests/support/faults.h"

#include <string>

namespace bitrouter::testing {
namespace {

constexpr char kSseHead[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    "Connection: close\r\n\r\n";

std::string Chunk(const std::string& model, const std::string& delta, const char* finish) {
  return "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,"
         "\"model\":\"" +
         model + "\",\"choices\":[{\"index\":0,\"delta\":" + delta +
         ",\"finish_reason\":" + finish + "}]}\n\n";
}

std::string TokenChunk(const std::string& model, const std::string& text, bool first) {
  return Chunk(model,
               std::string("{") + (first ? "\"role\":\"assistant\"," : "") + "\"content\":\"" +
                   JsonEscape(text) + "\"}",
               "null");
}

Reply Error(int status, const std::string& body,
            std::vector<std::pair<std::string, std::string>> headers = {}) {
  Reply r;
  r.status = status;
  r.body = body;
  r.headers = std::move(headers);
  return r;
}

// Pieces [from, to) of a stream, as raw chunks (the head with the first).
std::vector<std::string> Pieces(const std::string& model, const std::vector<std::string>& tokens,
                                size_t from, size_t to) {
  std::vector<std::string> out;
  for (size_t i = from; i < to && i < tokens.size(); ++i) {
    out.push_back(TokenChunk(model, tokens[i], i == 0));
  }
  return out;
}

std::string Tail(const std::string& model) {
  return Chunk(model, "{}", "\"stop\"") +
         "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,"
         "\"model\":\"" +
         model +
         "\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":60,"
         "\"total_tokens\":70}}\n\ndata: [DONE]\n\n";
}

}  // namespace

std::vector<std::string> BenchTokens(int n) {
  std::vector<std::string> t;
  for (int i = 0; i < n; ++i) t.push_back("t" + std::to_string(i) + " ");
  return t;
}

Reply ChatSseReply(const std::string& model, const std::vector<std::string>& pieces) {
  Reply r;
  r.kind = Reply::Kind::kRaw;
  r.close_connection = true;
  r.chunks.push_back(kSseHead);
  for (const std::string& c : Pieces(model, pieces, 0, pieces.size())) r.chunks.push_back(c);
  r.chunks.push_back(Tail(model));
  return r;
}

Reply FaultReply(Fault fault, const RecordedRequest& req, int nth, const std::string& model,
                 const FaultOptions& o) {
  std::vector<std::string> tokens = BenchTokens(o.total_tokens);
  switch (fault) {
    case Fault::kRateLimitRetryAfter:
      return Error(429, R"({"error":{"message":"Rate limit reached","type":"requests"}})",
                   {{"Retry-After", std::to_string(o.retry_after_s)}});
    case Fault::kRateLimitPersistent:
      return Error(429, R"({"error":{"message":"Rate limit reached","type":"requests"}})");
    case Fault::kServerErrorOnce:
      if (nth == 0) return Error(500, R"({"error":{"message":"internal","type":"server_error"}})");
      return ChatSseReply(model, tokens);
    case Fault::kUnavailable:
      return Error(503, R"({"error":{"message":"overloaded","type":"server_error"}})");
    case Fault::kResetBeforeHeaders: {
      Reply r;
      r.kind = Reply::Kind::kResetBeforeResponse;
      return r;
    }
    case Fault::kSilence: {
      Reply r;
      r.kind = Reply::Kind::kHang;
      return r;
    }
    case Fault::kSlowFirstToken: {
      Reply r = ChatSseReply(model, tokens);
      r.chunk_delays_ms = {0, o.delay_ms};  // the head at once, then the wait
      return r;
    }
    case Fault::kStreamCut: {
      Reply r;
      r.kind = Reply::Kind::kRaw;
      r.close_connection = true;
      r.chunks.push_back(kSseHead);
      for (const std::string& c : Pieces(model, tokens, 0, o.tokens)) r.chunks.push_back(c);
      return r;  // closed without a finish_reason or [DONE]: a cut stream
    }
    case Fault::kStall: {
      Reply r = ChatSseReply(model, tokens);
      r.chunk_delays_ms.assign(static_cast<size_t>(o.tokens) + 2, 0);
      r.chunk_delays_ms.back() = o.delay_ms;  // before token `tokens`
      return r;
    }
    case Fault::kMalformedChunk: {
      Reply r = ChatSseReply(model, tokens);
      r.chunks.insert(r.chunks.begin() + 1 + o.tokens,
                      "data: {\"id\":\"chatcmpl-bench\",\"cho\n\n");
      return r;
    }
    case Fault::kNoDone: {
      Reply r;
      r.kind = Reply::Kind::kRaw;
      r.close_connection = true;
      r.chunks.push_back(kSseHead);
      for (const std::string& c : Pieces(model, tokens, 0, tokens.size())) r.chunks.push_back(c);
      r.chunks.push_back(Chunk(model, "{}", "\"stop\""));
      return r;
    }
    case Fault::kContextLength:
      return Error(
          400,
          R"({"error":{"message":"This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}})");
    case Fault::kContentFilter:
      return Error(
          400,
          R"({"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400}})");
    case Fault::kRejectsPrefill: {
      // Prefill = the last message is the assistant's.
      size_t last_role = req.body.rfind("\"role\"");
      bool prefill = last_role != std::string::npos &&
                     req.body.compare(last_role, 19, "\"role\":\"assistant\"") == 0;
      if (prefill) {
        return Error(
            400,
            R"({"error":{"message":"This model does not support assistant message prefill. The conversation must end with a user message.","type":"invalid_request_error"}})");
      }
      return ChatSseReply(model, tokens);
    }
  }
  return Error(500, "{}");
}

}  // namespace bitrouter::testing
