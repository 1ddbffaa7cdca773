// The VM: runs a verified Program's chunks for one customer at a time. Lets, segments and
// decisions are computed on first use and memoised for that customer; `and`/`or` short-circuit;
// null follows SPEC §3.5. Channel consent is checked here, on every program, whatever bytecode
// asks for (SPEC §5.2).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rekindle/runtime/config.h"
#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/program.h"
#include "rekindle/stdlib/builtins.h"

namespace rekindle {

struct RunClock {
  int64_t now = 0;    // time
  int64_t today = 0;  // date in the config's zone
  TimeZone zone;
  static RunClock at(int64_t now, const TimeZone& zone);
};

class Population;
struct PreviousDecisions;
class EventTest;
struct EventScan;
class EventSelections;
class CustomerConditions;
struct CustomerAnswers;

// What a run provides to evaluation besides the program and the data.
struct RunContext {
  RunClock clock;
  const Population* population = nullptr;      // after the population pass
  const PreviousDecisions* previous = nullptr;  // with --previous
  const EventSelections* selections = nullptr;  // the scans' conditions on events alone, tested up front
  const CustomerConditions* customers = nullptr;  // conditions on the customer's own fields, tested up front
};

// A Program bound to one config and one run's string pool.
class Executable {
 public:
  // Checks the program against the config (schema fingerprint, channels and offers it names)
  // and applies param overrides (config `params:` first, then `overrides`, e.g. --param).
  static std::optional<Executable> bind(const Program& program, const Config& config,
                                        StringPool& pool,
                                        const std::vector<std::pair<std::string, std::string>>& overrides,
                                        std::string& error);

  const Program& program() const { return *program_; }
  const Config& config() const { return *config_; }
  const std::vector<Value>& constants() const { return constants_; }
  const std::vector<Value>& params() const { return params_; }
  const Builtin& native(uint32_t i) const { return *natives_[i]; }  // Call's operand
  size_t natives() const { return natives_.size(); }
  int configChannel(int32_t programChannel) const { return channelIndex_[programChannel]; }
  int configOffer(int32_t programOffer) const { return offerIndex_[programOffer]; }
  // The outcome's name as written in output ("none" for kNoOutcome).
  const std::string& outcomeName(TableKind k, int64_t index) const;

 private:
  const Program* program_ = nullptr;
  const Config* config_ = nullptr;
  std::vector<Value> constants_;
  std::vector<Value> params_;
  std::vector<std::unique_ptr<ListObj>> paramLists_;
  std::vector<const Builtin*> natives_;
  std::vector<int> channelIndex_;
  std::vector<int> offerIndex_;
};

// Keeps in `options` only the fields a run of this program reads (LoadOptions::keepCustomerFields
// and keepEventFields): those its bytecode loads, and those the runtime reads for it: the id, the
// event time, every channel's consent and contact detail, the customers' time zone, and the event
// fields the contact history is taken from.
void keepFieldsRead(const Program& program, const Config& config, LoadOptions& options);

// The value an instruction pushes when it is a run constant (a literal, a param, `now`, `today`),
// for the compiled conditions and the chunk shortcuts; nullopt for any other instruction.
std::optional<Value> runConstant(uint32_t insn, const Executable& exe, const RunClock& clock);

// Parses a param value given as text (config or --param) by the param's type.
std::optional<Value> parseParamValue(std::string_view text, const Type& type, const TimeZone& zone,
                                     StringPool& pool, std::string& error);

// Why a channel row was passed over for a customer.
enum class ConsentResult : uint8_t { Allowed, NoConsent, MissingField, NotInConfig };

// Observes evaluation for `rekindle explain` and `--explain`.
class EvalTracer {
 public:
  virtual ~EvalTracer() = default;
  virtual void rowTried(TableKind table, size_t row, const Value& condition) = 0;
  virtual void rowSkipped(TableKind table, size_t row, ConsentResult why) = 0;
  virtual void letComputed(uint32_t let, const Value& v) = 0;
  virtual void fieldRead(uint32_t field, const Value& v) = 0;
};

// The natives' view of a run: its clock, zone and calendar. (The caller gives it an arena, and
// the customer and population natives read.)
NativeContext nativeContext(const Executable& exe, const RunClock& clock);

class Evaluator {
 public:
  Evaluator(const Executable& exe, const Dataset& data, const RunContext& context);
  ~Evaluator();

  void begin(uint32_t customer);
  uint32_t customer() const { return customer_; }

  // Memoised for the customer: a value already computed is read inline, without a call.
  Value let(uint32_t i) { return letGen_[i] == gen_ ? letVal_[i] : computeLet(i); }
  Value segment(uint32_t i) { return segGen_[i] == gen_ ? segVal_[i] : computeSegment(i); }
  Value decision(TableKind k) {
    const int t = static_cast<int>(k);
    return decGen_[t] == gen_ ? decVal_[t] : computeDecision(k);
  }
  int decidedRow(TableKind k) const { return decidedRow_[static_cast<int>(k)]; }
  // Whether this customer's segment / decision has been computed (or fixed) yet.
  bool segmentComputed(uint32_t i) const { return segGen_[i] == gen_; }
  bool decisionComputed(TableKind k) const { return decGen_[static_cast<int>(k)] == gen_; }
  // A segment's value known from an earlier pass over this customer (DecisionRun's carry): it
  // is not computed again.
  void fixSegment(uint32_t i, const Value& v) {
    segVal_[i] = v;
    segGen_[i] = gen_;
  }
  Value runChunk(int32_t chunk);

