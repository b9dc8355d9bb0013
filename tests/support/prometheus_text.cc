#include "tests/support/prometheus_text.h"

#include <cmath>
#include <cstdlib>
#include <set>

namespace bitrouter::testing {
namespace {

bool NameChar(char c, bool first, bool colon) {
  bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  return alpha || (!first && c >= '0' && c <= '9');
}

bool ValidName(std::string_view s, bool colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!NameChar(s[i], i == 0, colon)) return false;
  }
  return true;
}

bool ParseValue(std::string_view s, double* out) {
  if (s == "+Inf") return *out = INFINITY, true;
  if (s == "-Inf") return *out = -INFINITY, true;
  if (s == "NaN") return *out = NAN, true;
  std::string copy(s);
  char* end = nullptr;
  *out = std::strtod(copy.c_str(), &end);
  return !copy.empty() && end == copy.c_str() + copy.size();
}

// `{a="x",b="y"}` at the start of `s`; advances `s` past it.
bool ParseLabels(std::string_view* s, PromLabels* out, std::string* why) {
  if (s->empty() || s->front() != '{') return true;
  s->remove_prefix(1);
  while (true) {
    if (!s->empty() && s->front() == '}') break;
    size_t eq = s->find('=');
    if (eq == std::string_view::npos) return *why = "label without =", false;
    std::string name(s->substr(0, eq));
    if (!ValidName(name, false)) return *why = "bad label name '" + name + "'", false;
    s->remove_prefix(eq + 1);
    if (s->empty() || s->front() != '"') return *why = "label value not quoted", false;
    s->remove_prefix(1);
    std::string value;
    while (true) {
      if (s->empty()) return *why = "unterminated label value", false;
      char c = s->front();
      s->remove_prefix(1);
      if (c == '"') break;
      if (c == '\n') return *why = "raw newline in label value", false;
      if (c == '\\') {
        if (s->empty()) return *why = "dangling backslash", false;
        char e = s->front();
        s->remove_prefix(1);
        if (e == 'n') {
          value.push_back('\n');
        } else if (e == '\\' || e == '"') {
          value.push_back(e);
        } else {
          return *why = "bad escape in label value", false;
        }
        continue;
      }
      value.push_back(c);
    }
    if (!out->emplace(name, value).second) return *why = "duplicate label " + name, false;
    if (!s->empty() && s->front() == ',') {
      s->remove_prefix(1);
      continue;
    }
    if (s->empty() || s->front() != '}') return *why = "expected , or }", false;
    break;
  }
  s->remove_prefix(1);
  return true;
}

std::string Key(const std::string& name, const PromLabels& labels) {
  std::string k = name + "{";
  for (const auto& [n, v] : labels) k += n + "=" + v + ",";
  return k + "}";
}

bool Matches(const PromSample& s, std::string_view name, const PromLabels& match) {
  if (s.name != name) return false;
  for (const auto& [k, v] : match) {
    auto it = s.labels.find(k);
    if (it == s.labels.end() || it->second != v) return false;
  }
  return true;
}

void CheckHistogram(const PromFamily& f, std::vector<std::string>* errors) {
  // Per label set (without le): the buckets in order, the +Inf one, _count.
  struct Series {
    std::vector<std::pair<double, double>> buckets;  // (le, value)
    double count = -1;
    bool sum = false;
  };
  std::map<std::string, Series> by_labels;
  for (const PromSample& s : f.samples) {
    PromLabels rest = s.labels;
    rest.erase("le");
    Series& series = by_labels[Key("", rest)];
    if (s.name == f.name + "_bucket") {
      double le = 0;
      auto it = s.labels.find("le");
      if (it == s.labels.end() || !ParseValue(it->second, &le)) {
        errors->push_back(f.name + ": bucket without a valid le");
        continue;
      }
      series.buckets.emplace_back(le, s.value);
    } else if (s.name == f.name + "_count") {
      series.count = s.value;
    } else if (s.name == f.name + "_sum") {
      series.sum = true;
    }
  }
  for (const auto& [labels, series] : by_labels) {
    std::string what = f.name + labels;
    if (series.buckets.empty() || !std::isinf(series.buckets.back().first)) {
      errors->push_back(what + ": no +Inf bucket last");
      continue;
    }
    for (size_t i = 1; i < series.buckets.size(); ++i) {
      if (series.buckets[i].first <= series.buckets[i - 1].first) {
        errors->push_back(what + ": bucket bounds not increasing");
      }
      if (series.buckets[i].second < series.buckets[i - 1].second) {
        errors->push_back(what + ": buckets not cumulative");
      }
    }
    if (series.count != series.buckets.back().second) {
      errors->push_back(what + ": +Inf bucket != _count");
    }
    if (!series.sum) errors->push_back(what + ": no _sum");
  }
}

}  // namespace

