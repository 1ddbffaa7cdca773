// The compiler's front door: parse a rules file into our AST, check it against a config's
// schema and catalogs, and emit a Program. The linter, formatter and language server use the
// same entry points. Nothing here exposes ANTLR.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rekindle/compiler/ast.h"
#include "rekindle/compiler/diagnostic_codes.h"
#include "rekindle/core/diagnostic.h"
#include "rekindle/runtime/config.h"
#include "rekindle/runtime/program.h"

namespace rekindle {

struct ParseLimits {
  size_t maxBytes = 4u << 20;  // a rules file larger than this is refused (E007)
  int maxNesting = 96;         // brackets, prefix operators and `??` chains (E008)
  int maxErrors = 50;          // syntax errors reported before giving up
};

struct ParseResult {
  std::unique_ptr<ast::Module> module;  // always set; partial when there are errors
  std::vector<Diagnostic> diags;
};

ParseResult parseRules(const SourceFile& source, const ParseLimits& limits = {});

// What each declared name is, for hover, completion, go-to-definition and the linter.
enum class SymbolKind : uint8_t { Let, Segment, Param, Stage, CustomerField, EventField, Channel, Offer, Module, Builtin };

struct Symbol {
  SymbolKind kind = SymbolKind::Let;
  std::string name;
  std::string qualifier;  // module alias for prelude lets ("lifecycle")
  std::string file;       // where it is declared ("" for config or built-ins)
  SourceRange range;      // its declaration's name
  Type type;
  std::string doc;
  int index = -1;
};

// A use of a symbol in the rules file: the range of the name and the symbol it resolved to.
struct Reference {
  SourceRange range;
  int symbol = -1;  // index into SemanticModel::symbols
};

struct SemanticModel {
  std::vector<Symbol> symbols;
  std::vector<Reference> references;
  int find(SymbolKind kind, const std::string& name) const;
};

struct CompileResult {
  std::vector<Diagnostic> diags;  // sorted; errors and (from the checker) no warnings
  std::optional<Program> program;  // set when there are no errors
  std::unique_ptr<ast::Module> module;
  std::vector<std::unique_ptr<ast::Module>> preludes;
  std::vector<SourceFile> preludeSources;
  SemanticModel model;
};

struct CompileOptions {
  ParseLimits limits;
};

// Parses, checks and emits. `config` supplies the schema, channels, offers and calendar.
CompileResult compileRules(const SourceFile& source, const Config& config,
                           const CompileOptions& options = {});

// A short `file:line:col` for a location in the program's main file.
std::string locationText(const std::string& file, SourceLoc loc);

}  // namespace rekindle
