// Bytecode emission from the checked AST: one chunk per let, segment, row condition, rank
// expression and cap condition; where/streak conditions and quantile_rank operands get chunks
// of their own. Every instruction carries the source location of the expression it came from.
#include <fmt/format.h>

#include <unordered_map>

#include "checked.h"
#include "rekindle/stdlib/builtins.h"

namespace rekindle {
namespace {

using ast::Expr;
using ast::ExprKind;
using ast::Op;
using ast::RefKind;

class Emitter {
 public:
  explicit Emitter(const CheckedProgram& cp) : cp_(cp) {}

  Program run() {
    const Config& cfg = *cp_.config;
    p_.rulesName = cp_.rulesName;
    p_.rulesVersion = cp_.rulesVersion;
    p_.files = cp_.files;
    p_.schemaFingerprint = cfg.schema.fingerprint();
    p_.customerFieldCount = static_cast<uint32_t>(cfg.schema.customerFields.size());
    p_.eventFieldCount = static_cast<uint32_t>(cfg.schema.eventFields.size());
    p_.features = cp_.features;
    p_.stages = cp_.stages;
    p_.channels = cp_.channels;
    p_.offers = cp_.offers;

    for (size_t i = 0; i < cp_.params.size(); ++i) emitParam(*cp_.params[i], cp_.paramTypes[i]);

    // User lets always (they are lazy, so an unused one costs nothing at run time); prelude
    // lets only when used.
    for (size_t i = 0; i < cp_.lets.size(); ++i) {
      const CheckedLet& l = cp_.lets[i];
      if (l.fromPrelude && !l.used) continue;
      letIndex_[static_cast<int>(i)] = static_cast<int>(p_.lets.size());
      p_.lets.push_back(NamedChunk{l.name, -1, l.type, l.decl->nameRange.begin, l.file});
    }
    for (size_t i = 0; i < cp_.lets.size(); ++i) {
      auto it = letIndex_.find(static_cast<int>(i));
      if (it == letIndex_.end()) continue;
      const CheckedLet& l = cp_.lets[i];
      ChunkBuilder b(ChunkKind::Let, "let " + l.name, l.file);
      emit(b, *l.decl->value, l.file);
      b.emit(Opcode::Return, l.decl->value->range.begin);
      p_.lets[it->second].chunk = add(b.finish());
    }
    for (const ast::SegmentDecl* s : cp_.segments) {
      ChunkBuilder b(ChunkKind::Segment, "segment " + s->name);
      emit(b, *s->condition, 0);
      b.emit(Opcode::Return, s->condition->range.begin);
      p_.segments.push_back(NamedChunk{s->name, add(b.finish()), Type::of(Kind::Bool), s->nameRange.begin, 0});
    }
    for (int k = 0; k < 3; ++k) emitTable(k);
    emitCaps();
    if (cp_.holdout) {
      p_.holdout.present = true;
      p_.holdout.fraction = cp_.holdout->fraction;
      p_.holdout.salt = cp_.holdout->hasSalt ? cp_.holdout->salt : cp_.rulesName;
      p_.holdout.loc = cp_.holdout->range.begin;
    }
    if (cp_.features & kUsesRfm) {
      // The population pass reads recency, frequency and monetary through chunks of their own.
      for (int k = 0; k < 3; ++k) {
        auto it = letIndex_.find(cp_.rfmLets[k]);
        if (it == letIndex_.end()) continue;
        ChunkBuilder b(ChunkKind::Population, "rfm " + cp_.lets[cp_.rfmLets[k]].name, cp_.lets[cp_.rfmLets[k]].file);
        b.emitA(Opcode::LoadLet, static_cast<uint32_t>(it->second), {});
        b.emit(Opcode::Return, {});
        p_.rfmChunks[k] = add(b.finish());
      }
      p_.rfmPurchase = cfg.rfm.purchase;
      p_.rfmAmount = cfg.rfm.amount;
    }
    if (cp_.features & kUsesClv) {
      // The population pass reads each customer's purchase times and amounts likewise.
      for (int k = 0; k < 2; ++k) {
        auto it = letIndex_.find(cp_.clvLets[k]);
        if (it == letIndex_.end()) continue;
        ChunkBuilder b(ChunkKind::Population, "clv " + cp_.lets[cp_.clvLets[k]].name, cp_.lets[cp_.clvLets[k]].file);
        b.emitA(Opcode::LoadLet, static_cast<uint32_t>(it->second), {});
        b.emit(Opcode::Return, {});
        p_.clvChunks[k] = add(b.finish());
      }
      p_.clvPurchase = cfg.clv.purchase;
      p_.clvAmount = cfg.clv.amount;
    }
    p_.decisionOrder = cp_.decisionOrder;
    return std::move(p_);
  }

