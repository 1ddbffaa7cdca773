// A compiled rules program: the in-memory form of a .rkb file. One code chunk per let,
// segment, decision-row condition, rank expression, cap condition and where/streak
// condition; the decision engine drives the tables, the VM runs the chunks.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "rekindle/core/diagnostic.h"
#include "rekindle/core/value.h"
#include "rekindle/runtime/opcodes.h"

namespace rekindle {

enum class ChunkKind : uint8_t {
  Let,
  Segment,
  RowCondition,
  RankBy,
  CapCondition,
  Element,     // a where/streak condition, run once per event with that event in scope
  Population,  // the value a quantile_rank compares, run for every customer in the first pass
};
const char* chunkKindName(ChunkKind k);

struct Chunk {
  ChunkKind kind = ChunkKind::Let;
  std::string label;  // "let idle", "stage row 3 (dormant)", ...
  uint32_t file = 0;  // index into Program::files (0 = the rules file; preludes after it)
  std::vector<uint32_t> code;
  std::vector<SourceLoc> locs;  // one per instruction
  uint32_t maxStack = 0;        // set by the verifier
};

// A constant of the pool. Strings index Program::strings; enum members index the name lists.
struct Constant {
  Kind kind = Kind::Null;
  int64_t i = 0;
  double f = 0;
  bool operator==(const Constant& o) const {
    return kind == o.kind && i == o.i && (kind != Kind::Float || f == o.f);
  }
};

enum class TableKind : uint8_t { Stage = 0, Channel = 1, Offer = 2 };
constexpr int kTableCount = 3;
const char* tableName(TableKind k);

struct DecisionRow {
  int32_t outcome = 0;     // stage / channel / offer index; kNoOutcome (-1) for `none`
  int32_t condition = -1;  // chunk; -1 for `otherwise`
  int64_t limit = -1;      // -1: no limit
  int32_t limitParam = -1; // the limit is this int param's value (overridable), when >= 0
  int32_t rankBy = -1;     // chunk; -1: ranked by bucket alone
  bool descending = true;
  SourceLoc loc;           // the row's outcome, for explanations
};

struct DecisionTable {
  bool present = false;
  std::vector<DecisionRow> rows;
  SourceLoc loc;
};

enum class CalendarUnit : uint8_t { None = 0, Day = 1, Week = 2, Month = 3 };

struct CapWindow {
  int64_t count = 0;
  int64_t seconds = 0;  // rolling window length; 0 for calendar windows
  CalendarUnit unit = CalendarUnit::None;
};

struct CapRule {
  int32_t channel = -1;    // index into Program::channels; -1 for `any`
  std::vector<CapWindow> windows;
  int32_t condition = -1;  // chunk; -1 when unconditional
  SourceLoc loc;
  std::string text;        // "cap email 2 per 7d" pieces, for suppressed_by
};

struct HoldoutRule {
  bool present = false;
  double fraction = 0;
  std::string salt;
  SourceLoc loc;
};

struct ParamDef {
  std::string name;
  Type type;
  uint32_t defaultConst = 0;  // constant index (a list param: a MakeList-free constant list
                              // is not supported; list params keep their items here)
  std::vector<uint32_t> listItems;
  bool isList = false;
};

struct NamedChunk {
  std::string name;
  int32_t chunk = -1;
  Type type;
  SourceLoc loc;
  uint32_t file = 0;
};

// Bits of Program::features: what a run must provide.
enum ProgramFeature : uint32_t {
  kUsesRfm = 1u << 0,
  kUsesClv = 1u << 1,
  kUsesPrevious = 1u << 2,
  kUsesQuantile = 1u << 3,
};

struct Program {
  static constexpr uint16_t kFormatVersion = 2;  // 2: std.clv chunks and settings

  std::string rulesName;
  std::string rulesVersion;  // "" when the header has none
  std::vector<std::string> files;  // [0] the rules file as named at compile time
  uint64_t schemaFingerprint = 0;
  uint32_t customerFieldCount = 0;  // the schema's sizes, so the verifier can range-check
  uint32_t eventFieldCount = 0;     // field operands without the config
  uint32_t features = 0;

  std::vector<std::string> strings;
  std::vector<Constant> constants;
  std::vector<std::string> stages;
  std::vector<std::string> channels;
  std::vector<std::string> offers;
  std::vector<ParamDef> params;
  std::vector<NamedChunk> lets;
  std::vector<NamedChunk> segments;
  DecisionTable tables[kTableCount];
  std::vector<uint8_t> decisionOrder;  // table kinds, dependencies first
  std::vector<CapRule> caps;
  HoldoutRule holdout;
  std::vector<std::string> natives;    // builtin keys; Call's A indexes this
  std::vector<int32_t> quantiles;      // Population chunks, one per quantile_rank site
  // std.rfm: Population chunks giving recency (days), frequency and monetary per customer,
  // compiled from the config's rfm.purchase and rfm.amount (kept to check the config at run).
  int32_t rfmChunks[3] = {-1, -1, -1};
  std::string rfmPurchase;
  std::string rfmAmount;
  // std.clv: Population chunks giving each customer's purchase times and amounts (two lists of
  // the same length), compiled from the config's clv.purchase and clv.amount (kept likewise).
  int32_t clvChunks[2] = {-1, -1};
  std::string clvPurchase;
  std::string clvAmount;
  std::vector<Chunk> chunks;

  const DecisionTable& table(TableKind k) const { return tables[static_cast<int>(k)]; }
  DecisionTable& table(TableKind k) { return tables[static_cast<int>(k)]; }
  uint32_t addString(const std::string& s);
  uint32_t addConstant(const Constant& c);
};

// Emits one chunk. Jumps are patched through labels; finish() refuses a chunk with a jump
// left unpatched, and [[nodiscard]] makes dropping a label a compile warning.
class ChunkBuilder {
 public:
  struct [[nodiscard]] Label {
    size_t at = 0;
  };

  ChunkBuilder(ChunkKind kind, std::string label, uint32_t file = 0);
  void emit(Opcode op, SourceLoc loc);
  void emitA(Opcode op, uint32_t a, SourceLoc loc);
  void emitAB(Opcode op, uint32_t a, uint32_t b, SourceLoc loc);
  [[nodiscard]] Label emitJump(Opcode op, SourceLoc loc);
  void bind(Label label);  // the jump lands at the next instruction emitted
  size_t size() const { return chunk_.code.size(); }
  Chunk finish();

 private:
  Chunk chunk_;
  size_t pendingJumps_ = 0;
};

}  // namespace rekindle
