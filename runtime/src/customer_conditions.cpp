// Compiling a condition's bytecode to a CustomerTest is a symbolic run of the chunk, with steps
// on the stack in place of values. Short-circuit `and`/`or` arrive as `A; JumpIfFalse L; B; And;
// L:` (JumpIfTrue and Or for `or`), and `x ?? y` as `x; JumpIfNotNull L; Pop; y; L:`: the jumped
// over part is compiled on a stack of its own and joined. Anything else gives up on the chunk.
#include "customer_conditions.h"

#include <algorithm>

#include "event_test.h"
#include "operators.h"
#include "parts.h"
#include "rekindle/runtime/vm.h"

namespace rekindle {

class CustomerTestCompiler {
 public:
  CustomerTestCompiler(const Chunk& chunk, const Executable& exe, const RunClock& clock, const Dataset& data,
                       CustomerTest& out)
      : chunk_(chunk), exe_(exe), clock_(clock), data_(data), out_(out) {}

  bool run() {
    const auto& code = chunk_.code;
    if (code.empty() || insnOp(code.back()) != Opcode::Return) return false;
    std::vector<uint32_t> stack;
    if (!range(0, code.size() - 1, stack) || stack.size() != 1 || stack[0] + 1 != out_.steps_.size()) return false;
    truth(stack[0]);  // `segment vip when is_vip`: the value is the answer, when it is a bool or null
    for (const Step& s : out_.steps_)  // the fields whose values a step reads per customer
      if (!s.cells) markValues(s);
    return true;
  }

 private:
  using Step = CustomerTest::Step;
  using Shape = Step::Shape;

  bool range(size_t begin, size_t end, std::vector<uint32_t>& stack) {
    const auto& code = chunk_.code;
    for (size_t pc = begin; pc < end;) {
      const uint32_t insn = code[pc++];
      const uint32_t a = insnA(insn);
      const Opcode op = insnOp(insn);
      if (std::optional<Value> v = runConstant(insn, exe_, clock_)) {
        stack.push_back(constant(*v));
        continue;
      }
      switch (op) {
        case Opcode::LoadField:
          if (a >= data_.customers.size()) return false;
          stack.push_back(push({Shape::Field, op, a, 0}));
          break;
        case Opcode::Add: case Opcode::Sub: case Opcode::Mul: case Opcode::Div: case Opcode::Mod: {
          if (stack.size() < 2 || !value(stack[stack.size() - 2]) || !value(stack.back())) return false;
          const uint32_t x = stack[stack.size() - 2], y = stack.back();
          stack.resize(stack.size() - 2);
          if (isConstant(x) && isConstant(y)) {  // arithmetic on run constants (`now - 365d`): once, here
            auto r = arith(op, constantOf(x), constantOf(y));
            if (!r) return false;
            stack.push_back(constant(*r));
          } else {
            stack.push_back(push({Shape::Arith, op, x, y}));
          }
          break;
        }
        case Opcode::MakeList: {
          if (stack.size() < a) return false;
          auto list = std::make_unique<ListObj>();
          for (size_t k = stack.size() - a; k < stack.size(); ++k) {
            if (!isConstant(stack[k])) return false;
            list->items.push_back(constantOf(stack[k]));
          }
          stack.resize(stack.size() - a);
          stack.push_back(constant(Value::listOf(list.get())));
          out_.lists_.push_back(std::move(list));
          break;
        }
        case Opcode::Eq: case Opcode::Ne: case Opcode::Lt: case Opcode::Le: case Opcode::Gt: case Opcode::Ge:
        case Opcode::In: case Opcode::NotIn: {
          if (stack.size() < 2 || !value(stack[stack.size() - 2]) || !value(stack.back())) return false;
          const uint32_t x = stack[stack.size() - 2], y = stack.back();
          stack.resize(stack.size() - 2);
          const bool member = op == Opcode::In || op == Opcode::NotIn;
          Step s{member ? Shape::Member : Shape::Compare, op, x, y};
          if (!member) cells(s);
          stack.push_back(push(s));
          break;
        }
        case Opcode::IsNull: case Opcode::IsNotNull:
          if (stack.empty() || !value(stack.back())) return false;
          stack.back() = push({op == Opcode::IsNull ? Shape::IsNull : Shape::IsNotNull, op, stack.back(), 0});
          break;
        case Opcode::Not:
          if (stack.empty()) return false;
          stack.back() = push({Shape::Not, op, truth(stack.back()), 0});
          break;
        case Opcode::And: case Opcode::Or:
          if (!join(stack, op)) return false;
          break;
        case Opcode::JumpIfFalse: case Opcode::JumpIfTrue: {
          const size_t target = pc + a;
          const Opcode joiner = op == Opcode::JumpIfFalse ? Opcode::And : Opcode::Or;
          if (target > end || target < pc + 2 || insnOp(code[target - 1]) != joiner || stack.empty()) return false;
          std::vector<uint32_t> right;
          if (!range(pc, target - 1, right) || right.size() != 1) return false;
          stack.push_back(right[0]);
          if (!join(stack, joiner)) return false;
          pc = target;
          break;
        }
        case Opcode::JumpIfNotNull: {
          // x; JumpIfNotNull L; Pop; y; L:  — x ?? y
          const size_t target = pc + a;
          if (target > end || target < pc + 2 || insnOp(code[pc]) != Opcode::Pop || stack.empty() || !value(stack.back()))
            return false;
          std::vector<uint32_t> right;
          if (!range(pc + 1, target, right) || right.size() != 1 || !value(right[0])) return false;
          stack.back() = push({Shape::Coalesce, op, stack.back(), right[0]});
          pc = target;
          break;
        }
        default:
          // Events, lets, segments, decisions, the previous run, population statistics: not the
          // customer's own. Natives too: one costs as much per customer here as in the passes.
          return false;
      }
    }
    return true;
  }

