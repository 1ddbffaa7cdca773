// The conformance programs of tests/conformance: each NAME.rules runs against the shared data
// (or NAME.yaml when present) and its decisions must equal NAME.expected, a CSV holding the
// columns under test, worked out by hand from the language reference. Each program also runs
// through a compiled .rkb and must give byte-identical output. Directives in the first lines:
//   # param: NAME=VALUE      a --param override
//   # output: jsonl          compare the JSON Lines output with NAME.expected.jsonl instead
#include <catch2/catch.hpp>

#include <sstream>

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
    }
  }
}
