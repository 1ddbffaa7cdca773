// Compiling a where-condition's bytecode to an EventTest: a symbolic run of the chunk, with a
// stack of operands and nodes in place of values. Short-circuit `and`/`or` arrive as
// `A; JumpIfFalse L; B; And; L:` (JumpIfTrue and Or for `or`): B is compiled on its own stack
// and joined to A. Anything the tree has no form for makes compile() give up on the chunk.
#include "event_test.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "rekindle/runtime/vm.h"

namespace rekindle {

class EventTestCompiler {
 public:
  EventTestCompiler(const Chunk& chunk, const Executable& exe, const RunClock& clock, const Dataset& data,
                    EventTest& out)
      : chunk_(chunk), exe_(exe), clock_(clock), data_(data), out_(out) {}

  bool run() {
    const auto& code = chunk_.code;
    if (code.empty() || insnOp(code.back()) != Opcode::Return) return false;
    std::vector<Item> stack;
    if (!range(0, code.size() - 1, stack) || stack.size() != 1 || !stack[0].node) return false;
    // The root must be the last node.
    if (stack[0].index + 1 != out_.nodes_.size()) return false;
    return true;
  }

 private:
  using Operand = EventTest::Operand;
  using Node = EventTest::Node;
  struct Item {
    bool node = false;
    uint32_t index = 0;
  };

  bool range(size_t begin, size_t end, std::vector<Item>& stack) {
    const auto& code = chunk_.code;
    for (size_t pc = begin; pc < end;) {
      const uint32_t insn = code[pc++];
      const uint32_t a = insnA(insn);
      const Opcode op = insnOp(insn);
      if (std::optional<Value> v = runConstant(insn, exe_, clock_)) {
        pushConstant(stack, *v);
        continue;
      }
      switch (op) {
        case Opcode::LoadEventField: pushOperand(stack, Operand::Source::EventField, a); break;
        case Opcode::LoadField: pushOperand(stack, Operand::Source::CustomerField, a); break;
        case Opcode::LoadLet: pushOperand(stack, Operand::Source::Let, a); break;
        case Opcode::Add: case Opcode::Sub: case Opcode::Mul: case Opcode::Div: case Opcode::Mod: {
          // Arithmetic on run constants (`now - 365d`) is done once, here.
          const Value* x = constantAt(stack, 2);
          const Value* y = constantAt(stack, 1);
          if (!x || !y) return false;
          auto r = arith(op, *x, *y);
          if (!r) return false;
          stack.resize(stack.size() - 2);
          pushConstant(stack, *r);
          break;
        }
        case Opcode::MakeList: {
          if (stack.size() < a) return false;
          auto list = std::make_unique<ListObj>();
          for (size_t k = stack.size() - a; k < stack.size(); ++k) {
            const Value* v = constantAt(stack, stack.size() - k);
            if (!v) return false;
            list->items.push_back(*v);
          }
          stack.resize(stack.size() - a);
          pushConstant(stack, Value::listOf(list.get()));
          out_.lists_.push_back(std::move(list));
          break;
        }
        case Opcode::Eq: case Opcode::Ne: case Opcode::Lt: case Opcode::Le: case Opcode::Gt: case Opcode::Ge:
          if (!binary(stack, Node::Shape::Compare, op)) return false;
          break;
        case Opcode::In: case Opcode::NotIn:
          if (!binary(stack, Node::Shape::Member, op)) return false;
          break;
        case Opcode::IsNull: case Opcode::IsNotNull: {
          if (stack.empty() || stack.back().node) return false;
          uint32_t x = stack.back().index;
          stack.pop_back();
          pushNode(stack, {op == Opcode::IsNull ? Node::Shape::IsNull : Node::Shape::IsNotNull, op, x, 0, 0});
          break;
        }
        case Opcode::Not: {
          if (stack.empty() || !stack.back().node) return false;
          uint32_t x = stack.back().index;
          stack.pop_back();
          pushNode(stack, {Node::Shape::Not, op, x, 0, 0});
          break;
        }
        case Opcode::And: case Opcode::Or:
          if (!join(stack, op == Opcode::And ? Node::Shape::And : Node::Shape::Or)) return false;
          break;
        case Opcode::JumpIfFalse: case Opcode::JumpIfTrue: {
          // A; Jump L; B; And|Or; L:  — B on a stack of its own, then joined to A.
          const size_t target = pc + a;
          const Opcode joiner = op == Opcode::JumpIfFalse ? Opcode::And : Opcode::Or;
          if (target > end || target < pc + 2 || insnOp(code[target - 1]) != joiner) return false;
          if (stack.empty() || !stack.back().node) return false;
          std::vector<Item> right;
          if (!range(pc, target - 1, right) || right.size() != 1 || !right[0].node) return false;
          stack.push_back(right[0]);
          if (!join(stack, joiner == Opcode::And ? Node::Shape::And : Node::Shape::Or)) return false;
          pc = target;
          break;
        }
        default:
          return false;  // calls, projections, `??`, nested where, ...: bytecode
      }
    }
    return true;
  }