  uint32_t push(const Step& s) {
    out_.steps_.push_back(s);
    return static_cast<uint32_t>(out_.steps_.size() - 1);
  }
  uint32_t constant(const Value& v) {
    out_.constants_.push_back(v);
    return push({Shape::Constant, Opcode::Eq, static_cast<uint32_t>(out_.constants_.size() - 1), 0});
  }
  bool value(uint32_t step) const { return out_.steps_[step].shape <= Shape::Coalesce; }  // a value step
  bool isConstant(uint32_t step) const { return out_.steps_[step].shape == Shape::Constant; }
  const Value& constantOf(uint32_t step) const { return out_.constants_[out_.steps_[step].a]; }
  // A value where and/or/not want true, false or null.
  uint32_t truth(uint32_t step) { return value(step) ? push({Shape::Truth, Opcode::Eq, step, 0}) : step; }
  bool join(std::vector<uint32_t>& stack, Opcode op) {
    if (stack.size() < 2) return false;
    const uint32_t x = truth(stack[stack.size() - 2]), y = truth(stack.back());
    stack.resize(stack.size() - 2);
    stack.push_back(push({op == Opcode::And ? Shape::And : Shape::Or, op, x, y}));
    return true;
  }
  // A comparison of an int-like or string field with a constant of its kind, or with null: on the
  // field's cells (a string constant the data never holds is no string's address).
  void cells(Step& s) {
    const bool xField = out_.steps_[s.a].shape == Shape::Field, yField = out_.steps_[s.b].shape == Shape::Field;
    if (xField == yField || (isConstant(s.a) == isConstant(s.b))) return;
    const uint32_t field = xField ? s.a : s.b;
    const Value& c = constantOf(xField ? s.b : s.a);
    const Column& column = data_.customers[out_.steps_[field].a];
    if (c.isNull()) {
      s.constantNull = true;
    } else if (integral(column.kind()) && c.tag == column.kind()) {
      s.constant = c.i;
    } else if (column.kind() == Kind::String && c.tag == Kind::String && (s.op == Opcode::Eq || s.op == Opcode::Ne)) {
      const std::string* interned = data_.strings.find(*c.s);
      s.constant = interned ? static_cast<int64_t>(reinterpret_cast<intptr_t>(interned)) : 0;  // 0: no cell's
    } else {
      return;
    }
    s.cells = true;
    if (!xField) s.op = mirrored(s.op);
    s.a = field;
  }
  void markValue(uint32_t step) {
    if (out_.steps_[step].shape == Shape::Field) out_.steps_[step].needsValues = true;
  }
  // The children whose values s reads per customer.
  void markValues(const Step& s) {
    switch (s.shape) {
      case Shape::Arith: case Shape::Coalesce: case Shape::Compare: case Shape::Member:
        markValue(s.a);
        markValue(s.b);
        break;
      case Shape::IsNull: case Shape::IsNotNull: break;  // a field's null bits
      case Shape::Truth: markValue(s.a); break;
      default: break;
    }
  }

