// Rule tests: reading a TESTS.yaml, typing its values by the config's schema, building the
// Dataset of its cases in memory, running the engine over them and comparing the outputs.
#include "rekindle/runtime/testcase.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <tuple>
#include <unordered_map>

#include "rekindle/core/hash.h"
#include "rekindle/core/suggest.h"
#include "rekindle/runtime/caps.h"
#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/engine.h"
#include "rekindle/runtime/previous.h"
#include "rekindle/runtime/vm.h"

namespace rekindle {

const TestEntry* TestRecord::find(const std::string& key) const {
  for (const auto& e : entries)
    if (e.key == key) return &e;
  return nullptr;
}

size_t TestReport::passed() const {
  size_t n = 0;
  for (const auto& c : cases) n += c.passed;
  return n;
}

size_t TestReport::failed() const { return cases.size() - passed(); }

size_t TestReport::rowsReached() const {
  size_t n = 0;
  for (const auto& r : rows) n += r.cases > 0;
  return n;
}

double TestReport::rowCoverage() const {
  if (rows.empty()) return 100.0;
  return 100.0 * static_cast<double>(rowsReached()) / static_cast<double>(rows.size());
}

namespace {

// ------------------------------------------------------------------------------------------
// Reading the YAML

SourceLoc locOf(const YAML::Node& n) {
  if (!n.IsDefined() || n.Mark().line < 0) return {};
  return SourceLoc{static_cast<uint32_t>(n.Mark().line + 1), static_cast<uint32_t>(n.Mark().column + 1)};
}

const char* const kFileKeys[] = {"config", "as_of", "params", "defaults", "event_defaults", "cases"};
const char* const kCaseKeys[] = {"name", "id", "as_of", "params", "copies", "customer", "events", "contacts", "previous", "expect"};

std::string yamlMessage(const std::string& msg) {
  if (msg.empty()) return msg;
  std::string m = msg;
  m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
  return m;
}

class Diags {
 public:
  Diags(const std::string& path, std::vector<Diagnostic>& out) : path_(path), out_(out) {}
  void error(SourceLoc at, const std::string& message, const std::string& help = "") {
    Diagnostic d;
    d.severity = Severity::Error;
    d.code = kTestFileCode;
    d.file = path_;
    if (at.line > 0) d.range = SourceRange{at, SourceLoc{at.line, at.col + 1}};
    d.message = message;
    d.suggestion = help;
    out_.push_back(std::move(d));
    failed_ = true;
  }
  bool failed() const { return failed_; }

 private:
  std::string path_;
  std::vector<Diagnostic>& out_;
  bool failed_ = false;
};

std::string didYouMean(const std::string& name, const std::vector<std::string>& known) {
  std::string best = closestName(name, known);
  return best.empty() ? "" : "did you mean '" + best + "'?";
}

class FileReader {
 public:
  FileReader(Diags& d) : d_(d) {}

  void checkKeys(const YAML::Node& map, const std::string& where, const std::vector<std::string>& allowed) {
    std::set<std::string> seen;
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        d_.error(locOf(kv.first), "unknown key '" + key + "' in " + where, didYouMean(key, allowed));
      else if (!seen.insert(key).second)
        d_.error(locOf(kv.first), "'" + key + "' is set twice in " + where);
    }
  }

  bool scalar(const YAML::Node& n, TestScalar& out, const std::string& what) {
    out.loc = locOf(n);
    if (n.IsNull()) {
      out.null = true;
      return true;
    }
    if (!n.IsScalar()) {
      d_.error(locOf(n), what + " must be a single value, not a " + (n.IsMap() ? "mapping" : "list"));
      return false;
    }
    out.text = n.Scalar();
    return true;
  }

  // A mapping of names to values (a value may be a list when lists are allowed).
  bool record(const YAML::Node& n, TestRecord& out, const std::string& what, bool lists) {
    out.loc = locOf(n);
    if (n.IsNull()) return true;
    if (!n.IsMap()) {
      d_.error(locOf(n), what + " must be a mapping of names to values, e.g. { name: value }");
      return false;
    }
    std::set<std::string> seen;
    for (const auto& kv : n) {
      TestEntry e;
      e.key = kv.first.Scalar();
      e.keyLoc = locOf(kv.first);
      if (!seen.insert(e.key).second) {
        d_.error(e.keyLoc, "'" + e.key + "' is set twice in " + what);
        continue;
      }
      if (kv.second.IsSequence()) {
        if (!lists) {
          d_.error(locOf(kv.second), what + "." + e.key + " must be a single value, not a list");
          continue;
        }
        e.isList = true;
        for (const auto& item : kv.second) {
          TestScalar s;
          if (scalar(item, s, what + "." + e.key + " items")) e.items.push_back(std::move(s));
        }
        e.value.loc = locOf(kv.second);
      } else if (!scalar(kv.second, e.value, what + "." + e.key)) {
        continue;
      }
      out.entries.push_back(std::move(e));
    }
    return true;
  }

  void records(const YAML::Node& n, std::vector<TestRecord>& out, const std::string& what) {
    if (n.IsNull()) return;
    if (!n.IsSequence()) {
      d_.error(locOf(n), what + " must be a list, one `- { ... }` per " + (what == "events" ? "event" : "contact"));
      return;
    }
    for (const auto& item : n) {
      TestRecord r;
      if (record(item, r, what == "events" ? "an event" : "a contact", false)) out.push_back(std::move(r));
    }
  }

 private:
  Diags& d_;
};

}  // namespace

