// Rules text -> our AST. ANTLR is contained here: its console listeners are replaced by our
// diagnostics, bad characters and unterminated strings are reported by us before parsing,
// input size and nesting depth are capped before ANTLR recurses, and parsing tries the fast
// SLL prediction first, falling back to full LL only when SLL fails.
#include <antlr4-runtime.h>
#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "RekindleLexer.h"
#include "RekindleParser.h"
#include "rekindle/compiler/compiler.h"
#include "rekindle/core/suggest.h"
#include "rekindle/core/time.h"
#include "rekindle/core/utf8.h"

namespace rekindle {

using grammar::RekindleLexer;
using grammar::RekindleParser;

namespace {

struct TooManyErrors {};

Diagnostic makeDiag(ErrorCode code, const std::string& file, SourceRange range, std::string message,
                    std::string help = "") {
  Diagnostic d;
  d.severity = Severity::Error;
  d.code = errorCodeString(code);
  d.file = file;
  d.range = range;
  d.message = std::move(message);
  d.suggestion = std::move(help);
  return d;
}

// After a syntax error, ANTLR's recovery may leave tokens and sub-rules of a context missing:
// every range helper takes null and gives an empty range.
SourceRange tokenRange(const antlr4::Token* t) {
  if (!t) return SourceRange{};
  uint32_t line = static_cast<uint32_t>(t->getLine());
  uint32_t col = static_cast<uint32_t>(t->getCharPositionInLine()) + 1;
  size_t len = t->getStopIndex() >= t->getStartIndex() ? t->getStopIndex() - t->getStartIndex() + 1 : 1;
  if (t->getType() == antlr4::Token::EOF) len = 1;
  return SourceRange{{line, col}, {line, col + static_cast<uint32_t>(len)}};
}

SourceRange ctxRange(antlr4::ParserRuleContext* ctx) {
  if (!ctx || !ctx->getStart()) return SourceRange{};
  SourceRange b = tokenRange(ctx->getStart());
  const antlr4::Token* stop = ctx->getStop();
  if (!stop || stop->getTokenIndex() < ctx->getStart()->getTokenIndex()) return b;
  return SourceRange{b.begin, tokenRange(stop).end};
}

std::string tokenWord(int type, const antlr4::dfa::Vocabulary& vocabulary) {
  if (type == static_cast<int>(antlr4::Token::EOF)) return "end of file";
  switch (type) {
    case RekindleLexer::IDENT: return "a name";
    case RekindleLexer::INT: return "a number";
    case RekindleLexer::STRING: return "a string";
    case RekindleLexer::DURATION: return "a duration";
    case RekindleLexer::PERCENT: return "a percentage";
    default: {
      std::string lit(vocabulary.getLiteralName(type));
      if (!lit.empty()) return lit;
      return std::string(vocabulary.getSymbolicName(type));
    }
  }
}

std::string describeToken(const antlr4::Token* t) {
  if (!t || t->getType() == antlr4::Token::EOF) return "end of file";
  std::string text = t->getText();
  if (text.size() > 30) text = text.substr(0, 30) + "...";
  return "'" + text + "'";
}

// Turns ANTLR's syntax errors into ours: "unexpected 'x'; expected an expression".
class SyntaxErrorListener : public antlr4::BaseErrorListener {
 public:
  SyntaxErrorListener(const std::string& file, std::vector<Diagnostic>& diags, int maxErrors)
      : file_(file), diags_(diags), maxErrors_(maxErrors) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t line, size_t col,
                   const std::string& msg, std::exception_ptr) override {
    SourceRange range = offending ? tokenRange(offending)
                                  : SourceRange{{uint32_t(line), uint32_t(col + 1)}, {uint32_t(line), uint32_t(col + 2)}};
    std::string message = "unexpected " + describeToken(offending);
    std::string help;
    if (auto* parser = dynamic_cast<antlr4::Parser*>(recognizer)) {
      antlr4::misc::IntervalSet expected;
      try {
        expected = parser->getExpectedTokens();
      } catch (...) {
      }
      std::vector<int> types;
      for (const auto& iv : expected.getIntervals())
        for (ssize_t t = iv.a; t <= iv.b && types.size() < 64; ++t) types.push_back(static_cast<int>(t));
      auto has = [&](int t) { return std::find(types.begin(), types.end(), t) != types.end(); };
      std::string want;
      if (has(RekindleLexer::IDENT) && has(RekindleLexer::INT) && has(RekindleLexer::LPAREN)) {
        want = "an expression";
      } else if (!types.empty() && types.size() <= 5) {
        for (size_t k = 0; k < types.size(); ++k) {
          if (k) want += k + 1 == types.size() ? " or " : ", ";
          want += tokenWord(types[k], parser->getVocabulary());
        }
      }
      if (!want.empty()) message += "; expected " + want;
      // A misspelt keyword (`otherwize`): suggest the expected keyword it is closest to.
      if (offending && offending->getType() == RekindleLexer::IDENT) {
        std::vector<std::string> keywords;
        for (int t : types) {
          std::string lit(parser->getVocabulary().getLiteralName(t));
          if (lit.size() > 2 && lit.front() == '\'' && std::isalpha(static_cast<unsigned char>(lit[1])))
            keywords.push_back(lit.substr(1, lit.size() - 2));
        }
        std::string near = closestName(offending->getText(), keywords);
        if (!near.empty()) help = "did you mean '" + near + "'?";
      }
      // `10%3` lexes as the percentage 10% followed by 3.
      if (offending && offending->getTokenIndex() > 0) {
        antlr4::Token* before = parser->getTokenStream()->get(offending->getTokenIndex() - 1);
        if (before && before->getType() == RekindleLexer::PERCENT &&
            (offending->getType() == RekindleLexer::INT || offending->getType() == RekindleLexer::FLOAT || offending->getType() == RekindleLexer::IDENT))
          help = "`" + before->getText() + "` is a percentage; write the remainder with spaces: `a % b`";
      }
      if (offending && offending->getType() == RekindleLexer::ASSIGN)
        help = "compare with `==`; a single `=` only appears in `let` and `param`";
      if (offending && offending->getType() == RekindleLexer::PERCENT && msg.find("extraneous") == std::string::npos)
        help = "`10%` is a percentage; write `a % b` with spaces for the remainder";
    } else {
      message = msg;
    }
    // One error per position: recovery can report the same spot twice.
    if (!diags_.empty() && diags_.back().range.begin == range.begin) return;
    diags_.push_back(makeDiag(ErrorCode::SyntaxError, file_, range, message, help));
    if (++count_ >= maxErrors_) throw TooManyErrors{};
  }

