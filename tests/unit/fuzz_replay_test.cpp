// Replays through the fuzz targets every input that once crashed a fuzzer
// (tests/fuzz/regressions/TARGET/*) and the seed corpora, so a fixed crash stays fixed.
#include <catch2/catch.hpp>

#include "fuzz_targets.h"
#include "rekindle/runtime/rkb.h"
#include "test_support.h"

using namespace rekindle;
using namespace rekindle::test;

namespace {
void replay(int (*target)(const uint8_t*, size_t), const std::vector<std::string>& files) {
  for (const auto& f : files) {
    INFO(f);
    std::string bytes = readText(f);
    CHECK(target(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) == 0);
  }
}
std::vector<std::string> regressions(const std::string& target) {
  return listFiles(sourcePath("tests/fuzz/regressions/" + target), "");
}
}  // namespace

TEST_CASE("fuzz regressions and seeds: the rules front end", "[fuzz]") {
  replay(fuzz::frontend, regressions("frontend"));
  replay(fuzz::frontend, listFiles(sourcePath("tests/conformance"), ".rules"));
  replay(fuzz::frontend, listFiles(sourcePath("tests/diagnostics"), ".rules"));
}

TEST_CASE("fuzz regressions and seeds: CSV", "[fuzz]") {
  replay(fuzz::csv, regressions("csv"));
  replay(fuzz::csv, listFiles(sourcePath("tests/suites/csv-spectrum/csvs"), ".csv"));
}

TEST_CASE("fuzz regressions and seeds: JSON Lines", "[fuzz]") {
  replay(fuzz::jsonl, regressions("jsonl"));
  replay(fuzz::jsonl, listFiles(sourcePath("tests/suites/JSONTestSuite/test_parsing"), ".json"));
}

TEST_CASE("fuzz regressions and seeds: .rkb", "[fuzz]") {
  replay(fuzz::rkb, regressions("rkb"));
  // Damaged copies of a real program: every single-byte change is refused or runs safely.
  RunRequest r;
  r.rulesPath = sourcePath("tests/conformance/spec_example.rules");
  r.configPath = sourcePath("tests/conformance/rekindle.yaml");
  RunOutcome out = runRules(r);
  REQUIRE(out.program);
  std::string bytes = serializeProgram(*out.program);
  for (size_t i = 0; i < bytes.size(); i += 7) {
    std::string b = bytes;
    b[i] = static_cast<char>(b[i] ^ 0x5A);
    CHECK(fuzz::rkb(reinterpret_cast<const uint8_t*>(b.data()), b.size()) == 0);
  }
}
