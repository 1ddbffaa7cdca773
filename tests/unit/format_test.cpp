// `rekindle fmt`: the formatter keeps every program's meaning (the bytecode compiled before and
// after is the same but for source locations), keeps every comment, is idempotent, and gives the
// expected layout on the cases of tests/format (NAME.rules formats to NAME.formatted).
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include "rekindle/compiler/compiler.h"
#include "rekindle/compiler/format.h"
#include "rekindle/runtime/config.h"
#include "rekindle/runtime/rkb.h"
#include "test_support.h"

using namespace rekindle;
using namespace rekindle::test;

namespace {

const std::string kBin = REKINDLE_BINARY;

std::string stem(const std::string& path) { return path.substr(0, path.rfind('.')); }

std::string dirOf(const std::string& path) { return path.substr(0, path.rfind('/')); }

// The config a rules file is compiled against: NAME.yaml beside it, else rekindle.yaml in its
// folder, else the conformance programs' shared config.
std::string configFor(const std::string& rules) {
  if (fileExists(stem(rules) + ".yaml")) return stem(rules) + ".yaml";
  if (fileExists(dirOf(rules) + "/rekindle.yaml")) return dirOf(rules) + "/rekindle.yaml";
  return sourcePath("tests/conformance/rekindle.yaml");
}

// The program with every source location zeroed: what must not change. (A where / streak
// condition's chunk is labelled with its position: "where condition at 12:30".)
Program withoutLocations(const std::string& path, const std::string& text, const Config& config) {
  SourceFile src(path, text);
  CompileResult r = compileRules(src, config);
  std::string diags;
  for (const auto& d : r.diags) diags += renderDiagnostic(d, &src, false);
  INFO(diags);
  REQUIRE(r.program);
  Program p = std::move(*r.program);
  for (auto& c : p.chunks) {
    for (auto& l : c.locs) l = SourceLoc{};
    size_t at = c.label.rfind(" at ");
    if (c.kind == ChunkKind::Element && at != std::string::npos) c.label.erase(at);
  }
  for (auto& t : p.tables) {
    t.loc = SourceLoc{};
    for (auto& row : t.rows) row.loc = SourceLoc{};
  }
  for (auto& l : p.lets) l.loc = SourceLoc{};
  for (auto& s : p.segments) s.loc = SourceLoc{};
  for (auto& c : p.caps) c.loc = SourceLoc{};
  p.holdout.loc = SourceLoc{};
  return p;
}

size_t countComments(const std::string& text) {
  // Every '#' that starts a comment: outside string literals.
  size_t n = 0;
  bool inString = false;
  for (size_t k = 0; k < text.size(); ++k) {
    char c = text[k];
    if (inString) {
      if (c == '\\') ++k;
      else if (c == '"' || c == '\n') inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '#') {
      ++n;
      while (k < text.size() && text[k] != '\n') ++k;
    }
  }
  return n;
}

std::string format(const std::string& path, const std::string& text) {
  std::vector<Diagnostic> diags;
  auto out = formatRules(SourceFile(path, text), diags);
  std::string rendered;
  for (const auto& d : diags) rendered += d.message + "\n";
  INFO(rendered);
  REQUIRE(out);
  return *out;
}

// The properties every formatted file must have.
void checkFormatting(const std::string& path) {
  std::string text = readText(path);
  std::string once = format(path, text);
  CHECK(format(path, once) == once);                     // idempotent
  CHECK(countComments(once) == countComments(text));     // every comment kept
  std::vector<Diagnostic> diags;
  auto config = loadConfig(configFor(path), diags);
  REQUIRE(config);
  Program before = withoutLocations(path, text, *config), after = withoutLocations(path, once, *config);
  CHECK(disassemble(after) == disassemble(before));  // readable when it fails
  CHECK(serializeProgram(after) == serializeProgram(before));
}

}  // namespace

TEST_CASE("fmt keeps the meaning and the comments of every conformance program", "[fmt]") {
  auto files = listFiles(sourcePath("tests/conformance"), ".rules");
  REQUIRE(files.size() >= 40);
  for (const auto& f : files)
    DYNAMIC_SECTION(f.substr(f.rfind('/') + 1)) { checkFormatting(f); }
}

TEST_CASE("fmt keeps the meaning and the comments of every example", "[fmt]") {
  std::string out;
  REQUIRE(runCommand("ls " + sourcePath("examples") + "/*/*.rules", out) == 0);
  size_t n = 0;
  for (size_t b = 0, e; (e = out.find('\n', b)) != std::string::npos; b = e + 1) {
    std::string f = out.substr(b, e - b);
    DYNAMIC_SECTION(f.substr(f.rfind('/') + 1)) { checkFormatting(f); }
    ++n;
  }
  CHECK(n >= 5);
}

TEST_CASE("fmt gives the expected layout on the format cases", "[fmt]") {
  auto files = listFiles(sourcePath("tests/format"), ".rules");
  REQUIRE(files.size() >= 5);
  for (const auto& f : files) {
    DYNAMIC_SECTION(f.substr(f.rfind('/') + 1)) {
      checkFormatting(f);
      std::string expected = readText(stem(f) + ".formatted");
      REQUIRE(!expected.empty());
      CHECK(format(f, readText(f)) == expected);
      CHECK(format(f, expected) == expected);
    }
  }
}

