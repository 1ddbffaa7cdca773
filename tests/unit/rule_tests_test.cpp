// `rekindle test`: the examples' tests files pass with full row coverage, a failing case is
// reported readably (expected, got, the rule that decided, where the case is), mistakes in a
// tests file are located, and the coverage threshold sets the exit status.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "rekindle/runtime/testcase.h"
#include "test_support.h"

using namespace rekindle;
using namespace rekindle::test;

namespace {

const std::string kBin = REKINDLE_BINARY;

// Runs `rekindle ARGS` from the source tree.
int runRekindle(const std::string& args, std::string& out) {
  return runCommand("cd '" + std::string(REKINDLE_SOURCE_DIR) + "' && NO_COLOR=1 '" + kBin + "' " + args, out);
}

std::string writeTemp(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Parses, compiles and runs a tests file in-process.
struct InProcess {
  std::vector<Diagnostic> diags;
  std::string fatal;
  std::optional<TestReport> report;
};

InProcess runInProcess(const std::string& rulesPath, const std::string& configPath, const std::string& testsPath,
                       const std::string& testsText) {
  InProcess r;
  auto file = parseTestFile(testsPath, testsText, r.diags);
  if (!file) return r;
  auto config = loadConfig(configPath, r.diags);
  REQUIRE(config);
  SourceFile src(rulesPath, readText(rulesPath));
  CompileResult compiled = compileRules(src, *config);
  REQUIRE(compiled.program);
  r.report = runTestFile(*file, *compiled.program, *config, r.diags, r.fatal);
  return r;
}

const char* const kExamples[] = {"retail", "dormant", "b2b", "cdnow", "hillstrom"};

}  // namespace

TEST_CASE("every example's tests.yaml passes and reaches every decision row", "[ruletest][examples]") {
  for (const char* name : kExamples) {
    DYNAMIC_SECTION(name) {
      std::string ex = std::string("examples/") + name;
      std::string out;
      INFO(out);
      int status = runRekindle("test " + ex + "/" + name + ".rules " + ex + "/tests.yaml --min-coverage 100", out);
      INFO(out);
      CHECK(status == 0);
      CHECK_THAT(out, Catch::Contains(" passed, 0 failed"));
      CHECK_THAT(out, Catch::Contains("decision rows reached (100%)"));
      CHECK_THAT(out, !Catch::Contains("FAIL"));

      // The same in-process: every case passed, every row reached.
      std::string tests = sourcePath(ex + "/tests.yaml");
      InProcess r = runInProcess(sourcePath(ex + "/" + name + ".rules"), sourcePath(ex + "/rekindle.yaml"), tests, readText(tests));
      INFO(r.fatal);
      REQUIRE(r.report);
      CHECK(r.diags.empty());
      CHECK(r.report->failed() == 0);
      CHECK(r.report->cases.size() >= 10);
      CHECK(r.report->rowCoverage() == 100.0);
      for (const auto& row : r.report->rows) {
        INFO(tableName(row.table) << " row " << row.row << " at line " << row.loc.line);
        CHECK(row.cases > 0);
      }
    }
  }
}

TEST_CASE("a failing case says what it expected, what it got, which rule decided and where the case is", "[ruletest]") {
  std::string dir = tempDir("ruletest");
  std::string tests = writeTemp(dir, "tests.yaml", R"(as_of: 2026-11-23T09:00:00+08:00
defaults: { signup_at: 2024-01-15, account_type: b2c, email: a@example.com, consent_email: true, consent_sms: false, consent_push: false }
cases:
  - name: a dormant customer is still dormant
    events:
      - { at: now - 400d, kind: purchase, amount: 120 }
    expect: { stage: dormant, offer: HOLIDAY_PREVIEW }

  - name: a lapsed buyer wrongly expected to be active
    events:
      - { at: now - 400d, kind: purchase, amount: 120 }
    expect: { stage: active, segments: [high_value], channel: email, send: true, offer: NEW_ARRIVALS }
)");
  std::string out;
  int status = runRekindle("test examples/retail/retail.rules " + tests + " --config examples/retail/rekindle.yaml", out);
  INFO(out);
  CHECK(status == 1);
  // Where the case is, and its name.
  CHECK_THAT(out, Catch::Contains("FAIL " + tests + ":9: a lapsed buyer wrongly expected to be active"));
  CHECK_THAT(out, Catch::Contains("customer 2, as of 2026-11-23T09:00:00+08:00"));
  // Expected and got, column by column, with the rule that decided.
  std::string retail = readText(sourcePath("examples/retail/retail.rules"));
  auto lineOf = [&](const std::string& text) {
    size_t at = retail.find(text);
    REQUIRE(at != std::string::npos);
    return std::to_string(1 + std::count(retail.begin(), retail.begin() + static_cast<long>(at), '\n'));
  };
  CHECK_THAT(out, Catch::Contains("stage:    expected active, got dormant"));
  CHECK_THAT(out, Catch::Contains("because stage: dormant @ retail.rules:" + lineOf("  dormant        when quiet")));
  CHECK_THAT(out, Catch::Contains("segments: expected [high_value], got []"));
  CHECK_THAT(out, Catch::Contains("because segment high_value @ retail.rules:" + lineOf("segment high_value ") + " is false"));
  CHECK_THAT(out, Catch::Contains("offer:    expected NEW_ARRIVALS, got HOLIDAY_PREVIEW"));
  CHECK_THAT(out, Catch::Contains("because offer: HOLIDAY_PREVIEW @ retail.rules:" + lineOf("  HOLIDAY_PREVIEW ")));
  CHECK_THAT(out, Catch::Contains("decided by: stage: dormant @ retail.rules:"));
  // Columns that matched are not listed.
  CHECK_THAT(out, !Catch::Contains("channel:  expected"));
  CHECK_THAT(out, !Catch::Contains("send:"));
  // The passing case is not listed; the summary counts both.
  CHECK_THAT(out, !Catch::Contains("a dormant customer is still dormant"));
  CHECK_THAT(out, Catch::Contains("1 passed, 1 failed"));

  // --verbose lists the passing case too.
  CHECK(runRekindle("test examples/retail/retail.rules " + tests + " --config examples/retail/rekindle.yaml -v", out) == 1);
  CHECK_THAT(out, Catch::Contains("ok   " + tests + ":4: a dormant customer is still dormant"));

  // In-process, the report carries the same facts.
  InProcess r = runInProcess(sourcePath("examples/retail/retail.rules"), sourcePath("examples/retail/rekindle.yaml"), tests, readText(tests));
  REQUIRE(r.report);
  REQUIRE(r.report->cases.size() == 2);
  CHECK(r.report->cases[0].passed);
  const TestCaseResult& failed = r.report->cases[1];
  CHECK_FALSE(failed.passed);
  CHECK(failed.loc.line == 9);
  CHECK(failed.customerId == "2");
  REQUIRE(failed.diffs.size() == 3);
  CHECK(failed.diffs[0].column == "stage");
  CHECK(failed.diffs[0].expected == "active");
  CHECK(failed.diffs[0].got == "dormant");
  std::string out2;
  runCommand("rm -rf " + dir, out2);
}

TEST_CASE("caps, holdout and copies are explained when they fail", "[ruletest]") {
  std::string dir = tempDir("ruletest");
  std::string tests = writeTemp(dir, "tests.yaml", R"(as_of: 2026-11-23T09:00:00+08:00
defaults: { signup_at: 2024-01-15, account_type: b2c, email: a@example.com, consent_email: true, consent_sms: false, consent_push: false }
cases:
  - name: capped, but expected to be sent
    events:
      - { at: now - 120d, kind: purchase, amount: 80 }
      - { at: now - 6d, kind: email_sent, channel: email }
      - { at: now - 2d, kind: email_sent, channel: email }
    expect: { send: true, suppressed_by: ~ }
  - name: held out, but expected to be sent
    id: C16
    events:
      - { at: now - 60d, kind: purchase, amount: 150 }
      - { at: now - 20d, kind: purchase, amount: 90 }
    expect: { holdout: false }
  - name: copies that are not what they seem
    id: many
    copies: 3
    expect: { stage: active }
)");
  std::string out;
  CHECK(runRekindle("test examples/retail/retail.rules " + tests + " --config examples/retail/rekindle.yaml", out) == 1);
  INFO(out);
  CHECK_THAT(out, Catch::Contains("send:          expected true, got false"));
  CHECK_THAT(out, Catch::Contains("because suppressed by cap email 2 per 7d; caps on email: cap email 2 per 7d has 2 contacts (full)"));
  CHECK_THAT(out, Catch::Contains("suppressed_by: expected (empty), got cap email 2 per 7d"));
  CHECK_THAT(out, Catch::Contains("holdout: expected false, got true"));
  CHECK_THAT(out, Catch::Contains("with salt \"retail-2026q4\" is below 10%"));
  CHECK_THAT(out, Catch::Contains("customer many-1 (3 of 3 copies fail)"));
  CHECK_THAT(out, Catch::Contains("0 passed, 3 failed"));
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("mistakes in a tests file are located errors, not failing cases", "[ruletest]") {
  std::string dir = tempDir("ruletest");
  std::string out;
  auto run = [&](const std::string& text) {
    std::string tests = writeTemp(dir, "tests.yaml", text);
    return runRekindle("test examples/retail/retail.rules " + tests + " --config examples/retail/rekindle.yaml", out);
  };
  std::string path = dir + "/tests.yaml";

  // Not YAML: the parser's position.
  CHECK(run("cases:\n  - name: x\n    customer: { signup_at: 2024-01-01\n") == 1);
  CHECK_THAT(out, Catch::Matches("(.|\n)*" + path + ":[0-9]+:[0-9]+: error\\[E060\\]: not valid YAML(.|\n)*"));

  const std::string head = "as_of: 2026-11-23T09:00:00+08:00\n"
                           "defaults: { signup_at: 2024-01-15, account_type: b2c, consent_email: true, consent_sms: false, consent_push: false }\n"
                           "cases:\n";
  // A misspelt field: where, and what was meant.
  CHECK(run(head + "  - name: typo\n    customer: { consent_emial: true }\n") == 1);
  CHECK_THAT(out, Catch::Contains(path + ":5:17: error[E060]: 'consent_emial' is not a customer field of examples/retail/rekindle.yaml"));
  CHECK_THAT(out, Catch::Contains("did you mean 'consent_email'?"));
  CHECK_THAT(out, !Catch::Contains("passed"));

  // A value that does not parse by the schema.
  CHECK(run(head + "  - name: bad time\n    events:\n      - { at: yesterday, kind: purchase }\n") == 1);
  CHECK_THAT(out, Catch::Contains(path + ":6:15: error[E060]: 'yesterday' is not a time"));

  // A non-nullable field nobody sets is named.
  CHECK(run("as_of: 2026-11-23T09:00:00+08:00\ncases:\n  - name: bare\n    customer: { signup_at: 2024-01-15 }\n") == 1);
  CHECK_THAT(out, Catch::Contains("case 'bare' does not set account_type, consent_email, consent_sms, consent_push (not nullable in"));

  // An unknown key, an unknown stage in expect, an unknown param.
  CHECK(run(head + "  - name: keys\n    expects: { stage: dormant }\n") == 1);
  CHECK_THAT(out, Catch::Contains(path + ":5:5: error[E060]: unknown key 'expects' in a case"));
  CHECK_THAT(out, Catch::Contains("did you mean 'expect'?"));
  CHECK(run(head + "  - name: stage\n    expect: { stage: dormnt }\n") == 1);
  CHECK_THAT(out, Catch::Contains(path + ":5:22: error[E060]: 'dormnt' is not a stage of retail.rules"));
  CHECK_THAT(out, Catch::Contains("did you mean 'dormant'?"));
  CHECK(run(head + "  - name: param\n    params: { dormant_afer: 300d }\n") == 1);
  CHECK_THAT(out, Catch::Contains("the rules declare no param 'dormant_afer'"));
  CHECK_THAT(out, Catch::Contains("did you mean 'dormant_after'?"));

  // Contacts in a config that takes them from the events.
  CHECK(run(head + "  - name: contacts\n    contacts:\n      - { at: now - 1d, channel: email }\n") == 1);
  CHECK_THAT(out, Catch::Contains("this config takes the contact history from the events"));

  // No cases, and a file that is not a mapping.
  CHECK(run("as_of: 2026-11-23T09:00:00+08:00\ncases: []\n") == 1);
  CHECK_THAT(out, Catch::Contains("`cases:` is empty"));
  CHECK(run("- just a list\n") == 1);
  CHECK_THAT(out, Catch::Contains("error[E060]: a tests file must be a mapping"));

  // A missing tests file.
  CHECK(runRekindle("test examples/retail/retail.rules " + dir + "/missing.yaml", out) == 1);
  CHECK_THAT(out, Catch::Contains("cannot read"));
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("rekindle test --min-coverage sets the exit status, and --coverage lists the rows no case reached", "[ruletest]") {
  std::string dir = tempDir("ruletest");
  std::string tests = writeTemp(dir, "tests.yaml", R"(as_of: 2026-11-23T09:00:00+08:00
cases:
  - name: a recent customer
    customer: { recency: 2, history_segment: "2) $100 - $200", history: 150, mens: true, womens: false, zip_code: Urban,
                newbie: false, purchase_channel: Web, test_group: Mens E-Mail, visit: false, conversion: false, spend: 0 }
    expect: { stage: recent, offer: MENS_SPRING }
)");
  std::string base = "test examples/hillstrom/hillstrom.rules " + tests + " --config examples/hillstrom/rekindle.yaml";
  std::string out;
  // Passing cases, no threshold: 0, even with low coverage.
  CHECK(runRekindle(base, out) == 0);
  CHECK_THAT(out, Catch::Contains("1 passed, 0 failed"));
  CHECK_THAT(out, !Catch::Contains("coverage"));
  // --coverage: 2 of the 8 rows (recent, MENS_SPRING).
  CHECK(runRekindle(base + " --coverage", out) == 0);
  CHECK_THAT(out, Catch::Contains("coverage: 2 of 8 decision rows reached (25%)"));
  CHECK_THAT(out, Catch::Contains("hillstrom.rules:19"));
  CHECK_THAT(out, Catch::Contains("stage   lapsing when recency <= lapsing_after_months"));
  CHECK_THAT(out, Catch::Contains("offer   COMEBACK15 when stage in [lapsed, dormant] and high_value and test_group != \"No E-Mail\""));
  CHECK_THAT(out, Catch::Contains("never true:  new_this_year, high_value"));
  // Under the threshold: 1; at or over it: 0; not a percentage: 2.
  CHECK(runRekindle(base + " --min-coverage 100", out) == 1);
  CHECK_THAT(out, Catch::Contains("coverage 25% is below --min-coverage 100%"));
  CHECK(runRekindle(base + " --min-coverage 25%", out) == 0);
  CHECK(runRekindle(base + " --min-coverage 20", out) == 0);
  CHECK(runRekindle(base + " --min-coverage 30", out) == 1);
  CHECK(runRekindle(base + " --min-coverage lots", out) == 2);
  CHECK(runRekindle(base + " --min-coverage 101", out) == 2);
  // Usage errors.
  CHECK(runRekindle("test examples/hillstrom/hillstrom.rules", out) == 2);
  CHECK(runRekindle(base + " --frobnicate", out) == 2);
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("times relative to the clock, per-case clocks and params, and one population", "[ruletest]") {
  std::string tests = "/virtual/tests.yaml";
  std::string text = R"(as_of: 2026-11-23T09:00:00+08:00
params: { at_risk_after: 60d }
defaults: { signup_at: 2024-01-15, account_type: b2c, email: a@example.com, consent_email: true, consent_sms: false, consent_push: false }
cases:
  - name: 70 days is at risk with the file's param
    events: [ { at: now - 70d, kind: purchase, amount: 80 } ]
    expect: { stage: at_risk }
  - name: the case's own param wins
    params: { at_risk_after: 90d }
    events: [ { at: now - 70d, kind: purchase, amount: 80 } ]
    expect: { stage: first_purchase }
  - name: relative times follow the case's own clock
    as_of: 2027-03-01T09:00:00+08:00
    events: [ { at: now - 30d, kind: purchase, amount: 80 } ]
    expect: { stage: first_purchase }
  - name: points expiring today + 3d
    customer: { points_balance: 10, points_expire_on: today + 3d }
    events: [ { at: now - 100d, kind: purchase, amount: 80 } ]
    expect: { segments: [points_expiring], offer: POINTS_REMINDER }
  - name: population only
    copies: 4
)";
  InProcess r = runInProcess(sourcePath("examples/retail/retail.rules"), sourcePath("examples/retail/rekindle.yaml"), tests, text);
  for (const auto& d : r.diags) INFO(d.message);
  REQUIRE(r.report);
  for (const auto& c : r.report->cases) {
    INFO(c.name);
    for (const auto& d : c.diffs) INFO(d.column << ": expected " << d.expected << ", got " << d.got << " because " << d.why);
    CHECK(c.passed);
  }
  // 4 cases of one customer and 4 copies: 8 customers decided, counted in the coverage.
  uint64_t decided = 0;
  for (const auto& row : r.report->rows)
    if (row.table == TableKind::Stage) decided += row.cases;
  CHECK(decided == 8);
  CHECK(r.report->cases[4].customerId == "5-1");
  CHECK_FALSE(r.report->cases[4].hasExpect);
}
