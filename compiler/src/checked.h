// What the checker hands the emitter: the annotated declarations, the stage enum, which
// prelude lets are used, the evaluation order. Private to compiler/.
#pragma once

#include <string>
#include <vector>

#include "rekindle/compiler/compiler.h"
#include "rekindle/core/suggest.h"

namespace rekindle {

// An edge of the dependency graph: the node read, and where it was read.
struct Dependency {
  int node = -1;
  SourceRange range;
};

struct CheckedLet {
  const ast::LetDecl* decl = nullptr;
  std::string name;       // as output and in disassembly: "idle", "lifecycle.idle"
  uint32_t file = 0;      // 0 = the rules file; 1.. = preludes
  bool fromPrelude = false;
  bool used = false;      // prelude lets are emitted only when used
  int state = 0;          // 0 unchecked, 1 checking, 2 checked
  Type type;
  std::vector<Dependency> deps;  // dependency-graph nodes it reads
  bool usesPopulation = false;   // calls std.rfm, std.clv or quantile_rank itself
};

struct CheckedProgram {
  const ast::Module* main = nullptr;
  std::vector<std::string> files;  // [0] main; then prelude paths
  std::string rulesName;
  std::string rulesVersion;
  std::vector<CheckedLet> lets;
  std::vector<const ast::SegmentDecl*> segments;
  std::vector<const ast::ParamDecl*> params;
  std::vector<Type> paramTypes;
  std::vector<std::string> stages;
  std::vector<std::string> channels;  // program channel enum: the config's, in config order
  std::vector<std::string> offers;
  const ast::TableDecl* tables[3] = {nullptr, nullptr, nullptr};
  std::vector<uint8_t> decisionOrder;
  std::vector<const ast::CapDecl*> caps;
  const ast::HoldoutDecl* holdout = nullptr;
  uint32_t features = 0;
  int rfmLets[3] = {-1, -1, -1};  // recency, frequency, monetary: lets of the rfm prelude
  int clvLets[2] = {-1, -1};      // purchase times, purchase amounts: lets of the clv prelude
  const Config* config = nullptr;

  // Dependency-graph node ids.
  int letNode(int i) const { return i; }
  int segmentNode(int i) const { return static_cast<int>(lets.size()) + i; }
  int tableNode(int k) const { return static_cast<int>(lets.size() + segments.size()) + k; }
};

// Checks the module (names, types, schema, order) and fills `out`; diagnostics go to `diags`.
void checkProgram(const ast::Module& main, std::vector<std::unique_ptr<ast::Module>>& preludes,
                  std::vector<SourceFile>& preludeSources, const Config& config, CheckedProgram& out,
                  SemanticModel& model, std::vector<Diagnostic>& diags);

// Emits a Program from a checked module without errors.
Program emitProgram(const CheckedProgram& checked);


}  // namespace rekindle