std::optional<TestFile> parseTestFile(const std::string& path, const std::string& text,
                                      std::vector<Diagnostic>& diags) {
  Diags d(path, diags);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    SourceLoc at;
    if (e.mark.line >= 0) at = SourceLoc{static_cast<uint32_t>(e.mark.line + 1), static_cast<uint32_t>(e.mark.column + 1)};
    d.error(at, "not valid YAML: " + yamlMessage(e.msg));
    return std::nullopt;
  }
  TestFile file;
  file.path = path;
  FileReader r(d);
  if (!root.IsMap()) {
    d.error(locOf(root), "a tests file must be a mapping with a `cases:` list",
            "start with `cases:` and one `- name: ...` per case");
    return std::nullopt;
  }
  try {
    r.checkKeys(root, "the tests file", std::vector<std::string>(std::begin(kFileKeys), std::end(kFileKeys)));
    if (root["config"]) {
      TestScalar s;
      if (r.scalar(root["config"], s, "config") && !s.null) file.config = s;
    }
    if (root["as_of"]) {
      TestScalar s;
      if (r.scalar(root["as_of"], s, "as_of") && !s.null) file.asOf = s;
    }
    if (root["params"]) r.record(root["params"], file.params, "params", true);
    if (root["defaults"]) r.record(root["defaults"], file.defaults, "defaults", false);
    if (root["event_defaults"]) r.record(root["event_defaults"], file.eventDefaults, "event_defaults", false);
    YAML::Node cases = root["cases"];
    if (!cases || cases.IsNull()) {
      d.error(locOf(root), "the tests file has no `cases:`", "add `cases:` with one `- name: ...` per case");
    } else if (!cases.IsSequence()) {
      d.error(locOf(cases), "`cases:` must be a list, one `- name: ...` per case");
    } else {
      if (cases.size() == 0) d.error(locOf(cases), "`cases:` is empty");
      size_t index = 0;
      for (const auto& c : cases) {
        ++index;
        TestCaseSpec tc;
        tc.loc = locOf(c);
        tc.name = "case " + std::to_string(index);
        if (!c.IsMap()) {
          d.error(locOf(c), "case " + std::to_string(index) + " must be a mapping (name:, customer:, events:, expect:)");
          continue;
        }
        // The case's line is that of its first key (`- name: ...`).
        if (c.begin() != c.end()) tc.loc = locOf(c.begin()->first);
        r.checkKeys(c, "a case", std::vector<std::string>(std::begin(kCaseKeys), std::end(kCaseKeys)));
        if (c["name"]) {
          TestScalar s;
          if (r.scalar(c["name"], s, "name") && !s.null) tc.name = s.text;
        }
        if (c["id"]) {
          TestScalar s;
          if (r.scalar(c["id"], s, "id")) {
            if (s.null || s.text.empty()) d.error(s.loc, "a customer id cannot be empty");
            else tc.id = s;
          }
        }
        if (c["as_of"]) {
          TestScalar s;
          if (r.scalar(c["as_of"], s, "as_of") && !s.null) tc.asOf = s;
        }
        if (c["copies"]) {
          TestScalar s;
          if (r.scalar(c["copies"], s, "copies")) {
            char* end = nullptr;
            long long n = s.null ? 0 : std::strtoll(s.text.c_str(), &end, 10);
            if (s.null || !end || *end || n < 1 || n > 100000) d.error(s.loc, "copies must be a whole number from 1 to 100000");
            else tc.copies = n;
          }
        }
        if (c["params"]) r.record(c["params"], tc.params, "params", true);
        if (c["customer"]) r.record(c["customer"], tc.customer, "customer", false);
        if (c["events"]) r.records(c["events"], tc.events, "events");
        if (c["contacts"]) r.records(c["contacts"], tc.contacts, "contacts");
        if (YAML::Node p = c["previous"]) {
          tc.hasPrevious = true;
          r.record(p, tc.previous, "previous", false);
        }
        if (YAML::Node e = c["expect"]) {
          tc.hasExpect = true;
          r.record(e, tc.expect, "expect", true);
        }
        file.cases.push_back(std::move(tc));
      }
    }
  } catch (const YAML::Exception& e) {
    SourceLoc at;
    if (e.mark.line >= 0) at = SourceLoc{static_cast<uint32_t>(e.mark.line + 1), static_cast<uint32_t>(e.mark.column + 1)};
    d.error(at, "invalid tests file: " + yamlMessage(e.msg));
  }
  sortDiagnostics(diags);
  if (d.failed()) return std::nullopt;
  return file;
}

std::string testFileConfigPath(const TestFile& file) {
  if (!file.config) return "";
  const std::string& p = file.config->text;
  if (p.empty() || p[0] == '/') return p;
  size_t slash = file.path.rfind('/');
  if (slash == std::string::npos) return p;
  return file.path.substr(0, slash + 1) + p;
}

namespace {

// ------------------------------------------------------------------------------------------
// Typing values

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

enum class Relative { No, Yes, Bad };

// "now", "now - 90d", "today + 7d", "now - 1d - 2h": a time (seconds) or a date (days) relative
// to the case's clock.
Relative parseRelative(std::string_view text, int64_t now, const TimeZone& zone, bool wantDate, int64_t& out,
                       std::string& why) {
  std::string_view s = trim(text);
  bool isNow = s.substr(0, 3) == "now" && (s.size() == 3 || s[3] == ' ' || s[3] == '+' || s[3] == '-');
  bool isToday = s.substr(0, 5) == "today" && (s.size() == 5 || s[5] == ' ' || s[5] == '+' || s[5] == '-');
  if (!isNow && !isToday) return Relative::No;
  s.remove_prefix(isNow ? 3 : 5);
  int64_t offset = 0;
  while (true) {
    s = trim(s);
    if (s.empty()) break;
    char sign = s[0];
    if (sign != '+' && sign != '-') {
      why = "after `now` or `today` write `+` or `-` and a duration: now - 90d, today + 7d";
      return Relative::Bad;
    }
    s.remove_prefix(1);
    s = trim(s);
    size_t n = 0;
    while (n < s.size() && s[n] != ' ' && s[n] != '+' && s[n] != '-') ++n;
    auto d = parseDuration(s.substr(0, n));
    if (!d) {
      why = "'" + std::string(s.substr(0, n)) + "' is not a duration (90d, 12h, 30m, 45s, 2w)";
      return Relative::Bad;
    }
    offset += sign == '+' ? *d : -*d;
    s.remove_prefix(n);
  }
  int64_t todayDays = floorDiv(zone.toLocal(now), kSecondsPerDay);
  if (wantDate) {
    if (isToday) out = todayDays + floorDiv(offset, kSecondsPerDay);
    else out = floorDiv(zone.toLocal(now + offset), kSecondsPerDay);
  } else {
    out = (isNow ? now : zone.localDayStart(todayDays)) + offset;
  }
  return Relative::Yes;
}

// A scalar typed by a field, as an export cell is: the field's own layout, and ISO values too (a
// marketer writes 2026-11-23 even where the export says 20261123); `now - 90d` / `today + 7d`
// for times and dates.
std::optional<Value> typeScalar(const TestScalar& s, const FieldSpec& field, int64_t now, const TimeZone& zone,
                                StringPool& pool, std::string& reason) {
  RawValue raw;
  if (s.null) {
    raw.kind = RawKind::Null;
    return convertValue(raw, field, zone, pool, reason);
  }
  if (field.type.kind == Kind::Time || field.type.kind == Kind::Date) {
    int64_t v = 0;
    Relative r = parseRelative(s.text, now, zone, field.type.kind == Kind::Date, v, reason);
    if (r == Relative::Bad) return std::nullopt;
    if (r == Relative::Yes) return field.type.kind == Kind::Date ? Value::date(v) : Value::time(v);
  }
  raw.kind = RawKind::Text;
  raw.text = s.text;
  // The field's own layout first (19970115 is a date there, not epoch seconds), then ISO.
  auto v = convertValue(raw, field, zone, pool, reason);
  if (v || field.format.empty()) return v;
  FieldSpec iso = field;
  iso.format.clear();
  std::string second;
  v = convertValue(raw, iso, zone, pool, second);
  if (v) reason.clear();
  return v;
}

std::optional<int64_t> typeTime(const TestScalar& s, int64_t now, const TimeZone& zone, std::string& why) {
  int64_t v = 0;
  Relative r = parseRelative(s.text, now, zone, false, v, why);
  if (r == Relative::Bad) return std::nullopt;
  if (r == Relative::Yes) return v;
  auto t = parseTime(s.text, zone);
  if (!t) why = "'" + s.text + "' is not a time (2026-11-23T08:00:00+08:00, 2026-11-23, now - 3d)";
  return t;
}

bool parseBool(const std::string& text, bool& out) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "true" || t == "yes" || t == "y" || t == "1") return out = true, true;
  if (t == "false" || t == "no" || t == "n" || t == "0") return out = false, true;
  return false;
}