TEST_CASE("fmt is idempotent on the prelude and on the diagnostics cases that parse", "[fmt]") {
  std::vector<std::string> files = listFiles(sourcePath("tests/diagnostics"), ".rules");
  files.push_back(sourcePath("stdlib/std/lifecycle.rules"));
  size_t formatted = 0;
  for (const auto& f : files) {
    std::string text = readText(f);
    std::vector<Diagnostic> diags;
    auto once = formatRules(SourceFile(f, text), diags);
    if (!once) {
      // Refused: only for syntax errors, which are reported.
      CHECK(hasErrors(diags));
      continue;
    }
    ++formatted;
    INFO(f);
    CHECK(format(f, *once) == *once);
    CHECK(countComments(*once) == countComments(text));
  }
  CHECK(formatted > 5);
}

TEST_CASE("fmt normalises what has one meaning and keeps what the author wrote", "[fmt]") {
  CHECK(format("t.rules", "let   x=[1,2 ,3,]\n") == "let x = [1, 2, 3]\n");
  // Numbers keep their spelling: 2000.0 is a float, 0.50 may be money.
  CHECK(format("t.rules", "param p = 0.50\nparam q = 2000.0\n") == "param p = 0.50\nparam q = 2000.0\n");
  // Strings are re-escaped: a raw tab becomes \t, escapes stay minimal.
  CHECK(format("t.rules", "let s = \"a\tb \\\"c\\\" \\\\ 沉睡\"\n") == "let s = \"a\\tb \\\"c\\\" \\\\ 沉睡\"\n");
  // Parentheses are kept, never added.
  CHECK(format("t.rules", "let x = ((1 + 2)) * 3 - 4 * 5\n") == "let x = ((1 + 2)) * 3 - 4 * 5\n");
  // CRLF line ends, trailing blanks and missing final newline.
  CHECK(format("t.rules", "let x = 1  \r\n\r\n\r\n\r\nlet y = 2") == "let x = 1\n\nlet y = 2\n");
  CHECK(format("t.rules", "") == "");
  CHECK(format("t.rules", "# only a comment") == "# only a comment\n");
  // A remainder next to a number needs its spaces: `10 % 3` stays a remainder.
  CHECK(format("t.rules", "let r = score % 3\n") == "let r = score % 3\n");
}

TEST_CASE("fmt refuses a file that does not parse and says why", "[fmt]") {
  std::vector<Diagnostic> diags;
  auto out = formatRules(SourceFile("bad.rules", "let x = \nstage\n  a when\nend\n"), diags);
  CHECK_FALSE(out);
  CHECK(hasErrors(diags));
}

TEST_CASE("rekindle fmt rewrites in place and --check reports without writing", "[fmt][cli]") {
  std::string dir = tempDir("fmt"), out;
  std::string messy = "let   x=1\nlet yy = 2 # c\n";
  std::string clean = "let x  = 1\nlet yy = 2  # c\n";
  std::ofstream(dir + "/a.rules") << messy;
  std::ofstream(dir + "/b.rules") << clean;
  std::ofstream(dir + "/bad.rules") << "let x = (1\n";

  // --check: exit 1, names the file that would change, writes nothing.
  CHECK(runCommand("NO_COLOR=1 " + kBin + " fmt --check " + dir + "/a.rules " + dir + "/b.rules", out) == 1);
  CHECK_THAT(out, Catch::Contains("a.rules"));
  CHECK_THAT(out, Catch::Contains("-let   x=1"));
  CHECK_THAT(out, Catch::Contains("+let x  = 1"));
  CHECK_THAT(out, !Catch::Contains("b.rules: not formatted"));
  CHECK(readText(dir + "/a.rules") == messy);
  CHECK(runCommand(kBin + " fmt --check " + dir + "/b.rules", out) == 0);
  CHECK(out.empty());

  // In place: silent, the file is formatted, no temporary left behind, the mode kept.
  REQUIRE(runCommand("chmod 640 " + dir + "/a.rules", out) == 0);
  CHECK(runCommand(kBin + " fmt " + dir + "/a.rules " + dir + "/b.rules", out) == 0);
  CHECK(out.empty());
  CHECK(readText(dir + "/a.rules") == clean);
  CHECK(runCommand(kBin + " fmt --check " + dir + "/a.rules", out) == 0);
  REQUIRE(runCommand("ls -a " + dir + " && stat -c %a " + dir + "/a.rules", out) == 0);
  CHECK_THAT(out, !Catch::Contains(".tmp"));
  CHECK_THAT(out, Catch::Contains("640"));

  // A file that does not parse: diagnostics, exit 1, untouched.
  CHECK(runCommand("NO_COLOR=1 " + kBin + " fmt " + dir + "/bad.rules", out) == 1);
  CHECK_THAT(out, Catch::Contains("bad.rules:"));
  CHECK_THAT(out, Catch::Contains("error"));
  CHECK(readText(dir + "/bad.rules") == "let x = (1\n");
  CHECK(runCommand(kBin + " fmt --check " + dir + "/bad.rules", out) == 1);
  CHECK(runCommand(kBin + " fmt " + dir + "/missing.rules", out) == 1);

  // Standard input to standard output.
  CHECK(runCommand("printf 'let   x=1\\n' | " + kBin + " fmt -", out) == 0);
  CHECK(out == "let x = 1\n");
  CHECK(runCommand(kBin + " fmt", out) == 2);
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("every example passes rekindle fmt --check", "[fmt][cli][examples]") {
  std::string out;
  INFO(out);
  CHECK(runCommand("cd " + sourcePath("") + " && " + kBin + " fmt --check examples/*/*.rules", out) == 0);
}
