// Helpers for tests: run rules in-process to a string, parse CSV output, read files.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rekindle/compiler/compiler.h"
#include "rekindle/runtime/engine.h"
#include "rekindle/runtime/program.h"

namespace rekindle::test {

std::string sourcePath(const std::string& relative);  // under the repository root
std::string readText(const std::string& path);
bool fileExists(const std::string& path);
// A fresh folder /tmp/rekindle-NAME-XXXXXX (throws when it cannot be made).
std::string tempDir(const std::string& name);
std::vector<std::string> listFiles(const std::string& dir, const std::string& suffix);  // sorted

struct RunOutcome {
  bool ok = false;
  std::string output;              // the decisions file
  std::string error;               // fatal problem, or rendered diagnostics
  std::vector<Diagnostic> diags;
  std::optional<Program> program;  // when it compiled
  RunSummary summary;
};

struct RunRequest {
  std::string rulesPath;
  std::string rulesText;  // when empty, read from rulesPath
  std::string configPath;
  std::vector<std::pair<std::string, std::string>> params;
  bool jsonl = false;
  bool viaRkb = false;    // compile, serialise, load the bytes back, run that
  bool explain = false;
  int threads = 1;
  std::optional<int64_t> asOf;  // instead of the config's as_of
  std::string previousPath;     // --previous
  bool allFields = false;       // keep every field in memory, not only those the rules read
};

RunOutcome runRules(const RunRequest& r);

// Rules compiled against their config, the config's export loaded (every field) and the two
// bound, for tests that drive the evaluator or the engine themselves. `forge` may rewrite the
// compiled program, which is then saved and loaded back as a .rkb file would be. Throws
// std::runtime_error, with the diagnostics, when a step fails.
struct BoundRules {
  std::unique_ptr<Config> config;
  std::unique_ptr<Program> program;
  std::unique_ptr<Dataset> data;
  std::unique_ptr<Executable> exe;
};
BoundRules bindRules(const std::string& rulesPath, const std::string& rulesText, const std::string& configPath,
                     const std::function<void(Program&)>& forge = nullptr);

// RFC 4180 parsing of our own output, for comparisons.
std::vector<std::vector<std::string>> parseCsv(const std::string& text);

// Runs a command line through the shell; returns its exit status and captured stdout+stderr.
int runCommand(const std::string& command, std::string& output);

}  // namespace rekindle::test
