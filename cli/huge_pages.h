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

// A run reads and regroups gigabytes, much of it at random (the customer index, the event
// columns), and each pass fills fresh tables: on 2 MiB pages rather than 4 KiB ones it takes far
// fewer TLB misses and page faults (bench/RESULTS.md). Starts the process again with the tunable
// hugePagesTunables gives for `command` (`argv` as main received it), or returns to go on as it
// is. `rekindle` calls it first thing, and so does the decision-pass benchmark, to time the same.
void startWithHugePages(char** argv, const char* command);

}  // namespace rekindle::cli
