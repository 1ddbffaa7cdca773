// `rekindle fmt`: one canonical layout for rules files (aligned decision-table rows, normalised
// spacing and literals, comments kept). Idempotent, and it never changes meaning: the bytecode
// compiled before and after is the same, but for source locations.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rekindle/core/diagnostic.h"

namespace rekindle {

// The formatted text, or nullopt with the syntax errors when the file does not parse.
std::optional<std::string> formatRules(const SourceFile& source, std::vector<Diagnostic>& diags);

}  // namespace rekindle