  const Value* constantAt(const std::vector<Item>& stack, size_t fromTop) const {
    if (stack.size() < fromTop) return nullptr;
    const Item& it = stack[stack.size() - fromTop];
    if (it.node || out_.operands_[it.index].source != Operand::Source::Constant) return nullptr;
    return &out_.operands_[it.index].value;
  }
  void pushConstant(std::vector<Item>& stack, const Value& v) {
    Operand o;
    o.value = v;
    out_.operands_.push_back(o);
    stack.push_back({false, static_cast<uint32_t>(out_.operands_.size() - 1)});
  }
  void pushOperand(std::vector<Item>& stack, Operand::Source source, uint32_t index) {
    Operand o;
    o.source = source;
    o.index = index;
    out_.operands_.push_back(o);
    stack.push_back({false, static_cast<uint32_t>(out_.operands_.size() - 1)});
  }
  void pushNode(std::vector<Item>& stack, const Node& n) {
    out_.nodes_.push_back(n);
    stack.push_back({true, static_cast<uint32_t>(out_.nodes_.size() - 1)});
  }
  // Two operands into a comparison or `in` node.
  bool binary(std::vector<Item>& stack, Node::Shape shape, Opcode op) {
    if (stack.size() < 2 || stack[stack.size() - 2].node || stack.back().node) return false;
    uint32_t x = stack[stack.size() - 2].index, y = stack.back().index;
    stack.resize(stack.size() - 2);
    const bool symmetric = op == Opcode::Eq || op == Opcode::Ne;
    if (!stringIs(stack, op, x, y) && !(symmetric && stringIs(stack, op, y, x)))
      pushNode(stack, {shape, op, x, y, 0});
    return true;
  }
  // `field == "a"`, `field in ["a", "b"]` (and != , not in) on a string field: a StringIs node.
  bool stringIs(std::vector<Item>& stack, Opcode op, uint32_t field, uint32_t constant) {
    if (op != Opcode::Eq && op != Opcode::Ne && op != Opcode::In && op != Opcode::NotIn) return false;
    const Operand& f = out_.operands_[field];
    const Operand& c = out_.operands_[constant];
    const Column* column = f.source == Operand::Source::EventField      ? &data_.events[f.index]
                           : f.source == Operand::Source::CustomerField ? &data_.customers[f.index]
                                                                        : nullptr;
    if (!column || column->kind() != Kind::String || c.source != Operand::Source::Constant) return false;
    std::vector<Value> candidates;
    if (op == Opcode::Eq || op == Opcode::Ne) {
      if (c.value.tag != Kind::String) return false;
      candidates.push_back(c.value);
    } else {
      if (c.value.tag != Kind::List) return false;
      candidates = c.value.list->items;
    }
    Node n{Node::Shape::StringIs, op, field, static_cast<uint32_t>(out_.strings_.size()), 0};
    for (const Value& v : candidates) {
      if (v.tag != Kind::String) continue;  // null and other kinds never equal a string
      if (const std::string* interned = data_.strings.find(*v.s)) {
        out_.strings_.push_back(EventTest::cellOf(interned));
        ++n.count;
      }
    }
    pushNode(stack, n);
    return true;
  }
  // Two nodes into and/or.
  bool join(std::vector<Item>& stack, Node::Shape shape) {
    if (stack.size() < 2 || !stack[stack.size() - 2].node || !stack.back().node) return false;
    uint32_t x = stack[stack.size() - 2].index, y = stack.back().index;
    stack.resize(stack.size() - 2);
    pushNode(stack, {shape, shape == Node::Shape::And ? Opcode::And : Opcode::Or, x, y, 0});
    return true;
  }