std::string PromText::ErrorText() const {
  std::string out;
  for (const std::string& e : errors) out += e + "\n";
  return out;
}

double PromText::Sum(std::string_view name, const PromLabels& match) const {
  double total = 0;
  for (const auto& [fname, f] : families) {
    for (const PromSample& s : f.samples) {
      if (Matches(s, name, match)) total += s.value;
    }
  }
  return total;
}

size_t PromText::Count(std::string_view name, const PromLabels& match) const {
  size_t n = 0;
  for (const auto& [fname, f] : families) {
    for (const PromSample& s : f.samples) n += Matches(s, name, match);
  }
  return n;
}

PromText ParsePrometheusText(std::string_view text) {
  PromText out;
  auto error = [&](size_t line, const std::string& why) {
    out.errors.push_back("line " + std::to_string(line) + ": " + why);
  };
  if (!text.empty() && text.back() != '\n') out.errors.push_back("text does not end in a newline");
  std::set<std::string> series_seen, closed_families;
  PromFamily* current = nullptr;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty()) continue;
    if (line.front() == '#') {
      bool help = line.starts_with("# HELP "), type = line.starts_with("# TYPE ");
      if (!help && !type) continue;  // a plain comment
      std::string_view rest = line.substr(7);
      size_t sp = rest.find(' ');
      std::string name(rest.substr(0, sp));
      std::string arg(sp == std::string_view::npos ? "" : rest.substr(sp + 1));
      if (!ValidName(name, true)) error(line_no, "bad metric name in comment");
      if (current != nullptr && current->name != name) closed_families.insert(current->name);
      if (closed_families.contains(name)) error(line_no, name + " declared again after others");
      PromFamily& f = out.families[name];
      if (f.name.empty()) f.name = name;
      if (help) {
        if (!f.help.empty()) error(line_no, "second HELP for " + name);
        f.help = arg.empty() ? " " : arg;
      } else {
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                     "untyped"};
        if (!f.type.empty()) error(line_no, "second TYPE for " + name);
        if (!f.samples.empty()) error(line_no, "TYPE after samples for " + name);
        if (!kTypes.contains(arg)) error(line_no, "unknown type '" + arg + "'");
        f.type = arg;
      }
      current = &f;
      continue;
    }
    size_t name_end = 0;
    while (name_end < line.size() && NameChar(line[name_end], name_end == 0, true)) ++name_end;
    PromSample s;
    s.name = std::string(line.substr(0, name_end));
    std::string_view rest = line.substr(name_end);
    std::string why;
    if (s.name.empty()) {
      error(line_no, "no metric name");
      continue;
    }
    if (!ParseLabels(&rest, &s.labels, &why)) {
      error(line_no, why);
      continue;
    }
    if (rest.empty() || rest.front() != ' ') {
      error(line_no, "no space before the value");
      continue;
    }
    rest.remove_prefix(1);
    std::string_view value = rest.substr(0, rest.find(' '));  // an optional timestamp follows
    if (!ParseValue(value, &s.value)) {
      error(line_no, "bad value '" + std::string(value) + "'");
      continue;
    }
    if (current == nullptr) {
      error(line_no, s.name + " before any TYPE");
      continue;
    }
    bool belongs = s.name == current->name;
    if (current->type == "histogram") {
      belongs = s.name == current->name + "_bucket" || s.name == current->name + "_sum" ||
                s.name == current->name + "_count";
    }
    if (!belongs) error(line_no, s.name + " outside its family (current " + current->name + ")");
    if (current->type == "counter" && s.value < 0) error(line_no, "negative counter");
    if (!series_seen.insert(Key(s.name, s.labels)).second) {
      error(line_no, "duplicate series " + Key(s.name, s.labels));
    }
    current->samples.push_back(std::move(s));
  }
  for (const auto& [name, f] : out.families) {
    if (f.help.empty()) out.errors.push_back(name + ": no HELP");
    if (f.type.empty()) out.errors.push_back(name + ": no TYPE");
    if (f.type == "histogram") CheckHistogram(f, &out.errors);
  }
  return out;
}

}  // namespace bitrouter::testing
