// Transparent huge pages for a run's large tables (docs/cli.md, "Memory pages").
#pragma once

#include <optional>
#include <string>

namespace rekindle::cli {

// The GLIBC_TUNABLES a command should start again with, so that glibc backs its allocations with
// transparent huge pages; nullopt to go on as it is: for `lsp` (it stays up and small), without a
// command, when `optOut` (REKINDLE_HUGE_PAGES) is "0", or when `tunables` (GLIBC_TUNABLES) already
// sets glibc.malloc.hugetlb, by the user or by this very step. Other tunables are kept.
std::optional<std::string> hugePagesTunables(const char* command, const char* optOut, const char* tunables);

}  // namespace rekindle::cli
