// The `rekindle` executable end to end: exit codes, diagnostics on stderr, the examples'
// expected decisions from source and from a compiled .rkb, disassembly, atomic output.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include "huge_pages.h"
#include "test_support.h"

using namespace rekindle::test;

namespace {

const std::string kBin = REKINDLE_BINARY;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("three mistakes give three located diagnostics and exit status 1", "[cli]") {
  std::string out;
  int status = runCommand("NO_COLOR=1 " + kBin + " lint tests/diagnostics/three_errors.rules --config tests/conformance/rekindle.yaml", out);
  CHECK(status == 1);
  CHECK_THAT(out, Catch::Contains("three_errors.rules:4:21: error[E011]: unknown name 'signup_date'"));
  CHECK_THAT(out, Catch::Contains("three_errors.rules:5:18: error[E021]: cannot compare int? with duration"));
  CHECK_THAT(out, Catch::Contains("three_errors.rules:2:9: error[E023]: dependency cycle: let a -> let b -> let a"));
  CHECK(count(out, "^") >= 3);
  CHECK_THAT(out, Catch::Contains("3 errors"));
  // `run` refuses the same file with the same status.
  CHECK(runCommand(kBin + " run tests/diagnostics/three_errors.rules --config tests/conformance/rekindle.yaml", out) == 1);
}

TEST_CASE("usage errors exit with status 2", "[cli]") {
  std::string out;
  CHECK(runCommand(kBin + " run", out) == 2);
  CHECK(runCommand(kBin + " frobnicate", out) == 2);
  CHECK(runCommand(kBin + " run examples/retail/retail.rules --format xml", out) == 2);
  CHECK(runCommand(kBin + " run examples/retail/retail.rules --as-of yesterday", out) == 2);
}

TEST_CASE("every example gives its expected decisions, from source and from .rkb", "[cli][examples]") {
  std::string dir = tempDir("test");
  for (const char* name : {"retail", "dormant", "b2b"}) {
    DYNAMIC_SECTION(name) {
      std::string ex = std::string("examples/") + name;
      std::string rules = ex + "/" + name + ".rules", config = ex + "/rekindle.yaml";
      std::string expected = readText(sourcePath(ex + "/expected.csv"));
      // An example that ships the previous run's decisions is run with them.
      std::string extra = fileExists(sourcePath(ex + "/previous.csv")) ? " --previous " + ex + "/previous.csv" : "";
      std::string out;
      INFO(out);
      REQUIRE(runCommand(kBin + " run " + rules + " --config " + config + extra + " --out " + dir + "/src.csv --quiet", out) == 0);
      CHECK(readText(dir + "/src.csv") == expected);
      REQUIRE(runCommand(kBin + " compile " + rules + " --config " + config + " -o " + dir + "/p.rkb", out) == 0);
      REQUIRE(runCommand(kBin + " run " + dir + "/p.rkb --config " + config + extra + " --out " + dir + "/rkb.csv --quiet", out) == 0);
      CHECK(readText(dir + "/rkb.csv") == expected);
      REQUIRE(runCommand(kBin + " disasm " + dir + "/p.rkb", out) == 0);
      CHECK_THAT(out, Catch::Contains("table stage"));
      CHECK_THAT(out, Catch::Contains("Return"));
    }
  }
  std::string out;
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("a damaged .rkb is refused with a clear message", "[cli]") {
  std::string dir = tempDir("test"), out;
  REQUIRE(runCommand(kBin + " compile examples/retail/retail.rules -o " + dir + "/p.rkb", out) == 0);
  std::string bytes = readText(dir + "/p.rkb");
  bytes[bytes.size() / 2] ^= 0x5a;
  std::ofstream(dir + "/bad.rkb", std::ios::binary) << bytes;
  CHECK(runCommand(kBin + " run " + dir + "/bad.rkb --config examples/retail/rekindle.yaml", out) == 1);
  CHECK_THAT(out, Catch::Contains("refused: checksum mismatch"));
  CHECK(runCommand(kBin + " disasm " + dir + "/bad.rkb", out) == 1);
  // Compiled against another schema: refused at bind time.
  CHECK(runCommand(kBin + " run " + dir + "/p.rkb --config tests/conformance/rekindle.yaml --out " + dir + "/x.csv", out) == 1);
  CHECK_THAT(out, Catch::Contains("another schema"));
  CHECK_FALSE(fileExists(dir + "/x.csv"));
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("a failed run leaves no file under the output's name", "[cli]") {
  std::string dir = tempDir("test"), out;
  std::ofstream(dir + "/cfg.yaml") << readText(sourcePath("tests/conformance/rekindle.yaml"));
  // An unreadable events export fails the run after the output was opened.
  std::string cfg = readText(dir + "/cfg.yaml");
  cfg.replace(cfg.find("path: data/customers.csv"), 24, "path: " + sourcePath("tests/conformance/data/customers.csv"));
  cfg.replace(cfg.find("path: data/events.csv"), 21, "path: " + dir + "/missing.csv");
  std::ofstream(dir + "/cfg.yaml") << cfg;
  CHECK(runCommand(kBin + " run tests/conformance/spec_example.rules --config " + dir + "/cfg.yaml --out " + dir + "/d.csv", out) == 1);
  CHECK_THAT(out, Catch::Contains("missing.csv"));
  CHECK_FALSE(fileExists(dir + "/d.csv"));
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("run with --out - writes decisions to standard output and the summary to stderr", "[cli]") {
  std::string out;
  REQUIRE(runCommand(kBin + " run tests/conformance/spec_example.rules --config tests/conformance/rekindle.yaml --out - 2>/dev/null", out) == 0);
  auto rows = parseCsv(out);
  REQUIRE(rows.size() == 7);
  CHECK(rows[0][0] == "customer_id");
  CHECK(rows[3][1] == "at_risk");
  REQUIRE(runCommand(kBin + " run tests/conformance/spec_example.rules --config tests/conformance/rekindle.yaml --out - --format jsonl 2>/dev/null", out) == 0);
  CHECK_THAT(out, Catch::StartsWith("{\"customer_id\":\"A1\",\"stage\":\"active\",\"segments\":[\"email_engaged\"]"));
}

TEST_CASE("a device or a pipe as the output is written in place, never replaced", "[cli]") {
  // Before: the decisions were renamed over /dev/null, turning it into a regular file.
  std::string dir = tempDir("test"), out;
  REQUIRE(runCommand("mkfifo " + dir + "/pipe", out) == 0);
  // A reader on the FIFO, as a shell pipeline would have; given up after a while, so that a run
  // that never opens the FIFO fails the test instead of hanging it.
  REQUIRE(runCommand("(timeout 20 cat " + dir + "/pipe > " + dir + "/read.csv 2>/dev/null &) ; " + kBin +
                         " run tests/conformance/spec_example.rules --config tests/conformance/rekindle.yaml --out " + dir +
                         "/pipe --quiet && sleep 0.2",
                     out) == 0);
  CHECK(runCommand("test -p " + dir + "/pipe", out) == 0);  // still a FIFO
  CHECK(parseCsv(readText(dir + "/read.csv")).size() == 7);
  CHECK_FALSE(fileExists(dir + "/pipe.rejects.csv"));
  REQUIRE(runCommand(kBin + " run tests/conformance/spec_example.rules --config tests/conformance/rekindle.yaml --out /dev/null --quiet", out) == 0);
  CHECK(runCommand("test -c /dev/null", out) == 0);  // still the null device
  CHECK_FALSE(fileExists("/dev/null.rejects.csv"));
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("commands start again on huge pages unless told not to", "[cli][memory]") {
  using rekindle::cli::hugePagesTunables;
  CHECK(hugePagesTunables("run", nullptr, nullptr) == "glibc.malloc.hugetlb=1");
  CHECK(hugePagesTunables("explain", "1", "") == "glibc.malloc.hugetlb=1");
  // The user's own tunables are kept.
  CHECK(hugePagesTunables("run", nullptr, "glibc.malloc.arena_max=2") == "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1");
  // Set already (by the user, or by the first start: no second exec), opted out, or the server.
  CHECK(!hugePagesTunables("run", nullptr, "glibc.malloc.hugetlb=0"));
  CHECK(!hugePagesTunables("run", nullptr, "glibc.malloc.hugetlb=1"));
  CHECK(!hugePagesTunables("run", "0", nullptr));
  CHECK(!hugePagesTunables("lsp", nullptr, nullptr));
  CHECK(!hugePagesTunables(nullptr, nullptr, nullptr));
}

TEST_CASE("a run decides the same bytes on huge pages or not", "[cli][memory]") {
  std::string on, off, out;
  const std::string run = kBin + " run examples/retail/retail.rules --config examples/retail/rekindle.yaml --quiet --out ";
  REQUIRE(runCommand("env -u GLIBC_TUNABLES " + run + "/tmp/rekindle_hp_on.csv", out) == 0);
  REQUIRE(runCommand("REKINDLE_HUGE_PAGES=0 env -u GLIBC_TUNABLES " + run + "/tmp/rekindle_hp_off.csv", out) == 0);
  on = readText("/tmp/rekindle_hp_on.csv");
  off = readText("/tmp/rekindle_hp_off.csv");
  CHECK(on == off);
  CHECK(on == readText(sourcePath("examples/retail/expected.csv")));
  std::remove("/tmp/rekindle_hp_on.csv");
  std::remove("/tmp/rekindle_hp_off.csv");
}
