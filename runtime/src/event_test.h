// Where-conditions compiled to native tests. `events where kind == "purchase"` runs its condition
// once per event of every customer, and most conditions have one shape: comparisons and `in`
// tests of the event's fields against run constants (literals, params, now, today and arithmetic
// on them), customer fields and lets, joined by and/or/not. For those the VM evaluates a small
// tree here instead of entering its dispatch loop once per event; any other condition (calls,
// projections, `??`, arithmetic on event fields) stays in bytecode.
//
// Same answers as the bytecode: the operators are the VM's own (operators.h), and/or
// short-circuit in the same order, and every leaf yields true or false (never null: comparisons
// and `in` with null are false), so and/or/not need no third value. When an operand's tag does
// not fit its operator (only forged bytecode gets there), test() gives nullopt and the VM reruns
// that event in bytecode, which reports the fault where it happens.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/program.h"
#include "operators.h"

namespace rekindle {

class Executable;
struct RunClock;

// Bit k set where cells[k] `op` c holds (Eq, Ne, Lt, Le, Gt, Ge on the cells as integers), for k <
// count (at most 64): a whole block in one vector compare where the machine has AVX2.
uint64_t cellsWhere(Opcode op, const int64_t* cells, uint32_t count, int64_t c);

class EventTest {
 public:
  // The test for a where-condition chunk, or null when the chunk has another shape.
  // `data` is the run's: its string pool makes string equality a pointer compare.
  static std::unique_ptr<EventTest> compile(const Chunk& chunk, const Executable& exe, const RunClock& clock,
                                            const Dataset& data);
  // The tests of every where-condition of the program (the chunks Filter and Streak run per
  // event), by chunk: null for the other chunks and the conditions that run in bytecode.
  static std::vector<std::unique_ptr<EventTest>> compileAll(const Executable& exe, const RunClock& clock,
                                                            const Dataset& data);

  // The condition for one event of `customer`. `let(i)` gives let i's value (memoised by the
  // caller); it is only called when the condition reaches that let, as in bytecode.
  template <class LetFn>
  std::optional<bool> test(const Dataset& data, uint32_t customer, int64_t event, LetFn& let) const {
    Scope<LetFn> s{data, customer, event, let};
    return eval(nodes_.size() - 1, s);
  }

  // The words of the leaves that compare an event column with a constant, for one range of
  // events, kept for every condition selected on that range (EventSelections): `kind ==
  // "purchase"`, retail's `purchases`, which two `kind in [...]` lists also include, is compared
  // once. Keyed by column, operator and constant; a string column's entries are its
  // cells equal to the constant, an int-like column's the comparison without its nulls (a column
  // is one or the other).
  class SharedLeaves {
   public:
    void clear() { used_ = 0; }  // the leaves' words are kept for the next range's
    const uint64_t* find(uint32_t column, Opcode op, int64_t constant) const {
      for (size_t k = 0; k < used_; ++k) {
        const Leaf& l = leaves_[k];
        if (l.column == column && l.op == op && l.constant == constant) return l.words.data();
      }
      return nullptr;
    }
    void add(uint32_t column, Opcode op, int64_t constant, const uint64_t* words, size_t count) {
      if (used_ == leaves_.size()) leaves_.emplace_back();
      Leaf& l = leaves_[used_++];
      l.column = column;
      l.op = op;
      l.constant = constant;
      l.words.assign(words, words + count);
    }

   private:
    struct Leaf {
      uint32_t column = 0;
      Opcode op = Opcode::Eq;
      int64_t constant = 0;
      std::vector<uint64_t> words;
    };
    std::vector<Leaf> leaves_;
    size_t used_ = 0;
  };

  // For a condition that reads no let: the events of [begin, end) of `customer` it holds for, as
  // bits (bit k of words[k / 64] is event begin + k), node by node, each node over every block
  // of 64 events of the range.
  // False when an operand's kind does not fit its operator (forged bytecode). `scratch` holds a
  // range of words per node. With `shared`, the leaves other conditions have compared on the
  // same range are taken from there.
  bool select(const Dataset& data, uint32_t customer, uint32_t begin, uint32_t end, uint64_t* words,
              std::vector<uint64_t>& scratch, SharedLeaves* shared = nullptr) const;