 private:
  int32_t add(Chunk c) {
    p_.chunks.push_back(std::move(c));
    return static_cast<int32_t>(p_.chunks.size() - 1);
  }

  uint32_t constant(Kind k, int64_t i, double f = 0) {
    Constant c;
    c.kind = k;
    c.i = i;
    c.f = f;
    return p_.addConstant(c);
  }

  uint32_t literalConstant(const ast::Literal& lit, Kind context) {
    switch (lit.kind) {
      case Kind::Float: return constant(Kind::Float, 0, lit.f);
      case Kind::String: return constant(Kind::String, p_.addString(lit.str));
      case Kind::Bool: return constant(Kind::Bool, lit.i);
      case Kind::None: return constant(context, kNoOutcome);
      case Kind::Null: return constant(Kind::Null, 0);
      default: return constant(lit.kind, lit.i);
    }
  }

  void emitParam(const ast::ParamDecl& d, const Type& t) {
    ParamDef pd;
    pd.name = d.name;
    pd.type = t;
    auto value = [&](const Expr& v) -> uint32_t {
      if (v.kind == ExprKind::Unary) {
        const ast::Literal& lit = v.args[0]->lit;
        if (lit.kind == Kind::Float) return constant(Kind::Float, 0, -lit.f);
        return constant(lit.kind, -lit.i);
      }
      return literalConstant(v.lit, Kind::Null);
    };
    if (d.value->kind == ExprKind::List) {
      pd.isList = true;
      pd.defaultConst = constant(Kind::Null, 0);
      for (const auto& item : d.value->args) {
        uint32_t c = value(*item);
        // A list of int and float params is a list of floats.
        if (t.elem == Kind::Float && p_.constants[c].kind == Kind::Int)
          c = constant(Kind::Float, 0, static_cast<double>(p_.constants[c].i));
        pd.listItems.push_back(c);
      }
    } else {
      pd.defaultConst = value(*d.value);
    }
    p_.params.push_back(std::move(pd));
  }

  uint32_t nativeIndex(int builtin) {
    std::string key = builtins()[builtin].key();
    for (size_t i = 0; i < p_.natives.size(); ++i)
      if (p_.natives[i] == key) return static_cast<uint32_t>(i);
    p_.natives.push_back(key);
    return static_cast<uint32_t>(p_.natives.size() - 1);
  }

  int32_t elementChunk(const Expr& cond, uint32_t file, const char* what) {
    ChunkBuilder b(ChunkKind::Element, fmt::format("{} condition at {}:{}", what, cond.range.begin.line, cond.range.begin.col), file);
    emit(b, cond, file);
    b.emit(Opcode::Return, cond.range.begin);
    return add(b.finish());
  }

