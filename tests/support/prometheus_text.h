#pragma once
// A strict reader of the Prometheus text exposition format 0.0.4, for tests:
// parses what /metrics rendered and lists every way it breaks the format
// (or our own rules: HELP and TYPE for every family, histograms with
// cumulative buckets and +Inf == _count).

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bitrouter::testing {

using PromLabels = std::map<std::string, std::string>;

struct PromSample {
  std::string name;  // as written (histograms: *_bucket, *_sum, *_count)
  PromLabels labels;
  double value = 0;
};

struct PromFamily {
  std::string name;
  std::string type;  // counter | gauge | histogram | summary | untyped
  std::string help;
  std::vector<PromSample> samples;
};

struct PromText {
  std::map<std::string, PromFamily> families;
  std::vector<std::string> errors;  // empty when the text is valid

  bool ok() const { return errors.empty(); }
  std::string ErrorText() const;
  bool Has(std::string_view family) const { return families.contains(std::string(family)); }
  // Sum of the samples named `name` whose labels include every pair of `match`.
  double Sum(std::string_view name, const PromLabels& match = {}) const;
  // How many samples are named `name` (and match).
  size_t Count(std::string_view name, const PromLabels& match = {}) const;
};

PromText ParsePrometheusText(std::string_view text);

}  // namespace bitrouter::testing
