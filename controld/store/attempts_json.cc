#include "controld/store/attempts_json.h"

#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace bitrouter::store {

std::string AttemptsToJson(const std::vector<UsageAttempt>& attempts) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartArray();
  for (const UsageAttempt& attempt : attempts) {
    writer.StartObject();
    writer.Key("endpoint");
    writer.String(attempt.endpoint.data(),
                  static_cast<rapidjson::SizeType>(attempt.endpoint.size()));
    writer.Key("status");
    writer.Int(attempt.http_status);
    writer.Key("failure");
    writer.String(attempt.failure.data(), static_cast<rapidjson::SizeType>(attempt.failure.size()));
    writer.Key("latency_us");
    writer.Int64(attempt.latency_us);
    writer.EndObject();
  }
  writer.EndArray();
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::StatusOr<std::vector<UsageAttempt>> AttemptsFromJson(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray()) {
    return absl::DataLossError(
        absl::StrCat("stored attempts are not a JSON array: ", std::string(json)));
  }
  std::vector<UsageAttempt> attempts;
  attempts.reserve(doc.Size());
  for (const rapidjson::Value& item : doc.GetArray()) {
    if (!item.IsObject()) return absl::DataLossError("stored attempt is not a JSON object");
    auto endpoint = item.FindMember("endpoint");
    auto status = item.FindMember("status");
    auto failure = item.FindMember("failure");
    auto latency = item.FindMember("latency_us");
    if (endpoint == item.MemberEnd() || !endpoint->value.IsString() || status == item.MemberEnd() ||
        !status->value.IsInt() || failure == item.MemberEnd() || !failure->value.IsString() ||
        latency == item.MemberEnd() || !latency->value.IsInt64()) {
      return absl::DataLossError(
          absl::StrCat("stored attempt has missing or mistyped fields: ", std::string(json)));
    }
    UsageAttempt& attempt = attempts.emplace_back();
    attempt.endpoint.assign(endpoint->value.GetString(), endpoint->value.GetStringLength());
    attempt.http_status = status->value.GetInt();
    attempt.failure.assign(failure->value.GetString(), failure->value.GetStringLength());
    attempt.latency_us = latency->value.GetInt64();
  }
  return attempts;
}

}  // namespace bitrouter::store
