#include "shared/usage/estimate.h"

namespace bitrouter::usage {

int64_t EstimateTokens(const protocol::CanonicalRequest& req) {
  constexpr int64_t kPerMessage = 4;
  constexpr int64_t kPerImage = 1600;  // a ~1.2 MP image
  size_t bytes = 0;
  int64_t extra = 3;
  for (const std::string& s : req.system) bytes += s.size();
  for (const protocol::Tool& t : req.tools) {
    bytes += t.name.size() + t.description.size() + t.parameters.size();
    extra += 8;
  }
  auto part_bytes = [&](const protocol::ContentPart& p, auto&& self) -> void {
    if (p.kind == protocol::ContentPart::Kind::kImage) {
      extra += kPerImage;
      return;
    }
    // Documents: their decoded size, read like text (PDFs vary; a rough
    // upper-side guess is better than counting them as free).
    if (p.kind == protocol::ContentPart::Kind::kDocument) bytes += p.data.size() * 3 / 4;
    bytes += p.text.size() + p.name.size() + p.arguments.size();
    for (const protocol::ContentPart& r : p.result) self(r, self);
  };
  for (const protocol::Message& m : req.messages) {
    extra += kPerMessage;
    for (const protocol::ContentPart& p : m.content) part_bytes(p, part_bytes);
  }
  return static_cast<int64_t>((bytes + 3) / 4) + extra;
}

}  // namespace bitrouter::usage