  // Budgets: the allocator fixes a table's row for this customer before it is evaluated
  // (row index, or -1 for "no row": the outcome is null).
  void fixRow(TableKind k, int row) {
    fixedGen_[static_cast<int>(k)] = gen_;
    fixedRow_[static_cast<int>(k)] = row;
  }
  // Every row of a table whose condition holds (and whose channel the customer may receive),
  // in table order: the candidates the allocator works with. With `last`, the list ends at the
  // first eligible row r with last[r] set: the allocator gives an unlimited row without a
  // contest, so the rows after it cannot matter, and their conditions are not run. Into `rows`
  // (cleared first), so that a pass over millions of customers reuses one vector.
  void eligibleRows(TableKind k, std::vector<int>& rows, const std::vector<bool>* last = nullptr);

  ConsentResult consent(int32_t programChannel) const;
  const std::string& fault() const { return fault_; }
  void setTracer(EvalTracer* t) { tracer_ = t; }
  // Where-conditions run as compiled EventTests, and list expressions over the events as event
  // scans, when they can (the default); false runs everything in bytecode. Both give the same
  // results: the tests compare them.
  void useCompiled(bool on) { useCompiled_ = on; }
  size_t compiledConditions() const;  // how many where-conditions compiled
  size_t eventScans() const;          // how many list expressions run as event scans
  size_t quickScans() const;          // how many of them are quick (quickScans_)
  Arena& arena() { return arena_; }
  NativeContext& nativeContext() { return native_; }

 private:
  Value computeLet(uint32_t i);
  Value computeSegment(uint32_t i);
  Value computeDecision(TableKind k);
  // Runs a chunk: one with a shortcut (below) without entering the dispatch loop, else interpret().
  Value execute(int32_t chunk, int64_t element);
  // The dispatch loop. `first`: the value of the chunk's first operator, which a guard (below)
  // applied and which did not end the chunk: the loop goes on from the instruction after it.
  Value interpret(int32_t chunk, int64_t element, const Value* first = nullptr);
  Value setFault(const Chunk& c, size_t pc, const std::string& what);
  Value events();
  // An event scan's value (event_scan.h); nullopt when a condition met a value of the wrong
  // kind (forged bytecode): the expression then runs in bytecode.
  std::optional<Value> scan(uint32_t s);
  // The scan's value from the events its pure conditions keep: `words` words of bits from event `begin`.
  std::optional<Value> reduce(const EventScan& sc, uint32_t begin, const uint64_t* kept, size_t words);
  // The customer's events a pure where-condition holds for, as bits, tested on first use; null
  // on a kind mismatch. (scan() reads a condition EventSelections tested up front from there.)
  const uint64_t* selection(uint32_t condition);
  // One event's where-condition, as Filter and Streak test it.
  bool holds(uint32_t condition, int64_t event);
  Value rowCondition(TableKind k, const DecisionRow& row);
  Value outcomeValue(TableKind k, int32_t outcome) const;

  // The population statistics of the current customer, as natives see them.
  class CustomerPopulation : public PopulationView {
   public:
    const Population* population = nullptr;
    uint32_t customer = 0;
    int rfmScore(char which) const override;
    const std::string* rfmSegment() const override;
    const std::string* rfmScoreString() const override;
    Value clv(std::string_view what, const Value* args, int argc) const override;
  };

  const Executable& exe_;
  const Program& prog_;
  const Dataset& data_;
  RunClock clock_;
  RunContext context_;
  CustomerPopulation customerPopulation_;
  NativeContext native_;
  Arena arena_;
  EvalTracer* tracer_ = nullptr;

  uint32_t customer_ = 0;
  uint32_t gen_ = 0;  // bumps per customer: memo slots from an older generation are stale
  std::vector<uint32_t> letGen_, letBusy_, segGen_, segBusy_;
  std::vector<Value> letVal_, segVal_;
  uint32_t decGen_[kTableCount] = {0, 0, 0};
  uint32_t decBusy_[kTableCount] = {0, 0, 0};
  uint32_t fixedGen_[kTableCount] = {0, 0, 0};
  int fixedRow_[kTableCount] = {-1, -1, -1};
  Value decVal_[kTableCount];
  int decidedRow_[kTableCount] = {-1, -1, -1};
  uint32_t eventsGen_ = 0;
  Value eventsVal_;

