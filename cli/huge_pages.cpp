#include "huge_pages.h"

#include <cstring>

namespace rekindle::cli {

std::optional<std::string> hugePagesTunables(const char* command, const char* optOut, const char* tunables) {
  if (!command || std::strcmp(command, "lsp") == 0) return std::nullopt;
  if (optOut && std::strcmp(optOut, "0") == 0) return std::nullopt;
  if (tunables && std::strstr(tunables, "glibc.malloc.hugetlb")) return std::nullopt;
  std::string value = tunables && *tunables ? std::string(tunables) + ":" : std::string();
  return value + "glibc.malloc.hugetlb=1";
}

}  // namespace rekindle::cli