  const Chunk& chunk_;
  const Executable& exe_;
  const RunClock& clock_;
  const Dataset& data_;
  EventTest& out_;
};

namespace {

// Bit k set where cells[k] `cmp` c holds, for k < count. A whole block compares into bytes first,
// a loop the compiler vectorises, then packs them eight at a time: the multiply gathers the low bit
// of each of a word's bytes into its top byte.
template <class Cmp>
inline uint64_t cellsWhere(const int64_t* cells, uint32_t count, int64_t c, Cmp cmp) {
  uint64_t out = 0;
  if (count < 64) {
    for (uint32_t k = 0; k < count; ++k) out |= uint64_t(cmp(cells[k], c)) << k;
    return out;
  }
  uint8_t hit[64];
  for (uint32_t k = 0; k < 64; ++k) hit[k] = cmp(cells[k], c);
  for (uint32_t j = 0; j < 8; ++j) {
    uint64_t bytes;
    std::memcpy(&bytes, hit + 8 * j, 8);
    out |= ((bytes * 0x0102040810204080ULL) >> 56) << (8 * j);
  }
  return out;
}

inline uint64_t cellsWhereOp(Opcode op, const int64_t* cells, uint32_t count, int64_t c) {
  switch (op) {
    case Opcode::Eq: return cellsWhere(cells, count, c, [](int64_t x, int64_t y) { return x == y; });
    case Opcode::Ne: return cellsWhere(cells, count, c, [](int64_t x, int64_t y) { return x != y; });
    case Opcode::Lt: return cellsWhere(cells, count, c, [](int64_t x, int64_t y) { return x < y; });
    case Opcode::Le: return cellsWhere(cells, count, c, [](int64_t x, int64_t y) { return x <= y; });
    case Opcode::Gt: return cellsWhere(cells, count, c, [](int64_t x, int64_t y) { return x > y; });
    case Opcode::Ge: return cellsWhere(cells, count, c, [](int64_t x, int64_t y) { return x >= y; });
    default: return 0;
  }
}

// Bit k set where cells[k] equals one of values[0, n), for k < count.
inline uint64_t cellsEqualAnyPortable(const int64_t* cells, uint32_t count, const int64_t* values, uint32_t n) {
  uint64_t found = 0;
  for (uint32_t j = 0; j < n; ++j) found |= cellsWhereOp(Opcode::Eq, cells, count, values[j]);
  return found;
}

#if defined(__x86_64__)
// The same with AVX2, on the machines that have it (most since 2013; the build targets the x86-64
// baseline, whose SSE2 has no 64-bit compare): a whole block four cells at a time, each compare's
// lanes taken as bits by movemask. x < c is c > x; x >= c is not c > x; x <= c is not x > c.
// The four cells from cells + 4j, and the top bit of each lane of a compare as bits 4j to 4j + 3.
__attribute__((target("avx2"))) inline __m256i fourCells(const int64_t* cells, uint32_t j) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cells + 4 * j));
}
__attribute__((target("avx2"))) inline uint64_t laneBits(__m256i m, uint32_t j) {
  return uint64_t(_mm256_movemask_pd(_mm256_castsi256_pd(m))) << (4 * j);
}

__attribute__((target("avx2"))) uint64_t cellsWhereAvx2(Opcode op, const int64_t* cells, uint32_t count, int64_t c) {
  if (count < 64) return cellsWhereOp(op, cells, count, c);
  const __m256i v = _mm256_set1_epi64x(c);
  uint64_t out = 0;
  switch (op) {
    case Opcode::Eq:
    case Opcode::Ne:
      for (uint32_t j = 0; j < 16; ++j) out |= laneBits(_mm256_cmpeq_epi64(fourCells(cells, j), v), j);
      return op == Opcode::Eq ? out : ~out;
    case Opcode::Gt:
    case Opcode::Le:
      for (uint32_t j = 0; j < 16; ++j) out |= laneBits(_mm256_cmpgt_epi64(fourCells(cells, j), v), j);
      return op == Opcode::Gt ? out : ~out;
    case Opcode::Lt:
    case Opcode::Ge:
      for (uint32_t j = 0; j < 16; ++j) out |= laneBits(_mm256_cmpgt_epi64(v, fourCells(cells, j)), j);
      return op == Opcode::Lt ? out : ~out;
    default: return 0;
  }
}

__attribute__((target("avx2"))) uint64_t cellsEqualAnyAvx2(const int64_t* cells, uint32_t count, const int64_t* values,
                                                           uint32_t n) {
  if (count < 64 || n == 0) return cellsEqualAnyPortable(cells, count, values, n);
  if (n == 1) return cellsWhereAvx2(Opcode::Eq, cells, count, values[0]);
  // Up to eight values compared with each load (`kind in [...]` lists are short), the rest after.
  constexpr uint32_t kAtOnce = 8;
  const uint32_t m = std::min(n, kAtOnce);
  __m256i v[kAtOnce];
  for (uint32_t k = 0; k < m; ++k) v[k] = _mm256_set1_epi64x(values[k]);
  uint64_t out = 0;
  for (uint32_t j = 0; j < 16; ++j) {
    const __m256i x = fourCells(cells, j);
    __m256i hit = _mm256_cmpeq_epi64(x, v[0]);
    for (uint32_t k = 1; k < m; ++k) hit = _mm256_or_si256(hit, _mm256_cmpeq_epi64(x, v[k]));
    out |= laneBits(hit, j);
  }
  return n > m ? out | cellsEqualAnyAvx2(cells, count, values + m, n - m) : out;
}

