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

// Eq, Ne, Lt, Le, Gt, Ge: false when either side is null (SPEC §3.5); nullopt when the tags
// cannot be compared.
std::optional<bool> compare(Opcode op, const Value& x, const Value& y);

// In, NotIn: false when x is null; nullopt when `list` is not a list.
std::optional<bool> member(Opcode op, const Value& x, const Value& list);

inline Value threeValuedNot(const Value& a) { return a.isNull() ? a : Value::boolean(!a.b); }

}  // namespace rekindle
