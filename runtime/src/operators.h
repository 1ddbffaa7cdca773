// The language's operators on runtime values, shared by the VM's dispatch loop and the
// compiled where-conditions (event_test.h), so both give the same answer and the same faults.
#pragma once

#include <optional>

#include "rekindle/core/value.h"
#include "rekindle/runtime/opcodes.h"
#include "rekindle/stdlib/builtins.h"

namespace rekindle {

bool orderable(const Value& a, const Value& b);
bool comparable(const Value& a, const Value& b);

// Ints, times, dates and durations: of one kind, they compare as their integers.
inline bool integral(Kind k) { return k == Kind::Int || k == Kind::Time || k == Kind::Date || k == Kind::Duration; }

// arith() for the operands that are not below.
std::optional<Value> arithMixed(Opcode op, const Value& a, const Value& b);

// Add, Sub, Mul, Div, Mod. Null when either operand is null or the result is out of range;
// nullopt when the operand tags do not fit the operator (only forged bytecode gets here). Most
// arithmetic in rules adds or subtracts ints, times and durations (`now - last_order`,
// `now - 365d`): inline here.
inline std::optional<Value> arith(Opcode op, const Value& a, const Value& b) {
  if (op == Opcode::Sub || op == Opcode::Add) {
    Kind kind = Kind::Null;
    if (a.tag == b.tag && (a.tag == Kind::Int || a.tag == Kind::Duration)) kind = a.tag;
    else if (a.tag == Kind::Time && b.tag == Kind::Duration) kind = Kind::Time;
    else if (a.tag == Kind::Time && b.tag == Kind::Time && op == Opcode::Sub) kind = Kind::Duration;
    if (kind != Kind::Null) {
      int64_t r = 0;
      if (op == Opcode::Sub ? __builtin_sub_overflow(a.i, b.i, &r) : __builtin_add_overflow(a.i, b.i, &r))
        return Value::null();
      return Value::tagged(kind, r);
    }
  }
  return arithMixed(op, a, b);
}

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

// A native's argument: a list for a list parameter; else null, or the parameter's kind (an int
// for a float).
inline bool argumentFits(const TypePattern& p, const Value& v) {
  if (p.list) return v.tag == Kind::List;
  return v.isNull() || p.var != 0 || p.kind == v.tag || (p.kind == Kind::Float && v.tag == Kind::Int);
}

// A native called as the VM's Call calls it: null without calling it when an argument is null
// and the native propagates null; nullopt when an argument does not fit (forged bytecode).
inline std::optional<Value> callNative(const Builtin& fn, NativeContext& ctx, const Value* args, int argc) {
  bool nullArg = false;
  for (int k = 0; k < argc; ++k) {
    if (!argumentFits(fn.params[k], args[k])) return std::nullopt;
    nullArg |= args[k].isNull();
  }
  return nullArg && fn.propagatesNull ? Value::null() : fn.fn(ctx, args, argc);
}

inline Value threeValuedNot(const Value& a) { return a.isNull() ? a : Value::boolean(!a.b); }

}  // namespace rekindle
