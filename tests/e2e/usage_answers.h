#pragma once
// Canned upstream answers for the usage tests, one per wire protocol, JSON
// and stream, each reporting the same token usage in its own shape:
//   prompt 100 (40 of them cache reads; Messages: 30 reads + 10 writes),
//   completion 20 (5 of them reasoning; Messages: no reasoning).
#include <string>
#include <vector>

#include "tests/support/fake_upstream.h"

namespace bitrouter::testing::usage_answers {

inline std::string ChatJson() {
  return R"({"id":"c1","object":"chat.completion","created":1,"model":"m-chat","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":40},"completion_tokens_details":{"reasoning_tokens":5}}})";
}

// `usage_chunk`: the upstream was asked for include_usage.
inline std::vector<std::string> ChatStream(bool usage_chunk = true) {
  std::vector<std::string> c = {
      R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m-chat","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"finish_reason":null}]})"
      "\n\n",
      R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m-chat","choices":[{"index":0,"delta":{"content":" there"},"finish_reason":"stop"}]})"
      "\n\n"};
  if (usage_chunk) {
    c.push_back(
        R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m-chat","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":40},"completion_tokens_details":{"reasoning_tokens":5}}})"
        "\n\n");
  }
  c.push_back("data: [DONE]\n\n");
  return c;
}

inline std::string MessagesJson() {
  return R"({"id":"msg_1","type":"message","role":"assistant","model":"m-msg","content":[{"type":"text","text":"Hello there"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":60,"cache_read_input_tokens":30,"cache_creation_input_tokens":10,"output_tokens":20}})";
}

inline std::vector<std::string> MessagesStream() {
  return {
      "event: message_start\ndata: "
      R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m-msg","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":60,"cache_read_input_tokens":30,"cache_creation_input_tokens":10,"output_tokens":1}}})"
      "\n\n",
      "event: content_block_start\ndata: "
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
      "\n\n",
      "event: content_block_delta\ndata: "
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello there"}})"
      "\n\n",
      "event: content_block_stop\ndata: "
      R"({"type":"content_block_stop","index":0})"
      "\n\n",
      "event: message_delta\ndata: "
      R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":20}})"
      "\n\n",
      "event: message_stop\ndata: "
      R"({"type":"message_stop"})"
      "\n\n"};
}

inline std::string ResponsesUsage() {
  return R"({"input_tokens":100,"input_tokens_details":{"cached_tokens":40},"output_tokens":20,"output_tokens_details":{"reasoning_tokens":5},"total_tokens":120})";
}

inline std::string ResponsesJson() {
  return R"({"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"m-resp","output":[{"type":"message","id":"m1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello there","annotations":[]}]}],"usage":)" +
         ResponsesUsage() + "}";
}

inline std::vector<std::string> ResponsesStream() {
  const std::string resp_head =
      R"("id":"resp_1","object":"response","created_at":1,"model":"m-resp")";
  return {
      "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,"
      "\"response\":{" +
          resp_head + ",\"status\":\"in_progress\",\"output\":[],\"usage\":null}}\n\n",
      "event: response.output_item.added\ndata: "
      R"({"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"type":"message","id":"m1","status":"in_progress","role":"assistant","content":[]}})"
      "\n\n",
      "event: response.content_part.added\ndata: "
      R"({"type":"response.content_part.added","sequence_number":2,"item_id":"m1","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}})"
      "\n\n",
      "event: response.output_text.delta\ndata: "
      R"({"type":"response.output_text.delta","sequence_number":3,"item_id":"m1","output_index":0,"content_index":0,"delta":"Hello there"})"
      "\n\n",
      "event: response.output_text.done\ndata: "
      R"({"type":"response.output_text.done","sequence_number":4,"item_id":"m1","output_index":0,"content_index":0,"text":"Hello there"})"
      "\n\n",
      "event: response.content_part.done\ndata: "
      R"({"type":"response.content_part.done","sequence_number":5,"item_id":"m1","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Hello there","annotations":[]}})"
      "\n\n",
      "event: response.output_item.done\ndata: "
      R"({"type":"response.output_item.done","sequence_number":6,"output_index":0,"item":{"type":"message","id":"m1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello there","annotations":[]}]}})"
      "\n\n",
      "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":7,"
      "\"response\":{" +
          resp_head +
          ",\"status\":\"completed\",\"output\":[{\"type\":\"message\",\"id\":\"m1\",\"status\":"
          "\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":"
          "\"Hello there\",\"annotations\":[]}]}],\"usage\":" +
          ResponsesUsage() + "}}\n\n"};
}

inline std::string GeminiUsage() {
  return R"({"promptTokenCount":100,"candidatesTokenCount":15,"thoughtsTokenCount":5,"cachedContentTokenCount":40,"totalTokenCount":120})";
}

inline std::string GeminiJson() {
  return R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hello there"}]},"finishReason":"STOP","index":0}],"usageMetadata":)" +
         GeminiUsage() + R"(,"modelVersion":"m-gem","responseId":"g1"})";
}

inline std::vector<std::string> GeminiStream() {
  return {
      R"(data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hello"}]},"index":0}],"usageMetadata":{"promptTokenCount":100,"totalTokenCount":100},"modelVersion":"m-gem","responseId":"g1"})"
      "\r\n\r\n",
      R"(data: {"candidates":[{"content":{"role":"model","parts":[{"text":" there"}]},"finishReason":"STOP","index":0}],"usageMetadata":)" +
          GeminiUsage() + R"(,"modelVersion":"m-gem","responseId":"g1"})" + "\r\n\r\n"};
}

// Answers in the protocol the request's path names, streamed when asked.
inline Reply Answer(const RecordedRequest& req) {
  bool stream = req.body.find("\"stream\":true") != std::string::npos ||
                req.target.find("streamGenerateContent") != std::string::npos;
  Reply r;
  std::vector<std::string> chunks;
  if (req.target.find("/chat/completions") != std::string::npos) {
    bool asked = req.body.find("\"include_usage\":true") != std::string::npos;
    if (stream) chunks = ChatStream(asked);
    r.body = ChatJson();
  } else if (req.target.find("/messages") != std::string::npos) {
    if (stream) chunks = MessagesStream();
    r.body = MessagesJson();
  } else if (req.target.find("/responses") != std::string::npos) {
    if (stream) chunks = ResponsesStream();
    r.body = ResponsesJson();
  } else {
    if (stream) chunks = GeminiStream();
    r.body = GeminiJson();
  }
  if (stream) {
    r.content_type = "text/event-stream";
    r.chunked = true;
    r.chunks = std::move(chunks);
    r.body.clear();
  }
  return r;
}

}  // namespace bitrouter::testing::usage_answers
