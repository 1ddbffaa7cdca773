// The HTML report (cli/report_html.cpp, cli/report_data.cpp): escaping, determinism, no external
// resources, and numbers that equal the run summary's and the decisions file's.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>

#include <fmt/format.h>

#include "report_data.h"
#include "report_html.h"
#include "rekindle/compiler/compiler.h"
#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/engine.h"
#include "rekindle/runtime/previous.h"
#include "rekindle/runtime/writer.h"
#include "test_support.h"

using namespace rekindle;
using namespace rekindle::report;
using rekindle::test::tempDir;

namespace {

std::string unescape(std::string s) {
  const std::pair<const char*, const char*> entities[] = {{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : entities)
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + 1)) s.replace(p, std::strlen(from), to);
  return s;
}

// Every data-figure of a report, unescaped: key -> value.
std::map<std::string, std::string> figures(const std::string& html) {
  std::map<std::string, std::string> out;
  std::regex re("data-figure=\"([^\"]*)\" data-value=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator(); ++it)
    out[unescape((*it)[1].str())] = unescape((*it)[2].str());
  return out;
}

std::string figure(const std::map<std::string, std::string>& f, const std::string& key) {
  auto it = f.find(key);
  return it == f.end() ? "(missing " + key + ")" : it->second;
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A whole run in process, as `rekindle run --out FILE --report` does it.
struct Ran {
  std::optional<Config> config;
  std::optional<Program> program;
  std::optional<Dataset> data;
  std::optional<Executable> exe;
  std::optional<PreviousDecisions> previous;
  RunSummary summary;
  ReportData report;
  std::string decisions;
};

void runExample(const std::string& name, Ran& r, const std::string& previous = "", int threads = 2) {
  std::string dir = test::sourcePath("examples/" + name);
  std::vector<Diagnostic> diags;
  r.config = loadConfig(dir + "/rekindle.yaml", diags);
  REQUIRE(r.config);
  SourceFile src(dir + "/" + name + ".rules", test::readText(dir + "/" + name + ".rules"));
  CompileResult compiled = compileRules(src, *r.config);
  REQUIRE(compiled.program);
  r.program = std::move(*compiled.program);
  std::string fatal;
  r.data = loadDataset(*r.config, {}, fatal);
  REQUIRE(r.data);
  std::string error;
  r.exe = Executable::bind(*r.program, *r.config, r.data->strings, {}, error);
  REQUIRE(r.exe);
  if (!previous.empty()) {
    r.previous = loadPrevious(previous, *r.program, *r.data, r.config->zone, error);
    REQUIRE(r.previous);
  }
  RunOptions options;
  options.now = *r.config->asOf;
  options.threads = threads;
  options.previous = r.previous ? &*r.previous : nullptr;
  DecisionRun run(*r.exe, *r.data, options);
  REQUIRE(run.prepare(error));
  std::string path = tempDir("report") + "/decisions.csv";
  FILE* out = std::fopen(path.c_str(), "wb");
  REQUIRE(out);
  RunClock clock = RunClock::at(options.now, r.config->zone);
  {
    DecisionWriter writer(out, OutputFormat::Csv, *r.exe, *r.data, clock, false);
    RunCollector tee(writer, *r.exe);
    REQUIRE(run.decide(tee, r.summary, error));
    std::fclose(out);
    RunReportInputs in;
    in.rulesPath = name + ".rules";
    in.previous = options.previous;
    in.asOf = formatTime(options.now, r.config->zone);
    in.outPath = path;
    in.threads = threads;
    r.report = reportFromRun(tee, *r.exe, *r.data, run, r.summary, in);
  }
  r.decisions = path;
}

}  // namespace

TEST_CASE("report: every value is HTML-escaped, whatever its bytes", "[report]") {
  CHECK(escapeHtml("<b>\"Tom & Jerry's\"</b>") == "&lt;b&gt;&quot;Tom &amp; Jerry&#39;s&quot;&lt;/b&gt;");
  CHECK(escapeHtml("沉睡客户 上海静安店") == "沉睡客户 上海静安店");
  CHECK(escapeHtml(std::string("a\xff" "b\xc3", 4)) == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");  // not UTF-8
  CHECK(escapeHtml(std::string("x\x01y\x7f", 4)) == "x\xEF\xBF\xBDy\xEF\xBF\xBD");      // control characters
  CHECK(escapeHtml("\xed\xa0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");            // a surrogate is not UTF-8

  // A hostile value in every kind of name: it comes out as text, never as markup.
  Counter c;
  std::string evil = "<img src=x onerror=alert(1)>\"'&";
  RowFacts row;
  row.stage = evil;
  row.channel = evil;
  row.offer = evil;
  row.suppressedBy = evil;
  std::string transition = evil + "->" + evil;  // RowFacts holds views: the text must outlive it
  row.transition = transition;
  row.segments = {evil};
  c.add(row);
  ReportData d;
  c.finish(nullptr, nullptr, d);
  d.rulesName = evil;
  d.rulesVersion = evil;
  d.asOf = evil;
  d.inputs.push_back({evil, evil, 1, 1, 0, evil});
  d.notes.push_back(evil);
  d.rejectsKnown = true;
  d.rejectsBySource[evil] = 1;
  d.topReasons.push_back({evil, evil, 1, evil});
  d.budgets.push_back({evil, evil, 3, 1, 2, evil});
  std::string html = renderHtml(d);
  CHECK(html.find("<img") == std::string::npos);
  // "onerror=alert" appears only inside the escaped text, never as an attribute.
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = html.find(needle); at != std::string::npos; at = html.find(needle, at + 1)) ++n;
    return n;
  };
  CHECK(count("onerror=alert") > 0);
  CHECK(count("onerror=alert") == count("&lt;img src=x onerror=alert"));
  CHECK(html.find("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;") != std::string::npos);
  // The figures still read back to the original names.
  auto f = figures(html);
  CHECK(figure(f, "stage:" + evil) == "1");
  CHECK(figure(f, "stage-channel:" + evil + ":" + evil) == "1");
}

TEST_CASE("report: numbers, digit groups and reason kinds", "[report]") {
  CHECK(groupDigits(0) == "0");
  CHECK(groupDigits(999) == "999");
  CHECK(groupDigits(1000) == "1,000");
  CHECK(groupDigits(1234567) == "1,234,567");
  CHECK(reasonKind("unknown customer id 'R9999'") == "unknown customer id '\u2026'");
  CHECK(reasonKind("'abc' is not a time (field 'at')") == "'\u2026' is not a time (field 'at')");
  CHECK(reasonKind("duplicate customer id 'R1' (first at line 12)") == "duplicate customer id '\u2026' (first at line N)");
  CHECK(reasonKind("missing value for 'signup_at'") == "missing value for 'signup_at'");
  CHECK(reasonKind("it's unbalanced") == "it's unbalanced");

  auto rows = parseCsv("a,b,c\r\n\"x, \"\"y\"\"\",,\"multi\nline\"\n1,2,3");
  REQUIRE(rows.size() == 3);
  CHECK(rows[1] == std::vector<std::string>{"x, \"y\"", "", "multi\nline"});
  CHECK(rows[2] == std::vector<std::string>{"1", "2", "3"});
}

TEST_CASE("report: the same data gives the same bytes, and nothing is loaded from outside", "[report]") {
  Ran a, b;
  runExample("retail", a, "", 1);
  runExample("retail", b, "", 4);
  a.report.inputs.clear();  // the temporary decisions paths differ
  b.report.inputs.clear();
  std::string html = renderHtml(a.report);
  CHECK(html == renderHtml(b.report));
  CHECK(html == renderHtml(a.report));
  for (const char* banned : {"<script", "src=", "href=", "url(", "@import", "http:", "https:", "<link", "<img", "<iframe"})
    CHECK(html.find(banned) == std::string::npos);
  CHECK(html.find("<meta name=\"viewport\"") != std::string::npos);
  CHECK(html.find("Content-Security-Policy") != std::string::npos);
  CHECK(html.find("@media print") != std::string::npos);
  // Every chart is an inline SVG with a title and a viewBox, so it scales.
  size_t svgs = 0;
  for (size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) {
    ++svgs;
    std::string open = html.substr(p, html.find('>', p) - p);
    CHECK(open.find("viewBox=") != std::string::npos);
    CHECK(html.compare(html.find('>', p) + 1, 6, "<title") == 0);
  }
  CHECK(svgs >= 9);
  for (const char* id : {"chart-stages", "chart-stage-channel", "chart-sends", "chart-offers", "chart-budgets", "chart-holdout",
                         "chart-transitions", "chart-rfm", "chart-rejects"})
    CHECK(html.find(std::string("aria-labelledby=\"") + id + "-t") != std::string::npos);
}

TEST_CASE("report of a run: its numbers are the run summary's", "[report]") {
  Ran r;
  runExample("retail", r);
  const RunSummary& s = r.summary;
  auto f = figures(renderHtml(r.report));
  CHECK(figure(f, "customers") == std::to_string(s.customers));
  uint64_t stageSum = 0;
  for (const auto& [key, n] : s.stageChannel) {
    CHECK(figure(f, "stage-channel:" + key.first + ":" + key.second) == std::to_string(n));
    stageSum += n;
  }
  CHECK(stageSum == s.customers);
  // The stages in the rules' order, first the rules' first stage.
  REQUIRE(r.report.stages.size() >= 5);
  CHECK(r.report.stages[0] == "dormant");
  CHECK(r.report.stages[1] == "new");
  for (const auto& [o, n] : s.offers) CHECK(figure(f, "offer:" + o) == std::to_string(n));
  for (const auto& [o, cost] : s.offerCosts) CHECK(figure(f, "offer-cost:" + o) == fmt::format("{:.2f}", cost));
  CHECK(figure(f, "offer-cost-total") == fmt::format("{:.2f}", s.offerCost));
  CHECK(figure(f, "offer-cost-total") == "663.00");  // examples/retail/README.md
  for (const auto& [cap, n] : s.suppressedBy) CHECK(figure(f, "suppressed-by:" + cap) == std::to_string(n));
  CHECK(figure(f, "suppressed") == std::to_string(s.suppressed));
  CHECK(figure(f, "sent") == std::to_string(s.sends));
  CHECK(figure(f, "held-out") == std::to_string(s.holdout));
  for (const auto& [seg, n] : s.segments) CHECK(figure(f, "segment:" + seg) == std::to_string(n));
  REQUIRE(s.budgets.size() == 2);
  for (const auto& b : s.budgets) {
    std::string key = std::string("budget:") + tableName(b.table) + ":" + b.outcome;
    CHECK(figure(f, key + ":limit") == std::to_string(b.limit));
    CHECK(figure(f, key + ":given") == std::to_string(b.given));
    CHECK(figure(f, key + ":turned-away") == std::to_string(b.turnedAway));
  }
  CHECK(figure(f, "budget:offer:WINBACK20:given") == "30");  // examples/retail/README.md
  CHECK(figure(f, "budget:channel:sms:turned-away") == "2");
  // The four groups of customers add up.
  CHECK(r.report.sent + r.report.heldOut + r.report.suppressedTreated + r.report.noMessage == s.customers);
  // Two events of a deleted customer are rejected.
  CHECK(figure(f, "rejects:events") == "2");
  CHECK(figure(f, "input:events:rejected") == "2");
  CHECK(figure(f, "input:customers:read") == std::to_string(r.data->customerCounts.read));
  // The retail rules do not use std.rfm: the report computes the scores itself.
  CHECK(r.report.rfmAvailable);
  CHECK_FALSE(r.report.rfmFromRules);
  uint64_t rfm = 0;
  for (const auto& row : r.report.rfm)
    for (uint64_t n : row) rfm += n;
  CHECK(rfm == s.customers);
}

TEST_CASE("report of a run with std.rfm and --previous: the population's grid and the transitions", "[report]") {
  SECTION("std.rfm") {
    Ran r;
    runExample("dormant", r);
    CHECK(r.report.rfmAvailable);
    CHECK(r.report.rfmFromRules);
    auto f = figures(renderHtml(r.report));
    uint64_t total = std::stoull(figure(f, "rfm:none"));
    for (int R = 1; R <= 5; ++R)
      for (int F = 1; F <= 5; ++F) total += std::stoull(figure(f, fmt::format("rfm:{}:{}", R, F)));
    CHECK(total == r.summary.customers);
  }
  SECTION("transitions") {
    Ran r;
    runExample("b2b", r, test::sourcePath("examples/b2b/previous.csv"));
    REQUIRE(r.report.previousKnown);
    auto f = figures(renderHtml(r.report));
    uint64_t moved = 0;
    for (const auto& [t, n] : r.summary.transitions) {
      CHECK(figure(f, "transition:" + t) == std::to_string(n));
      moved += n;
    }
    CHECK(figure(f, "transitions") == std::to_string(moved));
    // Stayed + moved in = the stage's customers.
    for (const auto& st : r.report.stages) {
      if (st.empty()) continue;
      uint64_t in = 0;
      for (const auto& [key, n] : r.report.transitions)
        if (key.second == st) in += n;
      uint64_t total = 0;
      for (const auto& [key, n] : r.report.stageChannel)
        if (key.first == st) total += n;
      CHECK(std::stoull(figure(f, "stayed:" + st)) + in == total);
    }
  }
}

TEST_CASE("report of a decisions file: the same figures as the run's, CSV or JSON Lines", "[report]") {
  Ran r;
  runExample("retail", r);
  auto fromRun = figures(renderHtml(r.report));

  // Without the rules: the file alone.
  FileReportInputs in;
  in.decisionsPath = r.decisions;
  ReportData alone;
  std::string error;
  REQUIRE(reportFromFile(in, alone, error));
  auto f = figures(renderHtml(alone));
  for (const auto& [key, n] : r.summary.stageChannel)
    CHECK(figure(f, "stage-channel:" + key.first + ":" + key.second) == std::to_string(n));
  CHECK(figure(f, "sent") == figure(fromRun, "sent"));
  CHECK(figure(f, "held-out") == figure(fromRun, "held-out"));
  CHECK(alone.costsKnown == false);
  CHECK(alone.rulesName == "retail_lifecycle");
  CHECK(alone.rulesVersion == "2");
  CHECK(alone.asOf == "2026-11-23T09:00:00+08:00");

  // With the rules and config: the rules' order, costs, caps and limits.
  in.program = &*r.program;
  in.config = &*r.config;
  in.rejectsPath = "";
  ReportData withRules;
  REQUIRE(reportFromFile(in, withRules, error));
  CHECK(withRules.stages == r.report.stages);
  CHECK(withRules.channels == r.report.channels);
  CHECK(withRules.offers == r.report.offers);
  CHECK(withRules.caps == r.report.caps);
  auto g = figures(renderHtml(withRules));
  for (const auto& [key, value] : fromRun) {
    if (key.rfind("input:", 0) == 0 || key.rfind("rfm:", 0) == 0 || key.rfind("rejects", 0) == 0 || key.rfind("tile-rejected", 0) == 0 ||
        key.find(":turned-away") != std::string::npos)
      continue;
    INFO(key);
    CHECK(figure(g, key) == value);
  }

  // JSON Lines gives the same figures as CSV.
  std::string dir = tempDir("report");
  {
    std::string path = dir + "/decisions.jsonl";
    FILE* out = std::fopen(path.c_str(), "wb");
    Ran j;
    runExample("retail", j);
    RunClock clock = RunClock::at(*j.config->asOf, j.config->zone);
    RunOptions options;
    options.now = *j.config->asOf;
    DecisionRun run(*j.exe, *j.data, options);
    REQUIRE(run.prepare(error));
    DecisionWriter writer(out, OutputFormat::Jsonl, *j.exe, *j.data, clock, false);
    RunSummary s;
    REQUIRE(run.decide(writer, s, error));
    std::fclose(out);
    FileReportInputs jin = in;
    jin.decisionsPath = path;
    ReportData fromJsonl;
    REQUIRE(reportFromFile(jin, fromJsonl, error));
    auto h = figures(renderHtml(fromJsonl));
    for (const auto& [key, value] : g)
      if (key.rfind("input:", 0) != 0) CHECK(figure(h, key) == value);
  }

  // Not a decisions file.
  writeText(dir + "/other.csv", "a,b\n1,2\n");
  in.decisionsPath = dir + "/other.csv";
  ReportData bad;
  CHECK_FALSE(reportFromFile(in, bad, error));
  CHECK_THAT(error, Catch::Contains("not a decisions file"));
}
