// The `rekindle` executable. Each subcommand lives in its own file in cli/ and registers itself
// (REKINDLE_COMMAND); this file only builds the command line from what registered.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <map>
#include <string>

#include "common.h"
#include "huge_pages.h"

namespace rekindle::cli {

std::map<std::string, CommandFactory>& registry() {
  static std::map<std::string, CommandFactory> commands;  // sorted: the help lists them in order
  return commands;
}

bool registerCommand(const char* name, CommandFactory factory) {
  registry()[name] = factory;
  return true;
}

}  // namespace rekindle::cli

int main(int argc, char** argv) {
  using namespace rekindle::cli;
  startWithHugePages(argv, argc > 1 ? argv[1] : nullptr);
  CLI::App app{"Rekindle: lifecycle and win-back rules over customer exports"};
  app.name("rekindle");
  app.require_subcommand(1);
  app.set_version_flag("--version", "rekindle 0.1.0");
  std::map<std::string, Command> commands;
  for (const auto& [name, factory] : registry()) commands[name] = factory(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  for (auto* sub : app.get_subcommands()) {
    auto it = commands.find(sub->get_name());
    if (it != commands.end()) return it->second();
  }
  return kExitUsage;
}
