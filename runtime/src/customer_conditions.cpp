// Compiling a condition's bytecode to a CustomerProgram's steps is a symbolic run of the chunk,
// with steps on the stack in place of values. Short-circuit `and`/`or` arrive as `A; JumpIfFalse
// L; B; And; L:` (JumpIfTrue and Or for `or`), and `x ?? y` as `x; JumpIfNotNull L; Pop; y; L:`:
// the jumped over part is compiled on a stack of its own and joined; a jumped over right side of
// `and`/`or` that does not compile is one opaque step. A quick scan is one step from its first
// instruction to its last; a let or a segment is its own chunk run the same way, once per
// program, on first use. Anything else gives up on the chunk.
#include "customer_conditions.h"

#include <algorithm>

#include "event_test.h"
#include "operators.h"
#include "parts.h"
#include "rekindle/runtime/vm.h"

namespace rekindle {

class CustomerProgramCompiler {
 public:
  explicit CustomerProgramCompiler(CustomerProgram& out)
      : prog_(out.sources_.exe.program()), sources_(out.sources_), exe_(sources_.exe), clock_(sources_.clock),
        data_(sources_.data), out_(out), chunks_(out.chunks_) {}

  // The condition's root, or false when it cannot be tested up front.
  bool run(uint32_t chunk, uint32_t& root) {
    const size_t before = out_.steps_.size();
    uint32_t step = 0;
    if (!chunkValue(chunk, step)) return false;
    root = truth(step);  // `segment vip when is_vip`: the value is the answer, when it is a bool or null
    for (size_t k = before; k < out_.steps_.size(); ++k)  // the fields whose values the new steps read
      if (!out_.steps_[k].cells) markValues(out_.steps_[k]);
    return true;
  }

  static constexpr uint32_t kNone = ~uint32_t(0);
  static constexpr uint32_t kBusy = kNone - 1;

 private:
  using Step = CustomerProgram::Step;
  using Shape = Step::Shape;

  // A chunk's value, compiled once per program: a let or a segment that several conditions read
  // (`orders` in three stage rows, `high_value` in several offer rows) is worked out once per
  // customer. A chunk that reads itself is a cycle, which bytecode reports. A chunk that fails
  // stays busy until the caller rolls back (add(), or an opaque right side). A truth step's value
  // is a Boolean step, which costs nothing unless a value is read of it (truth() undoes it).
  bool chunkValue(uint32_t chunk, uint32_t& step) {
    if (chunk >= prog_.chunks.size() || chunks_[chunk] == kBusy) return false;
    if (chunks_[chunk] == kNone) {
      chunks_[chunk] = kBusy;
      const auto& code = prog_.chunks[chunk].code;
      if (code.empty() || insnOp(code.back()) != Opcode::Return) return false;
      std::vector<uint32_t> stack;
      if (!range(chunk, 0, code.size() - 1, stack) || stack.size() != 1) return false;
      chunks_[chunk] = value(stack[0]) ? stack[0] : push({Shape::Boolean, Opcode::Eq, stack[0], 0});
    }
    step = chunks_[chunk];
    return true;
  }

  // A let's value. Natives are called only inside lets (the Call case says why).
  bool let(uint32_t index, uint32_t& step) {
    if (index >= prog_.lets.size() || prog_.lets[index].chunk < 0) return false;
    ++letDepth_;
    const bool compiled = chunkValue(static_cast<uint32_t>(prog_.lets[index].chunk), step);
    --letDepth_;
    return compiled;
  }

  // The quick scan (event_scan.h) that starts at `pc` of `chunk`, or null.
  const EventScan* quickScanAt(uint32_t chunk, size_t pc) const {
    for (const EventScan& sc : sources_.scans)
      if (sc.chunk == chunk && sc.start == pc) return isQuickScan(sc, sources_.selections, data_) ? &sc : nullptr;
    return nullptr;
  }

