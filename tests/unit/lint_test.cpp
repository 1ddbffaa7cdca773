// `rekindle lint`: every planted mistake in tests/lint/*.rules is reported with its code at the
// range its `#@ CODE L:C-L:C text` line names, and nothing else is; config settings and
// `# rekindle:allow` comments turn checks off; JSON and SARIF 2.1.0 carry the same findings;
// --strict fails on warnings; the examples are clean.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <tuple>

#include "test_support.h"

using namespace rekindle;
using namespace rekindle::test;
using nlohmann::json;

namespace {

const std::string kBin = REKINDLE_BINARY;

int runRekindle(const std::string& args, std::string& out) {
  return runCommand("cd '" + std::string(REKINDLE_SOURCE_DIR) + "' && NO_COLOR=1 '" + kBin + "' " + args + " 2>/dev/null",
                    out);
}

struct Expected {
  std::string code;
  int line, col, endLine, endCol;
  std::string text;  // a part of the message
  bool operator<(const Expected& o) const {
    return std::tie(line, col, code, endLine, endCol) < std::tie(o.line, o.col, o.code, o.endLine, o.endCol);
  }
};

std::vector<Expected> annotations(const std::string& path) {
  std::vector<Expected> out;
  static const std::regex re(R"(#@ (\w+) (\d+):(\d+)-(\d+):(\d+) (.*)$)");
  std::string text = readText(sourcePath(path));
  size_t b = 0;
  while (b < text.size()) {
    size_t e = text.find('\n', b);
    if (e == std::string::npos) e = text.size();
    std::string line = text.substr(b, e - b);
    std::smatch m;
    if (std::regex_search(line, m, re))
      out.push_back({m[1], std::stoi(m[2]), std::stoi(m[3]), std::stoi(m[4]), std::stoi(m[5]), m[6]});
    b = e + 1;
  }
  return out;
}

json lintJson(const std::string& args, int& status) {
  std::string out;
  status = runRekindle("lint " + args + " --format json", out);
  INFO(out);
  return json::parse(out);
}

// The findings of a file equal its annotations: same codes, same ranges, each message
// containing the annotation's text.
void checkAnnotated(const std::string& path) {
  int status = 0;
  json got = lintJson(path, status);
  auto want = annotations(path);
  REQUIRE(!want.empty());
  std::set<Expected> seen;
  for (const auto& d : got) {
    Expected e{d["code"], d["line"], d["column"], d["endLine"], d["endColumn"], d["message"]};
    seen.insert(e);
    auto match = std::find_if(want.begin(), want.end(), [&](const Expected& w) {
      return w.code == e.code && w.line == e.line && w.col == e.col && w.endLine == e.endLine && w.endCol == e.endCol;
    });
    INFO(path << ": " << e.code << " at " << e.line << ":" << e.col << "-" << e.endLine << ":" << e.endCol << " "
              << e.text);
    REQUIRE(match != want.end());  // nothing reported that was not planted
    std::string all = d["message"].get<std::string>();
    for (const auto& n : d["notes"]) all += " " + n["message"].get<std::string>();
    CHECK_THAT(all, Catch::Contains(match->text));
  }
  for (const auto& w : want) {
    INFO(path << ": expected " << w.code << " at " << w.line << ":" << w.col << " " << w.text);
    CHECK(seen.count(w) == 1);  // every planted mistake reported
  }
  CHECK(status == 0);  // warnings only: not a failure without --strict
}

}  // namespace

TEST_CASE("lint reports every planted mistake at its range, and nothing else", "[lint]") {
  for (const char* f : {"tests/lint/mistakes.rules", "tests/lint/unreachable.rules", "tests/lint/undecided.rules",
                        "tests/lint/allow.rules"})
    DYNAMIC_SECTION(f) { checkAnnotated(f); }
}

TEST_CASE("lint: rows that only look covered are not reported", "[lint]") {
  int status = 0;
  json got = lintJson("tests/lint/sound.rules", status);
  CHECK(got.empty());
  CHECK(status == 0);
}

TEST_CASE("lint: the unreachable-row warning names the row that covers it", "[lint]") {
  std::string text;
  runCommand("cd '" + std::string(REKINDLE_SOURCE_DIR) + "' && NO_COLOR=1 '" + kBin +
                 "' lint tests/lint/unreachable.rules 2>&1",
             text);
  CHECK_THAT(text, Catch::Contains("tests/lint/unreachable.rules:10:3: warning[W001]: row never taken: the row at line 9 "
                                   "(`lapsed when idle <= 365d`) already takes every customer this row would"));
  CHECK_THAT(text, Catch::Contains("10 |   active   when idle <= 90d"));
}