  const Chunk& chunk_;
  const Executable& exe_;
  const RunClock& clock_;
  const Dataset& data_;
  CustomerTest& out_;
};

std::unique_ptr<CustomerTest> CustomerTest::compile(const Chunk& chunk, const Executable& exe, const RunClock& clock,
                                                    const Dataset& data) {
  auto test = std::make_unique<CustomerTest>();
  CustomerTestCompiler compiler(chunk, exe, clock, data, *test);
  if (!compiler.run()) return nullptr;
  return test;
}

void CustomerTest::test(const Dataset& data, uint32_t first, uint32_t count, Scratch& s, uint64_t& isTrue,
                        uint64_t& isFalse) const {
  const uint64_t all = count == 64 ? ~uint64_t(0) : (uint64_t(1) << count) - 1;
  const size_t n = steps_.size();
  if (s.values.size() < n * 64) s.values.resize(n * 64);
  s.isTrue.assign(n, 0);
  s.isFalse.assign(n, 0);
  s.inBytecode.assign(n, 0);
  auto at = [&](uint32_t step, uint32_t k) -> const Value& {
    return steps_[step].shape == Step::Shape::Constant ? constants_[steps_[step].a] : s.values[step * 64 + k];
  };
  // Each customer of the block not already in bytecode through a child.
  auto each = [&](uint64_t skip, auto fn) {
    for (uint64_t todo = all & ~skip; todo; todo &= todo - 1) fn(static_cast<uint32_t>(__builtin_ctzll(todo)));
  };
  for (uint32_t k = 0; k < n; ++k) {
    const Step& st = steps_[k];
    Value* out = s.values.data() + k * 64;
    uint64_t& t = s.isTrue[k];
    uint64_t& f = s.isFalse[k];
    uint64_t& x = s.inBytecode[k];
    switch (st.shape) {
      case Step::Shape::Constant: break;
      case Step::Shape::Field:
        if (st.needsValues)
          for (uint32_t j = 0; j < count; ++j) out[j] = data.customers[st.a].get(first + j);
        break;
      case Step::Shape::Arith:
        x = s.inBytecode[st.a] | s.inBytecode[st.b];
        each(x, [&](uint32_t j) {
          if (auto r = arith(st.op, at(st.a, j), at(st.b, j))) out[j] = *r;
          else x |= uint64_t(1) << j;
        });
        break;
      case Step::Shape::Coalesce:
        x = s.inBytecode[st.a] | s.inBytecode[st.b];
        each(x, [&](uint32_t j) { out[j] = at(st.a, j).isNull() ? at(st.b, j) : at(st.a, j); });
        break;
      case Step::Shape::Compare:
        if (st.cells) {
          const Column& column = data.customers[steps_[st.a].a];
          t = st.constantNull ? 0 : cellsWhere(st.op, column.payloads() + first, count, st.constant) &
                                        ~column.nullBits(first, count) & all;
          f = ~t & all;  // a comparison with null is false
          break;
        }
        [[fallthrough]];
      case Step::Shape::Member:
        x = s.inBytecode[st.a] | s.inBytecode[st.b];
        each(x, [&](uint32_t j) {
          auto r = st.shape == Step::Shape::Compare ? compare(st.op, at(st.a, j), at(st.b, j))
                                                    : member(st.op, at(st.a, j), at(st.b, j));
          if (!r) x |= uint64_t(1) << j;
          else (*r ? t : f) |= uint64_t(1) << j;
        });
        break;
      case Step::Shape::IsNull:
      case Step::Shape::IsNotNull: {
        uint64_t nulls = 0;
        if (steps_[st.a].shape == Step::Shape::Field) {
          nulls = data.customers[steps_[st.a].a].nullBits(first, count);
        } else {
          x = s.inBytecode[st.a];
          each(x, [&](uint32_t j) { nulls |= uint64_t(at(st.a, j).isNull()) << j; });
        }
        t = (st.shape == Step::Shape::IsNull ? nulls : ~nulls) & all;
        f = ~t & all;
        break;
      }
      case Step::Shape::Truth:
        x = s.inBytecode[st.a];
        each(x, [&](uint32_t j) {
          const Value& v = at(st.a, j);
          if (v.tag == Kind::Bool) (v.b ? t : f) |= uint64_t(1) << j;
          else if (!v.isNull()) x |= uint64_t(1) << j;  // not a bool: bytecode faults
        });
        break;
      case Step::Shape::Not:
        t = s.isFalse[st.a];
        f = s.isTrue[st.a];
        x = s.inBytecode[st.a];
        break;
      case Step::Shape::And:  // false wins, then null
        t = s.isTrue[st.a] & s.isTrue[st.b];
        f = s.isFalse[st.a] | s.isFalse[st.b];
        x = s.inBytecode[st.a] | s.inBytecode[st.b];
        break;
      case Step::Shape::Or:  // true wins, then null
        t = s.isTrue[st.a] | s.isTrue[st.b];
        f = s.isFalse[st.a] & s.isFalse[st.b];
        x = s.inBytecode[st.a] | s.inBytecode[st.b];
        break;
    }
  }
  // The root gives true, false or null (a value root is a Truth step); whatever a customer in
  // bytecode got there, both bits.
  const size_t root = n - 1;
  isTrue = s.isTrue[root] | s.inBytecode[root];
  isFalse = s.isFalse[root] | s.inBytecode[root];
}

CustomerConditions::CustomerConditions(const Executable& exe, const RunClock& clock, const Dataset& data, int threads) {
  const Program& prog = exe.program();
  answers_.resize(prog.chunks.size());
  // The conditions the passes run per customer: the tables' rows, the segments, the caps' lines.
  std::vector<int32_t> chunks;
  for (const DecisionTable& t : prog.tables)
    for (const DecisionRow& row : t.rows) chunks.push_back(row.condition);
  for (const NamedChunk& s : prog.segments) chunks.push_back(s.chunk);
  for (const CapRule& r : prog.caps) chunks.push_back(r.condition);
  std::vector<uint32_t> tested;
  std::vector<std::unique_ptr<CustomerTest>> tests;
  for (int32_t c : chunks) {
    if (c < 0 || static_cast<size_t>(c) >= prog.chunks.size()) continue;
    if (std::find(tested.begin(), tested.end(), static_cast<uint32_t>(c)) != tested.end()) continue;
    if (auto test = CustomerTest::compile(prog.chunks[c], exe, clock, data)) {
      tested.push_back(static_cast<uint32_t>(c));
      tests.push_back(std::move(test));
    }
  }
  const size_t words = (data.customerCount + 63) / 64;
  if (tests.empty() || words == 0) return;
  for (uint32_t c : tested) {
    answers_[c].isTrue.assign(words, 0);
    answers_[c].isFalse.assign(words, 0);
  }
  // Each part a range of whole words, its own: the threads share nothing they write.
  const size_t parts = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(threads), words / 256 + 1));
  auto part = [&](size_t p) {
    CustomerTest::Scratch s;
    for (size_t w = words * p / parts, end = words * (p + 1) / parts; w < end; ++w) {
      const uint32_t first = static_cast<uint32_t>(w * 64);
      const uint32_t count = static_cast<uint32_t>(std::min<size_t>(64, data.customerCount - first));
      for (size_t k = 0; k < tests.size(); ++k)
        tests[k]->test(data, first, count, s, answers_[tested[k]].isTrue[w], answers_[tested[k]].isFalse[w]);
    }
  };
  inParts(parts, part);
}

size_t CustomerConditions::conditions() const {
  return static_cast<size_t>(std::count_if(answers_.begin(), answers_.end(), [](const Answers& a) { return !a.isTrue.empty(); }));
}

}  // namespace rekindle