  bool range(uint32_t chunk, size_t begin, size_t end, std::vector<uint32_t>& stack) {
    const auto& code = prog_.chunks[chunk].code;
    for (size_t pc = begin; pc < end;) {
      if (const EventScan* sc = quickScanAt(chunk, pc)) {
        if (sc->end > end) return false;
        out_.scans_.push_back(*sc);
        stack.push_back(push({Shape::Scan, Opcode::Eq, static_cast<uint32_t>(out_.scans_.size() - 1), 0}));
        pc = sc->end;
        continue;
      }
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
        case Opcode::LoadLet: case Opcode::LoadSegment: {
          uint32_t step = 0;
          const bool compiled = op == Opcode::LoadLet ? let(a, step)
                                : a < prog_.segments.size() && prog_.segments[a].chunk >= 0 &&
                                      chunkValue(static_cast<uint32_t>(prog_.segments[a].chunk), step);
          if (!compiled) return false;
          stack.push_back(step);
          break;
        }
        case Opcode::Call: {
          // A native of the customer's values, in a let (`max(max(behaviour.at) ?? signup_at,
          // signup_at)`). One a condition calls itself (`anniversary_within(birthday, 7d)`) stays
          // in the passes, which run it without the dispatch loop once per customer: it costs as
          // much there as here (measured, bench/RESULTS.md rounds 15 and 16). The population's
          // natives need the population pass.
          const uint32_t id = insnA16(insn), argc = insnB(insn);
          if (letDepth_ == 0 || id >= exe_.natives() || stack.size() < argc || argc > CustomerProgram::kMaxArguments)
            return false;
          const Builtin& fn = exe_.native(id);
          if (!fn.fn || fn.population || fn.params.size() != argc) return false;
          const uint32_t first = static_cast<uint32_t>(out_.arguments_.size());
          for (size_t k = stack.size() - argc; k < stack.size(); ++k) {
            if (!value(stack[k])) return false;
            out_.arguments_.push_back(stack[k]);
          }
          stack.resize(stack.size() - argc);
          Step s{Shape::Call, op, id, first};
          s.count = argc;
          stack.push_back(push(s));
          break;
        }
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
          if (!member && !s.cells) versusConstant(s);
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
          // A right side that cannot be tested up front is opaque: the customers the left side
          // decides are answered here, the others run the chunk in bytecode.
          std::vector<uint32_t> right;
          const CustomerProgram::Mark before = out_.mark();
          if (!range(chunk, pc, target - 1, right) || right.size() != 1) {
            out_.rollback(before);
            right = {push({Shape::Opaque, op, 0, 0})};
          }
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
          if (!range(chunk, pc + 1, target, right) || right.size() != 1 || !value(right[0])) return false;
          stack.back() = push({Shape::Coalesce, op, stack.back(), right[0]});
          pc = target;
          break;
        }
        default:
          // Events and lists of them, decisions, the previous run, population statistics: not
          // the customer's own.
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
  bool value(uint32_t step) const { return out_.steps_[step].shape <= Shape::Boolean; }  // a value step
  bool isConstant(uint32_t step) const { return out_.steps_[step].shape == Shape::Constant; }
  const Value& constantOf(uint32_t step) const { return out_.constants_[out_.steps_[step].a]; }
  // A value where and/or/not want true, false or null; a Boolean step's is its truth step's.
  uint32_t truth(uint32_t step) {
    if (out_.steps_[step].shape == Shape::Boolean) return out_.steps_[step].a;
    return value(step) ? push({Shape::Truth, Opcode::Eq, step, 0}) : step;
  }
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
  // A comparison of a value step with a constant of a kind compare() decides inline: an int, a
  // time, a date or a duration, or a float ordered.
  void versusConstant(Step& s) {
    if (isConstant(s.a) == isConstant(s.b)) return;
    const Value& c = constantOf(isConstant(s.b) ? s.b : s.a);
    if (!integral(c.tag) && !(c.tag == Kind::Float && s.op != Opcode::Eq && s.op != Opcode::Ne)) return;
    if (isConstant(s.a)) {
      std::swap(s.a, s.b);
      s.op = mirrored(s.op);
    }
    s.versusConstant = true;
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
      case Shape::Call:
        for (uint32_t k = 0; k < s.count; ++k) markValue(out_.arguments_[s.b + k]);
        break;
      default: break;
    }
  }

