// `rekindle test RULES TESTS.yaml`: run the table-driven cases of a tests file against the rules
// and say, for each failing case, what it expected, what it got and which rule decided; with
// --coverage, which decision rows no case reached. The format is in docs/testing.md.
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include "common.h"
#include "rekindle/runtime/testcase.h"

namespace rekindle::cli {
namespace {

struct TestArgs {
  std::string rules, tests, config, minCoverage;
  bool coverage = false;
  bool verbose = false;
};

bool stdoutColor() {
  const char* noColor = std::getenv("NO_COLOR");
  if (noColor && *noColor) return false;
  return ::isatty(1);
}


// "90", "90%", "87.5" -> 87.5
bool parsePercent(std::string text, double& out) {
  if (!text.empty() && text.back() == '%') text.pop_back();
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end && *end == '\0' && std::isfinite(out) && out >= 0 && out <= 100;
}

std::string pct(double v) {
  std::string s = fmt::format("{:.1f}", v);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s + "%";
}

int testCommand(const TestArgs& a) {
  double minCoverage = -1;
  if (!a.minCoverage.empty() && !parsePercent(a.minCoverage, minCoverage)) {
    printError("--min-coverage needs a percentage from 0 to 100, not '" + a.minCoverage + "'");
    return kExitUsage;
  }
  std::string testsText, error;
  if (!readFile(a.tests, testsText, error)) {
    printError(error);
    return kExitErrors;
  }
  SourceFile testsSrc(a.tests, testsText);
  std::vector<Diagnostic> diags;
  auto file = parseTestFile(a.tests, testsText, diags);
  if (!file) {
    printDiagnostics(diags, &testsSrc);
    return kExitErrors;
  }
  std::string configPath = !a.config.empty() ? a.config : file->config ? testFileConfigPath(*file) : findConfig("", a.rules);
  auto config = loadConfigOrReport(configPath);
  if (!config) return kExitErrors;

  // Rules: compiled here from source (the rows' text is shown in the coverage report), or a
  // compiled .rkb.
  std::string rulesText;
  if (!readFile(a.rules, rulesText, error)) {
    printError(error);
    return kExitErrors;
  }
  std::optional<SourceFile> rulesSrc;
  std::optional<CompileResult> compiled;
  std::optional<LoadedRules> loaded;
  const Program* program = nullptr;
  if (rulesText.compare(0, 4, std::string("RKB\0", 4)) == 0) {
    loaded = loadRules(a.rules, *config);
    if (!loaded) return kExitErrors;
    program = &loaded->program;
  } else {
    rulesSrc.emplace(a.rules, rulesText);
    compiled = compileRules(*rulesSrc, *config);
    if (!compiled->diags.empty()) printDiagnostics(compiled->diags, &*rulesSrc, compiled->preludeSources);
    if (!compiled->program) return kExitErrors;
    program = &*compiled->program;
  }

  diags.clear();
  std::string fatal;
  auto report = runTestFile(*file, *program, *config, diags, fatal);
  if (!report) {
    if (!diags.empty()) printDiagnostics(diags, &testsSrc);
    if (!fatal.empty()) printError(fatal);
    return kExitErrors;
  }

  bool color = stdoutColor();
  const char* red = color ? "\x1b[1;31m" : "";
  const char* green = color ? "\x1b[32m" : "";
  const char* bold = color ? "\x1b[1m" : "";
  const char* reset = color ? "\x1b[0m" : "";
  for (const TestCaseResult& c : report->cases) {
    if (c.passed) {
      if (a.verbose)
        fmt::print("{}ok{}   {}:{}: {}{}\n", green, reset, a.tests, c.loc.line, c.name, c.hasExpect ? "" : " (no expectations)");
      continue;
    }
    fmt::print("{}FAIL{} {}:{}: {}{}{}\n", red, reset, a.tests, c.loc.line, bold, c.name, reset);
    std::string who = "customer " + c.customerId;
    if (c.copies > 1) who += fmt::format(" ({} of {} copies fail)", c.failedCopies, c.copies);
    fmt::print("  {}, as of {}\n", who, c.asOf);
    size_t width = 0;
    for (const auto& d : c.diffs) width = std::max(width, d.column.size() + 1);
    for (const auto& d : c.diffs) {
      fmt::print("  {:<{}} expected {}, got {}\n", d.column + ":", width, d.expected, d.got);
      if (!d.why.empty()) fmt::print("  {:<{}} because {}\n", "", width, d.why);
    }
    fmt::print("  decided by: {}\n\n", c.decidedBy);
  }
  size_t passed = report->passed(), failed = report->failed();
  fmt::print("{}{} passed{}, {}{} failed{}\n", passed ? green : "", passed, reset, failed ? red : "", failed, reset);

  bool coverageLow = false;
  if (a.coverage || minCoverage >= 0) {
    double cov = report->rowCoverage();
    fmt::print("\ncoverage: {} of {} decision rows reached ({})\n", report->rowsReached(), report->rows.size(), pct(cov));
    // The text of each row, from the compiled module.
    auto rowText = [&](const TestRowCoverage& r) -> std::string {
      if (compiled && compiled->module)
        for (const auto& td : compiled->module->tables)
          if (static_cast<int>(td.kind) == static_cast<int>(r.table) && static_cast<size_t>(r.row) < td.rows.size()) return rulesSrc->oneLine(td.rows[r.row].range);
      return std::string(tableName(r.table)) + " row " + std::to_string(r.row + 1) + ": " + r.outcome;
    };
    bool header = false;
    for (const auto& r : report->rows) {
      if (r.cases) continue;
      if (!header) fmt::print("  rows no case reached:\n");
      header = true;
      std::string where = fmt::format("{}:{}", report->rulesFile, r.loc.line);
      fmt::print("    {:<18} {:<7} {}\n", where, tableName(r.table), rowText(r));
    }
    std::string neverTrue, neverFalse;
    for (const auto& s : report->segments) {
      if (!s.trueCases) neverTrue += (neverTrue.empty() ? "" : ", ") + s.name;
      if (!s.falseCases) neverFalse += (neverFalse.empty() ? "" : ", ") + s.name;
    }
    if (!report->segments.empty()) {
      size_t both = 0;
      for (const auto& s : report->segments) both += s.trueCases && s.falseCases;
      fmt::print("  segments seen both true and false: {} of {}\n", both, report->segments.size());
      if (!neverTrue.empty()) fmt::print("    never true:  {}\n", neverTrue);
      if (!neverFalse.empty()) fmt::print("    never false: {}\n", neverFalse);
    }
    if (minCoverage >= 0 && cov + 1e-9 < minCoverage) {
      coverageLow = true;
      fmt::print("{}coverage {} is below --min-coverage {}{}\n", red, pct(cov), pct(minCoverage), reset);
    }
  }
  return failed || coverageLow ? kExitErrors : kExitOk;
}

}  // namespace

Command addTest(CLI::App& app) {
  auto args = std::make_shared<TestArgs>();
  CLI::App* cmd = app.add_subcommand("test", "Run the table-driven cases of a TESTS.yaml against the rules");
  cmd->add_option("rules", args->rules, "Rules file (.rules, or compiled .rkb)")->required();
  cmd->add_option("tests", args->tests, "Tests file (YAML; see docs/testing.md)")->required();
  cmd->add_option("--config", args->config,
                  "Config file (default: the tests file's `config:`, else rekindle.yaml beside the rules or above)");
  cmd->add_flag("--coverage", args->coverage, "Report the decision rows no case reached");
  cmd->add_option("--min-coverage", args->minCoverage, "Fail (exit 1) when fewer than PCT % of the decision rows are reached");
  cmd->add_flag("--verbose,-v", args->verbose, "List the passing cases too");
  return [args] { return testCommand(*args); };
}

REKINDLE_COMMAND("test", addTest);

}  // namespace rekindle::cli
