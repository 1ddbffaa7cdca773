// Customer conditions tested up front. A decision row, a segment or a cap line whose condition
// reads only the customer's own fields, run constants, quick event scans (event_scan.h: a count,
// an exists, the latest time or a sum of the events that conditions tested up front keep) and
// lets and segments made of these (`account_type == "b2b"`, `not (email_bounced ?? false)`,
// `orders == 1 and idle < at_risk_after`, `quiet >= dormant_after`) has an answer that depends on
// nothing the customer decides. Its answer for every customer is worked out once per run, before
// the passes, 64 customers at a time: a comparison of an int-like or string field with a constant
// is one vector compare for the 64, a null test reads the field's null bits, and the other steps
// run the VM's own operators, scans and natives on each of the 64 in a tight loop. The conditions
// are compiled together, so that a let, a segment or a scan several of them read is worked out
// once. The passes then read the answer from two bits instead of running the chunk, which they
// otherwise do once or twice per customer.
//
// Same answers as the bytecode, null included (three-valued `and`, `or`, `not`; `??`): each step
// of a condition yields, for each of the 64 customers, true, false or null, or "in bytecode"
// where an operand's kind does not fit its operator (only forged bytecode gets there), or where
// the right side of `and`/`or` is opaque (it reads what cannot be tested up front, such as a scan
// whose condition reads a let) and the left side does not decide. Those customers run the chunk
// in bytecode, which reports the fault where it happens. Steps are worked out on demand, as
// bytecode runs them: the right side of `and`/`or` only where the left does not decide.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/program.h"
#include "event_scan.h"

namespace rekindle {

class Executable;
struct RunClock;

// The conditions tested up front, compiled together: one tree of steps, children before parents,
// with a root per condition. A let or a scan that several conditions read (`orders` in three
// stage rows) is one step, worked out once per customer.
class CustomerProgram {
 public:
  // What a condition may read besides the customer's fields and run constants.
  struct Sources {
    const Executable& exe;
    const RunClock& clock;
    const Dataset& data;
    const EventSelections* selections;   // the events' conditions tested up front, or null
    const std::vector<EventScan>& scans;  // the program's event scans (findEventScans)
  };
  explicit CustomerProgram(const Sources& sources);

  // Adds a chunk that reads only the customer's fields, run constants, quick scans, lets and
  // segments made of these and natives in lets, with a form for every instruction (but in an
  // opaque right side of `and`/`or`); false, adding nothing, for any other (lists, events a scan
  // does not reduce, decisions, population statistics, ...).
  bool add(uint32_t chunk);
  size_t conditions() const { return roots_.size(); }

  // Scratch for evaluating a block: one per thread.
  struct Scratch {
    std::vector<Value> values;  // 64 per step, the constants' filled in once
    std::vector<uint64_t> isTrue, isFalse, inBytecode;  // one word per step
    std::vector<uint64_t> done;  // per step: the customers it has been worked out for
    uint32_t first = 0, count = 0;
    uint64_t all = 0;            // the block's customers
    std::vector<uint64_t> kept;  // a scan's events, for a customer with more than 64
    NativeContext natives;       // (nativeContext(), with an arena and the customer's id)
    Arena arena;                 // the natives' lists and strings, for one block
  };
  // Starts a block: customers [first, first + count), count at most 64.
  void start(uint32_t first, uint32_t count, Scratch& s) const;
  // Condition k's answers for the customers of the block in `asked` (bit j: customer first + j),
  // working out the steps it needs for them, and only those: `and` and `or` work their right side
  // out only where the left does not decide, as bytecode does. Bit j of `isTrue` / `isFalse`:
  // neither is null, both is "run it in bytecode", as it is for a customer not asked.
  void answers(size_t k, uint64_t asked, const Dataset& data, Scratch& s, uint64_t& isTrue, uint64_t& isFalse) const;

  static constexpr uint32_t kMaxArguments = 4;  // a native's (clamp has the most, 3)

  struct Step {
    // Value steps give a value per customer; the others true, false or null.
    enum class Shape : uint8_t {
      Field, Constant, Arith, Coalesce, Scan, Call, Boolean,  // values
      Compare, Member, IsNull, IsNotNull, Not, And, Or, Truth,  // true / false / null
      Opaque  // the right side of `and` / `or` that cannot be tested up front: "run it in bytecode"
    };
    Shape shape = Shape::Constant;
    Opcode op = Opcode::Eq;  // Arith, Compare, Member
    // Children; Field: the field; Constant: its index in constants_; Scan: its index in scans_;
    // Call: the native, and the first of its `count` arguments in arguments_; Boolean: the truth
    // step whose answer is the value (a let such as `let big = spend > 100`).
    uint32_t a = 0, b = 0;
    uint32_t count = 0;
    // Compare of an int-like or string field with a constant of its kind (or null): one vector
    // compare of the field's cells (a string's cells are its interned address). `a` the field's
    // step, `constant` what it is compared with, `op` mirrored so that the field is on the left.
    bool cells = false;
    int64_t constant = 0;
    bool constantNull = false;
    bool needsValues = false;  // Field: some step reads its values (not only its cells or nulls)
    // Compare of a value step (`a`) with a constant (`b`) of an ordered kind (`orders >= 2`, `idle <
    // at_risk_after`, `spend_12m >= high_value_spend`): the operator chosen once per block.
    bool versusConstant = false;
  };

 private:
  friend class CustomerProgramCompiler;
  // What the program holds at a point of compiling, to take back what a failed part added.
  struct Mark {
    size_t steps, constants, lists, scans, arguments;
    std::vector<uint32_t> chunks;
  };
  Mark mark() const;
  void rollback(const Mark& m);
  // Works step k out for the customers of `todo` it has not been yet.
  void need(uint32_t k, uint64_t todo, const Dataset& data, Scratch& s) const;
  void work(uint32_t k, uint64_t todo, const Dataset& data, Scratch& s) const;  // need()'s, out of line
  const Sources& sources_;
  std::vector<Step> steps_;
  std::vector<uint32_t> roots_;  // each condition's: never a value step
  std::vector<Value> constants_;
  std::vector<std::unique_ptr<ListObj>> lists_;  // constant lists (`tier in ["gold", "silver"]`)
  std::vector<EventScan> scans_;
  std::vector<uint32_t> arguments_;              // the natives' argument steps
  std::vector<uint32_t> chunks_;                 // each chunk's value step, once compiled
};

// A condition's answers for every customer: a bit per customer in each (neither: null; both: run
// it in bytecode).
struct CustomerAnswers {
  std::vector<uint64_t> isTrue, isFalse;
};

// The answers of every condition tested up front, for every customer of a run.
class CustomerConditions {
 public:
  CustomerConditions(const Executable& exe, const RunClock& clock, const Dataset& data,
                     const EventSelections* selections, int threads);

  using Answers = CustomerAnswers;
  // The chunk's answers, or null when it is not tested up front.
  const Answers* answers(uint32_t chunk) const {
    return chunk < answers_.size() && !answers_[chunk].isTrue.empty() ? &answers_[chunk] : nullptr;
  }
  size_t conditions() const;  // how many chunks are tested up front

 private:
  // A condition tested up front, in the order the passes meet them: a table's rows in order.
  struct Condition {
    uint32_t chunk = 0;
    int table = -1;        // a row's table; -1 for a segment or a cap line
    bool decides = false;  // a row that, true, decides its table
  };
  std::vector<Answers> answers_;  // per chunk; empty when not tested up front
};

}  // namespace rekindle
