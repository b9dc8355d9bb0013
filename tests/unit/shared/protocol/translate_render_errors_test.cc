// Translation error cases, render side: what a renderer refuses because the
// target protocol cannot carry it (the next endpoint may).

#include <string>

#include "gtest/gtest.h"
#include "shared/protocol/adapters.h"
#include "shared/protocol/chat_adapter.h"
#include "shared/protocol/gemini_adapter.h"
#include "shared/protocol/messages_adapter.h"
#include "shared/protocol/responses_adapter.h"

namespace bitrouter::protocol {
namespace {

TEST(TranslateErrors, RenderRejectsWhatTheTargetCannotCarry) {
  // Tool-call arguments that are not a JSON object cannot become tool_use.input.
  auto req = chat::ParseRequest(
      R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{not json"}}]}]})");
  ASSERT_TRUE(req.ok()) << req.status();
  auto out = messages::RenderRequest(*req, "claude");
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  // Images inside tool results have no Chat representation.
  auto mreq = messages::ParseRequest(
      R"({"model":"m","max_tokens":9,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"shot","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}]})");
  ASSERT_TRUE(mreq.ok()) << mreq.status();
  auto cout = chat::RenderRequest(*mreq, "gpt");
  EXPECT_EQ(cout.status().code(), absl::StatusCode::kInvalidArgument);
}

// Parses `body` with `from`, renders the request into `into`; the render must
// fail with InvalidArgument naming `message`.
void ExpectRenderRequestRejected(Protocol from, Protocol into, const std::string& body,
                                 const std::string& message) {
  SCOPED_TRACE(std::string(ProtocolName(from)) + " -> " + std::string(ProtocolName(into)) + ": " +
               body);
  auto req = AdapterFor(from).parse_request(body);
  ASSERT_TRUE(req.ok()) << req.status();
  auto out = AdapterFor(into).render_request(*req, "up");
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_NE(out.status().message().find(message), absl::string_view::npos) << out.status();
}

void ExpectRenderResponseRejected(Protocol from, Protocol into, const std::string& body,
                                  const std::string& message) {
  SCOPED_TRACE(std::string(ProtocolName(from)) + " -> " + std::string(ProtocolName(into)) + ": " +
               body);
  auto resp = AdapterFor(from).parse_response(body);
  ASSERT_TRUE(resp.ok()) << resp.status();
  auto out = AdapterFor(into).render_response(*resp, "client");
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_NE(out.status().message().find(message), absl::string_view::npos) << out.status();
}

TEST(TranslateErrors, RenderIntoResponsesRejectsStopSequences) {
  const std::string stop = "stop sequences are not supported";
  ExpectRenderRequestRejected(
      Protocol::kChat, Protocol::kResponses,
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":"END"})", stop);
  ExpectRenderRequestRejected(
      Protocol::kMessages, Protocol::kResponses,
      R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"stop_sequences":["END"]})",
      stop);
  ExpectRenderRequestRejected(
      Protocol::kGemini, Protocol::kResponses,
      R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"stopSequences":["END"]}})",
      stop);
  // Without stop sequences the same request renders.
  auto req = AdapterFor(Protocol::kChat)
                 .parse_request(R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_TRUE(AdapterFor(Protocol::kResponses).render_request(*req, "up").ok());
}

TEST(TranslateErrors, RenderIntoGeminiRejectsWhatItCannotCarry) {
  // Images inside tool results: functionResponse.response is JSON only.
  ExpectRenderRequestRejected(
      Protocol::kMessages, Protocol::kGemini,
      R"({"model":"m","max_tokens":9,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"shot","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}]})",
      "only text tool results");
  ExpectRenderRequestRejected(
      Protocol::kResponses, Protocol::kGemini,
      R"({"model":"m","input":[{"type":"function_call","call_id":"c1","name":"shot","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":[{"type":"input_image","image_url":"https://x/y.png"}]}]})",
      "only text tool results");
  // Tool-call arguments that are not a JSON object cannot become args.
  ExpectRenderRequestRejected(
      Protocol::kChat, Protocol::kGemini,
      R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"[1]"}}]}]})",
      "arguments of tool call 'c1' are not a JSON object");
  ExpectRenderRequestRejected(
      Protocol::kResponses, Protocol::kGemini,
      R"({"model":"m","input":[{"type":"function_call","call_id":"c1","name":"f","arguments":"{not json"}]})",
      "arguments of tool call 'c1' are not a JSON object");
  // A tool result with no call in the request (no parser produces one, but a
  // renderer must not invent the function name).
  CanonicalRequest req;
  ContentPart result;
  result.kind = ContentPart::Kind::kToolResult;
  result.tool_call_id = "call_9";
  result.result.push_back(ContentPart::Text("42"));
  req.messages.push_back(Message{Role::kUser, {ContentPart::Text("hi")}});
  req.messages.push_back(Message{Role::kTool, {result}});
  auto out = AdapterFor(Protocol::kGemini).render_request(req, "gemini");
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_NE(out.status().message().find("'call_9' has no matching tool call"),
            absl::string_view::npos)
      << out.status();
}