 private:
  std::string file_;
  std::vector<Diagnostic>& diags_;
  int maxErrors_;
  int count_ = 0;
};

class AstBuilder {
 public:
  AstBuilder(const SourceFile& src, std::vector<Diagnostic>& diags) : src_(src), diags_(diags) {}

  void build(RekindleParser::ProgramContext* p, ast::Module& m) {
    m.path = src_.path();
    if (auto* h = p->header()) {
      ast::Header header;
      header.range = ctxRange(h);
      if (h->name) {
        header.name = h->name->getText();
        header.nameRange = tokenRange(h->name);
      }
      if (h->version) {
        header.hasVersion = true;
        header.version = intOf(h->version);
      }
      m.header = header;
    }
    for (auto* d : p->declaration()) {
      if (auto* u = d->useDecl()) {
        ast::UseDecl use;
        use.range = ctxRange(u);
        auto idents = u->IDENT();
        for (auto* id : idents) {
          if (u->alias && id->getSymbol() == u->alias) continue;
          use.path.push_back(id->getText());
        }
        if (!idents.empty()) use.pathRange = SourceRange{tokenRange(idents.front()->getSymbol()).begin,
                                                         tokenRange(idents[use.path.size() - 1]->getSymbol()).end};
        if (u->alias) use.alias = u->alias->getText();
        if (use.path.empty()) continue;
        m.order.emplace_back(ast::DeclKind::Use, m.uses.size());
        m.uses.push_back(std::move(use));
      } else if (auto* pd = d->paramDecl()) {
        ast::ParamDecl param;
        param.range = ctxRange(pd);
        param.name = pd->name ? pd->name->getText() : "";
        if (pd->name) param.nameRange = tokenRange(pd->name);
        if (!pd->expr()) continue;
        param.value = expr(pd->expr());
        m.order.emplace_back(ast::DeclKind::Param, m.params.size());
        m.params.push_back(std::move(param));
      } else if (auto* ld = d->letDecl()) {
        if (!ld->expr() || !ld->name) continue;
        ast::LetDecl let;
        let.range = ctxRange(ld);
        let.name = ld->name->getText();
        let.nameRange = tokenRange(ld->name);
        let.value = expr(ld->expr());
        m.order.emplace_back(ast::DeclKind::Let, m.lets.size());
        m.lets.push_back(std::move(let));
      } else if (auto* sd = d->segmentDecl()) {
        if (!sd->expr() || !sd->name) continue;
        ast::SegmentDecl seg;
        seg.range = ctxRange(sd);
        seg.name = sd->name->getText();
        seg.nameRange = tokenRange(sd->name);
        seg.condition = expr(sd->expr());
        m.order.emplace_back(ast::DeclKind::Segment, m.segments.size());
        m.segments.push_back(std::move(seg));
      } else if (auto* td = d->tableDecl()) {
        ast::TableDecl table;
        table.range = ctxRange(td);
        table.keywordRange = tokenRange(td->kind);
        table.kind = td->kind->getType() == RekindleLexer::STAGE     ? ast::TableKind::Stage
                     : td->kind->getType() == RekindleLexer::CHANNEL ? ast::TableKind::Channel
                                                                     : ast::TableKind::Offer;
        for (auto* r : td->tableRow()) {
          if (!r->outcome) continue;
          ast::TableRow row;
          row.range = ctxRange(r);
          row.outcome = r->outcome->getText();
          row.outcomeRange = tokenRange(r->outcome);
          if (r->WHEN()) {
            if (!r->expr()) continue;
            row.condition = expr(r->expr());
          }
          if (auto* lc = r->limitClause()) {
            ast::LimitClause limit;
            limit.range = ctxRange(lc);
            limit.limitText = lc->INT() ? lc->INT()->getText() : lc->param ? lc->param->getText() : "0";
            limit.limit = lc->INT() ? intOf(lc->INT()->getSymbol()) : 0;
            if (lc->param) {
              limit.limitParam = lc->param->getText();
              limit.limitRange = tokenRange(lc->param);
            } else if (lc->INT()) {
              limit.limitRange = tokenRange(lc->INT()->getSymbol());
            }
            if (lc->expr()) limit.rankBy = expr(lc->expr());
            if (lc->order) {
              limit.explicitOrder = true;
              limit.descending = lc->order->getType() == RekindleLexer::DESC;
            }
            row.limit = std::move(limit);
          }
          table.rows.push_back(std::move(row));
        }
        m.order.emplace_back(ast::DeclKind::Table, m.tables.size());
        m.tables.push_back(std::move(table));
      } else if (auto* cd = d->capDecl()) {
        if (!cd->target) continue;
        ast::CapDecl cap;
        cap.range = ctxRange(cd);
        cap.target = cd->target->getText();
        cap.targetRange = tokenRange(cd->target);
        for (auto* w : cd->capWindow()) {
          ast::CapWindow win;
          win.range = ctxRange(w);
          if (w->count) {
            win.countText = w->count->getText();
            win.count = intOf(w->count);
          }
          if (w->CALENDAR()) {
            win.calendar = true;
            if (w->unit) {
              win.unit = w->unit->getText();
              win.unitRange = tokenRange(w->unit);
            }
          } else if (w->DURATION()) {
            win.unit = w->DURATION()->getText();
            win.unitRange = tokenRange(w->DURATION()->getSymbol());
            win.duration = durationOf(w->DURATION()->getSymbol());
          }
          cap.windows.push_back(std::move(win));
        }
        if (cd->expr()) cap.condition = expr(cd->expr());
        m.order.emplace_back(ast::DeclKind::Cap, m.caps.size());
        m.caps.push_back(std::move(cap));
      } else if (auto* hd = d->holdoutDecl()) {
        ast::HoldoutDecl h;
        h.range = ctxRange(hd);
        if (hd->PERCENT()) {
          h.percentText = hd->PERCENT()->getText();
          h.fraction = percentOf(hd->PERCENT()->getSymbol());
        }
        if (hd->STRING()) {
          h.hasSalt = true;
          h.salt = stringOf(hd->STRING()->getSymbol());
        }
        m.order.emplace_back(ast::DeclKind::Holdout, m.holdouts.size());
        m.holdouts.push_back(std::move(h));
      }
    }
  }

