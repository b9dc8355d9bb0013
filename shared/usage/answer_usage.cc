#include "shared/usage/answer_usage.h"

#include "shared/protocol/chat_internal.h"
#include "shared/protocol/gemini_internal.h"
#include "shared/protocol/responses_internal.h"

namespace bitrouter::usage {
namespace {

std::optional<int64_t> Int(simdjson::dom::object o, std::string_view key) {
  int64_t v = 0;
  if (o[key].get(v) != simdjson::SUCCESS) {
    uint64_t u = 0;
    if (o[key].get(u) != simdjson::SUCCESS || u > static_cast<uint64_t>(INT64_MAX)) {
      return std::nullopt;
    }
    v = static_cast<int64_t>(u);
  }
  return v;
}

}  // namespace

MessagesUsageFields ReadMessagesUsage(simdjson::dom::object u) {
  return {Int(u, "input_tokens"), Int(u, "output_tokens"), Int(u, "cache_read_input_tokens"),
          Int(u, "cache_creation_input_tokens")};
}

protocol::Usage MessagesUsage(const MessagesUsageFields& f) {
  protocol::Usage u;
  u.cache_read_tokens = f.cache_read;
  u.cache_write_tokens = f.cache_write;
  u.prompt_tokens = f.input.value_or(0) + f.cache_read.value_or(0) + f.cache_write.value_or(0);
  u.completion_tokens = f.output.value_or(0);
  return u;
}

std::optional<protocol::Usage> AnswerUsage(protocol::Protocol p, simdjson::dom::object root) {
  simdjson::dom::object u;
  if (root[p == protocol::Protocol::kGemini ? "usageMetadata" : "usage"].get(u) !=
      simdjson::SUCCESS) {
    return std::nullopt;
  }
  absl::StatusOr<protocol::Usage> got;
  switch (p) {
    case protocol::Protocol::kChat:
      got = protocol::chat::internal::ParseUsage(u);
      break;
    case protocol::Protocol::kResponses:
      got = protocol::responses::internal::ParseUsage(u, "usage");
      break;
    case protocol::Protocol::kGemini:
      got = protocol::gemini::internal::ParseUsage(u, "usageMetadata");
      break;
    case protocol::Protocol::kMessages:
      return MessagesUsage(ReadMessagesUsage(u));
  }
  if (!got.ok()) return std::nullopt;
  return *got;
}

}  // namespace bitrouter::usage