TEST(TranslateErrors, RenderRejectsDocumentsTheTargetCannotCarry) {
  // Chat takes documents as inline file data only (no file_url).
  const std::string by_url = "a document given by URL cannot be sent to a Chat Completions";
  ExpectRenderRequestRejected(
      Protocol::kMessages, Protocol::kChat,
      R"({"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://x/d.pdf"}}]}]})",
      by_url);
  ExpectRenderRequestRejected(
      Protocol::kResponses, Protocol::kChat,
      R"({"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_url":"https://x/d.pdf"}]}]})",
      by_url);
  ExpectRenderRequestRejected(
      Protocol::kGemini, Protocol::kChat,
      R"({"contents":[{"parts":[{"fileData":{"mimeType":"application/pdf","fileUri":"gs://b/d.pdf"}}]}]})",
      by_url);
  // Anthropic documents are PDF or plain text.
  ExpectRenderRequestRejected(
      Protocol::kGemini, Protocol::kMessages,
      R"({"contents":[{"parts":[{"inlineData":{"mimeType":"video/mp4","data":"AAAA"}}]}]})",
      "a document of type 'video/mp4' cannot be sent to an Anthropic upstream");
  ExpectRenderRequestRejected(
      Protocol::kResponses, Protocol::kMessages,
      R"({"model":"m","input":[{"role":"user","content":[{"type":"input_file","filename":"a.docx","file_data":"data:application/vnd.openxmlformats-officedocument.wordprocessingml.document;base64,UEsDBA=="}]}]})",
      "cannot be sent to an Anthropic upstream (it accepts PDF and plain-text documents)");
  ExpectRenderRequestRejected(
      Protocol::kGemini, Protocol::kMessages,
      R"({"contents":[{"parts":[{"fileData":{"mimeType":"audio/wav","fileUri":"gs://b/a.wav"}}]}]})",
      "a document of type 'audio/wav' cannot be sent to an Anthropic upstream");
  // Plain text travels to Anthropic decoded, so it must be base64 UTF-8.
  ExpectRenderRequestRejected(
      Protocol::kChat, Protocol::kMessages,
      R"({"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.txt","file_data":"data:text/plain;base64,@@@"}}]}]})",
      "a text/plain document is not valid base64-encoded UTF-8 text");
  ExpectRenderRequestRejected(
      Protocol::kGemini, Protocol::kMessages,
      R"({"contents":[{"parts":[{"inlineData":{"mimeType":"text/plain","data":"/w=="}}]}]})",
      "a text/plain document is not valid base64-encoded UTF-8 text");
  // Documents inside tool results: Chat tool messages and Gemini
  // functionResponse.response carry text only.
  const std::string msg_tool_doc =
      R"({"model":"m","max_tokens":9,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"fetch","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"}}]}]}]})";
  ExpectRenderRequestRejected(Protocol::kMessages, Protocol::kChat, msg_tool_doc,
                              "only text tool results");
  ExpectRenderRequestRejected(Protocol::kMessages, Protocol::kGemini, msg_tool_doc,
                              "only text tool results");
  ExpectRenderRequestRejected(
      Protocol::kResponses, Protocol::kChat,
      R"({"model":"m","input":[{"type":"function_call","call_id":"c1","name":"fetch","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":[{"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}]}]})",
      "only text tool results");
  // The same tool-result document renders into Responses and Messages.
  auto req = AdapterFor(Protocol::kMessages).parse_request(msg_tool_doc);
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_TRUE(AdapterFor(Protocol::kResponses).render_request(*req, "up").ok());
  EXPECT_TRUE(AdapterFor(Protocol::kMessages).render_request(*req, "up").ok());
}

TEST(TranslateErrors, RenderResponseRejectsNonObjectArguments) {
  const std::string body =
      R"({"id":"x","choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{oops"}}]},"finish_reason":"tool_calls"}]})";
  ExpectRenderResponseRejected(Protocol::kChat, Protocol::kGemini, body,
                               "arguments of tool call 'c1' are not a JSON object");
  ExpectRenderResponseRejected(Protocol::kChat, Protocol::kMessages, body,
                               "arguments of tool call 'c1' are not a JSON object");
}

}  // namespace
}  // namespace bitrouter::protocol
