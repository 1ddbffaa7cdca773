// `rekindle lint`: compile-time errors and lint warnings of rules files against their config, as
// text (like the compiler's), as a JSON array, or as a SARIF 2.1.0 log for code-scanning tools.
// Exit status 1 on any error, and with --strict on any warning too.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common.h"
#include "rekindle/compiler/lint.h"

namespace rekindle::cli {

namespace {

constexpr const char* kToolVersion = "0.1.0";
// Where SARIF viewers send readers for the meaning of a code.
constexpr const char* kInformationUri = "https://github.com/rekindle-rules/rekindle/blob/main/docs/diagnostics.md";

// Error codes' titles, for SARIF rule descriptions.
const char* errorTitle(const std::string& code) {
#define REKINDLE_X(e, c, title) \
  if (code == c) return title;
  REKINDLE_ERROR_CODES(REKINDLE_X)
#undef REKINDLE_X
  return "";
}

// "unknown name" -> "unknown-name": a rule name in the style of the lint rules'.
std::string slug(const std::string& title) {
  std::string out;
  for (char c : title) {
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

const LintRule* lintRule(const std::string& code) {
  for (const auto& r : lintRuleTable())
    if (code == r.code) return &r;
  return nullptr;
}

const char* sarifLevel(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
  }
  return "warning";
}

// A relative reference for a path: RFC 3986 unreserved characters and '/' stay as they are.
std::string uriOf(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

nlohmann::json diagnosticJson(const Diagnostic& d) {
  nlohmann::json j;
  j["file"] = d.file;
  j["line"] = d.range.begin.line;
  j["column"] = d.range.begin.col;
  j["endLine"] = d.range.end.line;
  j["endColumn"] = d.range.end.col;
  j["severity"] = severityName(d.severity);
  j["code"] = d.code.empty() ? "E000" : d.code;  // as in SARIF: a file that could not be read
  j["message"] = d.message;
  j["help"] = d.suggestion;
  nlohmann::json notes = nlohmann::json::array();
  for (const auto& n : d.notes)
    notes.push_back({{"file", n.file},
                     {"line", n.range.begin.line},
                     {"column", n.range.begin.col},
                     {"endLine", n.range.end.line},
                     {"endColumn", n.range.end.col},
                     {"message", n.message}});
  j["notes"] = notes;
  return j;
}

nlohmann::json sarifLocation(const std::string& file, const SourceRange& range) {
  nlohmann::json physical = {{"artifactLocation", {{"uri", uriOf(file)}}}};
  if (range.valid())
    physical["region"] = {{"startLine", range.begin.line},
                          {"startColumn", range.begin.col},
                          {"endLine", range.end.line},
                          {"endColumn", range.end.col}};
  return {{"physicalLocation", physical}};
}

nlohmann::json sarifLog(const std::vector<Diagnostic>& diags) {
  nlohmann::json rules = nlohmann::json::array();
  std::map<std::string, size_t> ruleIndex;
  nlohmann::json results = nlohmann::json::array();
  for (const auto& d : diags) {
    std::string code = d.code.empty() ? "E000" : d.code;
    if (!ruleIndex.count(code)) {
      nlohmann::json r;
      r["id"] = code;
      if (const LintRule* lr = lintRule(code)) {
        r["name"] = lr->name;
        r["shortDescription"] = {{"text", lr->summary}};
        r["defaultConfiguration"] = {{"level", sarifLevel(lr->severity)}};
      } else {
        std::string title = errorTitle(code);
        if (title.empty()) title = code == "E000" ? "internal compiler error" : "error";
        r["name"] = slug(title);
        r["shortDescription"] = {{"text", title}};
        r["defaultConfiguration"] = {{"level", "error"}};
      }
      r["helpUri"] = std::string(kInformationUri) + "#" + (code[0] == 'W' ? "warnings" : "errors");
      ruleIndex[code] = rules.size();
      rules.push_back(r);
    }
    nlohmann::json res;
    res["ruleId"] = code;
    res["ruleIndex"] = ruleIndex[code];
    res["level"] = sarifLevel(d.severity);
    std::string text = d.message;
    if (!d.suggestion.empty()) text += "\nhelp: " + d.suggestion;
    res["message"] = {{"text", text}};
    res["locations"] = nlohmann::json::array({sarifLocation(d.file, d.range)});
    if (!d.notes.empty()) {
      nlohmann::json related = nlohmann::json::array();
      int id = 0;
      for (const auto& n : d.notes) {
        nlohmann::json loc = sarifLocation(n.file, n.range);
        loc["id"] = id++;
        loc["message"] = {{"text", n.message}};
        related.push_back(loc);
      }
      res["relatedLocations"] = related;
    }
    results.push_back(res);
  }
  nlohmann::json driver = {{"name", "rekindle"},
                           {"version", kToolVersion},
                           {"semanticVersion", kToolVersion},
                           {"informationUri", kInformationUri},
                           {"rules", rules}};
  nlohmann::json run = {{"tool", {{"driver", driver}}}, {"columnKind", "unicodeCodePoints"}, {"results", results}};
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", nlohmann::json::array({run})}};
}

// `lint:` entries naming no rule: a typo must not silently turn nothing off.
void checkLintSettings(const Config& config, std::vector<Diagnostic>& diags) {
  std::vector<std::string> known;
  for (const auto& r : lintRuleTable()) {
    known.push_back(r.code);
    known.push_back(r.name);
  }
  for (const auto& s : config.lint) {
    if (std::find(known.begin(), known.end(), s.code) != known.end()) continue;
    Diagnostic d;
    d.severity = Severity::Error;
    d.code = errorCodeString(ErrorCode::ConfigError);
    d.file = config.path;
    d.range = SourceRange{{uint32_t(s.line), uint32_t(s.column)}, {uint32_t(s.line), uint32_t(s.column + s.code.size())}};
    d.message = "unknown lint rule '" + s.code + "' in `lint:`";
    d.suggestion = "lint rules are W001 to " + std::string(lintRuleTable().back().code) + " (or their names); see docs/diagnostics.md";
    diags.push_back(std::move(d));
  }
}

}  // namespace

Command addLint(CLI::App& app) {
  struct Args {
    std::vector<std::string> rules;
    std::string config;
    std::string format = "text";
    bool strict = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("lint", "Check rules files and report errors and warnings");
  cmd->add_option("rules", args->rules, "Rules files")->required();
  cmd->add_option("--config", args->config, "Config file (default: rekindle.yaml beside the rules or above)");
  cmd->add_option("--format", args->format, "Output: text (stderr), json or sarif (stdout)")
      ->check(CLI::IsMember({"text", "json", "sarif"}));
  cmd->add_flag("--strict", args->strict, "Fail (status 1) on warnings too");
  return [args] {
    bool text = args->format == "text";
    std::vector<Diagnostic> all;
    std::vector<SourceFile> sources;  // for rendering text
    sources.reserve(args->rules.size() * 4 + 4);
    std::map<std::string, std::optional<Config>> configs;
    for (const auto& path : args->rules) {
      std::vector<Diagnostic> diags;
      std::string configPath = findConfig(args->config, path);
      auto found = configs.find(configPath);
      if (found == configs.end()) {
        std::vector<Diagnostic> configDiags;
        auto config = loadConfig(configPath, configDiags);
        if (config) checkLintSettings(*config, configDiags);
        std::string configText, ignored;
        if (!configDiags.empty() && readFile(configPath, configText, ignored)) sources.emplace_back(configPath, configText);
        diags.insert(diags.end(), configDiags.begin(), configDiags.end());
        found = configs.emplace(configPath, std::move(config)).first;
      }
      const std::optional<Config>& config = found->second;
      std::string source, err;
      if (!readFile(path, source, err)) {
        Diagnostic d;
        d.file = path;
        d.message = err;
        diags.push_back(std::move(d));
      } else if (config) {
        sources.emplace_back(path, source);
        const SourceFile& src = sources.back();
        CompileResult r = compileRules(src, *config);
        std::vector<Diagnostic> warnings = lintRules(src, r, *config);
        diags.insert(diags.end(), r.diags.begin(), r.diags.end());
        diags.insert(diags.end(), warnings.begin(), warnings.end());
        for (auto& p : r.preludeSources) sources.push_back(std::move(p));
      }
      sortDiagnostics(diags);
      all.insert(all.end(), diags.begin(), diags.end());
    }
    if (text) {
      bool color = useColor();
      for (const auto& d : all) {
        const SourceFile* src = nullptr;
        for (const auto& s : sources)
          if (s.path() == d.file) src = &s;
        fmt::print(stderr, "{}", renderDiagnostic(d, src, color));
      }
      size_t errors = 0, warnings = 0;
      for (const auto& d : all) (d.severity == Severity::Error ? errors : warnings) += d.severity != Severity::Note;
      if (errors || warnings)
        fmt::print(stderr, "{} error{}, {} warning{}\n", errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    } else if (args->format == "json") {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& d : all) out.push_back(diagnosticJson(d));
      fmt::print("{}\n", out.dump(2));
    } else {
      fmt::print("{}\n", sarifLog(all).dump(2));
    }
    bool failed = false;
    for (const auto& d : all)
      failed = failed || d.severity == Severity::Error || (args->strict && d.severity == Severity::Warning);
    return failed ? kExitErrors : kExitOk;
  };
}

REKINDLE_COMMAND("lint", addLint);

}  // namespace rekindle::cli
