// Customer conditions tested up front. A decision row, a segment or a cap line whose condition
// reads only the customer's own fields and run constants (`account_type == "b2b"`,
// `not (email_bounced ?? false)`, `points_balance > 0 and points_expire_on - today <= 14d`) has
// an answer that depends on nothing the customer computes. Its answer for every customer is
// worked out once per run, before the passes, 64 customers at a time: a comparison of an
// int-like or string field with a constant is one vector compare for the 64, a null test reads
// the field's null bits, and the other steps run the VM's own operators on each of the 64 in a
// tight loop. The passes then read the answer from two bits instead of running the chunk, which
// they otherwise do once or twice per customer. Natives are left to the passes: one costs as
// much per customer here as there (measured: anniversary_within, bench/RESULTS.md round 15).
//
// Same answers as the bytecode, null included (three-valued `and`, `or`, `not`; `??`): each step
// of a condition yields, for each of the 64 customers, true, false or null, or "in bytecode"
// where an operand's kind does not fit its operator (only forged bytecode gets there). Those
// customers run the chunk in bytecode, which reports the fault where it happens. `and` and `or`
// are worked out on both sides: the steps have no side effects, and a side that would fault
// where bytecode never runs it sends the customer to bytecode, which short-circuits.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/program.h"

namespace rekindle {

class Executable;
struct RunClock;

// One condition compiled for the customers: a tree of steps, children before parents.
class CustomerTest {
 public:
  // The test of a chunk that reads only customer fields and run constants, with a form for every
  // instruction; null otherwise (events, lets, segments, decisions, population statistics, ...).
  static std::unique_ptr<CustomerTest> compile(const Chunk& chunk, const Executable& exe, const RunClock& clock,
                                               const Dataset& data);

  // Scratch for evaluating a block: one per thread.
  struct Scratch {
    std::vector<Value> values;  // 64 per step
    std::vector<uint64_t> isTrue, isFalse, inBytecode;  // one word per step
  };
  // The answers for customers [first, first + count), count at most 64: bit k of `isTrue` /
  // `isFalse` for customer first + k; neither is null, both is "run it in bytecode".
  void test(const Dataset& data, uint32_t first, uint32_t count, Scratch& s, uint64_t& isTrue,
            uint64_t& isFalse) const;

  struct Step {
    // Value steps give a value per customer; the others true, false or null.
    enum class Shape : uint8_t {
      Field, Constant, Arith, Coalesce,                      // values
      Compare, Member, IsNull, IsNotNull, Not, And, Or, Truth  // true / false / null
    };
    Shape shape = Shape::Constant;
    Opcode op = Opcode::Eq;  // Arith, Compare, Member
    uint32_t a = 0, b = 0;   // children; Field: the field; Constant: its index in constants_
    // Compare of an int-like or string field with a constant of its kind (or null): one vector
    // compare of the field's cells (a string's cells are its interned address). `a` the field's
    // step, `constant` what it is compared with, `op` mirrored so that the field is on the left.
    bool cells = false;
    int64_t constant = 0;
    bool constantNull = false;
    bool needsValues = false;  // Field: some step reads its values (not only its cells or nulls)
  };

 private:
  friend class CustomerTestCompiler;
  std::vector<Step> steps_;  // the root is the last, never a value step
  std::vector<Value> constants_;
  std::vector<std::unique_ptr<ListObj>> lists_;  // constant lists (`tier in ["gold", "silver"]`)
};

// A condition's answers for every customer: a bit per customer in each (neither: null; both: run
// it in bytecode).
struct CustomerAnswers {
  std::vector<uint64_t> isTrue, isFalse;
};

// The answers of every condition tested up front, for every customer of a run.
class CustomerConditions {
 public:
  CustomerConditions(const Executable& exe, const RunClock& clock, const Dataset& data, int threads);

  using Answers = CustomerAnswers;
  // The chunk's answers, or null when it is not tested up front.
  const Answers* answers(uint32_t chunk) const {
    return chunk < answers_.size() && !answers_[chunk].isTrue.empty() ? &answers_[chunk] : nullptr;
  }
  // The customer's answer: true, false or null; nullopt when it is to run in bytecode.
  static std::optional<Value> value(const Answers& a, uint32_t customer) {
    const uint64_t bit = uint64_t(1) << (customer & 63);
    const bool t = a.isTrue[customer >> 6] & bit, f = a.isFalse[customer >> 6] & bit;
    if (t && f) return std::nullopt;
    if (t || f) return Value::boolean(t);
    return Value::null();
  }
  size_t conditions() const;  // how many chunks are tested up front

 private:
  std::vector<Answers> answers_;  // per chunk; empty when not tested up front
};

}  // namespace rekindle
