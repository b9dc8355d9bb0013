#include "shared/routing/conversation.h"

#include <simdjson.h>

#include "shared/protocol/scratch_parser.h"

namespace bitrouter::routing {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

std::string_view StringAt(object o, std::string_view key) {
  std::string_view s;
  if (o.at_key(key).get_string().get(s)) return {};
  return s;
}

bool IsImageMime(std::string_view mime) { return mime.substr(0, 6) == "image/"; }

// One content part of any protocol: appends its text (joined with '\n') and
// notes an image.
void ReadPart(element part, std::string* text, Conversation* conv) {
  object o;
  if (part.get_object().get(o)) return;
  std::string_view type = StringAt(o, "type");
  if (type == "image_url" || type == "input_image" || type == "image") {
    conv->has_image = true;
    return;
  }
  // Gemini: inlineData / fileData with an image mime type.
  for (std::string_view key : {"inlineData", "fileData", "inline_data", "file_data"}) {
    object data;
    if (!o.at_key(key).get_object().get(data)) {
      std::string_view mime = StringAt(data, "mimeType");
      if (mime.empty()) mime = StringAt(data, "mime_type");
      if (IsImageMime(mime)) conv->has_image = true;
      return;
    }
  }
  if (!type.empty() && type != "text" && type != "input_text" && type != "output_text") return;
  std::string_view t;
  if (o.at_key("text").get_string().get(t)) return;
  if (!text->empty()) text->push_back('\n');
  text->append(t);
}

// A message's content: a string, or an array of parts.
std::string ReadContent(element content, Conversation* conv) {
  std::string text;
  std::string_view s;
  if (!content.get_string().get(s)) return std::string(s);
  array parts;
  if (content.get_array().get(parts)) return text;
  for (element part : parts) ReadPart(part, &text, conv);
  return text;
}

bool Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

size_t CodePoints(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += Continuation(c) ? 0 : 1;
  return n;
}

// The first `max` bytes of `text`, not ending inside a UTF-8 sequence.
void KeepHead(std::string* text, size_t max) {
  if (text->size() <= max) return;
  size_t cut = max;
  while (cut > 0 && Continuation((*text)[cut])) --cut;
  text->resize(cut);
}

void AddText(std::string_view text, Conversation* conv) {
  if (text.empty()) return;
  conv->chars += CodePoints(text);
  if (!conv->has_code_block) conv->has_code_block = text.find("```") != std::string_view::npos;
  if (!conv->all_text.empty()) conv->all_text.push_back('\n');
  // The newest window only: what no longer fits is dropped from the front.
  if (text.size() >= kMaxClassifiedBytes) {
    conv->all_text.clear();
    text.remove_prefix(text.size() - kMaxClassifiedBytes);
  } else if (conv->all_text.size() + text.size() > kMaxClassifiedBytes) {
    conv->all_text.erase(0, conv->all_text.size() + text.size() - kMaxClassifiedBytes);
  }
  conv->all_text.append(text);
  size_t start = 0;
  while (start < conv->all_text.size() && Continuation(conv->all_text[start])) ++start;
  if (start > 0) conv->all_text.erase(0, start);
}

// Chat, Messages and Responses items: {role, content}. `user_role` is what
// the protocol calls the user.
void ReadMessages(array messages, std::string_view content_key, Conversation* conv) {
  for (element m : messages) {
    ++conv->turns;
    object o;
    if (m.get_object().get(o)) continue;
    element content;
    if (o.at_key(content_key).get(content)) continue;
    std::string text;
    if (content_key == "parts") {  // Gemini: parts, never a string
      array parts;
      if (!content.get_array().get(parts)) {
        for (element part : parts) ReadPart(part, &text, conv);
      }
    } else {
      text = ReadContent(content, conv);
    }
    std::string_view role = StringAt(o, "role");
    // Gemini's role is optional and means the user when absent. A user turn
    // of tool results only has no text: the user's words are still the last.
    if (!text.empty() && (role == "user" || (content_key == "parts" && role.empty()))) {
      conv->last_user = text;
      KeepHead(&conv->last_user, kMaxClassifiedBytes);
    }
    AddText(text, conv);
  }
}

}  // namespace

absl::StatusOr<Conversation> ReadConversation(BodyShape shape, std::string_view body) {
  // A scratch parser: the worker trims it after a large body.
  thread_local protocol::ScratchDomParser parser;
  element root;
  object o;
  if (parser.parse(body.data(), body.size(), true).get(root) || root.get_object().get(o)) {
    return absl::InvalidArgumentError("request body must be a JSON object");
  }
  Conversation conv;
  array tools;
  conv.has_tools = !o.at_key("tools").get_array().get(tools) && tools.size() > 0;
  array messages;
  switch (shape) {
    case BodyShape::kChat:
      if (!o.at_key("messages").get_array().get(messages)) ReadMessages(messages, "content", &conv);
      break;
    case BodyShape::kMessages: {
      element system;
      if (!o.at_key("system").get(system)) AddText(ReadContent(system, &conv), &conv);
      if (!o.at_key("messages").get_array().get(messages)) ReadMessages(messages, "content", &conv);
      break;
    }
    case BodyShape::kResponses: {
      AddText(StringAt(o, "instructions"), &conv);
      element input;
      std::string_view s;
      if (o.at_key("input").get(input)) break;
      if (!input.get_string().get(s)) {
        conv.turns = 1;
        conv.last_user = std::string(s);
        KeepHead(&conv.last_user, kMaxClassifiedBytes);
        AddText(s, &conv);
      } else if (!input.get_array().get(messages)) {
        ReadMessages(messages, "content", &conv);
      }
      break;
    }
    case BodyShape::kGemini: {
      object system;
      if (!o.at_key("systemInstruction").get_object().get(system) ||
          !o.at_key("system_instruction").get_object().get(system)) {
        array parts;
        std::string text;
        if (!system.at_key("parts").get_array().get(parts)) {
          for (element part : parts) ReadPart(part, &text, &conv);
        }
        AddText(text, &conv);
      }
      if (!o.at_key("contents").get_array().get(messages)) ReadMessages(messages, "parts", &conv);
      break;
    }
  }
  return conv;
}

}  // namespace bitrouter::routing
