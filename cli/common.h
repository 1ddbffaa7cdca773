// Helpers shared by the subcommands: finding and loading the config, loading rules from source
// or from a .rkb, printing diagnostics with colour when stderr is a terminal (NO_COLOR honoured).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rekindle/compiler/compiler.h"
#include "rekindle/runtime/config.h"
#include "rekindle/runtime/program.h"

namespace rekindle::cli {

// Exit codes (SPEC §6).
constexpr int kExitOk = 0;
constexpr int kExitErrors = 1;
constexpr int kExitUsage = 2;

// A subcommand registers its options and returns the function that runs it. Each file in cli/
// registers its own with REKINDLE_COMMAND: adding a subcommand is adding a file.
using Command = std::function<int()>;
using CommandFactory = Command (*)(CLI::App& app);
bool registerCommand(const char* name, CommandFactory factory);
#define REKINDLE_COMMAND(name, factory) \
  static const bool rekindleCommandRegistered_##factory = ::rekindle::cli::registerCommand(name, factory)

bool useColor();
bool readFile(const std::string& path, std::string& text, std::string& error);
void printDiagnostics(const std::vector<Diagnostic>& diags, const SourceFile* main,
                      const std::vector<SourceFile>& others = {});
void printError(const std::string& message);

// The config named by --config, else rekindle.yaml beside the rules file or in a folder above.
std::string findConfig(const std::string& explicitPath, const std::string& rulesPath);
std::optional<Config> loadConfigOrReport(const std::string& path);

// Rules from a .rules file (compiled now) or a .rkb file (loaded and verified). On failure,
// diagnostics have been printed.
struct LoadedRules {
  Program program;
  std::optional<SourceFile> source;  // for .rules
};
std::optional<LoadedRules> loadRules(const std::string& path, const Config& config);

}  // namespace rekindle::cli
