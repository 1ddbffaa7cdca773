// Rule tests (`rekindle test RULES TESTS.yaml`): table-driven cases a marketer writes in YAML —
// a customer, their events, contacts and previous decision, and the outputs the rules must give
// them. This module reads the file (without the config: parseTestFile), types every value by the
// config's schema, builds the Dataset of all the file's cases in memory, runs the decision
// engine over them as one population, compares each case's outputs with what it expects, and
// measures which decision-table rows the cases reach (runTestFile). Everything wrong in the file
// is a diagnostic located in it (E060), like a config error.
//
// The format is documented in docs/testing.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rekindle/core/diagnostic.h"
#include "rekindle/runtime/config.h"
#include "rekindle/runtime/program.h"

namespace rekindle {

// The diagnostic code of every problem in a tests file.
constexpr const char* kTestFileCode = "E060";

// One value as written in the tests file: a scalar (text, or null for `~` / `null` / nothing)
// or a list of scalars.
struct TestScalar {
  std::string text;
  bool null = false;
  SourceLoc loc;  // 1-based, in the tests file
};

struct TestEntry {
  std::string key;
  SourceLoc keyLoc;
  TestScalar value;               // when !isList
  bool isList = false;
  std::vector<TestScalar> items;  // when isList
};

// A mapping of keys to values, in the order written (`customer:`, one event, `expect:`, ...).
struct TestRecord {
  SourceLoc loc;
  std::vector<TestEntry> entries;
  const TestEntry* find(const std::string& key) const;
};

struct TestCaseSpec {
  std::string name;  // "case N" when the file gives none
  SourceLoc loc;     // the case's first line
  std::optional<TestScalar> id;
  std::optional<TestScalar> asOf;
  int64_t copies = 1;  // the case stands for this many identical customers
  TestRecord params;
  TestRecord customer;
  std::vector<TestRecord> events;
  std::vector<TestRecord> contacts;
  bool hasPrevious = false;
  TestRecord previous;
  bool hasExpect = false;
  TestRecord expect;
};

struct TestFile {
  std::string path;
  std::optional<TestScalar> config;  // as written; relative to the tests file's folder
  std::optional<TestScalar> asOf;
  TestRecord params;
  TestRecord defaults;       // customer fields shared by every case
  TestRecord eventDefaults;  // event fields shared by every event
  std::vector<TestCaseSpec> cases;
};

// Reads a tests file. Problems (not YAML, unknown keys, a case that is not a mapping, ...) come
// back as located diagnostics; the file is usable only when none was reported.
std::optional<TestFile> parseTestFile(const std::string& path, const std::string& text,
                                      std::vector<Diagnostic>& diags);

// The config the tests file names, resolved against the tests file's folder; "" when it names
// none.
std::string testFileConfigPath(const TestFile& file);

// One output column a case expected and did not get.
struct TestColumnDiff {
  std::string column;    // "stage", "segments", "send", ...
  std::string expected;  // as shown to the user: "interest", "[reactivated]", "true", "(empty)"
  std::string got;
  std::string why;       // the rule behind what it got: "stage: dormant @ b2b.rules:57"
};

struct TestCaseResult {
  size_t index = 0;  // 0-based, in the file
  std::string name;
  SourceLoc loc;
  std::string customerId;  // the customer (the first failing copy, for a failing case)
  int64_t copies = 1;
  int64_t failedCopies = 0;
  bool passed = true;
  bool hasExpect = false;
  std::vector<TestColumnDiff> diffs;  // of the first failing copy
  std::string decidedBy;              // "stage: dormant @ b2b.rules:57; channel: ...", as --explain
  std::string asOf;                   // the case's clock, formatted
};

// How often each decision row decided a case (rows of the rules file, in table order).
struct TestRowCoverage {
  TableKind table = TableKind::Stage;
  int row = 0;
  SourceLoc loc;
  std::string outcome;
  uint64_t cases = 0;  // customers (copies included) this row decided
};

struct TestSegmentCoverage {
  std::string name;
  SourceLoc loc;
  uint64_t trueCases = 0, falseCases = 0;
};

struct TestReport {
  std::string rulesFile;  // the rules file's base name, as in explanations
  std::vector<TestCaseResult> cases;
  std::vector<TestRowCoverage> rows;
  std::vector<TestSegmentCoverage> segments;
  size_t passed() const;
  size_t failed() const;
  size_t rowsReached() const;
  // Reached rows as a percentage of all decision rows; 100 when there are none.
  double rowCoverage() const;
};

// Runs every case of a parsed tests file with a program compiled against `config`. Cases are
// decided as one population (budgets, std.rfm and quantile_rank see every customer of the
// file); a case with its own as_of or params is decided, with that clock and those params, in a
// run over the same population. Problems that need the config or the rules to see (an unknown
// field, a value that does not parse, an unknown stage in `expect`) come back as located
// diagnostics and no report; a failure of the engine itself (a bytecode fault) sets `fatal`.
std::optional<TestReport> runTestFile(const TestFile& file, const Program& program, const Config& config,
                                      std::vector<Diagnostic>& diags, std::string& fatal);

}  // namespace rekindle
