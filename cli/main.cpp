// The `rekindle` executable: one subcommand per file in cli/.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common.h"

int main(int argc, char** argv) {
  using namespace rekindle::cli;
  CLI::App app{"Rekindle: lifecycle and win-back rules over customer exports"};
  app.name("rekindle");
  app.require_subcommand(1);
  app.set_version_flag("--version", "rekindle 0.1.0");
  Command run = addRun(app), lint = addLint(app), compile = addCompile(app), disasm = addDisasm(app),
          explain = addExplain(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  for (auto* sub : app.get_subcommands()) {
    const std::string& name = sub->get_name();
    if (name == "run") return run();
    if (name == "lint") return lint();
    if (name == "compile") return compile();
    if (name == "disasm") return disasm();
    if (name == "explain") return explain();
  }
  return kExitUsage;
}
