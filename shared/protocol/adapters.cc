#include "shared/protocol/adapters.h"

#include "absl/strings/str_cat.h"
#include "shared/protocol/chat_adapter.h"
#include "shared/protocol/gemini_adapter.h"
#include "shared/protocol/messages_adapter.h"
#include "shared/protocol/responses_adapter.h"

namespace bitrouter::protocol {
namespace {

constexpr Adapter kChat = {chat::ParseRequest,   chat::RenderRequest,     chat::ParseResponse,
                           chat::RenderResponse, chat::MakeStreamDecoder, chat::MakeStreamEncoder};
constexpr Adapter kResponses = {responses::ParseRequest,      responses::RenderRequest,
                                responses::ParseResponse,     responses::RenderResponse,
                                responses::MakeStreamDecoder, responses::MakeStreamEncoder};
constexpr Adapter kMessages = {messages::ParseRequest,      messages::RenderRequest,
                               messages::ParseResponse,     messages::RenderResponse,
                               messages::MakeStreamDecoder, messages::MakeStreamEncoder};
constexpr Adapter kGemini = {gemini::ParseRequest,      gemini::RenderRequest,
                             gemini::ParseResponse,     gemini::RenderResponse,
                             gemini::MakeStreamDecoder, gemini::MakeStreamEncoder};

}  // namespace

std::string_view ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kChat:
      return "chat";
    case Protocol::kResponses:
      return "responses";
    case Protocol::kMessages:
      return "messages";
    case Protocol::kGemini:
      return "gemini";
  }
  return "chat";
}

std::optional<Protocol> ProtocolFromConfig(std::string_view api_protocol) {
  if (api_protocol == "openai") return Protocol::kChat;
  if (api_protocol == "openai_responses" || api_protocol == "responses") {
    return Protocol::kResponses;
  }
  if (api_protocol == "anthropic") return Protocol::kMessages;
  if (api_protocol == "google") return Protocol::kGemini;
  return std::nullopt;
}

const Adapter& AdapterFor(Protocol p) {
  switch (p) {
    case Protocol::kChat:
      return kChat;
    case Protocol::kResponses:
      return kResponses;
    case Protocol::kMessages:
      return kMessages;
    case Protocol::kGemini:
      return kGemini;
  }
  return kChat;
}

void FillMissingIds(CanonicalResponse* resp, std::string_view fallback_id) {
  if (resp->id.empty()) resp->id = std::string(fallback_id);
  size_t n = 0;
  for (ContentPart& p : resp->content) {
    if (p.kind != ContentPart::Kind::kToolCall) continue;
    if (p.tool_call_id.empty()) p.tool_call_id = absl::StrCat("call_", resp->id, "_", n);
    ++n;
  }
}

}  // namespace bitrouter::protocol
