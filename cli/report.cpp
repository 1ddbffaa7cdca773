// `rekindle report DECISIONS -o report.html`: the HTML report of a decisions file written by
// `rekindle run` (one self-contained file; see docs/report.md). With --rules (and its config),
// stages, channels and offers come in the rules' order and the report knows the caps, limits,
// holdout share and offer costs; the rejects file beside the decisions is read when it exists.
#include <fmt/format.h>

#include <filesystem>

#include "common.h"
#include "report_data.h"
#include "rekindle/runtime/writer.h"

namespace rekindle::cli {
namespace {

struct ReportArgs {
  std::string decisions, out, rules, config, rejects;
  bool noRejects = false;
};

// The rejects file `rekindle run` writes by default beside a decisions file: NAME.rejects.csv.
std::string defaultRejects(const std::string& decisions) {
  std::string base = decisions;
  size_t slash = base.rfind('/');
  size_t dot = base.rfind('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) base = base.substr(0, dot);
  return base + ".rejects.csv";
}

int reportCommand(const ReportArgs& a) {
  std::optional<Config> config;
  std::optional<LoadedRules> rules;
  std::string configPath;
  if (!a.rules.empty() || !a.config.empty()) {
    configPath = a.rules.empty() ? a.config : findConfig(a.config, a.rules);
    config = loadConfigOrReport(configPath);
    if (!config) return kExitErrors;
  }
  if (!a.rules.empty()) {
    rules = loadRules(a.rules, *config);
    if (!rules) return kExitErrors;
  }
  std::string rejects = a.rejects;
  std::error_code ec;
  if (rejects.empty() && !a.noRejects) {
    std::string guess = defaultRejects(a.decisions);
    if (std::filesystem::exists(guess, ec)) rejects = guess;
  }
  if (a.noRejects) rejects.clear();

  report::FileReportInputs in;
  in.decisionsPath = a.decisions;
  in.rejectsPath = rejects;
  in.program = rules ? &rules->program : nullptr;
  in.config = config ? &*config : nullptr;
  in.rulesPath = a.rules;
  in.configPath = configPath;
  report::ReportData data;
  std::string error;
  if (!report::reportFromFile(in, data, error)) {
    printError(error);
    return kExitErrors;
  }
  std::string html = report::renderHtml(data);
  if (!writeFileAtomically(a.out, html, error)) {
    printError(error);
    return kExitErrors;
  }
  if (a.out != "-") fmt::print(stderr, "rekindle: report of {} customers: {}\n", data.customers, a.out);
  return kExitOk;
}

}  // namespace

Command addReport(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand("report", "Write the HTML report of a decisions file (charts and tables, one self-contained file)");
  cmd->add_option("decisions", args->decisions, "Decisions file written by `rekindle run` (.csv or .jsonl)")->required();
  cmd->add_option("--out,-o", args->out, "The HTML file to write, or - for standard output")->required();
  cmd->add_option("--rules", args->rules, "The rules that made the decisions: stage order, caps, limits, holdout share");
  cmd->add_option("--config", args->config, "Config (default: beside the rules): offer costs, param values");
  cmd->add_option("--rejects", args->rejects, "Rejects file (default: NAME.rejects.csv beside the decisions, when it exists)");
  cmd->add_flag("--no-rejects", args->noRejects, "Do not read a rejects file");
  return [args] { return reportCommand(*args); };
}

REKINDLE_COMMAND("report", addReport);

}  // namespace rekindle::cli