  void emit(ChunkBuilder& b, const Expr& e, uint32_t file) {
    SourceLoc at = e.range.begin;
    switch (e.kind) {
      case ExprKind::Literal:
        if (e.lit.kind == Kind::Null) b.emit(Opcode::PushNull, at);
        else if (e.lit.kind == Kind::Bool) b.emit(e.lit.i ? Opcode::PushTrue : Opcode::PushFalse, at);
        else b.emitA(Opcode::PushConst, literalConstant(e.lit, e.type.kind), at);
        return;
      case ExprKind::List:
        for (const auto& a : e.args) emit(b, *a, file);
        b.emitA(Opcode::MakeList, static_cast<uint32_t>(e.args.size()), at);
        return;
      case ExprKind::Paren:
        emit(b, *e.args[0], file);
        return;
      case ExprKind::Name:
        emitRef(b, e, at);
        return;
      case ExprKind::Decision:
        // `channel` may have resolved to a field of that name (see the checker).
        if (e.ref.kind == RefKind::EventField || e.ref.kind == RefKind::CustomerField) emitRef(b, e, at);
        else b.emitA(Opcode::LoadDecision, static_cast<uint32_t>(e.decision), at);
        return;
      case ExprKind::Now:
        b.emit(Opcode::LoadNow, at);
        return;
      case ExprKind::Today:
        b.emit(Opcode::LoadToday, at);
        return;
      case ExprKind::Previous:
        b.emit(Opcode::PushNull, at);  // rejected by the checker; kept total
        return;
      case ExprKind::Member:
        switch (e.ref.kind) {
          case RefKind::EventRecordField:
            emit(b, *e.args[0], file);
            b.emitA(Opcode::GetField, static_cast<uint32_t>(e.ref.index), e.nameRange.begin);
            return;
          case RefKind::ListProjection:
            emit(b, *e.args[0], file);
            b.emitA(Opcode::Project, static_cast<uint32_t>(e.ref.index), e.nameRange.begin);
            return;
          default:
            emitRef(b, e, at);
            return;
        }
      case ExprKind::Call:
      case ExprKind::MethodCall: {
        size_t first = e.kind == ExprKind::MethodCall ? 1 : 0;
        const Builtin& fn = builtins()[e.ref.index];
        if (fn.name == "streak" && fn.module.empty()) {
          emit(b, *e.args[0], file);
          b.emitA(Opcode::Streak, static_cast<uint32_t>(elementChunk(*e.args[1], file, "streak")), at);
          return;
        }
        if (fn.name == "quantile_rank" && fn.module.empty()) {
          ChunkBuilder pb(ChunkKind::Population, fmt::format("quantile_rank value {}", p_.quantiles.size()), file);
          emit(pb, *e.args[0], file);
          pb.emit(Opcode::Return, at);
          p_.quantiles.push_back(add(pb.finish()));
          emit(b, *e.args[0], file);
          b.emitA(Opcode::QuantileRank, static_cast<uint32_t>(p_.quantiles.size() - 1), at);
          return;
        }
        for (size_t k = first; k < e.args.size(); ++k) emit(b, *e.args[k], file);
        b.emitAB(Opcode::Call, nativeIndex(e.ref.index), static_cast<uint32_t>(e.args.size() - first), at);
        return;
      }
      case ExprKind::Unary:
        emit(b, *e.args[0], file);
        b.emit(e.op == Op::Not ? Opcode::Not : Opcode::Neg, at);
        return;
      case ExprKind::IsNull:
        emit(b, *e.args[0], file);
        b.emit(e.op == Op::IsNull ? Opcode::IsNull : Opcode::IsNotNull, at);
        return;
      case ExprKind::Where:
        emit(b, *e.args[0], file);
        b.emitA(Opcode::Filter, static_cast<uint32_t>(elementChunk(*e.args[1], file, "where")), at);
        return;
      case ExprKind::Binary:
        emitBinary(b, e, file);
        return;
    }
  }

  void emitBinary(ChunkBuilder& b, const Expr& e, uint32_t file) {
    SourceLoc at = e.range.begin;
    switch (e.op) {
      case Op::And:
      case Op::Or: {
        // Short circuit: `false and x` never evaluates x, nor does `true or x`.
        emit(b, *e.args[0], file);
        auto skip = b.emitJump(e.op == Op::And ? Opcode::JumpIfFalse : Opcode::JumpIfTrue, at);
        emit(b, *e.args[1], file);
        b.emit(e.op == Op::And ? Opcode::And : Opcode::Or, at);
        b.bind(skip);
        return;
      }
      case Op::Coalesce: {
        emit(b, *e.args[0], file);
        auto keep = b.emitJump(Opcode::JumpIfNotNull, at);
        b.emit(Opcode::Pop, at);
        emit(b, *e.args[1], file);
        b.bind(keep);
        return;
      }
      default: break;
    }
    emit(b, *e.args[0], file);
    emit(b, *e.args[1], file);
    Opcode op = Opcode::Add;
    switch (e.op) {
      case Op::Add: op = Opcode::Add; break;
      case Op::Sub: op = Opcode::Sub; break;
      case Op::Mul: op = Opcode::Mul; break;
      case Op::Div: op = Opcode::Div; break;
      case Op::Mod: op = Opcode::Mod; break;
      case Op::Eq: op = Opcode::Eq; break;
      case Op::Ne: op = Opcode::Ne; break;
      case Op::Lt: op = Opcode::Lt; break;
      case Op::Le: op = Opcode::Le; break;
      case Op::Gt: op = Opcode::Gt; break;
      case Op::Ge: op = Opcode::Ge; break;
      case Op::In: op = Opcode::In; break;
      case Op::NotIn: op = Opcode::NotIn; break;
      default: break;
    }
    b.emit(op, at);
  }