 private:
  void error(ErrorCode code, SourceRange r, std::string msg, std::string help = "") {
    diags_.push_back(makeDiag(code, src_.path(), r, std::move(msg), std::move(help)));
  }

  int64_t intOf(const antlr4::Token* t) {
    std::string s = t->getText();
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
      error(ErrorCode::NumberOutOfRange, tokenRange(t), "number " + s + " is too large", "integers go up to 9223372036854775807");
      return 0;
    }
    return v;
  }

  int64_t durationOf(const antlr4::Token* t) {
    auto d = parseDuration(t->getText());
    if (!d) {
      error(ErrorCode::NumberOutOfRange, tokenRange(t), "duration " + t->getText() + " is too large");
      return 0;
    }
    return *d;
  }

  double percentOf(const antlr4::Token* t) {
    std::string s = t->getText();
    s.pop_back();
    double v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v / 100.0;
  }

  std::string stringOf(const antlr4::Token* t) {
    std::string raw = t->getText();
    std::string out;
    SourceRange r = tokenRange(t);
    // Strip the quotes; an unterminated string (already reported) has only the opening one.
    size_t end = raw.size() >= 2 && raw.back() == '"' ? raw.size() - 1 : raw.size();
    for (size_t k = 1; k < end; ++k) {
      char c = raw[k];
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = k + 1 < end ? raw[++k] : '\0';
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        default: {
          uint32_t col = r.begin.col + static_cast<uint32_t>(codePointCount(std::string_view(raw).substr(0, k - 1)));
          error(ErrorCode::BadEscape, SourceRange{{r.begin.line, col}, {r.begin.line, col + 2}},
                std::string("unknown escape sequence '\\") + e + "' in a string",
                "strings understand \\\" \\\\ \\n and \\t");
        }
      }
    }
    return out;
  }

  ast::Literal literal(RekindleParser::LiteralContext* ctx) {
    ast::Literal lit;
    antlr4::Token* t = ctx->getStart();
    lit.text = t->getText();
    switch (t->getType()) {
      case RekindleLexer::INT:
        lit.kind = Kind::Int;
        lit.i = intOf(t);
        break;
      case RekindleLexer::FLOAT: {
        lit.kind = Kind::Float;
        std::from_chars(lit.text.data(), lit.text.data() + lit.text.size(), lit.f);
        if (!std::isfinite(lit.f)) {
          error(ErrorCode::NumberOutOfRange, tokenRange(t), "number " + lit.text + " is too large");
          lit.f = 0;
        }
        break;
      }
      case RekindleLexer::PERCENT:
        lit.kind = Kind::Float;
        lit.percent = true;
        lit.f = percentOf(t);
        break;
      case RekindleLexer::STRING:
        lit.kind = Kind::String;
        lit.str = stringOf(t);
        break;
      case RekindleLexer::TRUE_LIT:
      case RekindleLexer::FALSE_LIT:
        lit.kind = Kind::Bool;
        lit.i = t->getType() == RekindleLexer::TRUE_LIT;
        break;
      case RekindleLexer::NULL_LIT:
        lit.kind = Kind::Null;
        break;
      case RekindleLexer::NONE:
        lit.kind = Kind::None;
        break;
      case RekindleLexer::DURATION:
        lit.kind = Kind::Duration;
        lit.i = durationOf(t);
        break;
      case RekindleLexer::DATE: {
        lit.kind = Kind::Date;
        auto d = parseDate(lit.text);
        if (!d) error(ErrorCode::BadDateTime, tokenRange(t), "'" + lit.text + "' is not a valid date");
        lit.i = d.value_or(0);
        break;
      }
      case RekindleLexer::TIME: {
        lit.kind = Kind::Time;
        const std::string& s = lit.text;
        lit.timeHasZone = s.back() == 'Z' || (s.size() > 6 && (s[s.size() - 6] == '+' || s[s.size() - 6] == '-'));
        // Without an offset the literal is wall time; the checker places it in the config's zone.
        auto v = parseTime(s, TimeZone());
        if (!v) error(ErrorCode::BadDateTime, tokenRange(t), "'" + s + "' is not a valid time");
        lit.i = v.value_or(0);
        break;
      }
      default:
        lit.kind = Kind::Null;
    }
    return lit;
  }

  ast::ExprPtr node(ast::ExprKind kind, SourceRange range) {
    auto e = std::make_unique<ast::Expr>();
    e->kind = kind;
    e->range = range;
    return e;
  }

  ast::ExprPtr binary(ast::Op op, antlr4::ParserRuleContext* ctx, RekindleParser::ExprContext* l, RekindleParser::ExprContext* r) {
    auto e = node(ast::ExprKind::Binary, ctxRange(ctx));
    e->op = op;
    e->args.push_back(expr(l));
    e->args.push_back(expr(r));
    return e;
  }

  static bool isComparison(const ast::Expr& e) {
    return (e.kind == ast::ExprKind::Binary &&
            (e.op == ast::Op::Eq || e.op == ast::Op::Ne || e.op == ast::Op::Lt || e.op == ast::Op::Le ||
             e.op == ast::Op::Gt || e.op == ast::Op::Ge || e.op == ast::Op::In || e.op == ast::Op::NotIn)) ||
           e.kind == ast::ExprKind::IsNull;
  }

  ast::ExprPtr expr(RekindleParser::ExprContext* ctx) {
    using P = RekindleParser;
    // An operand the parser gave up on (after a syntax error): a placeholder, like primary()'s.
    if (!ctx) return node(ast::ExprKind::Literal, SourceRange{});
    if (auto* c = dynamic_cast<P::PrimaryExprContext*>(ctx)) return primary(c->primary());
    if (auto* c = dynamic_cast<P::MethodCallExprContext*>(ctx)) {
      auto e = node(ast::ExprKind::MethodCall, ctxRange(c));
      e->name = c->name->getText();
      e->nameRange = ctxRange(c->name);
      e->args.push_back(expr(c->expr()));
      if (c->argList())
        for (auto* a : c->argList()->expr()) e->args.push_back(expr(a));
      return e;
    }
    if (auto* c = dynamic_cast<P::MemberExprContext*>(ctx)) {
      auto e = node(ast::ExprKind::Member, ctxRange(c));
      e->name = c->name->getText();
      e->nameRange = ctxRange(c->name);
      e->args.push_back(expr(c->expr()));
      return e;
    }
    if (auto* c = dynamic_cast<P::NegateExprContext*>(ctx)) {
      auto e = node(ast::ExprKind::Unary, ctxRange(c));
      e->op = ast::Op::Neg;
      e->args.push_back(expr(c->expr()));
      return e;
    }
    if (auto* c = dynamic_cast<P::NotExprContext*>(ctx)) {
      auto e = node(ast::ExprKind::Unary, ctxRange(c));
      e->op = ast::Op::Not;
      e->args.push_back(expr(c->expr()));
      return e;
    }
    if (auto* c = dynamic_cast<P::MulExprContext*>(ctx)) {
      ast::Op op = c->op->getType() == RekindleLexer::STAR ? ast::Op::Mul : c->op->getType() == RekindleLexer::SLASH ? ast::Op::Div : ast::Op::Mod;
      return binary(op, c, c->expr(0), c->expr(1));
    }
    if (auto* c = dynamic_cast<P::AddExprContext*>(ctx))
      return binary(c->op->getType() == RekindleLexer::PLUS ? ast::Op::Add : ast::Op::Sub, c, c->expr(0), c->expr(1));
    if (auto* c = dynamic_cast<P::CoalesceExprContext*>(ctx)) return binary(ast::Op::Coalesce, c, c->expr(0), c->expr(1));
    if (auto* c = dynamic_cast<P::CompareExprContext*>(ctx)) {
      ast::Op op = ast::Op::Eq;
      switch (c->op->getType()) {
        case RekindleLexer::EQ: op = ast::Op::Eq; break;
        case RekindleLexer::NE: op = ast::Op::Ne; break;
        case RekindleLexer::LT: op = ast::Op::Lt; break;
        case RekindleLexer::LE: op = ast::Op::Le; break;
        case RekindleLexer::GT: op = ast::Op::Gt; break;
        default: op = ast::Op::Ge; break;
      }
      auto e = binary(op, c, c->expr(0), c->expr(1));
      checkChain(*e, tokenRange(c->op));
      return e;
    }
    if (auto* c = dynamic_cast<P::InExprContext*>(ctx)) {
      auto e = binary(c->NOT() ? ast::Op::NotIn : ast::Op::In, c, c->expr(0), c->expr(1));
      checkChain(*e, c->IN() ? tokenRange(c->IN()->getSymbol()) : e->range);
      return e;
    }
    if (auto* c = dynamic_cast<P::IsNullExprContext*>(ctx)) {
      auto e = node(ast::ExprKind::IsNull, ctxRange(c));
      e->op = c->NOT() ? ast::Op::IsNotNull : ast::Op::IsNull;
      e->args.push_back(expr(c->expr()));
      if (isComparison(*e->args[0]))
        error(ErrorCode::ChainedComparison, e->range, "comparisons cannot be chained", "add parentheses to say what you mean");
      return e;
    }
    if (auto* c = dynamic_cast<P::AndExprContext*>(ctx)) return binary(ast::Op::And, c, c->expr(0), c->expr(1));
    if (auto* c = dynamic_cast<P::OrExprContext*>(ctx)) return binary(ast::Op::Or, c, c->expr(0), c->expr(1));
    if (auto* c = dynamic_cast<P::WhereExprContext*>(ctx)) {
      auto e = node(ast::ExprKind::Where, ctxRange(c));
      e->args.push_back(expr(c->expr(0)));
      e->args.push_back(expr(c->expr(1)));
      return e;
    }
    // A subtree the parser could not complete: keep a placeholder so checking can go on.
    return node(ast::ExprKind::Literal, ctxRange(ctx));
  }

  void checkChain(const ast::Expr& e, SourceRange opRange) {
    if (isComparison(*e.args[0]) || isComparison(*e.args[1]))
      error(ErrorCode::ChainedComparison, opRange, "comparisons cannot be chained",
            "write `a < b and b < c`, or add parentheses");
  }

  ast::ExprPtr primary(RekindleParser::PrimaryContext* ctx) {
    using P = RekindleParser;
    if (!ctx) return node(ast::ExprKind::Literal, SourceRange{});
    SourceRange r = ctxRange(ctx);
    if (auto* c = dynamic_cast<P::LiteralPrimaryContext*>(ctx)) {
      auto e = node(ast::ExprKind::Literal, r);
      e->lit = literal(c->literal());
      return e;
    }
    if (auto* c = dynamic_cast<P::CallPrimaryContext*>(ctx)) {
      auto e = node(ast::ExprKind::Call, r);
      e->name = c->name->getText();
      e->nameRange = tokenRange(c->name);
      if (c->argList())
        for (auto* a : c->argList()->expr()) e->args.push_back(expr(a));
      return e;
    }
    if (auto* c = dynamic_cast<P::NamePrimaryContext*>(ctx)) {
      auto e = node(ast::ExprKind::Name, r);
      e->name = c->name->getText();
      e->nameRange = r;
      return e;
    }
    if (auto* c = dynamic_cast<P::DecisionPrimaryContext*>(ctx)) {
      auto e = node(ast::ExprKind::Decision, r);
      int t = c->kind->getType();
      e->decision = t == RekindleLexer::STAGE ? ast::TableKind::Stage : t == RekindleLexer::CHANNEL ? ast::TableKind::Channel : ast::TableKind::Offer;
      e->name = c->kind->getText();
      e->nameRange = r;
      return e;
    }
    if (dynamic_cast<P::NowPrimaryContext*>(ctx)) return node(ast::ExprKind::Now, r);
    if (dynamic_cast<P::TodayPrimaryContext*>(ctx)) return node(ast::ExprKind::Today, r);
    if (dynamic_cast<P::PreviousPrimaryContext*>(ctx)) return node(ast::ExprKind::Previous, r);
    if (auto* c = dynamic_cast<P::ParenPrimaryContext*>(ctx)) {
      auto e = node(ast::ExprKind::Paren, r);
      e->args.push_back(c->expr() ? expr(c->expr()) : node(ast::ExprKind::Literal, r));
      return e;
    }
    if (auto* c = dynamic_cast<P::ListPrimaryContext*>(ctx)) {
      auto e = node(ast::ExprKind::List, r);
      for (auto* x : c->expr()) e->args.push_back(expr(x));
      return e;
    }
    return node(ast::ExprKind::Literal, r);
  }

  const SourceFile& src_;
  std::vector<Diagnostic>& diags_;
};

