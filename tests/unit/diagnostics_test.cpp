// Golden diagnostics: every tests/diagnostics/NAME.rules must produce exactly the rendered
// diagnostics in NAME.err (codes, messages, locations, carets, help). Against the conformance
// config unless NAME.yaml exists. REKINDLE_UPDATE_GOLDENS=1 rewrites the .err files (review the
// diff before committing it).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <set>

#include "test_support.h"

using namespace rekindle;
using namespace rekindle::test;

TEST_CASE("golden diagnostics", "[diagnostics]") {
  auto cases = listFiles(sourcePath("tests/diagnostics"), ".rules");
  REQUIRE(!cases.empty());
  bool update = std::getenv("REKINDLE_UPDATE_GOLDENS") != nullptr;
  // Catch runs the test case once per section, so the codes seen are kept across runs.
  static std::set<std::string> codes;
  for (const auto& path : cases) {
    std::string name = path.substr(path.rfind('/') + 1);
    std::string stem = path.substr(0, path.size() - 6);
    DYNAMIC_SECTION(name) {
      std::string configPath = fileExists(stem + ".yaml") ? stem + ".yaml" : sourcePath("tests/conformance/rekindle.yaml");
      std::vector<Diagnostic> configDiags;
      auto config = loadConfig(configPath, configDiags);
      REQUIRE(config);
      // Render with the path relative to the repository, so goldens do not depend on checkouts.
      SourceFile src("tests/diagnostics/" + name, readText(path));
      CompileResult r = compileRules(src, *config);
      std::string rendered;
      for (const auto& d : r.diags) {
        const SourceFile* s = d.file == src.path() ? &src : nullptr;
        for (const auto& p : r.preludeSources)
          if (p.path() == d.file) s = &p;
        rendered += renderDiagnostic(d, s, false);
        codes.insert(d.code);
      }
      CHECK_FALSE(r.program.has_value());  // every case is an error case
      if (update) {
        std::ofstream(stem + ".err", std::ios::binary) << rendered;
      } else {
        CHECK(rendered == readText(stem + ".err"));
      }
    }
  }
}

TEST_CASE("the golden diagnostics cover at least 25 distinct error codes", "[diagnostics]") {
  std::set<std::string> codes;
  for (const auto& err : listFiles(sourcePath("tests/diagnostics"), ".err")) {
    std::string text = readText(err);
    for (size_t p = text.find("error[E"); p != std::string::npos; p = text.find("error[E", p + 1))
      codes.insert(text.substr(p + 6, 4));
  }
  CHECK(codes.size() >= 25);
}
