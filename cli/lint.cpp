// `rekindle lint`: compile-time checks of rules files against their config, as text.
#include "common.h"

namespace rekindle::cli {

Command addLint(CLI::App& app) {
  struct Args {
    std::vector<std::string> rules;
    std::string config;
    std::string format = "text";
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("lint", "Check rules files and report problems");
  cmd->add_option("rules", args->rules, "Rules files")->required();
  cmd->add_option("--config", args->config, "Config file (default: rekindle.yaml beside the rules or above)");
  cmd->add_option("--format", args->format, "text")->check(CLI::IsMember({"text"}));
  return [args] {
    int status = kExitOk;
    for (const auto& path : args->rules) {
      auto config = loadConfigOrReport(findConfig(args->config, path));
      if (!config) return kExitErrors;
      std::string text, err;
      if (!readFile(path, text, err)) {
        printError(err);
        status = kExitErrors;
        continue;
      }
      SourceFile src(path, text);
      CompileResult r = compileRules(src, *config);
      printDiagnostics(r.diags, &src, r.preludeSources);
      if (hasErrors(r.diags)) status = kExitErrors;
    }
    return status;
  };
}

REKINDLE_COMMAND("lint", addLint);

}  // namespace rekindle::cli