  // Whether the condition reads a let: if not, its answer for an event depends on nothing else
  // the customer computes, and it cannot call back into the VM.
  bool readsLets() const { return reads(Operand::Source::Let); }
  // Whether the condition reads only the event's own fields and run constants: its answer for an
  // event is the same whichever customer's pass tests it (EventSelections).
  bool readsOnlyEvents() const {
    return !reads(Operand::Source::Let) && !reads(Operand::Source::CustomerField);
  }

  struct Operand {
    enum class Source : uint8_t { Constant, EventField, CustomerField, Let };
    Source source = Source::Constant;
    uint32_t index = 0;  // field or let
    Value value;         // the constant
  };
  struct Node {
    // StringIs: a string field equal to one of strings_[b, b + count) (Eq, In), or to none of
    // them (Ne, NotIn). Every string of a run is interned in its pool, so equal strings are the
    // same pointer: the constants are looked up in the pool once, and a constant the data never
    // holds cannot match.
    enum class Shape : uint8_t { Compare, Member, StringIs, IsNull, IsNotNull, Not, And, Or };
    Shape shape = Shape::Compare;
    Opcode op = Opcode::Eq;  // Compare, Member, StringIs
    uint32_t a = 0, b = 0;   // operands (Compare, Member: a op b; IsNull, StringIs: a) or nodes
    uint32_t count = 0;      // StringIs
  };

 private:
  template <class LetFn>
  struct Scope {
    const Dataset& data;
    uint32_t customer;
    int64_t event;
    LetFn& let;
  };

  bool reads(Operand::Source source) const {
    for (const Operand& o : operands_)
      if (o.source == source) return true;
    return false;
  }

  template <class LetFn>
  Value operand(uint32_t k, Scope<LetFn>& s) const {
    const Operand& o = operands_[k];
    switch (o.source) {
      case Operand::Source::Constant: return o.value;
      case Operand::Source::EventField: return s.data.events[o.index].get(static_cast<size_t>(s.event));
      case Operand::Source::CustomerField: return s.data.customers[o.index].get(s.customer);
      case Operand::Source::Let: return s.let(o.index);
    }
    return Value::null();
  }

  template <class LetFn>
  std::optional<bool> eval(size_t k, Scope<LetFn>& s) const {
    const Node& n = nodes_[k];
    switch (n.shape) {
      case Node::Shape::Compare:
      case Node::Shape::Member: {
        const Value x = operand(n.a, s);  // left first, as the bytecode pushes them
        const Value y = operand(n.b, s);
        return n.shape == Node::Shape::Compare ? compare(n.op, x, y) : member(n.op, x, y);
      }
      case Node::Shape::StringIs: {
        const Value x = operand(n.a, s);
        if (x.isNull()) return false;
        if (x.tag != Kind::String) return std::nullopt;
        return stringIs(n, x.s);
      }
      case Node::Shape::IsNull: return operand(n.a, s).isNull();
      case Node::Shape::IsNotNull: return !operand(n.a, s).isNull();
      case Node::Shape::Not: {
        auto r = eval(n.a, s);
        if (!r) return r;
        return !*r;
      }
      case Node::Shape::And:
      case Node::Shape::Or: {
        auto l = eval(n.a, s);
        if (!l || *l == (n.shape == Node::Shape::Or)) return l;  // false and ..., true or ...
        return eval(n.b, s);
      }
    }
    return std::nullopt;
  }

  friend class EventTestCompiler;
  std::vector<Operand> operands_;
  std::vector<Node> nodes_;                      // children before parents; the last is the root
  std::vector<std::unique_ptr<ListObj>> lists_;  // constant lists (`kind in ["a", "b"]`)
  // StringIs: the interned constants, as a string column's cells hold them (their addresses).
  std::vector<int64_t> strings_;
  static int64_t cellOf(const std::string* s) { return static_cast<int64_t>(reinterpret_cast<intptr_t>(s)); }
  // A StringIs node on one interned string: whether it is one of the node's constants (Eq, In), or
  // none of them (Ne, NotIn).
  bool stringIs(const Node& n, const std::string* s) const {
    bool found = false;
    for (uint32_t k = n.b; k < n.b + n.count && !found; ++k) found = cellOf(s) == strings_[k];
    return found == (n.op == Opcode::Eq || n.op == Opcode::In);
  }
};

}  // namespace rekindle