  const Program& prog_;
  const CustomerProgram::Sources& sources_;
  const Executable& exe_;
  const RunClock& clock_;
  const Dataset& data_;
  CustomerProgram& out_;
  std::vector<uint32_t>& chunks_;  // each chunk's value step, kNone or kBusy
  int letDepth_ = 0;               // how many lets are being compiled
};

CustomerProgram::CustomerProgram(const Sources& sources)
    : sources_(sources), chunks_(sources.exe.program().chunks.size(), CustomerProgramCompiler::kNone) {}

CustomerProgram::Mark CustomerProgram::mark() const {
  return {steps_.size(), constants_.size(), lists_.size(), scans_.size(), arguments_.size(), chunks_};
}

void CustomerProgram::rollback(const Mark& m) {
  steps_.resize(m.steps);
  constants_.resize(m.constants);
  lists_.resize(m.lists);
  scans_.resize(m.scans);
  arguments_.resize(m.arguments);
  chunks_ = m.chunks;
}

bool CustomerProgram::add(uint32_t chunk) {
  // What the condition adds is taken back when it cannot be tested up front.
  const Mark before = mark();
  uint32_t root = 0;
  if (CustomerProgramCompiler(*this).run(chunk, root)) {
    roots_.push_back(root);
    return true;
  }
  rollback(before);
  return false;
}

void CustomerProgram::start(uint32_t first, uint32_t count, Scratch& s) const {
  const size_t n = steps_.size();
  if (s.values.size() != n * 64) {  // first use: every customer's value of a constant is the constant
    s.values.assign(n * 64, Value::null());
    for (size_t k = 0; k < n; ++k)
      if (steps_[k].shape == Step::Shape::Constant) std::fill_n(s.values.begin() + k * 64, 64, constants_[steps_[k].a]);
  }
  s.isTrue.assign(n, 0);
  s.isFalse.assign(n, 0);
  s.inBytecode.assign(n, 0);
  s.done.assign(n, 0);
  s.arena.reset();  // the natives' lists and strings of the last block are no longer read
  s.first = first;
  s.count = count;
  s.all = count == 64 ? ~uint64_t(0) : (uint64_t(1) << count) - 1;
}

void CustomerProgram::answers(size_t k, uint64_t todo, const Dataset& data, Scratch& s, uint64_t& isTrue,
                              uint64_t& isFalse) const {
  const uint32_t root = roots_[k];
  need(root, todo & s.all, data, s);
  const uint64_t elsewhere = ~todo & s.all;  // never asked: run in bytecode, should a pass ask
  isTrue = (s.isTrue[root] & todo) | s.inBytecode[root] | elsewhere;
  isFalse = (s.isFalse[root] & todo) | s.inBytecode[root] | elsewhere;
}

namespace {

// Each customer of `asked` whose value has the constant's kind: true or false by `holds`; null:
// false; another kind: in `other`.
template <class Holds>
void valuesWhere(const Value* v, uint64_t asked, Kind kind, Holds holds, uint64_t& t, uint64_t& f, uint64_t& other) {
  for (uint64_t left = asked; left; left &= left - 1) {
    const uint32_t j = static_cast<uint32_t>(__builtin_ctzll(left));
    const uint64_t bit = uint64_t(1) << j;
    if (v[j].tag == kind) (holds(v[j]) ? t : f) |= bit;
    else if (v[j].isNull()) f |= bit;
    else other |= bit;
  }
}

// compare(op, v[j], c) for the asked customers, as compare() decides two values of c's kind: ints,
// times, dates and durations as integers, floats ordered (NaN equal to all).
void compareWithConstant(Opcode op, const Value* v, uint64_t asked, const Value& c, uint64_t& t, uint64_t& f,
                         uint64_t& other) {
  auto where = [&](auto holds) { valuesWhere(v, asked, c.tag, holds, t, f, other); };
  if (c.tag == Kind::Float) {
    const double y = c.f;
    switch (op) {
      case Opcode::Lt: where([y](const Value& a) { return a.f < y; }); break;
      case Opcode::Le: where([y](const Value& a) { return !(a.f > y); }); break;
      case Opcode::Gt: where([y](const Value& a) { return a.f > y; }); break;
      default: where([y](const Value& a) { return !(a.f < y); }); break;  // Ge
    }
    return;
  }
  const int64_t y = c.i;
  switch (op) {
    case Opcode::Eq: where([y](const Value& a) { return a.i == y; }); break;
    case Opcode::Ne: where([y](const Value& a) { return a.i != y; }); break;
    case Opcode::Lt: where([y](const Value& a) { return a.i < y; }); break;
    case Opcode::Le: where([y](const Value& a) { return a.i <= y; }); break;
    case Opcode::Gt: where([y](const Value& a) { return a.i > y; }); break;
    default: where([y](const Value& a) { return a.i >= y; }); break;  // Ge
  }
}

}  // namespace

// Inline, so that a step already worked out, or a constant (its values are there from start()),
// costs no call: most children a step needs are so.
inline void CustomerProgram::need(uint32_t k, uint64_t todo, const Dataset& data, Scratch& s) const {
  todo &= ~s.done[k];
  if (todo && steps_[k].shape != Step::Shape::Constant) work(k, todo, data, s);
}

void CustomerProgram::work(uint32_t k, uint64_t todo, const Dataset& data, Scratch& s) const {
  s.done[k] |= todo;
  const Step& st = steps_[k];
  const uint32_t first = s.first, count = s.count;
  Value* out = s.values.data() + k * 64;
  uint64_t& t = s.isTrue[k];
  uint64_t& f = s.isFalse[k];
  uint64_t& x = s.inBytecode[k];
  auto at = [&](uint32_t step, uint32_t j) -> const Value& { return s.values[step * 64 + j]; };
  // Each customer of `todo` not already in bytecode through a child.
  auto each = [&](uint64_t skip, auto fn) {
    for (uint64_t left = todo & ~skip; left; left &= left - 1) fn(static_cast<uint32_t>(__builtin_ctzll(left)));
  };
  switch (st.shape) {
    case Step::Shape::Constant: break;  // (need() does not call for one)
    case Step::Shape::Field:
      if (st.needsValues) each(0, [&](uint32_t j) { out[j] = data.customers[st.a].get(first + j); });
      break;
    case Step::Shape::Arith:
      need(st.a, todo, data, s);
      need(st.b, todo, data, s);
      x |= (s.inBytecode[st.a] | s.inBytecode[st.b]) & todo;
      each(x, [&](uint32_t j) {
        if (auto r = arith(st.op, at(st.a, j), at(st.b, j))) out[j] = *r;
        else x |= uint64_t(1) << j;
      });
      break;
    case Step::Shape::Coalesce:
      need(st.a, todo, data, s);
      need(st.b, todo, data, s);
      x |= (s.inBytecode[st.a] | s.inBytecode[st.b]) & todo;
      each(x, [&](uint32_t j) { out[j] = at(st.a, j).isNull() ? at(st.b, j) : at(st.a, j); });
      break;
    case Step::Shape::Scan:
      each(0, [&](uint32_t j) { out[j] = quickScanValue(scans_[st.a], *sources_.selections, data, first + j, s.kept); });
      break;
    case Step::Shape::Call: {
      const Builtin& fn = sources_.exe.native(st.a);
      for (uint32_t i = 0; i < st.count; ++i) {
        need(arguments_[st.b + i], todo, data, s);
        x |= s.inBytecode[arguments_[st.b + i]] & todo;
      }
      each(x, [&](uint32_t j) {
        Value args[kMaxArguments];
        for (uint32_t i = 0; i < st.count; ++i) args[i] = at(arguments_[st.b + i], j);
        s.natives.customerId = &data.customerId(first + j);  // its address: read only by bucket()
        if (auto r = callNative(fn, s.natives, args, static_cast<int>(st.count))) out[j] = *r;
        else x |= uint64_t(1) << j;
      });
      break;
    }
    case Step::Shape::Boolean:
      need(st.a, todo, data, s);
      x |= s.inBytecode[st.a] & todo;
      each(x, [&](uint32_t j) {
        const uint64_t bit = uint64_t(1) << j;
        out[j] = s.isTrue[st.a] & bit ? Value::boolean(true) : s.isFalse[st.a] & bit ? Value::boolean(false) : Value::null();
      });
      break;
    case Step::Shape::Compare:
      if (st.cells) {
        const Column& column = data.customers[steps_[st.a].a];
        const uint64_t holds = st.constantNull ? 0 : cellsWhere(st.op, column.payloads() + first, count, st.constant) &
                                                       ~column.nullBits(first, count);
        t |= holds & todo;
        f |= ~holds & todo;  // a comparison with null is false
        break;
      }
      [[fallthrough]];
    case Step::Shape::Member: {
      need(st.a, todo, data, s);
      need(st.b, todo, data, s);
      x |= (s.inBytecode[st.a] | s.inBytecode[st.b]) & todo;
      uint64_t skip = x;  // the customers compare() or member() does not see
      if (st.versusConstant) {  // values of the constant's kind, or null; the others in compare()
        uint64_t other = 0;
        compareWithConstant(st.op, s.values.data() + st.a * 64, todo & ~x, constants_[steps_[st.b].a], t, f, other);
        skip = ~other;
      }
      each(skip, [&](uint32_t j) {
        auto r = st.shape == Step::Shape::Compare ? compare(st.op, at(st.a, j), at(st.b, j))
                                                  : member(st.op, at(st.a, j), at(st.b, j));
        if (!r) x |= uint64_t(1) << j;
        else (*r ? t : f) |= uint64_t(1) << j;
      });
      break;
    }
    case Step::Shape::IsNull:
    case Step::Shape::IsNotNull: {
      uint64_t nulls = 0;
      if (steps_[st.a].shape == Step::Shape::Field) {
        nulls = data.customers[steps_[st.a].a].nullBits(first, count);
      } else {
        need(st.a, todo, data, s);
        x |= s.inBytecode[st.a] & todo;
        each(x, [&](uint32_t j) { nulls |= uint64_t(at(st.a, j).isNull()) << j; });
      }
      const uint64_t holds = st.shape == Step::Shape::IsNull ? nulls : ~nulls;
      t |= holds & todo;
      f |= ~holds & todo;
      break;
    }
    case Step::Shape::Truth:
      need(st.a, todo, data, s);
      x |= s.inBytecode[st.a] & todo;
      each(x, [&](uint32_t j) {
        const Value& v = at(st.a, j);
        if (v.tag == Kind::Bool) (v.b ? t : f) |= uint64_t(1) << j;
        else if (!v.isNull()) x |= uint64_t(1) << j;  // not a bool: bytecode faults
      });
      break;
    case Step::Shape::Opaque: x |= todo; break;
    case Step::Shape::Not:
      need(st.a, todo, data, s);
      t |= s.isFalse[st.a] & todo;
      f |= s.isTrue[st.a] & todo;
      x |= s.inBytecode[st.a] & todo;
      break;
    case Step::Shape::And:  // false wins, then null; the right side only where the left is not false
    case Step::Shape::Or: {  // true wins, then null; the right side only where the left is not true
      const bool isAnd = st.shape == Step::Shape::And;
      need(st.a, todo, data, s);
      const uint64_t xa = s.inBytecode[st.a], decided = isAnd ? s.isFalse[st.a] : s.isTrue[st.a];
      need(st.b, todo & ~decided & ~xa, data, s);
      if (isAnd) {
        t |= s.isTrue[st.a] & s.isTrue[st.b] & todo;
        f |= (s.isFalse[st.a] | s.isFalse[st.b]) & todo;
      } else {
        t |= (s.isTrue[st.a] | s.isTrue[st.b]) & todo;
        f |= s.isFalse[st.a] & s.isFalse[st.b] & todo;
      }
      x |= (xa | (s.inBytecode[st.b] & ~decided)) & todo;
      break;
    }
  }
}

CustomerConditions::CustomerConditions(const Executable& exe, const RunClock& clock, const Dataset& data,
                                       const EventSelections* selections, int threads) {
  const Program& prog = exe.program();
  answers_.resize(prog.chunks.size());
  // The conditions the passes run per customer: the tables' rows, the segments, the caps' lines.
  struct Candidate {
    int32_t chunk;
    int table;      // the row's table, -1 for the others
    bool decides;   // a row that, true, decides its table
  };
  std::vector<Candidate> candidates;
  for (size_t k = 0; k < std::size(prog.tables); ++k)
    for (const DecisionRow& row : prog.tables[k].rows) {
      // A true row decides the table unless it has a budget (a customer the contest turns away falls
      // to the next row) or consent may pass it over (a channel row with a channel).
      const bool limited = row.limit >= 0 || row.limitParam >= 0;
      const bool consent = static_cast<TableKind>(k) == TableKind::Channel && row.outcome != kNoOutcome;
      candidates.push_back({row.condition, static_cast<int>(k), !limited && !consent});
    }
  for (const NamedChunk& seg : prog.segments) candidates.push_back({seg.chunk, -1, false});
  for (const CapRule& r : prog.caps) candidates.push_back({r.condition, -1, false});
  const std::vector<EventScan> scans = findEventScans(exe, EventTest::compileAll(exe, clock, data));
  const CustomerProgram::Sources sources{exe, clock, data, selections, scans};
  CustomerProgram program(sources);
  std::vector<Condition> tested;  // the program's conditions, in its order
  auto isTested = [&](uint32_t chunk) {
    return std::any_of(tested.begin(), tested.end(), [&](const Condition& c) { return c.chunk == chunk; });
  };
  for (const Candidate& c : candidates) {
    if (c.chunk < 0 || static_cast<size_t>(c.chunk) >= prog.chunks.size() || isTested(static_cast<uint32_t>(c.chunk)))
      continue;
    if (program.add(static_cast<uint32_t>(c.chunk))) tested.push_back({static_cast<uint32_t>(c.chunk), c.table, c.decides});
  }
  const size_t words = (data.customerCount + 63) / 64;
  if (tested.empty() || words == 0) return;
  for (const Condition& c : tested) {
    answers_[c.chunk].isTrue.assign(words, 0);
    answers_[c.chunk].isFalse.assign(words, 0);
  }
  // Each part a range of whole words, its own: the threads share nothing they write.
  const size_t parts = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(threads), words / 256 + 1));
  const NativeContext natives = nativeContext(exe, clock);
  auto part = [&](size_t p) {
    CustomerProgram::Scratch s;
    s.natives = natives;
    s.natives.arena = &s.arena;
    for (size_t w = words * p / parts, end = words * (p + 1) / parts; w < end; ++w) {
      const uint32_t first = static_cast<uint32_t>(w * 64);
      const uint32_t count = static_cast<uint32_t>(std::min<size_t>(64, data.customerCount - first));
      program.start(first, count, s);
      // A table's rows are asked, in order, only for the customers the rows before them leave
      // undecided, as the passes ask them: a stage table of 200 rows is not worked out whole.
      uint64_t undecided = 0;
      for (size_t k = 0; k < tested.size(); ++k) {
        const Condition& c = tested[k];
        if (c.table >= 0 && (k == 0 || tested[k - 1].table != c.table)) undecided = ~uint64_t(0);
        uint64_t& isTrue = answers_[c.chunk].isTrue[w];
        uint64_t& isFalse = answers_[c.chunk].isFalse[w];
        program.answers(k, c.table >= 0 ? undecided : ~uint64_t(0), data, s, isTrue, isFalse);
        if (c.decides) undecided &= ~(isTrue & ~isFalse);  // true, and not to run in bytecode
      }
    }
  };
  inParts(parts, part);
}

size_t CustomerConditions::conditions() const {
  return static_cast<size_t>(std::count_if(answers_.begin(), answers_.end(), [](const Answers& a) { return !a.isTrue.empty(); }));
}

}  // namespace rekindle
