// The `rekindle` executable. Each subcommand lives in its own file in cli/ and registers itself
// (REKINDLE_COMMAND); this file only builds the command line from what registered.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include <unistd.h>

#include "common.h"

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
// and a 1M-customer run is about 8% faster (bench/RESULTS.md). glibc (2.35 and later) backs its
// allocations with transparent huge pages only when told so at startup, by the tunable
// glibc.malloc.hugetlb=1: the process starts itself again with it set. Not for the language
// server, which stays up and small; not when the tunable is set already (by the user, or by this
// very step), or REKINDLE_HUGE_PAGES=0. If the exec fails, the run simply goes on as it is.
void startWithHugePages(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "lsp") == 0) return;
  const char* off = std::getenv("REKINDLE_HUGE_PAGES");
  if (off && std::strcmp(off, "0") == 0) return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables && std::strstr(tunables, "glibc.malloc.hugetlb")) return;
  std::string value = tunables && *tunables ? std::string(tunables) + ":" : std::string();
  value += "glibc.malloc.hugetlb=1";
  if (setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
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