  std::vector<Value> stack_;
  Value* top_ = nullptr;
  std::vector<uint8_t> active_;  // chunk currently running: re-entry is a fault
  std::vector<std::unique_ptr<EventTest>> eventTests_;  // per chunk; null: run in bytecode
  std::vector<EventScan> scans_;
  // Per scan: whether it is quick: every condition tested up front (EventSelections), and a
  // reduction that needs only how many events are kept, the first or last of them (count,
  // exists, first, last, the earliest or latest time), or the sum of an int, float or duration
  // field. For a customer with at most 64 events it is then a few operations on a word and a
  // column, without the generic reduction.
  std::vector<uint8_t> quickScans_;
  // Chunks that run without entering the dispatch loop (execute()): one event scan
  // (`count(purchases)`), or one operator on two simple operands (a run constant, a customer
  // field, a let or a decision): a comparison (`stage == active`, `quiet >= dormant_after`),
  // arithmetic (`now - last_seen`) or a native (`anniversary_within(birthday, 7d)`). Or a guard:
  // a chunk that starts with such an operator followed by `and` (`stage == active and ...`),
  // which a false ends without entering the loop. Or a row's, segment's or cap line's condition
  // that the run's CustomerConditions tested up front: its answer for the customer is read there.
  struct Shortcut {
    enum class Shape : uint8_t { None, UpFront, Scan, Compare, Arith, Call };  // (execute() relies on the order)
    enum class Source : uint8_t { Constant, Field, Let, Decision };
    struct Operand {
      Source source = Source::Constant;
      uint32_t index = 0;  // field, let or table
      Value value;         // the constant
    };
    Shape shape = Shape::None;
    uint32_t scan = 0;  // Scan
    Opcode op = Opcode::Eq;
    Operand x, y;                 // x op y, or fn(x, y)
    const Builtin* fn = nullptr;  // Call
    const CustomerAnswers* answers = nullptr;  // UpFront
    // The chunk goes on after the operator, to a JumpIfFalse whose jumps (through more
    // JumpIfFalse) reach its Return: a false is the chunk's value.
    bool guard = false;
  };
  // A decision-table row whose condition starts with `table == outcome` (`stage == active and
  // ...`, from its shortcut): once the customer's decision of that table is known to be another
  // outcome (computed, or fixed to a row), the condition is false, and rowCondition does not run
  // it. Retail's offer table starts twelve of its fifteen rows so (`stage == ...`, `channel ==
  // none`), and a customer passes most of them over.
  struct OutcomeGuard {
    int8_t table = -1;  // -1: the condition does not start so
    int64_t outcome = 0;
  };
  std::vector<OutcomeGuard> outcomeGuards_;  // per chunk
  bool ruledOut(int32_t chunk) const {
    const OutcomeGuard& g = outcomeGuards_[chunk];
    if (g.table < 0 || !useCompiled_ || tracer_ || active_[chunk]) return false;
    // A decision's value is null or an outcome of its table's kind, the constant's kind.
    if (decGen_[g.table] == gen_) return !decVal_[g.table].isNull() && decVal_[g.table].i != g.outcome;
    // Fixed by the allocator or an earlier pass: the row's outcome, unless no row (null).
    if (fixedGen_[g.table] != gen_ || fixedRow_[g.table] < 0) return false;
    return prog_.tables[g.table].rows[fixedRow_[g.table]].outcome != g.outcome;
  }
  static std::optional<Shortcut::Operand> simpleOperand(uint32_t insn, const Executable& exe, const RunClock& clock);
  // The shortcut of three instructions that are one operator on two simple operands, if they are.
  static std::optional<Shortcut> operatorShortcut(const uint32_t* insns, const Executable& exe, const RunClock& clock);
  // An operator shortcut applied to its operands' values, as the loop would; nullopt on a value of
  // the wrong kind.
  std::optional<Value> apply(const Shortcut& s, const Value* xy);
  Value operand(const Shortcut::Operand& o) {
    switch (o.source) {
      case Shortcut::Source::Field: return data_.customers[o.index].get(customer_);
      case Shortcut::Source::Let: return let(o.index);
      case Shortcut::Source::Decision: return decision(static_cast<TableKind>(o.index));
      default: return o.value;
    }
  }
  std::vector<Shortcut> shortcuts_;  // per chunk
  // Per chunk: its code as the loop runs it, each scan's source made a Scan step, and each operator
  // on two simple operands inside a larger chunk (`stage == active and ...`) made a Fused step
  // (one dispatch instead of three) of fused_.
  std::vector<std::vector<uint32_t>> loopCode_;
  std::vector<Shortcut> fused_;
  // Per pure where-condition: the customer's events it holds for (EventTest::select), as bits,
  // for the customer of selectionGen_ (0 when the condition met a value of the wrong kind).
  std::vector<std::vector<uint64_t>> selection_;
  std::vector<uint32_t> selectionGen_;
  std::vector<uint8_t> selectionOk_;
  std::vector<uint64_t> scratch_;  // EventTest::select's
  // Per scan: the customer's events all its pure conditions keep, as bits. Its own, as the last
  // condition may compute a let that runs other scans meanwhile (never this one: a cycle).
  std::vector<std::vector<uint64_t>> scanKept_;
  bool useCompiled_ = true;
  std::string fault_;
};

}  // namespace rekindle
