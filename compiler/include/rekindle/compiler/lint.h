// The linter: warnings beyond compile errors (SPEC §7, docs/diagnostics.md), each with a stable
// W0xx code, a default severity and a way to turn it off (config `lint:` or a
// `# rekindle:allow W012` comment). The same objects feed `rekindle lint` (text, JSON, SARIF) and
// the language server.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "rekindle/compiler/compiler.h"

namespace rekindle {

struct LintRule {
  const char* code;     // "W001"
  const char* name;     // "unreachable-row"
  Severity severity;    // default
  const char* summary;  // one line, for docs and SARIF rule descriptions
};

// Every lint rule, once.
const std::vector<LintRule>& lintRuleTable();

struct LintOptions {
  std::set<std::string> disabled;             // codes turned off (config `lint: { disable: [...] }`)
  std::map<std::string, Severity> severities;  // overrides (config `lint: { severity: { W003: error } }`)
};

// Warnings for a file that compiled (or partly: rules with errors are skipped). Suppressed by
// `# rekindle:allow WXXX` on the line of, or the line above, what they point at.
std::vector<Diagnostic> lintRules(const SourceFile& source, const CompileResult& compiled, const Config& config,
                                  const LintOptions& options = {});

}  // namespace rekindle
