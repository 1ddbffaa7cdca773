// The language's operators on runtime values, shared by the VM's dispatch loop and the
// compiled where-conditions (event_test.h), so both give the same answer and the same faults.
#pragma once

#include <optional>

#include "rekindle/core/value.h"
#include "rekindle/runtime/opcodes.h"

namespace rekindle {

// Add, Sub, Mul, Div, Mod. Null when either operand is null or the result is out of range;
// nullopt when the operand tags do not fit the operator (only forged bytecode gets here).
std::optional<Value> arith(Opcode op, const Value& a, const Value& b);

bool orderable(const Value& a, const Value& b);
bool comparable(const Value& a, const Value& b);

// Ints, times, dates and durations: of one kind, they compare as their integers.
inline bool integral(Kind k) { return k == Kind::Int || k == Kind::Time || k == Kind::Date || k == Kind::Duration; }

// Stages, channels and offers: of one kind, equal when their indexes are (they have no order).
inline bool outcome(Kind k) { return k == Kind::Stage || k == Kind::Channel || k == Kind::Offer; }

// Eq, Ne, Lt, Le, Gt, Ge on two integers.
inline bool compareIntegral(Opcode op, int64_t x, int64_t y) {
  switch (op) {
    case Opcode::Eq: return x == y;
    case Opcode::Ne: return x != y;
    case Opcode::Lt: return x < y;
    case Opcode::Le: return x <= y;
    case Opcode::Gt: return x > y;
    default: return x >= y;
  }
}

// The same comparison with its operands swapped: `c < field` is `field > c`.
inline Opcode mirrored(Opcode op) {
  switch (op) {
    case Opcode::Lt: return Opcode::Gt;
    case Opcode::Le: return Opcode::Ge;
    case Opcode::Gt: return Opcode::Lt;
    case Opcode::Ge: return Opcode::Le;
    default: return op;
  }
}

// compare() for the values that are not two integrals of one kind or two outcomes of one kind.
std::optional<bool> compareMixed(Opcode op, const Value& x, const Value& y);

// Eq, Ne, Lt, Le, Gt, Ge: false when either side is null (SPEC §3.5); nullopt when the tags
// cannot be compared. Most comparisons in rules are of two integrals (`idle < at_risk_after`), of
// two outcomes (`stage == active`) or of two floats, inline here.
inline std::optional<bool> compare(Opcode op, const Value& x, const Value& y) {
  if (x.tag == y.tag) {
    if (integral(x.tag)) return compareIntegral(op, x.i, y.i);
    if (outcome(x.tag) && (op == Opcode::Eq || op == Opcode::Ne)) return (x.i == y.i) == (op == Opcode::Eq);
    // Two floats ordered (`spend_12m >= high_value_spend`) as compareValues orders them.
    if (x.tag == Kind::Float && op != Opcode::Eq && op != Opcode::Ne)
      return compareIntegral(op, x.f < y.f ? -1 : x.f > y.f ? 1 : 0, 0);
  }
  return compareMixed(op, x, y);
}

// In, NotIn: false when x is null; nullopt when `list` is not a list.
std::optional<bool> member(Opcode op, const Value& x, const Value& list);

inline Value threeValuedNot(const Value& a) { return a.isNull() ? a : Value::boolean(!a.b); }

}  // namespace rekindle