// Bounds how deep ANTLR and our tree walks can recurse, before parsing: brackets, runs of
// prefix operators and right-associative `??` chains each add a level.
bool nestingWithinLimit(const std::vector<std::unique_ptr<antlr4::Token>>& tokens, int limit, const antlr4::Token*& at) {
  struct Level {
    int prefixRun = 0;
    int coalesce = 0;
  };
  std::vector<Level> levels(1);
  int depth = 0;
  bool prefixPosition = true;  // could the next token start an operand?
  for (const auto& t : tokens) {
    int type = t->getType();
    if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
    switch (type) {
      case RekindleLexer::LPAREN:
      case RekindleLexer::LBRACKET:
        levels.emplace_back();
        ++depth;
        prefixPosition = true;
        break;
      case RekindleLexer::RPAREN:
      case RekindleLexer::RBRACKET:
        if (levels.size() > 1) {
          depth -= 1 + levels.back().prefixRun + levels.back().coalesce;
          levels.pop_back();
        }
        prefixPosition = false;
        break;
      case RekindleLexer::NOT:
      case RekindleLexer::MINUS:
        if (type == RekindleLexer::NOT || prefixPosition) {
          ++levels.back().prefixRun;
          ++depth;
        }
        prefixPosition = true;
        break;
      case RekindleLexer::QQ:
        ++levels.back().coalesce;
        ++depth;
        prefixPosition = true;
        break;
      case RekindleLexer::LET: case RekindleLexer::SEGMENT: case RekindleLexer::PARAM: case RekindleLexer::CAP:
      case RekindleLexer::STAGE: case RekindleLexer::CHANNEL: case RekindleLexer::OFFER: case RekindleLexer::END:
      case RekindleLexer::WHEN: case RekindleLexer::OTHERWISE: case RekindleLexer::HOLDOUT: case RekindleLexer::IDENT:
      case RekindleLexer::INT: case RekindleLexer::FLOAT: case RekindleLexer::STRING: case RekindleLexer::DURATION:
      case RekindleLexer::DATE: case RekindleLexer::TIME: case RekindleLexer::PERCENT: case RekindleLexer::TRUE_LIT:
      case RekindleLexer::FALSE_LIT: case RekindleLexer::NULL_LIT: case RekindleLexer::NONE: case RekindleLexer::NOW:
      case RekindleLexer::TODAY: case RekindleLexer::PREVIOUS:
        // An operand or a new row/declaration ends a run of prefix operators and `??` chains
        // at this level only when it starts a new statement; operands keep the chain going.
        if (type == RekindleLexer::WHEN || type == RekindleLexer::OTHERWISE || type == RekindleLexer::LET ||
            type == RekindleLexer::SEGMENT || type == RekindleLexer::END || type == RekindleLexer::CAP ||
            type == RekindleLexer::PARAM || type == RekindleLexer::HOLDOUT) {
          depth -= levels.back().prefixRun + levels.back().coalesce;
          levels.back() = Level{};
        }
        prefixPosition = type == RekindleLexer::WHEN;
        break;
      default:
        // Binary operators: the next token starts an operand; prefix runs end at an operator.
        depth -= levels.back().prefixRun;
        levels.back().prefixRun = 0;
        prefixPosition = true;
        break;
    }
    if (depth > limit) {
      at = t.get();
      return false;
    }
  }
  return true;
}

}  // namespace