  void emitRef(ChunkBuilder& b, const Expr& e, SourceLoc at) {
    uint32_t i = static_cast<uint32_t>(e.ref.index);
    switch (e.ref.kind) {
      case RefKind::Let: b.emitA(Opcode::LoadLet, static_cast<uint32_t>(letIndex_.at(e.ref.index)), at); return;
      case RefKind::Segment: b.emitA(Opcode::LoadSegment, i, at); return;
      case RefKind::Param: b.emitA(Opcode::LoadParam, i, at); return;
      case RefKind::CustomerField: b.emitA(Opcode::LoadField, i, at); return;
      case RefKind::EventField: b.emitA(Opcode::LoadEventField, i, at); return;
      case RefKind::Events: b.emit(Opcode::LoadEvents, at); return;
      case RefKind::StageValue: b.emitA(Opcode::PushConst, constant(Kind::Stage, i), at); return;
      case RefKind::ChannelValue: b.emitA(Opcode::PushConst, constant(Kind::Channel, i), at); return;
      case RefKind::OfferValue: b.emitA(Opcode::PushConst, constant(Kind::Offer, i), at); return;
      case RefKind::PreviousField: b.emitA(Opcode::LoadPrevious, i, at); return;
      case RefKind::Builtin: b.emitAB(Opcode::Call, nativeIndex(e.ref.index), 0, at); return;
      default: b.emit(Opcode::PushNull, at); return;
    }
  }

  void emitTable(int k) {
    const ast::TableDecl* t = cp_.tables[k];
    if (!t) return;
    DecisionTable& table = p_.tables[k];
    table.present = true;
    table.loc = t->keywordRange.begin;
    const char* kind = ast::tableKindName(static_cast<ast::TableKind>(k));
    for (size_t r = 0; r < t->rows.size(); ++r) {
      const ast::TableRow& row = t->rows[r];
      DecisionRow dr;
      dr.loc = row.outcomeRange.begin;
      if (row.outcome == "none") dr.outcome = static_cast<int32_t>(kNoOutcome);
      else if (k == 0) dr.outcome = indexOf(cp_.stages, row.outcome);
      else if (k == 1) dr.outcome = indexOf(cp_.channels, row.outcome);
      else dr.outcome = indexOf(cp_.offers, row.outcome);
      if (row.condition) {
        ChunkBuilder b(ChunkKind::RowCondition, fmt::format("{} row {} ({})", kind, r + 1, row.outcome));
        emit(b, *row.condition, 0);
        b.emit(Opcode::Return, row.condition->range.begin);
        dr.condition = add(b.finish());
      }
      if (row.limit) {
        dr.limit = row.limit->limit;
        if (!row.limit->limitParam.empty()) {
          dr.limitParam = paramIndexOf(row.limit->limitParam);
          dr.limit = p_.constants[p_.params[dr.limitParam].defaultConst].i;  // the default, for disasm
        }
        dr.descending = row.limit->descending;
        if (row.limit->rankBy) {
          ChunkBuilder b(ChunkKind::RankBy, fmt::format("{} row {} ({}) rank", kind, r + 1, row.outcome));
          emit(b, *row.limit->rankBy, 0);
          b.emit(Opcode::Return, row.limit->rankBy->range.begin);
          dr.rankBy = add(b.finish());
        }
      }
      table.rows.push_back(dr);
    }
  }

  void emitCaps() {
    for (const ast::CapDecl* c : cp_.caps) {
      CapRule rule;
      rule.channel = c->target == "any" ? -1 : indexOf(cp_.channels, c->target);
      rule.loc = c->range.begin;
      rule.text = "cap " + c->target;
      for (const auto& w : c->windows) {
        CapWindow cw;
        cw.count = w.count;
        if (w.calendar) cw.unit = w.unit == "day" ? CalendarUnit::Day : w.unit == "week" ? CalendarUnit::Week : CalendarUnit::Month;
        else cw.seconds = w.duration;
        rule.windows.push_back(cw);
      }
      if (c->condition) {
        ChunkBuilder b(ChunkKind::CapCondition, fmt::format("cap {} condition", c->target));
        emit(b, *c->condition, 0);
        b.emit(Opcode::Return, c->condition->range.begin);
        rule.condition = add(b.finish());
      }
      p_.caps.push_back(std::move(rule));
    }
  }

  int32_t paramIndexOf(const std::string& name) const {
    for (size_t i = 0; i < p_.params.size(); ++i)
      if (p_.params[i].name == name) return static_cast<int32_t>(i);
    return -1;
  }

  static int32_t indexOf(const std::vector<std::string>& v, const std::string& s) {
    for (size_t i = 0; i < v.size(); ++i)
      if (v[i] == s) return static_cast<int32_t>(i);
    return -1;
  }

  const CheckedProgram& cp_;
  Program p_;
  std::unordered_map<int, int> letIndex_;
};

}  // namespace

Program emitProgram(const CheckedProgram& checked) { return Emitter(checked).run(); }

}  // namespace rekindle