// ------------------------------------------------------------------------------------------
// Expectations

enum class Col { Stage, Segments, SegmentsInclude, SegmentsExclude, Channel, Send, SendAt, SuppressedBy, NextEligibleAt, Offer, Holdout, Transition };

struct ExpectColumn {
  const char* key;
  Col col;
};
const ExpectColumn kExpectColumns[] = {
    {"stage", Col::Stage},
    {"segments", Col::Segments},
    {"segments_include", Col::SegmentsInclude},
    {"segments_exclude", Col::SegmentsExclude},
    {"channel", Col::Channel},
    {"send", Col::Send},
    {"send_at", Col::SendAt},
    {"suppressed_by", Col::SuppressedBy},
    {"next_eligible_at", Col::NextEligibleAt},
    {"offer", Col::Offer},
    {"holdout", Col::Holdout},
    {"transition", Col::Transition},
};

struct Expectation {
  Col col = Col::Stage;
  std::string key;
  std::string text;                   // the expected text (outcomes, suppressed_by, transition)
  std::vector<std::string> names;     // segment lists
  std::optional<int64_t> time;        // send_at, next_eligible_at; nullopt = empty
  bool flag = false;                  // send, holdout
  std::string shown;                  // as displayed
};

// ------------------------------------------------------------------------------------------
// The typed cases

struct Customer {
  size_t caseIndex = 0;
  std::string id;
};

struct TypedCase {
  int64_t now = 0;
  size_t group = 0;
  std::vector<std::pair<std::string, std::string>> params;  // file, then case
  std::vector<Expectation> expect;
  std::vector<uint32_t> customers;  // dataset customers (copies)
};

class CollectSink : public DecisionSink {
 public:
  std::vector<Decision> rows;
  void write(const Decision& d) override { rows.push_back(d); }
};

// Records which channel rows were skipped for consent or a missing address.
class SkipRecorder : public EvalTracer {
 public:
  std::vector<std::pair<size_t, ConsentResult>> skipped;
  void rowTried(TableKind, size_t, const Value&) override {}
  void rowSkipped(TableKind t, size_t row, ConsentResult why) override {
    if (t == TableKind::Channel) skipped.emplace_back(row, why);
  }
  void letComputed(uint32_t, const Value&) override {}
  void fieldRead(uint32_t, const Value&) override {}
};

std::string listText(const std::vector<std::string>& names) {
  std::string s = "[";
  for (size_t k = 0; k < names.size(); ++k) s += (k ? ", " : "") + names[k];
  return s + "]";
}

std::string percent(double fraction) {
  std::string s = fmt::format("{:.6g}", fraction * 100);
  return s + "%";
}

class Runner {
 public:
  Runner(const TestFile& file, const Program& program, const Config& config, std::vector<Diagnostic>& diags,
         std::string& fatal)
      : file_(file), prog_(program), cfg_(config), d_(file.path, diags), fatal_(fatal) {
    const std::string& f = program.files.empty() ? std::string("rules") : program.files[0];
    base_ = f.substr(f.rfind('/') == std::string::npos ? 0 : f.rfind('/') + 1);
  }

  std::optional<TestReport> run() {
    if (!typeCases()) return std::nullopt;
    finishDataset();
    TestReport report;
    report.rulesFile = base_;
    report.cases.resize(file_.cases.size());
    decisions_.resize(data_.customerCount);
    for (size_t g = 0; g < groups_.size(); ++g)
      if (!runGroup(g, report)) return std::nullopt;
    coverage(report);
    return report;
  }

 private:
  // ---- typing ---------------------------------------------------------------------------

