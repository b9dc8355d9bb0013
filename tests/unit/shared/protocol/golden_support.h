#pragma once
// What the golden-file tests (translate_test.cc, stream_test.cc) share: how
// fixture directories name protocols, the model names and timestamp the
// fixtures were written with, and file reading.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "shared/protocol/adapters.h"

namespace bitrouter::protocol::golden {

// Responses and streams without their own timestamp get this one.
inline constexpr int64_t kCreated = 1700000000;

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "chat", "responses", "messages", "gemini" as used in directory names.
inline std::optional<Protocol> ByName(std::string_view name) {
  for (Protocol p :
       {Protocol::kChat, Protocol::kResponses, Protocol::kMessages, Protocol::kGemini}) {
    if (ProtocolName(p) == name) return p;
  }
  return std::nullopt;
}

// Upstream model names in rendered requests.
inline std::string UpstreamModel(Protocol p) {
  switch (p) {
    case Protocol::kMessages:
      return "claude-up";
    case Protocol::kGemini:
      return "gemini-up";
    default:
      return "gpt-up";
  }
}

// Client model names in rendered responses and streams.
inline std::string ClientModel(Protocol p) {
  switch (p) {
    case Protocol::kMessages:
      return "claude-client";
    case Protocol::kGemini:
      return "gemini-client";
    default:
      return "gpt-client";
  }
}

}  // namespace bitrouter::protocol::golden
