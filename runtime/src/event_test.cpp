// Compiling a where-condition's bytecode to an EventTest: a symbolic run of the chunk, with a
// stack of operands and nodes in place of values. Short-circuit `and`/`or` arrive as
// `A; JumpIfFalse L; B; And; L:` (JumpIfTrue and Or for `or`): B is compiled on its own stack
// and joined to A. Anything the tree has no form for makes compile() give up on the chunk.
#include "event_test.h"

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
      switch (op) {
        case Opcode::PushNull: pushConstant(stack, Value::null()); break;
        case Opcode::PushTrue: pushConstant(stack, Value::boolean(true)); break;
        case Opcode::PushFalse: pushConstant(stack, Value::boolean(false)); break;
        case Opcode::PushConst: pushConstant(stack, exe_.constants()[a]); break;
        case Opcode::LoadParam: pushConstant(stack, exe_.params()[a]); break;
        case Opcode::LoadNow: pushConstant(stack, Value::time(clock_.now)); break;
        case Opcode::LoadToday: pushConstant(stack, Value::date(clock_.today)); break;
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
        out_.strings_.push_back(interned);
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

std::unique_ptr<EventTest> EventTest::compile(const Chunk& chunk, const Executable& exe, const RunClock& clock,
                                              const Dataset& data) {
  auto test = std::make_unique<EventTest>();
  EventTestCompiler compiler(chunk, exe, clock, data, *test);
  if (!compiler.run()) return nullptr;
  return test;
}

}  // namespace rekindle
