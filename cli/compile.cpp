// `rekindle compile`: rules to a verified .rkb bytecode file.
#include <fmt/format.h>

#include "common.h"
#include "rekindle/runtime/rkb.h"
#include "rekindle/runtime/writer.h"

namespace rekindle::cli {

Command addCompile(CLI::App& app) {
  struct Args {
    std::string rules, config, out;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("compile", "Compile rules to a .rkb bytecode file");
  cmd->add_option("rules", args->rules, "Rules file")->required();
  cmd->add_option("-o,--out", args->out, "Output .rkb file")->required();
  cmd->add_option("--config", args->config, "Config file (default: rekindle.yaml beside the rules or above)");
  return [args] {
    auto config = loadConfigOrReport(findConfig(args->config, args->rules));
    if (!config) return kExitErrors;
    auto rules = loadRules(args->rules, *config);
    if (!rules) return kExitErrors;
    std::string bytes = serializeProgram(rules->program);
    std::string error;
    if (!writeFileAtomically(args->out, bytes, error)) {
      printError(error);
      return kExitErrors;
    }
    return kExitOk;
  };
}

Command addDisasm(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("disasm", "Print a .rkb file's bytecode");
  cmd->add_option("rkb", *path, "Compiled .rkb file")->required();
  return [path] {
    std::string bytes, error;
    if (!readFile(*path, bytes, error)) {
      printError(error);
      return kExitErrors;
    }
    auto program = loadProgram(bytes, error);
    if (!program) {
      printError(*path + ": refused: " + error);
      return kExitErrors;
    }
    fmt::print("{}", disassemble(*program));
    return kExitOk;
  };
}

REKINDLE_COMMAND("compile", addCompile);
REKINDLE_COMMAND("disasm", addDisasm);

}  // namespace rekindle::cli