TEST_CASE("lint settings in the config: disable, severity, off, by code or by name", "[lint]") {
  int status = 0;
  json got = lintJson("tests/lint/mistakes.rules --config tests/lint/disable.yaml", status);
  std::map<std::string, std::set<std::string>> severities;
  for (const auto& d : got) severities[d["code"]].insert(d["severity"].get<std::string>());
  CHECK(severities.count("W001") == 0);  // disable: [W001]
  CHECK(severities.count("W007") == 0);  // disable by name: null-excluded-by-inequality
  CHECK(severities.count("W010") == 0);  // severity off
  CHECK(severities["W004"] == std::set<std::string>{"error"});
  CHECK(severities["W003"] == std::set<std::string>{"note"});
  CHECK(severities["W005"] == std::set<std::string>{"warning"});
  CHECK(status == 1);  // a warning raised to an error fails the lint
}

TEST_CASE("lint --strict fails on warnings, and clean files pass", "[lint]") {
  std::string out;
  CHECK(runRekindle("lint tests/lint/allow.rules", out) == 0);
  CHECK(runRekindle("lint --strict tests/lint/allow.rules", out) == 1);
  CHECK(runRekindle("lint --strict tests/lint/sound.rules", out) == 0);
}

TEST_CASE("every example is lint-clean under --strict", "[lint][examples]") {
  std::string out;
  REQUIRE(runCommand("ls " + sourcePath("examples") + "/*/*.rules", out) == 0);
  size_t b = 0, n = 0;
  for (size_t e; (e = out.find('\n', b)) != std::string::npos; b = e + 1, ++n) {
    std::string f = out.substr(b, e - b), text;
    INFO(f);
    int status = runCommand("NO_COLOR=1 '" + kBin + "' lint --strict " + f + " 2>&1", text);
    INFO(text);
    CHECK(status == 0);
  }
  CHECK(n >= 5);
}

TEST_CASE("lint --format sarif is a SARIF 2.1.0 log with every finding at its range", "[lint]") {
  std::string out;
  runRekindle("lint tests/lint/mistakes.rules --format sarif", out);
  json log = json::parse(out);
  CHECK(log["version"] == "2.1.0");
  CHECK_THAT(log["$schema"].get<std::string>(), Catch::Contains("sarif"));
  REQUIRE(log["runs"].size() == 1);
  const json& run = log["runs"][0];
  CHECK(run["tool"]["driver"]["name"] == "rekindle");
  const json& rules = run["tool"]["driver"]["rules"];
  std::set<Expected> got;
  for (const auto& r : run["results"]) {
    std::string id = r["ruleId"];
    size_t index = r["ruleIndex"];
    REQUIRE(index < rules.size());
    CHECK(rules[index]["id"] == id);  // the index points at the rule
    CHECK(r["level"] == "warning");
    const json& loc = r["locations"][0]["physicalLocation"];
    CHECK(loc["artifactLocation"]["uri"] == "tests/lint/mistakes.rules");
    const json& region = loc["region"];
    got.insert({id, region["startLine"], region["startColumn"], region["endLine"], region["endColumn"], ""});
  }
  std::set<Expected> want;
  for (auto w : annotations("tests/lint/mistakes.rules")) want.insert({w.code, w.line, w.col, w.endLine, w.endCol, ""});
  CHECK(got.size() == want.size());
  for (const auto& w : want) {
    INFO(w.code << " at " << w.line << ":" << w.col);
    CHECK(got.count(w) == 1);
  }
  // Rules carry their names and descriptions, once each.
  std::set<std::string> ids;
  for (const auto& r : rules) {
    CHECK(ids.insert(r["id"].get<std::string>()).second);
    CHECK_FALSE(r["shortDescription"]["text"].get<std::string>().empty());
  }
  CHECK(ids.count("W001"));
}

TEST_CASE("lint: errors come first, as the compiler reports them, and fail", "[lint]") {
  std::string out;
  int status = runRekindle("lint tests/diagnostics/three_errors.rules --config tests/conformance/rekindle.yaml --format sarif",
                           out);
  CHECK(status == 1);
  json log = json::parse(out);
  size_t errors = 0;
  for (const auto& r : log["runs"][0]["results"]) errors += r["level"] == "error";
  CHECK(errors == 3);
}