  bool typeCases() {
    const Schema& schema = cfg_.schema;
    std::optional<int64_t> fileNow = cfg_.asOf;
    if (file_.asOf) {
      std::string why;
      auto t = parseTime(file_.asOf->text, cfg_.zone);
      if (!t) d_.error(file_.asOf->loc, "as_of is not a time: '" + file_.asOf->text + "'", "write it like 2026-11-23T09:00:00+08:00");
      else fileNow = *t;
    }
    std::vector<std::pair<std::string, std::string>> fileParams = checkParams(file_.params);

    data_.customers.clear();
    if (cfg_.customers.customersFromEvents) data_.customers.emplace_back(Kind::String);
    else
      for (const auto& f : schema.customerFields) data_.customers.emplace_back(f.type.kind);
    for (const auto& f : schema.eventFields) stagedEvents_.emplace_back(f.type.kind);

    std::vector<std::string> customerNames, eventNames;
    size_t customerFieldCount = cfg_.customers.customersFromEvents ? 1 : schema.customerFields.size();
    for (size_t k = 0; k < customerFieldCount; ++k) customerNames.push_back(schema.customerFields[k].name);
    for (size_t k = 1; k < schema.eventFields.size(); ++k) eventNames.push_back(schema.eventFields[k].name);
    eventNames.insert(eventNames.begin(), "at");

    bool anyPrevious = false;
    for (const auto& c : file_.cases) anyPrevious = anyPrevious || c.hasPrevious;
    if (anyPrevious) {
      previous_.emplace();
      if (!(prog_.features & kUsesPrevious)) {
        // Harmless: transitions still come out. Nothing to report.
      }
    }

    std::map<std::string, size_t> groupOf;
    std::set<std::string> ids;
    typed_.resize(file_.cases.size());
    for (size_t ci = 0; ci < file_.cases.size(); ++ci) {
      const TestCaseSpec& tc = file_.cases[ci];
      TypedCase& t = typed_[ci];
      // The clock.
      if (tc.asOf) {
        std::string why;
        int64_t v = 0;
        Relative r = fileNow ? parseRelative(tc.asOf->text, *fileNow, cfg_.zone, false, v, why) : Relative::No;
        if (r == Relative::Yes) t.now = v;
        else if (r == Relative::Bad) d_.error(tc.asOf->loc, why);
        else if (auto tt = parseTime(tc.asOf->text, cfg_.zone)) t.now = *tt;
        else d_.error(tc.asOf->loc, "as_of is not a time: '" + tc.asOf->text + "'", "write it like 2026-11-23T09:00:00+08:00, or now + 2h");
      } else if (fileNow) {
        t.now = *fileNow;
      } else {
        d_.error(tc.loc, "no clock for case '" + tc.name + "'",
                 "set `as_of:` in the tests file (or the case, or the config): a test needs a fixed `now`");
      }
      // Params: the file's, then the case's.
      t.params = fileParams;
      for (auto& p : checkParams(tc.params)) {
        t.params.erase(std::remove_if(t.params.begin(), t.params.end(), [&](const auto& q) { return q.first == p.first; }),
                       t.params.end());
        t.params.push_back(p);
      }
      std::string key = std::to_string(t.now);
      for (const auto& [n, v] : t.params) key += "\n" + n + "=" + v;
      auto [g, fresh] = groupOf.emplace(key, groupOf.size());
      if (fresh) groups_.emplace_back();
      t.group = g->second;
      groups_[t.group].push_back(ci);

      // The customer's values: defaults, then the case's own.
      std::vector<Value> values(customerFieldCount);
      std::vector<bool> set(customerFieldCount, false);
      auto assign = [&](const TestRecord& rec, const char* where) {
        for (const auto& e : rec.entries) {
          int f = schema.customerField(e.key);
          if (f < 0 || static_cast<size_t>(f) >= customerFieldCount) {
            std::vector<std::string> known(customerNames.begin() + 1, customerNames.end());
            d_.error(e.keyLoc, "'" + e.key + "' is not a customer field of " + cfg_.path,
                     known.empty() ? "the customers of this config have no fields but their id" : didYouMean(e.key, known));
            continue;
          }
          if (f == 0) {
            d_.error(e.keyLoc, "the customer id is set with the case's `id:`, not in " + std::string(where));
            continue;
          }
          std::string why;
          auto v = typeScalar(e.value, schema.customerFields[f], t.now, cfg_.zone, data_.strings, why);
          set[f] = true;  // written: a value that does not parse is reported once, not as missing too
          if (!v) {
            d_.error(e.value.loc, why);
            continue;
          }
          values[f] = *v;
        }
      };
      assign(file_.defaults, "defaults:");
      assign(tc.customer, "customer:");
      std::vector<std::string> missing;
      for (size_t f = 1; f < customerFieldCount; ++f)
        if (!set[f] && !schema.customerFields[f].type.nullable) missing.push_back(schema.customerFields[f].name);
      if (!missing.empty()) {
        std::string list;
        for (size_t k = 0; k < missing.size(); ++k) list += (k ? ", " : "") + missing[k];
        d_.error(tc.customer.entries.empty() ? tc.loc : tc.customer.loc,
                 fmt::format("case '{}' does not set {} (not nullable in {})", tc.name, list, cfg_.path),
                 "set " + std::string(missing.size() == 1 ? "it" : "them") + " in the case's `customer:`, or for every case in `defaults:`");
      }
      int32_t zone = -1;
      int tzField = schema.customerTimezoneField;
      if (tzField >= 0 && static_cast<size_t>(tzField) < customerFieldCount && !values[tzField].isNull()) {
        const std::string& name = *values[tzField].s;
        auto known = zoneIndex_.find(name);
        if (known == zoneIndex_.end()) {
          auto tz = TimeZone::locate(name);
          if (!tz) {
            const TestEntry* e = tc.customer.find(schema.customerFields[tzField].name);
            if (!e) e = file_.defaults.find(schema.customerFields[tzField].name);
            d_.error(e ? e->value.loc : tc.loc, "unknown time zone '" + name + "'", "use an IANA name such as Asia/Shanghai or Europe/Paris");
          } else {
            known = zoneIndex_.emplace(name, static_cast<int32_t>(data_.zones.size())).first;
            data_.zones.push_back(*tz);
          }
        }
        if (known != zoneIndex_.end()) zone = known->second;
      }

      // Events, typed with the case's clock.
      struct TypedEvent {
        std::vector<Value> values;
      };
      std::vector<TypedEvent> events;
      for (const auto& ev : tc.events) {
        TypedEvent te;
        te.values.assign(schema.eventFields.size(), Value::null());
        std::vector<bool> eset(schema.eventFields.size(), false);
        if (!cfg_.events.present) {
          d_.error(ev.loc, "the config has no `events:` export, so a case cannot have events");
          break;
        }
        auto assignEvent = [&](const TestRecord& rec) {
          for (const auto& e : rec.entries) {
            int f = e.key == "at" ? 0 : schema.eventField(e.key);
            if (f < 0) {
              d_.error(e.keyLoc, "'" + e.key + "' is not an event field of " + cfg_.path, didYouMean(e.key, eventNames));
              continue;
            }
            std::string why;
            auto v = typeScalar(e.value, schema.eventFields[f], t.now, cfg_.zone, data_.strings, why);
            eset[f] = true;
            if (!v) {
              d_.error(e.value.loc, f == 0 && !e.value.null ? "'" + e.value.text + "' is not a time (2026-11-23T08:00:00+08:00, 2026-11-23, now - 3d)" : why);
              continue;
            }
            te.values[f] = *v;
          }
        };
        assignEvent(file_.eventDefaults);
        assignEvent(ev);
        if (!eset[0]) {
          d_.error(ev.loc, "this event has no time", "set `at:`, e.g. { at: now - 3d, ... }");
          continue;
        }
        std::vector<std::string> emissing;
        for (size_t f = 1; f < schema.eventFields.size(); ++f)
          if (!eset[f] && !schema.eventFields[f].type.nullable) emissing.push_back(schema.eventFields[f].name);
        if (!emissing.empty()) {
          std::string list;
          for (size_t k = 0; k < emissing.size(); ++k) list += (k ? ", " : "") + emissing[k];
          d_.error(ev.loc, "this event does not set " + list + " (not nullable in " + cfg_.path + ")",
                   "set " + std::string(emissing.size() == 1 ? "it" : "them") + " in the event, or for every event in `event_defaults:`");
          continue;
        }
        events.push_back(std::move(te));
      }

      // Contacts.
      std::vector<std::pair<int64_t, int32_t>> contacts;
      for (const auto& ct : tc.contacts) {
        if (!cfg_.contacts.present) {
          d_.error(ct.loc, "the config has no `contacts:` history, so a case cannot have contacts");
          break;
        }
        if (!cfg_.contacts.fromEventsField.empty()) {
          std::string kinds;
          for (const auto& k : cfg_.contacts.fromEventsValues) kinds += (kinds.empty() ? "" : ", ") + k;
          d_.error(ct.loc, "this config takes the contact history from the events (" + cfg_.contacts.fromEventsField + " in " + kinds + ")",
                   "write the messages sent as `events:`, e.g. { at: now - 2d, " + cfg_.contacts.fromEventsField + ": " +
                       (cfg_.contacts.fromEventsValues.empty() ? std::string("email_sent") : cfg_.contacts.fromEventsValues[0]) + ", " +
                       cfg_.contacts.channelColumn + ": email }");
          break;
        }
        std::optional<int64_t> at;
        int32_t channel = -2;
        for (const auto& e : ct.entries) {
          if (e.key == "at") {
            std::string why;
            if (e.value.null) d_.error(e.value.loc, "a contact needs a time");
            else if (auto v = typeTime(e.value, t.now, cfg_.zone, why)) at = *v;
            else d_.error(e.value.loc, why);
          } else if (e.key == "channel") {
            channel = -1;
            for (size_t k = 0; k < cfg_.channels.size(); ++k)
              if (cfg_.channels[k].name == e.value.text) channel = static_cast<int32_t>(k);
          } else {
            std::string help = didYouMean(e.key, {"at", "channel"});
            d_.error(e.keyLoc, "unknown key '" + e.key + "' in a contact", help.empty() ? "a contact is { at: TIME, channel: NAME }" : help);
          }
        }
        if (!at || channel == -2) {
          if (at || channel != -2) d_.error(ct.loc, std::string("this contact does not set ") + (at ? "its channel" : "its time (`at:`)"));
          else d_.error(ct.loc, "a contact is { at: TIME, channel: NAME }");
          continue;
        }
        contacts.emplace_back(*at, channel);
      }

      // Previous decision.
      struct Prev {
        bool present = false;
        std::string stageName;
        int32_t stage = kUnknownOutcome, channel = kUnknownOutcome, offer = kUnknownOutcome;
        std::optional<int64_t> at;
      } prev;
      if (tc.hasPrevious) {
        prev.present = true;
        for (const auto& e : tc.previous.entries) {
          const std::string& v = e.value.text;
          if (e.key == "stage") {
            if (e.value.null) continue;
            prev.stageName = v;
            prev.stage = indexIn(prog_.stages, v, false);
            if (prev.stage == kUnknownOutcome) {
              std::string near = closestName(v, prog_.stages);
              if (!near.empty()) d_.error(e.value.loc, "'" + v + "' is not a stage of " + base_, "did you mean '" + near + "'?");
            }
          } else if (e.key == "channel" || e.key == "offer") {
            if (e.value.null) continue;
            bool ch = e.key == "channel";
            int32_t idx = indexIn(ch ? prog_.channels : prog_.offers, v, true);
            if (idx == kUnknownOutcome) {
              std::vector<std::string> known = ch ? prog_.channels : prog_.offers;
              known.push_back("none");
              d_.error(e.value.loc, "'" + v + "' is not " + (ch ? "a channel" : "an offer") + " of " + base_, didYouMean(v, known));
            }
            (ch ? prev.channel : prev.offer) = idx;
          } else if (e.key == "at") {
            if (e.value.null) continue;
            std::string why;
            if (auto tt = typeTime(e.value, t.now, cfg_.zone, why)) prev.at = *tt;
            else d_.error(e.value.loc, why);
          } else {
            d_.error(e.keyLoc, "unknown key '" + e.key + "' in previous", didYouMean(e.key, {"stage", "channel", "offer", "at"}));
          }
        }
      }

      // Expectations.
      t.expect = typeExpect(tc, t.now);

      // The customers: one per copy.
      std::string id = tc.id ? tc.id->text : std::to_string(ci + 1);
      for (int64_t k = 0; k < tc.copies; ++k) {
        std::string cid = tc.copies == 1 ? id : id + "-" + std::to_string(k + 1);
        if (!ids.insert(cid).second) {
          d_.error(tc.id ? tc.id->loc : tc.loc, "customer id '" + cid + "' is used by two cases", "give each case its own `id:`");
          break;
        }
        uint32_t c = static_cast<uint32_t>(data_.customerCount++);
        const std::string* interned = data_.strings.intern(cid);
        values[0] = Value::string(interned);
        for (size_t f = 0; f < customerFieldCount; ++f) data_.customers[f].push(values[f]);
        data_.customerIndex.insert(interned, c);
        data_.customerLine.push_back(tc.loc.line);
        if (schema.customerTimezoneField >= 0) data_.customerZone.push_back(zone);
        for (const auto& e : events) {
          for (size_t f = 0; f < e.values.size(); ++f) stagedEvents_[f].push(e.values[f]);
          eventOwner_.push_back(c);
          eventTime_.push_back(e.values[0].i);
        }
        for (const auto& [at, ch] : contacts) contactRows_.push_back({c, at, ch});
        if (previous_) {
          previous_->present.push_back(prev.present);
          previous_->stage.push_back(prev.stage);
          previous_->channel.push_back(prev.channel);
          previous_->offer.push_back(prev.offer);
          previous_->at.push_back(prev.at);
          previous_->stageName.push_back(prev.stageName);
          previous_->rows += prev.present;
        }
        customers_.push_back(Customer{ci, cid});
        t.customers.push_back(c);
      }
    }
    return !d_.failed();
  }

