// The `rekindle` executable. Each subcommand lives in its own file in cli/ and registers itself
// (REKINDLE_COMMAND); this file only builds the command line from what registered.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <map>
#include <string>

#include <unistd.h>

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

namespace {

// A run reads and regroups gigabytes, much of it at random (the customer index, the event
// columns): on 2 MiB pages rather than 4 KiB ones it takes far fewer TLB misses and page faults,
// and a 1M-customer run is about 10% faster (bench/RESULTS.md). glibc (2.35 and later) backs its
// allocations with transparent huge pages only when told so at startup, by a tunable: the
// process starts itself again with it set (hugePagesTunables says when). If the exec fails, the
// command simply goes on as it is.
void startWithHugePages(int argc, char** argv) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  auto value = hugePagesTunables(argc > 1 ? argv[1] : nullptr, std::getenv("REKINDLE_HUGE_PAGES"), tunables);
  if (!value || setenv("GLIBC_TUNABLES", value->c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  // Still here: the exec failed. Take the setting back, so that children do not inherit it.
  if (tunables) setenv("GLIBC_TUNABLES", tunables, 1);
  else unsetenv("GLIBC_TUNABLES");
}

}  // namespace

}  // namespace rekindle::cli

int main(int argc, char** argv) {
  using namespace rekindle::cli;
  startWithHugePages(argc, argv);
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
