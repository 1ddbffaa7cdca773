#include "huge_pages.h"

#include <cstdlib>
#include <cstring>

#include <unistd.h>

namespace rekindle::cli {

std::optional<std::string> hugePagesTunables(const char* command, const char* optOut, const char* tunables) {
  if (!command || std::strcmp(command, "lsp") == 0) return std::nullopt;
  if (optOut && std::strcmp(optOut, "0") == 0) return std::nullopt;
  if (tunables && std::strstr(tunables, "glibc.malloc.hugetlb")) return std::nullopt;
  std::string value = tunables && *tunables ? std::string(tunables) + ":" : std::string();
  return value + "glibc.malloc.hugetlb=1";
}

// glibc (2.35 and later) backs its allocations with transparent huge pages only when told so at
// startup, by a tunable: the process starts itself again with it set. If the exec fails, the
// command simply goes on as it is.
void startWithHugePages(char** argv, const char* command) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  auto value = hugePagesTunables(command, std::getenv("REKINDLE_HUGE_PAGES"), tunables);
  if (!value || setenv("GLIBC_TUNABLES", value->c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  // Still here: the exec failed. Take the setting back, so that children do not inherit it.
  if (tunables) setenv("GLIBC_TUNABLES", tunables, 1);
  else unsetenv("GLIBC_TUNABLES");
}

}  // namespace rekindle::cli