  static int32_t indexIn(const std::vector<std::string>& names, const std::string& name, bool noneAllowed) {
    if (name.empty()) return kUnknownOutcome;
    if (noneAllowed && name == "none") return static_cast<int32_t>(kNoOutcome);
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return static_cast<int32_t>(i);
    return kUnknownOutcome;
  }

  // Params given in the tests file: the rules must declare them, and their values must parse.
  std::vector<std::pair<std::string, std::string>> checkParams(const TestRecord& rec) {
    std::vector<std::pair<std::string, std::string>> out;
    std::vector<std::string> names;
    for (const auto& p : prog_.params) names.push_back(p.name);
    for (const auto& e : rec.entries) {
      const ParamDef* def = nullptr;
      for (const auto& p : prog_.params)
        if (p.name == e.key) def = &p;
      if (!def) {
        d_.error(e.keyLoc, "the rules declare no param '" + e.key + "'", didYouMean(e.key, names));
        continue;
      }
      std::string text;
      if (e.isList) {
        if (!def->isList) {
          d_.error(e.value.loc, "param '" + e.key + "' is a " + def->type.str() + ", not a list");
          continue;
        }
        for (size_t k = 0; k < e.items.size(); ++k) text += (k ? "," : "") + e.items[k].text;
      } else if (e.value.null) {
        d_.error(e.value.loc, "param '" + e.key + "' needs a value");
        continue;
      } else {
        text = e.value.text;
      }
      // Type-check now, so that a bad value is reported where it is written.
      StringPool scratch;
      bool ok = true;
      std::string_view rest = text;
      Type type = def->isList ? def->type.element() : def->type;
      while (ok) {
        size_t comma = def->isList ? rest.find(',') : std::string_view::npos;
        std::string why;
        if (!(def->isList && rest.empty()) && !parseParamValue(rest.substr(0, comma), type, cfg_.zone, scratch, why)) {
          d_.error(e.value.loc, "param '" + e.key + "': " + why);
          ok = false;
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      if (ok) out.emplace_back(e.key, text);
    }
    return out;
  }

  std::vector<Expectation> typeExpect(const TestCaseSpec& tc, int64_t now) {
    std::vector<Expectation> out;
    std::vector<std::string> keys;
    for (const auto& c : kExpectColumns) keys.push_back(c.key);
    std::vector<std::string> segNames;
    for (const auto& s : prog_.segments) segNames.push_back(s.name);
    for (const auto& e : tc.expect.entries) {
      const ExpectColumn* col = nullptr;
      for (const auto& c : kExpectColumns)
        if (e.key == c.key) col = &c;
      if (!col) {
        d_.error(e.keyLoc, "unknown key '" + e.key + "' in expect", didYouMean(e.key, keys).empty()
                     ? "expect checks stage, segments, segments_include, segments_exclude, channel, send, send_at, suppressed_by, next_eligible_at, offer, holdout, transition"
                     : didYouMean(e.key, keys));
        continue;
      }
      Expectation x;
      x.col = col->col;
      x.key = e.key;
      bool isList = col->col == Col::Segments || col->col == Col::SegmentsInclude || col->col == Col::SegmentsExclude;
      if (isList) {
        std::vector<TestScalar> items = e.items;
        if (!e.isList) {
          if (!e.value.null) items.push_back(e.value);  // one segment, written without brackets
        }
        bool ok = true;
        for (const auto& s : items) {
          if (std::find(segNames.begin(), segNames.end(), s.text) == segNames.end()) {
            d_.error(s.loc, "'" + s.text + "' is not a segment of " + base_,
                     segNames.empty() ? "these rules declare no segments" : didYouMean(s.text, segNames));
            ok = false;
          }
          x.names.push_back(s.text);
        }
        if (!ok) continue;
        x.shown = listText(x.names);
        out.push_back(std::move(x));
        continue;
      }
      if (e.isList) {
        d_.error(e.value.loc, "expect." + e.key + " must be a single value, not a list");
        continue;
      }
      const TestScalar& v = e.value;
      switch (col->col) {
        case Col::Stage:
        case Col::Channel:
        case Col::Offer: {
          std::vector<std::string> known = col->col == Col::Stage ? prog_.stages : col->col == Col::Channel ? prog_.channels : prog_.offers;
          const char* what = col->col == Col::Stage ? "a stage" : col->col == Col::Channel ? "a channel" : "an offer";
          if (col->col != Col::Stage) known.push_back("none");
          if (!v.null && std::find(known.begin(), known.end(), v.text) == known.end()) {
            bool table = prog_.tables[col->col == Col::Stage ? 0 : col->col == Col::Channel ? 1 : 2].present;
            d_.error(v.loc, "'" + v.text + "' is not " + what + " of " + base_,
                     !table ? std::string("these rules have no ") + (col->col == Col::Stage ? "stage" : col->col == Col::Channel ? "channel" : "offer") + " table"
                            : didYouMean(v.text, known));
            continue;
          }
          x.text = v.null ? "" : v.text;
          x.shown = v.null ? "(no row)" : v.text;
          break;
        }
        case Col::Send:
        case Col::Holdout:
          if (v.null || !parseBool(v.text, x.flag)) {
            d_.error(v.loc, "expect." + e.key + " must be true or false");
            continue;
          }
          x.shown = x.flag ? "true" : "false";
          break;
        case Col::SendAt:
        case Col::NextEligibleAt:
          if (v.null || v.text.empty()) {
            x.shown = "(empty)";
          } else {
            std::string why;
            auto t = typeTime(v, now, cfg_.zone, why);
            if (!t) {
              d_.error(v.loc, why);
              continue;
            }
            x.time = *t;
            x.shown = v.text;
          }
          break;
        case Col::SuppressedBy:
        case Col::Transition:
          x.text = v.null ? "" : std::string(trim(v.text));
          x.shown = x.text.empty() ? "(empty)" : x.text;
          break;
        default:
          break;
      }
      out.push_back(std::move(x));
    }
    return out;
  }

  void finishDataset() {
    const Schema& schema = cfg_.schema;
    // Events: grouped by customer, then time (equal times keep the order written).
    std::vector<uint32_t> order(eventOwner_.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return eventOwner_[a] != eventOwner_[b] ? eventOwner_[a] < eventOwner_[b] : eventTime_[a] < eventTime_[b];
    });
    for (auto& c : stagedEvents_) c.permute(order);
    if (cfg_.events.present) data_.events = std::move(stagedEvents_);
    data_.eventBegin.assign(data_.customerCount + 1, 0);
    for (uint32_t o : eventOwner_) ++data_.eventBegin[o + 1];
    for (size_t c = 0; c < data_.customerCount; ++c) data_.eventBegin[c + 1] += data_.eventBegin[c];
    data_.customerCounts = SourceCounts{data_.customerCount, data_.customerCount, 0};
    data_.eventCounts = SourceCounts{eventOwner_.size(), eventOwner_.size(), 0};

    data_.contactBegin.assign(data_.customerCount + 1, 0);
    if (cfg_.contacts.present && !cfg_.contacts.fromEventsField.empty()) {
      // As the loader does: the events whose field holds one of the marking values.
      int field = schema.eventField(cfg_.contacts.fromEventsField);
      int channelField = schema.eventField(cfg_.contacts.channelColumn);
      std::vector<const std::string*> marks;
      for (const auto& v : cfg_.contacts.fromEventsValues) marks.push_back(data_.strings.intern(v));
      for (uint32_t c = 0; c < data_.customerCount; ++c) {
        for (uint32_t e = data_.eventBegin[c]; e < data_.eventBegin[c + 1]; ++e) {
          Value kind = data_.events[field].get(e);
          if (kind.isNull() || std::find(marks.begin(), marks.end(), kind.s) == marks.end()) continue;
          Value ch = data_.events[channelField].get(e);
          int32_t idx = -1;
          if (!ch.isNull())
            for (size_t k = 0; k < cfg_.channels.size(); ++k)
              if (cfg_.channels[k].name == *ch.s) idx = static_cast<int32_t>(k);
          data_.contactTime.push_back(data_.events[0].get(e).i);
          data_.contactChannel.push_back(idx);
        }
        data_.contactBegin[c + 1] = static_cast<uint32_t>(data_.contactTime.size());
      }
    } else {
      std::stable_sort(contactRows_.begin(), contactRows_.end(), [](const ContactRow& a, const ContactRow& b) {
        return a.customer != b.customer ? a.customer < b.customer : a.at < b.at;
      });
      for (const auto& r : contactRows_) {
        data_.contactTime.push_back(r.at);
        data_.contactChannel.push_back(r.channel);
        ++data_.contactBegin[r.customer + 1];
      }
      for (size_t c = 0; c < data_.customerCount; ++c) data_.contactBegin[c + 1] += data_.contactBegin[c];
      data_.contactCounts = SourceCounts{contactRows_.size(), contactRows_.size(), 0};
    }
  }

  // ---- running --------------------------------------------------------------------------

  bool runGroup(size_t g, TestReport& report) {
    const TypedCase& first = typed_[groups_[g].front()];
    std::string error;
    auto exe = Executable::bind(prog_, cfg_, data_.strings, first.params, error);
    if (!exe) {
      fatal_ = error;
      return false;
    }
    RunOptions options;
    options.now = first.now;
    options.threads = 1;
    options.previous = previous_ ? &*previous_ : nullptr;
    DecisionRun run(*exe, data_, options);
    CollectSink sink;
    RunSummary summary;
    if (!run.prepare(error) || !run.decide(sink, summary, error)) {
      fatal_ = error;
      return false;
    }
    for (size_t ci : groups_[g]) {
      const TypedCase& t = typed_[ci];
      const TestCaseSpec& tc = file_.cases[ci];
      TestCaseResult& res = report.cases[ci];
      res.index = ci;
      res.name = tc.name;
      res.loc = tc.loc;
      res.copies = tc.copies;
      res.hasExpect = tc.hasExpect;
      res.asOf = formatTime(t.now, cfg_.zone);
      res.customerId = t.customers.empty() ? "" : data_.customerId(t.customers.front());
      for (uint32_t c : t.customers) {
        const Decision& d = sink.rows[c];
        decisions_[c] = d;
        std::vector<TestColumnDiff> diffs = compare(*exe, run, d, t);
        if (diffs.empty()) continue;
        if (res.failedCopies++ == 0) {
          res.passed = false;
          res.customerId = data_.customerId(c);
          res.diffs = std::move(diffs);
          res.decidedBy = explanation(*exe, run, d);
        }
      }
    }
    return true;
  }

  std::string rowRef(const Executable& exe, TableKind k, int row) const {
    const DecisionRow& r = prog_.table(k).rows[row];
    return fmt::format("{} @ {}:{}", exe.outcomeName(k, r.outcome), base_, r.loc.line);
  }

  std::string tableWhy(const Executable& exe, DecisionRun& run, const Decision& d, TableKind k) const {
    int t = static_cast<int>(k);
    std::string s = std::string(tableName(k)) + ": ";
    if (!prog_.tables[t].present) return std::string("these rules have no ") + tableName(k) + " table";
    if (d.row[t] < 0) s += "no row matched";
    else s += rowRef(exe, k, d.row[t]);
    if (d.fullRow[t] >= 0)
      s += fmt::format(" ({} was full: limit {})", rowRef(exe, k, d.fullRow[t]), run.limitOf(prog_.tables[t].rows[d.fullRow[t]]));
    if (k == TableKind::Channel) {
      SkipRecorder skips;
      run.eligibleRows(d.customer, k, &skips);
      for (const auto& [row, why] : skips.skipped) {
        if (d.row[t] >= 0 && static_cast<int>(row) > d.row[t]) continue;
        const DecisionRow& r = prog_.tables[t].rows[row];
        const ChannelSpec& spec = cfg_.channels[exe.configChannel(r.outcome)];
        s += fmt::format("; {} skipped: {}", rowRef(exe, k, static_cast<int>(row)),
                         why == ConsentResult::NoConsent ? "no consent (" + spec.consent + " is not true)"
                                                         : spec.requires + " is empty");
      }
    }
    return s;
  }

  std::string capsWhy(const Executable& exe, DecisionRun& run, const Decision& d) const {
    if (d.channel.isNull() || d.channel.i == kNoOutcome) return "no channel, so no caps apply";
    auto windows = run.capReport(d.customer, static_cast<int32_t>(d.channel.i));
    std::string name = exe.outcomeName(TableKind::Channel, d.channel.i);
    if (windows.empty()) return "no cap applies to " + name;
    std::string s = "caps on " + name + ": ";
    for (size_t k = 0; k < windows.size(); ++k) {
      const auto& w = windows[k];
      s += fmt::format("{}{} {} has {} contact{}{}", k ? "; " : "", w.cap, w.window, w.count, w.count == 1 ? "" : "s",
                       w.full ? " (full)" : "");
    }
    return s;
  }

  std::string holdoutWhy(const Decision& d) const {
    if (!prog_.holdout.present) return "these rules have no holdout";
    double b = customerBucket(data_.customerId(d.customer), prog_.holdout.salt);
    return fmt::format("bucket {:.4f} of customer '{}' with salt \"{}\" is {} {} (holdout @ {}:{})", b, data_.customerId(d.customer),
                       prog_.holdout.salt, b < prog_.holdout.fraction ? "below" : "not below", percent(prog_.holdout.fraction), base_,
                       prog_.holdout.loc.line);
  }

  std::string sendWhy(const Executable& exe, DecisionRun& run, const Decision& d) const {
    if (d.channel.isNull() || d.channel.i == kNoOutcome) return tableWhy(exe, run, d, TableKind::Channel);
    if (d.holdout) return "held out: " + holdoutWhy(d);
    if (!d.suppressedBy.empty()) return "suppressed by " + d.suppressedBy + "; " + capsWhy(exe, run, d);
    return tableWhy(exe, run, d, TableKind::Channel) + "; " + capsWhy(exe, run, d);
  }

  std::string timeText(uint32_t c, std::optional<int64_t> t) const {
    return t ? formatTime(*t, data_.zoneOf(c, cfg_.zone)) : "(empty)";
  }

  std::vector<TestColumnDiff> compare(const Executable& exe, DecisionRun& run, const Decision& d, const TypedCase& t) const {
    std::vector<TestColumnDiff> out;
    std::vector<std::string> gotSegments;
    for (size_t s = 0; s < d.segments.size(); ++s)
      if (d.segments[s]) gotSegments.push_back(prog_.segments[s].name);
    auto segmentWhy = [&](const std::vector<std::string>& names) {
      std::string s;
      for (const auto& n : names)
        for (size_t k = 0; k < prog_.segments.size(); ++k)
          if (prog_.segments[k].name == n)
            s += fmt::format("{}segment {} @ {}:{} is {}", s.empty() ? "" : "; ", n, base_, prog_.segments[k].loc.line,
                             d.segments[k] ? "true" : "false");
      return s;
    };
    for (const Expectation& x : t.expect) {
      TestColumnDiff diff;
      diff.column = x.key;
      diff.expected = x.shown;
      bool ok = true;
      switch (x.col) {
        case Col::Stage:
        case Col::Channel:
        case Col::Offer: {
          TableKind k = x.col == Col::Stage ? TableKind::Stage : x.col == Col::Channel ? TableKind::Channel : TableKind::Offer;
          std::string got = outcomeLabel(exe, k, x.col == Col::Stage ? d.stage : x.col == Col::Channel ? d.channel : d.offer);
          ok = got == x.text;
          diff.got = got.empty() ? "(no row)" : got;
          if (!ok) diff.why = tableWhy(exe, run, d, k);
          break;
        }
        case Col::Segments: {
          std::set<std::string> want(x.names.begin(), x.names.end()), got(gotSegments.begin(), gotSegments.end());
          ok = want == got;
          diff.got = listText(gotSegments);
          if (!ok) {
            std::vector<std::string> differ;
            for (const auto& n : want)
              if (!got.count(n)) differ.push_back(n);
            for (const auto& n : got)
              if (!want.count(n)) differ.push_back(n);
            diff.why = segmentWhy(differ);
          }
          break;
        }
        case Col::SegmentsInclude:
        case Col::SegmentsExclude: {
          bool include = x.col == Col::SegmentsInclude;
          std::vector<std::string> wrong;
          for (const auto& n : x.names)
            if ((std::find(gotSegments.begin(), gotSegments.end(), n) != gotSegments.end()) != include) wrong.push_back(n);
          ok = wrong.empty();
          diff.got = listText(gotSegments);
          if (!ok) diff.why = segmentWhy(wrong);
          break;
        }
        case Col::Send:
          ok = d.send == x.flag;
          diff.got = d.send ? "true" : "false";
          if (!ok) diff.why = sendWhy(exe, run, d);
          break;
        case Col::Holdout:
          ok = d.holdout == x.flag;
          diff.got = d.holdout ? "true" : "false";
          if (!ok) diff.why = holdoutWhy(d);
          break;
        case Col::SendAt: {
          ok = d.sendAt == x.time;
          diff.got = timeText(d.customer, d.sendAt);
          if (!ok) {
            if (!d.send) {
              diff.why = "not sent: " + sendWhy(exe, run, d);
            } else {
              const ChannelSpec& spec = cfg_.channels[exe.configChannel(static_cast<int32_t>(d.channel.i))];
              diff.why = spec.quiet ? fmt::format("{} quiet hours {} in {}", spec.name, spec.quiet->text, data_.zoneOf(d.customer, cfg_.zone).name())
                                    : spec.name + " has no quiet hours: sent at now";
            }
          }
          break;
        }
        case Col::NextEligibleAt:
          ok = d.nextEligibleAt == x.time;
          diff.got = timeText(d.customer, d.nextEligibleAt);
          if (!ok) diff.why = capsWhy(exe, run, d);
          break;
        case Col::SuppressedBy:
          ok = d.suppressedBy == x.text;
          diff.got = d.suppressedBy.empty() ? "(empty)" : d.suppressedBy;
          if (!ok) diff.why = capsWhy(exe, run, d);
          break;
        case Col::Transition: {
          ok = d.transition == x.text;
          diff.got = d.transition.empty() ? "(empty)" : d.transition;
          if (!ok) {
            if (!previous_) diff.why = "no case of this file has `previous:`, so there is no previous run and no transition";
            else if (!previous_->present[d.customer]) diff.why = "the case has no `previous:`: the customer was not in the previous run";
            else diff.why = "previous stage: " + (previous_->stageName[d.customer].empty() ? std::string("(empty)") : previous_->stageName[d.customer]);
          }
          break;
        }
      }
      if (!ok) out.push_back(std::move(diff));
    }
    return out;
  }

  // As `--explain` writes it.
  std::string explanation(const Executable& exe, DecisionRun& run, const Decision& d) const {
    std::string out;
    for (int t = 0; t < kTableCount; ++t) {
      if (!prog_.tables[t].present) continue;
      TableKind k = static_cast<TableKind>(t);
      out += (out.empty() ? "" : "; ") + std::string(tableName(k)) + ": ";
      out += d.row[t] < 0 ? "no row matched" : rowRef(exe, k, d.row[t]);
      if (d.fullRow[t] >= 0)
        out += fmt::format(" ({} was full: limit {})", rowRef(exe, k, d.fullRow[t]), run.limitOf(prog_.tables[t].rows[d.fullRow[t]]));
    }
    if (!d.suppressedBy.empty()) out += "; suppressed by " + d.suppressedBy;
    if (d.holdout) out += "; holdout";
    return out;
  }

  void coverage(TestReport& report) const {
    for (int t = 0; t < kTableCount; ++t) {
      if (!prog_.tables[t].present) continue;
      TableKind k = static_cast<TableKind>(t);
      for (size_t r = 0; r < prog_.tables[t].rows.size(); ++r) {
        const DecisionRow& row = prog_.tables[t].rows[r];
        TestRowCoverage rc;
        rc.table = k;
        rc.row = static_cast<int>(r);
        rc.loc = row.loc;
        rc.outcome = row.outcome == kNoOutcome ? "none" : t == 0 ? prog_.stages[row.outcome] : t == 1 ? prog_.channels[row.outcome] : prog_.offers[row.outcome];
        for (const Decision& d : decisions_)
          if (d.row[t] == static_cast<int>(r)) ++rc.cases;
        report.rows.push_back(rc);
      }
    }
    for (size_t s = 0; s < prog_.segments.size(); ++s) {
      if (prog_.segments[s].file != 0) continue;
      TestSegmentCoverage sc;
      sc.name = prog_.segments[s].name;
      sc.loc = prog_.segments[s].loc;
      for (const Decision& d : decisions_) ++(d.segments[s] ? sc.trueCases : sc.falseCases);
      report.segments.push_back(sc);
    }
  }

  struct ContactRow {
    uint32_t customer;
    int64_t at;
    int32_t channel;
  };

  const TestFile& file_;
  const Program& prog_;
  const Config& cfg_;
  Diags d_;
  std::string& fatal_;
  std::string base_;
  Dataset data_;
  std::vector<Column> stagedEvents_;
  std::vector<uint32_t> eventOwner_;
  std::vector<int64_t> eventTime_;
  std::vector<ContactRow> contactRows_;
  std::optional<PreviousDecisions> previous_;
  std::unordered_map<std::string, int32_t> zoneIndex_;
  std::vector<Customer> customers_;
  std::vector<TypedCase> typed_;
  std::vector<std::vector<size_t>> groups_;  // cases by (clock, params), in file order
  std::vector<Decision> decisions_;           // per customer
};

}  // namespace

std::optional<TestReport> runTestFile(const TestFile& file, const Program& program, const Config& config,
                                      std::vector<Diagnostic>& diags, std::string& fatal) {
  size_t before = diags.size();
  Runner runner(file, program, config, diags, fatal);
  auto report = runner.run();
  if (diags.size() != before) {
    // Defaults are typed for every case: report each problem once.
    std::set<std::tuple<uint32_t, uint32_t, std::string>> seen;
    std::vector<Diagnostic> kept(diags.begin(), diags.begin() + static_cast<long>(before));
    for (size_t k = before; k < diags.size(); ++k)
      if (seen.insert({diags[k].range.begin.line, diags[k].range.begin.col, diags[k].message}).second) kept.push_back(diags[k]);
    diags = std::move(kept);
    sortDiagnostics(diags);
  }
  return report;
}

}  // namespace rekindle