ParseResult parseRules(const SourceFile& source, const ParseLimits& limits) {
  ParseResult result;
  result.module = std::make_unique<ast::Module>();
  result.module->path = source.path();
  const std::string& text = source.text();
  if (text.size() > limits.maxBytes) {
    result.diags.push_back(makeDiag(ErrorCode::InputTooLarge, source.path(), SourceRange{{1, 1}, {1, 2}},
                                    fmt::format("the rules file is {} bytes; the limit is {}", text.size(), limits.maxBytes),
                                    "split it, or move data into the config"));
    return result;
  }
  size_t bad = findInvalidUtf8(text);
  if (bad != kValidUtf8) {
    SourceLoc at = source.locOf(bad);
    result.diags.push_back(makeDiag(ErrorCode::BadCharacter, source.path(), SourceRange{at, {at.line, at.col + 1}},
                                    "the file is not valid UTF-8 here", "save the file as UTF-8"));
    return result;
  }

  antlr4::ANTLRInputStream input(text);
  RekindleLexer lexer(&input);
  lexer.removeErrorListeners();
  std::vector<std::unique_ptr<antlr4::Token>> tokens = lexer.getAllTokens();
  tokens.push_back(lexer.nextToken());  // getAllTokens() stops before EOF; the parser needs it
  // Our lexer reports what it cannot tokenise, then the parser sees a cleaned stream.
  std::vector<std::unique_ptr<antlr4::Token>> clean;
  std::vector<uint32_t> badLines;  // lines with a lexical error: parser errors there are echoes
  for (size_t i = 0; i < tokens.size(); ++i) {
    auto& t = tokens[i];
    if (t->getType() == RekindleLexer::BAD_CHAR) {
      std::string ch = t->getText();
      SourceRange range = tokenRange(t.get());
      badLines.push_back(range.begin.line);
      if (ch == "'") {
        // 'gold': one error for the whole single-quoted text, which then reads as a string.
        size_t close = i + 1;
        while (close < tokens.size() && tokens[close]->getLine() == t->getLine() &&
               !(tokens[close]->getType() == RekindleLexer::BAD_CHAR && tokens[close]->getText() == "'"))
          ++close;
        if (close < tokens.size() && tokens[close]->getLine() == t->getLine()) {
          range.end = tokenRange(tokens[close].get()).end;
          result.diags.push_back(makeDiag(ErrorCode::BadCharacter, source.path(), range,
                                          "strings use double quotes, not single quotes", "write \"...\""));
          std::string text = "\"";
          for (size_t k = i + 1; k < close; ++k) text += tokens[k]->getText();
          text += "\"";
          auto* str = static_cast<antlr4::CommonToken*>(tokens[close].get());
          str->setType(RekindleLexer::STRING);
          str->setText(text);
          str->setStartIndex(t->getStartIndex());
          str->setCharPositionInLine(t->getCharPositionInLine());
          i = close - 1;  // the tokens in between are dropped; the closing one is the string
          continue;
        }
        result.diags.push_back(makeDiag(ErrorCode::BadCharacter, source.path(), range,
                                        "unexpected character '''", "strings use double quotes: \"...\""));
        continue;
      }
      // A run of bad characters (`&&`, `||`) is one mistake.
      size_t last = i;
      while (last + 1 < tokens.size() && tokens[last + 1]->getType() == RekindleLexer::BAD_CHAR &&
             tokens[last + 1]->getStartIndex() == tokens[last]->getStopIndex() + 1)
        ++last;
      std::string run;
      for (size_t k = i; k <= last; ++k) run += tokens[k]->getText();
      range.end = tokenRange(tokens[last].get()).end;
      std::string help;
      if (run == "&&" || run == "&") help = "write `and`";
      else if (run == "||" || run == "|") help = "write `or`";
      else if (run == "!") help = "write `not`, or `!=` for not equal";
      result.diags.push_back(makeDiag(ErrorCode::BadCharacter, source.path(), range,
                                      "unexpected '" + run + "'", help));
      i = last;
      continue;
    }
    if (t->getType() == RekindleLexer::UNTERMINATED_STRING) {
      badLines.push_back(static_cast<uint32_t>(t->getLine()));
      result.diags.push_back(makeDiag(ErrorCode::UnterminatedString, source.path(), tokenRange(t.get()),
                                      "this string has no closing quote on its line"));
      static_cast<antlr4::CommonToken*>(t.get())->setType(RekindleLexer::STRING);
    }
    if (t->getType() == RekindleLexer::COMMENT) {
      ast::Comment c;
      c.text = t->getText();
      if (!c.text.empty() && c.text.back() == '\r') c.text.pop_back();
      c.range = tokenRange(t.get());
      std::string_view line = source.line(c.range.begin.line);
      c.ownLine = line.find_first_not_of(" \t") == c.range.begin.col - 1 ||
                  codePointCount(line.substr(0, line.find_first_not_of(" \t"))) == c.range.begin.col - 1;
      result.module->comments.push_back(std::move(c));
    }
    clean.push_back(std::move(t));
  }
  const antlr4::Token* deep = nullptr;
  if (!nestingWithinLimit(clean, limits.maxNesting, deep)) {
    result.diags.push_back(makeDiag(ErrorCode::NestingTooDeep, source.path(), tokenRange(deep),
                                    fmt::format("expression nested more than {} levels deep", limits.maxNesting),
                                    "name the inner parts with `let`"));
    return result;
  }
  // The lexer's EOF token stays last: ListTokenSource refuses an empty list.
  std::vector<std::unique_ptr<antlr4::Token>> stream = std::move(clean);
  antlr4::ListTokenSource tokenSource(std::move(stream));
  antlr4::CommonTokenStream tokenStream(&tokenSource);
  RekindleParser parser(&tokenStream);
  parser.removeErrorListeners();

  RekindleParser::ProgramContext* tree = nullptr;
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  try {
    tree = parser.program();
  } catch (const antlr4::ParseCancellationException&) {
    tree = nullptr;
  }
  std::vector<Diagnostic> syntax;
  if (!tree) {
    // SLL could not decide (or the input is wrong): full LL with error recovery and our listener.
    tokenStream.seek(0);
    parser.reset();
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::LL);
    parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
    SyntaxErrorListener listener(source.path(), syntax, limits.maxErrors);
    parser.addErrorListener(&listener);
    try {
      tree = parser.program();
    } catch (const TooManyErrors&) {
      tree = nullptr;
      syntax.back().notes.push_back(DiagnosticNote{"", {}, "too many syntax errors; stopped here"});
    }
    parser.removeErrorListeners();
  }
  // Syntax errors on a line where our lexer already found a problem are its echoes.
  for (auto& d : syntax) {
    bool echo = std::find(badLines.begin(), badLines.end(), d.range.begin.line) != badLines.end();
    if (!echo) result.diags.push_back(std::move(d));
  }
  if (tree) {
    AstBuilder builder(source, result.diags);
    builder.build(tree, *result.module);
  }
  // Doc comments: the own-line comments directly above a let or segment.
  auto docFor = [&](SourceRange r) {
    std::string doc;
    uint32_t line = r.begin.line;
    for (auto it = result.module->comments.rbegin(); it != result.module->comments.rend(); ++it) {
      if (!it->ownLine || it->range.begin.line >= line) {
        if (it->range.begin.line < line && !it->ownLine) break;
        continue;
      }
      if (it->range.begin.line != line - 1) break;
      std::string t = it->text.substr(1);
      if (!t.empty() && t[0] == ' ') t.erase(0, 1);
      doc = doc.empty() ? t : t + "\n" + doc;
      line = it->range.begin.line;
    }
    return doc;
  };
  for (auto& l : result.module->lets) l.doc = docFor(l.range);
  for (auto& s : result.module->segments) s.doc = docFor(s.range);
  sortDiagnostics(result.diags);
  return result;
}

}  // namespace rekindle
