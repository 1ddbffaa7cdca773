// Shared CLI helpers.
#include "common.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "rekindle/runtime/rkb.h"

namespace rekindle::cli {

bool useColor() {
  const char* noColor = std::getenv("NO_COLOR");
  if (noColor && *noColor) return false;
  return ::isatty(2);
}

bool readFile(const std::string& path, std::string& text, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  return true;
}

void printError(const std::string& message) {
  bool color = useColor();
  fmt::print(stderr, "{}error{}: {}\n", color ? "\x1b[1;31m" : "", color ? "\x1b[0m" : "", message);
}

void printDiagnostics(const std::vector<Diagnostic>& diags, const SourceFile* main, const std::vector<SourceFile>& others) {
  bool color = useColor();
  for (const auto& d : diags) {
    const SourceFile* src = nullptr;
    if (main && d.file == main->path()) src = main;
    for (const auto& o : others)
      if (o.path() == d.file) src = &o;
    fmt::print(stderr, "{}", renderDiagnostic(d, src, color));
  }
  size_t errors = 0, warnings = 0;
  for (const auto& d : diags) (d.severity == Severity::Error ? errors : warnings) += d.severity != Severity::Note;
  if (errors || warnings)
    fmt::print(stderr, "{} error{}, {} warning{}\n", errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
}

std::string findConfig(const std::string& explicitPath, const std::string& rulesPath) {
  if (!explicitPath.empty()) return explicitPath;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = fs::absolute(fs::path(rulesPath), ec).parent_path();
  for (int depth = 0; depth < 64 && !dir.empty(); ++depth) {
    fs::path candidate = dir / "rekindle.yaml";
    if (fs::exists(candidate, ec)) {
      // Keep the path relative when the rules path was: messages read better.
      fs::path rel = fs::relative(candidate, fs::current_path(), ec);
      return ec ? candidate.string() : rel.string();
    }
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  return "rekindle.yaml";
}

std::optional<Config> loadConfigOrReport(const std::string& path) {
  std::vector<Diagnostic> diags;
  auto cfg = loadConfig(path, diags);
  if (!diags.empty()) {
    std::string text, err;
    std::optional<SourceFile> src;
    if (readFile(path, text, err)) src.emplace(path, text);
    printDiagnostics(diags, src ? &*src : nullptr);
  }
  return cfg;
}

std::optional<LoadedRules> loadRules(const std::string& path, const Config& config) {
  std::string text, err;
  if (!readFile(path, text, err)) {
    printError(err);
    return std::nullopt;
  }
  LoadedRules out;
  if (text.compare(0, 4, std::string("RKB\0", 4)) == 0) {
    auto program = loadProgram(text, err);
    if (!program) {
      printError(path + ": refused: " + err);
      return std::nullopt;
    }
    out.program = std::move(*program);
    return out;
  }
  out.source.emplace(path, std::move(text));
  CompileResult r = compileRules(*out.source, config);
  if (!r.diags.empty()) printDiagnostics(r.diags, &*out.source, r.preludeSources);
  if (!r.program) return std::nullopt;
  out.program = std::move(*r.program);
  return out;
}

}  // namespace rekindle::cli
