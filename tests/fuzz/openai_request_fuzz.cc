// Fuzzes InspectRequest: it must never crash or read past the padding, the
// model offsets must lie inside the body and delimit a JSON string that
// decodes to `model`, and splicing a new model there must keep valid JSON.

#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "shared/protocol/openai_request.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using bitrouter::protocol::AppendJsonString;
using bitrouter::protocol::InspectRequest;
using bitrouter::protocol::kJsonPadding;
using bitrouter::protocol::RequestView;

// The body in a buffer with exactly kJsonPadding bytes after it.
absl::StatusOr<RequestView> Inspect(std::string_view body) {
  std::unique_ptr<char[]> buf(new char[body.size() + kJsonPadding]);
  if (!body.empty()) std::memcpy(buf.get(), body.data(), body.size());
  std::memset(buf.get() + body.size(), '"', kJsonPadding);
  return InspectRequest(buf.get(), body.size());
}

std::string Splice(std::string_view body, const RequestView& v, std::string_view model) {
  std::string out(body.substr(0, v.model_begin));
  AppendJsonString(model, &out);
  out.append(body.substr(v.model_end));
  return out;
}

void CheckSplice(std::string_view body, const RequestView& v, std::string_view model) {
  std::string spliced = Splice(body, v, model);
  auto again = Inspect(spliced);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->model == model);
  FUZZ_CHECK(again->stream == v.stream);
  FUZZ_CHECK(again->model_begin == v.model_begin);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto view = Inspect(body);
  if (!view.ok()) {
    FUZZ_CHECK(view.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(view->model_begin < view->model_end);
  FUZZ_CHECK(view->model_end <= size);
  FUZZ_CHECK(view->model_end - view->model_begin >= 2);
  FUZZ_CHECK(body[view->model_begin] == '"');
  FUZZ_CHECK(body[view->model_end - 1] == '"');

  // The located token is exactly a JSON string whose value is `model`.
  std::string_view token = body.substr(view->model_begin, view->model_end - view->model_begin);
  simdjson::dom::parser parser;
  simdjson::padded_string padded(token);
  std::string_view decoded;
  FUZZ_CHECK(parser.parse(padded).get_string().get(decoded) == simdjson::SUCCESS);
  FUZZ_CHECK(decoded == view->model);

  // Splicing keeps valid JSON with the new model, as the proxy does.
  CheckSplice(body, *view, "x");
  CheckSplice(body, *view, view->model);
  size_t colon = view->model.find(':');
  if (colon != std::string::npos) CheckSplice(body, *view, view->model.substr(colon + 1));
  return 0;
}
