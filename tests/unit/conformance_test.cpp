// The conformance programs of tests/conformance: each NAME.rules runs against the shared data
// (or NAME.yaml when present) and its decisions must equal NAME.expected, a CSV holding the
// columns under test, worked out by hand from the language reference. Each program also runs
// through a compiled .rkb and must give byte-identical output. Directives in the first lines:
//   # param: NAME=VALUE      a --param override
//   # output: jsonl          compare the JSON Lines output with NAME.expected.jsonl instead
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/vm.h"
#include "test_support.h"

using namespace rekindle;
using namespace rekindle::test;

namespace {

std::string stem(const std::string& path) { return path.substr(0, path.size() - 6); }  // drop ".rules"

RunRequest requestFor(const std::string& rules) {
  RunRequest r;
  r.rulesPath = rules;
  r.configPath = fileExists(stem(rules) + ".yaml") ? stem(rules) + ".yaml" : sourcePath("tests/conformance/rekindle.yaml");
  std::istringstream in(readText(rules));
  std::string line;
  while (std::getline(in, line) && line.rfind("#", 0) == 0) {
    if (line.rfind("# param: ", 0) == 0) {
      std::string kv = line.substr(9);
      size_t eq = kv.find('=');
      r.params.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    if (line == "# output: jsonl") r.jsonl = true;
  }
  return r;
}

}  // namespace

TEST_CASE("conformance programs give their expected decisions", "[conformance]") {
  auto programs = listFiles(sourcePath("tests/conformance"), ".rules");
  REQUIRE(programs.size() >= 40);
  for (const auto& rules : programs) {
    DYNAMIC_SECTION(rules.substr(rules.rfind('/') + 1)) {
      RunRequest req = requestFor(rules);
      RunOutcome got = runRules(req);
      INFO(got.error);
      REQUIRE(got.ok);
      if (req.jsonl) {
        CHECK(got.output == readText(stem(rules) + ".expected.jsonl"));
      } else {
        auto expected = parseCsv(readText(stem(rules) + ".expected"));
        auto actual = parseCsv(got.output);
        REQUIRE(!expected.empty());
        REQUIRE(actual.size() == expected.size());
        std::vector<size_t> cols;
        for (const auto& name : expected[0]) {
          auto it = std::find(actual[0].begin(), actual[0].end(), name);
          INFO("column " << name);
          REQUIRE(it != actual[0].end());
          cols.push_back(static_cast<size_t>(it - actual[0].begin()));
        }
        for (size_t row = 1; row < expected.size(); ++row)
          for (size_t k = 0; k < cols.size(); ++k) {
            INFO("customer " << actual[row][0] << ", column " << expected[0][k]);
            CHECK(actual[row][cols[k]] == expected[row][k]);
          }
      }
      // The same program through .rkb bytes gives the same output, byte for byte.
      req.viaRkb = true;
      RunOutcome viaRkb = runRules(req);
      INFO(viaRkb.error);
      REQUIRE(viaRkb.ok);
      CHECK(viaRkb.output == got.output);
      // And with every field in memory, not only those the rules read.
      req.viaRkb = false;
      req.allFields = true;
      RunOutcome all = runRules(req);
      INFO(all.error);
      REQUIRE(all.ok);
      CHECK(all.output == got.output);
    }
  }
}

TEST_CASE("the examples decide the same with only the fields their rules read in memory, or every field", "[conformance]") {
  const char* examples[][2] = {{"examples/retail/retail.rules", "examples/retail/rekindle.yaml"},
                               {"examples/dormant/dormant.rules", "examples/dormant/rekindle.yaml"},
                               {"examples/b2b/b2b.rules", "examples/b2b/rekindle.yaml"},
                               {"examples/hillstrom/hillstrom.rules", "examples/hillstrom/rekindle.yaml"},
                               {"examples/cdnow/cdnow.rules", "examples/cdnow/rekindle.yaml"}};
  for (const auto& [rules, config] : examples) {
    INFO(rules);
    RunRequest req;
    req.rulesPath = sourcePath(rules);
    req.configPath = sourcePath(config);
    req.explain = true;
    req.threads = 2;
    RunOutcome kept = runRules(req);
    INFO(kept.error);
    REQUIRE(kept.ok);
    req.allFields = true;
    RunOutcome all = runRules(req);
    REQUIRE(all.ok);
    CHECK(kept.output == all.output);
  }
}

TEST_CASE("a field the rules do not read is still checked, but not kept in memory", "[conformance]") {
  const std::string dir = tempDir("fields-read");
  std::ofstream(dir + "/rekindle.yaml") << R"(timezone: UTC
as_of: 2026-11-23T12:00:00Z
customers:
  path: customers.csv
  id: id
  fields:
    name: string?
    score: int?
    email: string?
    consent_email: bool
events:
  path: events.csv
  customer: id
  time: at
  fields:
    kind: string
    amount: float?
    note: string?
channels:
  email: { consent: consent_email, requires: email }
)";
  std::ofstream(dir + "/customers.csv") << "id,name,score,email,consent_email\n"
                                           "C1,Ann,5,a@x,true\n"
                                           "C2,Bo,lots,b@x,true\n"  // an unread field, not an int
                                           "C3,Cy,7,,false\n";
  std::ofstream(dir + "/events.csv") << "id,at,kind,amount,note\n"
                                        "C1,2026-11-01,purchase,10,hi\n"
                                        "C1,2026-11-02,purchase,much,hi\n"  // an unread field, not a float
                                        "C3,2026-11-03,visit,,there\n";
  std::vector<Diagnostic> diags;
  auto config = loadConfig(dir + "/rekindle.yaml", diags);
  REQUIRE(config);
  SourceFile src("t.rules", "rules t\nsegment buyer when exists(events where kind == \"purchase\")\n"
                            "channel\n  email otherwise\nend\n");
  CompileResult compiled = compileRules(src, *config);
  REQUIRE(compiled.program);
  LoadOptions load;
  keepFieldsRead(*compiled.program, *config, load);
  CHECK(load.keepCustomerFields == std::vector<bool>{true, false, false, true, true});  // id, email, consent
  CHECK(load.keepEventFields == std::vector<bool>{true, true, false, false});            // at, kind
  std::string fatal;
  auto data = loadDataset(*config, load, fatal);
  REQUIRE(data);
  // The bad values are rejected all the same.
  REQUIRE(data->rejects.size() == 2);
  CHECK(data->rejects[0].field == "score");
  CHECK(data->rejects[1].field == "amount");
  REQUIRE(data->customerCount == 2);
  CHECK(data->customers[1].get(0).isNull());  // name: not kept
  CHECK(*data->customers[3].get(0).s == "a@x");
  CHECK(data->events[0].size() == 2);
  CHECK(data->events[1].size() == 2);
  CHECK(data->events[2].size() == 0);  // amount: not kept
  CHECK(data->events[3].size() == 0);
}