const bool kAvx2 = __builtin_cpu_supports("avx2");
#endif

uint64_t cellsEqualAny(const int64_t* cells, uint32_t count, const int64_t* values, uint32_t n) {
#if defined(__x86_64__)
  if (kAvx2) return cellsEqualAnyAvx2(cells, count, values, n);
#endif
  return cellsEqualAnyPortable(cells, count, values, n);
}

}  // namespace

uint64_t cellsWhere(Opcode op, const int64_t* cells, uint32_t count, int64_t c) {
#if defined(__x86_64__)
  if (kAvx2) return cellsWhereAvx2(op, cells, count, c);
#endif
  return cellsWhereOp(op, cells, count, c);
}

bool EventTest::select(const Dataset& data, uint32_t customer, uint32_t begin, uint32_t end, uint64_t* words,
                       std::vector<uint64_t>& scratch, SharedLeaves* shared) const {
  if (end <= begin) return true;
  // Node by node over every block of the range: a node's operands are looked at once, then its
  // blocks are compared one after the other.
  const uint32_t blocks = (end - begin + 63) / 64;
  // A range of words per node, and one spare for a string constant's equal cells.
  if (scratch.size() < (nodes_.size() + 1) * blocks) scratch.resize((nodes_.size() + 1) * blocks);
  auto count = [&](uint32_t j) { return std::min<uint32_t>(64, end - begin - 64 * j); };
  auto all = [&](uint32_t j) { return count(j) == 64 ? ~uint64_t(0) : (uint64_t(1) << count(j)) - 1; };
  auto value = [&](const Operand& o, uint32_t event) {
    switch (o.source) {
      case Operand::Source::EventField: return data.events[o.index].get(event);
      case Operand::Source::CustomerField: return data.customers[o.index].get(customer);
      default: return o.value;  // a constant (a condition that reads a let is not selected)
    }
  };
  // A leaf's words, from `shared` when another condition has made them for this range.
  auto leaf = [&](uint64_t* out, uint32_t column, Opcode op, int64_t constant, auto make) {
    if (const uint64_t* known = shared ? shared->find(column, op, constant) : nullptr) {
      std::copy(known, known + blocks, out);
      return;
    }
    for (uint32_t j = 0; j < blocks; ++j) out[j] = make(j);
    if (shared) shared->add(column, op, constant, out, blocks);
  };
  for (size_t k = 0; k < nodes_.size(); ++k) {
    const Node& n = nodes_[k];
    uint64_t* out = scratch.data() + k * blocks;
    switch (n.shape) {
      case Node::Shape::Compare:
      case Node::Shape::Member: {
        const Operand& x = operands_[n.a];
        const Operand& y = operands_[n.b];
        const bool xEvent = x.source == Operand::Source::EventField, yEvent = y.source == Operand::Source::EventField;
        if (!xEvent && !yEvent) {
          // The same answer for every event.
          auto r = n.shape == Node::Shape::Compare ? compare(n.op, value(x, begin), value(y, begin))
                                                   : member(n.op, value(x, begin), value(y, begin));
          if (!r) return false;
          for (uint32_t j = 0; j < blocks; ++j) out[j] = *r ? all(j) : 0;
          break;
        }
        // An int-like event field against a value of its own kind: compare the payloads.
        const Operand& field = xEvent ? x : y;
        const Column& column = data.events[field.index];
        const Value other = xEvent ? value(y, begin) : value(x, begin);
        if (n.shape == Node::Shape::Compare && xEvent != yEvent && integral(column.kind()) &&
            (other.isNull() || other.tag == column.kind())) {
          if (other.isNull()) {  // a comparison with null is false
            std::fill(out, out + blocks, 0);
            break;
          }
          const Opcode op = xEvent ? n.op : mirrored(n.op);
          leaf(out, field.index, op, other.i, [&](uint32_t j) {
            const uint32_t from = begin + 64 * j;
            return cellsWhere(op, column.payloads() + from, count(j), other.i) & ~column.nullBits(from, count(j));
          });
          break;
        }
        for (uint32_t j = 0; j < blocks; ++j) {
          out[j] = 0;
          for (uint32_t e = 0; e < count(j); ++e) {
            const uint32_t event = begin + 64 * j + e;
            const Value vx = value(x, event), vy = value(y, event);
            auto r = n.shape == Node::Shape::Compare ? compare(n.op, vx, vy) : member(n.op, vx, vy);
            if (!r) return false;
            if (*r) out[j] |= uint64_t(1) << e;
          }
        }
        break;
      }
      case Node::Shape::StringIs: {
        const Operand& x = operands_[n.a];
        if (x.source != Operand::Source::EventField) {
          const Value v = value(x, begin);
          if (!v.isNull() && v.tag != Kind::String) return false;
          const bool is = !v.isNull() && stringIs(n, v.s);
          for (uint32_t j = 0; j < blocks; ++j) out[j] = is ? all(j) : 0;
          break;
        }
        // A string column (compile() checked): its cells are the interned strings' addresses.
        // Each constant's cells are a leaf of their own, which `kind in [...]` lists share with
        // `kind == ...` conditions.
        const Column& column = data.events[x.index];
        if (shared) {
          uint64_t* equal = scratch.data() + nodes_.size() * blocks;  // the spare words
          std::fill(out, out + blocks, 0);
          for (uint32_t c = n.b; c < n.b + n.count; ++c) {
            leaf(equal, x.index, Opcode::Eq, strings_[c], [&](uint32_t j) {
              return cellsWhere(Opcode::Eq, column.payloads() + begin + 64 * j, count(j), strings_[c]);
            });
            for (uint32_t j = 0; j < blocks; ++j) out[j] |= equal[j];
          }
        } else {
          for (uint32_t j = 0; j < blocks; ++j)
            out[j] = cellsEqualAny(column.payloads() + begin + 64 * j, count(j), strings_.data() + n.b, n.count);
        }
        const bool wantFound = n.op == Opcode::Eq || n.op == Opcode::In;
        for (uint32_t j = 0; j < blocks; ++j) {
          const uint32_t from = begin + 64 * j;
          out[j] = (wantFound ? out[j] : ~out[j] & all(j)) & ~column.nullBits(from, count(j));
        }
        break;
      }
      case Node::Shape::IsNull:
      case Node::Shape::IsNotNull: {
        const bool wantNull = n.shape == Node::Shape::IsNull;
        for (uint32_t j = 0; j < blocks; ++j) {
          out[j] = 0;
          for (uint32_t e = 0; e < count(j); ++e)
            if (value(operands_[n.a], begin + 64 * j + e).isNull() == wantNull) out[j] |= uint64_t(1) << e;
        }
        break;
      }
      case Node::Shape::Not: {
        const uint64_t* a = scratch.data() + n.a * blocks;
        for (uint32_t j = 0; j < blocks; ++j) out[j] = ~a[j] & all(j);
        break;
      }
      case Node::Shape::And:
      case Node::Shape::Or: {
        const uint64_t* a = scratch.data() + n.a * blocks;
        const uint64_t* b = scratch.data() + n.b * blocks;
        for (uint32_t j = 0; j < blocks; ++j) out[j] = n.shape == Node::Shape::And ? a[j] & b[j] : a[j] | b[j];
        break;
      }
    }
  }
  std::copy(scratch.data() + (nodes_.size() - 1) * blocks, scratch.data() + nodes_.size() * blocks, words);
  return true;
}

std::unique_ptr<EventTest> EventTest::compile(const Chunk& chunk, const Executable& exe, const RunClock& clock,
                                              const Dataset& data) {
  auto test = std::make_unique<EventTest>();
  EventTestCompiler compiler(chunk, exe, clock, data, *test);
  if (!compiler.run()) return nullptr;
  return test;
}

std::vector<std::unique_ptr<EventTest>> EventTest::compileAll(const Executable& exe, const RunClock& clock,
                                                              const Dataset& data) {
  const Program& prog = exe.program();
  std::vector<std::unique_ptr<EventTest>> tests(prog.chunks.size());
  std::vector<uint8_t> seen(prog.chunks.size(), 0);  // a condition compiled, or found not to compile
  for (const auto& c : prog.chunks)
    for (uint32_t insn : c.code)
      if ((insnOp(insn) == Opcode::Filter || insnOp(insn) == Opcode::Streak) && !seen[insnA(insn)]) {
        seen[insnA(insn)] = 1;
        tests[insnA(insn)] = compile(prog.chunks[insnA(insn)], exe, clock, data);
      }
  return tests;
}

}  // namespace rekindle
