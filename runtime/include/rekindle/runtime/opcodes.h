// The one opcode table, shared by the compiler's emitter, the verifier, the disassembler and
// the VM. Numbers are part of the .rkb format: append new opcodes at the end, never reorder
// (tests/unit/bytecode_test.cpp pins them).
//
// An instruction is one 32-bit word: the opcode in the low 8 bits and a 24-bit operand field.
//   None  no operand
//   A     A = bits 8..31 (unsigned)
//   AB    A = bits 8..23, B = bits 24..31
//   J     a forward jump: target = index of the next instruction + bits 8..31
// Jumps only go forward, so every chunk runs in time linear in its length (SPEC §3.6).
#pragma once

#include <cstdint>

namespace rekindle {

enum class OperandFormat : uint8_t { None, A, AB, J };

// Stack effect: values popped and pushed. kPopA / kPopB: pops as many as operand A / B.
constexpr int kPopA = -1;
constexpr int kPopB = -2;

// X(Name, format, pops, pushes, "what it does")
#define REKINDLE_OPCODES(X)                                                                     \
  X(PushNull, None, 0, 1, "push null")                                                          \
  X(PushTrue, None, 0, 1, "push true")                                                          \
  X(PushFalse, None, 0, 1, "push false")                                                        \
  X(PushConst, A, 0, 1, "push constant A")                                                      \
  X(LoadField, A, 0, 1, "push customer field A")                                                \
  X(LoadEventField, A, 0, 1, "push field A of the event a condition is testing")                \
  X(LoadEvents, None, 0, 1, "push the customer's events, oldest first")                         \
  X(LoadLet, A, 0, 1, "push let A, computing it on first use")                                  \
  X(LoadSegment, A, 0, 1, "push segment A")                                                     \
  X(LoadDecision, A, 0, 1, "push decision A (0 stage, 1 channel, 2 offer)")                     \
  X(LoadParam, A, 0, 1, "push param A")                                                         \
  X(LoadNow, None, 0, 1, "push the run's as-of time")                                           \
  X(LoadToday, None, 0, 1, "push the as-of date in the config's zone")                          \
  X(LoadPrevious, A, 0, 1, "push the previous run's A (0 stage, 1 channel, 2 offer, 3 at)")     \
  X(GetField, A, 1, 1, "replace an event with its field A; null stays null")                    \
  X(Project, A, 1, 1, "replace a list of events with the list of their field A")               \
  X(Filter, A, 1, 1, "keep the events of a list for which chunk A is true")                     \
  X(Streak, A, 1, 1, "count the latest events of a list for which chunk A is true in a row")    \
  X(QuantileRank, A, 1, 1, "replace a value with its rank in population statistic A")           \
  X(MakeList, A, kPopA, 1, "replace the top A values with a list of them")                      \
  X(Call, AB, kPopB, 1, "replace the top B values with native A applied to them")               \
  X(Neg, None, 1, 1, "negate")                                                                  \
  X(Add, None, 2, 1, "add")                                                                     \
  X(Sub, None, 2, 1, "subtract")                                                                \
  X(Mul, None, 2, 1, "multiply")                                                                \
  X(Div, None, 2, 1, "divide (numbers give a float; by zero gives null)")                       \
  X(Mod, None, 2, 1, "remainder (by zero gives null)")                                          \
  X(Eq, None, 2, 1, "equal (false when either is null)")                                        \
  X(Ne, None, 2, 1, "not equal (false when either is null)")                                    \
  X(Lt, None, 2, 1, "less than (false when either is null)")                                    \
  X(Le, None, 2, 1, "at most (false when either is null)")                                      \
  X(Gt, None, 2, 1, "greater than (false when either is null)")                                 \
  X(Ge, None, 2, 1, "at least (false when either is null)")                                     \
  X(In, None, 2, 1, "is the value in the list (false when it is null)")                         \
  X(NotIn, None, 2, 1, "is the value not in the list (false when it is null)")                  \
  X(IsNull, None, 1, 1, "is null")                                                              \
  X(IsNotNull, None, 1, 1, "is not null")                                                       \
  X(Not, None, 1, 1, "three-valued not")                                                        \
  X(And, None, 2, 1, "three-valued and of the top two")                                         \
  X(Or, None, 2, 1, "three-valued or of the top two")                                           \
  X(Jump, J, 0, 0, "jump forward")                                                              \
  X(JumpIfFalse, J, 0, 0, "jump forward when the top is false (it stays on the stack)")         \
  X(JumpIfTrue, J, 0, 0, "jump forward when the top is true (it stays on the stack)")           \
  X(JumpIfNotNull, J, 0, 0, "jump forward when the top is not null (it stays on the stack)")    \
  X(Pop, None, 1, 0, "drop the top value")                                                      \
  X(Return, None, 1, 0, "return the top value")

enum class Opcode : uint8_t {
#define REKINDLE_X(name, fmt, pops, pushes, doc) name,
  REKINDLE_OPCODES(REKINDLE_X)
#undef REKINDLE_X
      Count_
};

constexpr int kOpcodeCount = static_cast<int>(Opcode::Count_);

struct OpcodeInfo {
  const char* name;
  OperandFormat format;
  int pops;
  int pushes;
  const char* doc;
};

const OpcodeInfo& opcodeInfo(Opcode op);

inline Opcode insnOp(uint32_t insn) { return static_cast<Opcode>(insn & 0xFF); }
inline uint32_t insnA(uint32_t insn) { return insn >> 8; }  // format A and J
inline uint32_t insnA16(uint32_t insn) { return (insn >> 8) & 0xFFFF; }
inline uint32_t insnB(uint32_t insn) { return insn >> 24; }
constexpr uint32_t kMaxOperandA = (1u << 24) - 1;

inline uint32_t encodeA(Opcode op, uint32_t a) { return static_cast<uint32_t>(op) | (a << 8); }
inline uint32_t encodeAB(Opcode op, uint32_t a, uint32_t b) {
  return static_cast<uint32_t>(op) | ((a & 0xFFFF) << 8) | (b << 24);
}

}  // namespace rekindle
