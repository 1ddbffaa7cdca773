// The linter (SPEC §7, docs/diagnostics.md): warnings about rules that compile but probably do
// not say what their author meant — rows that can never be taken, tables that can leave customers
// undecided, values that are null for some customers, names hidden inside a `where`.
//
// Every rule is declared once, in REKINDLE_LINT_RULES, with its stable code, name, default
// severity and summary (the model is Luau's Config/include/Luau/LinterConfig.h). The config's
// `lint:` section and `# rekindle:allow W0xx` comments turn rules off or re-grade them.
//
// Row coverage is decided on conditions put in disjunctive normal form over *terms*. A term is
// one value per customer (a field, a let, `now - last_order`, a call), identified by a canonical
// key; lets are expanded into their definitions, so `idle` and `now - last_order` are one term.
// An atom constrains a term to a set of values — intervals for numbers, durations, times and
// dates, finite or co-finite sets for strings, bools and enums — and says whether null is in it.
// Conditions follow the language's three-valued logic: a comparison with null is false, `not`
// of a false comparison is true, a row whose condition is null is not taken. Every conclusion is
// sound: params are unknown values, arithmetic may overflow to null, and when the analysis cannot
// tell, it says nothing.
#include "rekindle/compiler/lint.h"

#include <cctype>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "rekindle/stdlib/builtins.h"

namespace rekindle {

// X(Enumerator, "code", "name", default severity, "summary")
// Codes are never reused or renumbered; a retired rule stays listed.
#define REKINDLE_LINT_RULES(X)                                                                                        \
  X(UnreachableRow, "W001", "unreachable-row", Warning,                                                              \
    "a decision-table row that is never taken: earlier rows already take every customer it would")                  \
  X(NotExhaustive, "W002", "non-exhaustive-table", Warning,                                                          \
    "a decision table that can leave customers with no decision (no `otherwise` row)")                              \
  X(OutcomeNeverDecided, "W003", "outcome-never-decided", Warning,                                                   \
    "a comparison with a stage, channel or offer that no reachable row of its table gives")                         \
  X(UnusedLet, "W004", "unused-let", Warning, "a `let` that nothing uses")                                           \
  X(UnusedParam, "W005", "unused-param", Warning, "a `param` that nothing uses")                                     \
  X(NullFallsThrough, "W006", "null-falls-through", Warning,                                                         \
    "a table that decides every customer except those for whom a compared value is null")                           \
  X(NullExcludedByInequality, "W007", "null-excluded-by-inequality", Warning,                                        \
    "`!=` or `not in` on a value that can be null: the null ones are left out, not kept")                           \
  X(ShadowedName, "W008", "shadowed-name", Warning,                                                                  \
    "inside a `where` or `streak` condition, an event field hides a customer field, let, segment or param")         \
  X(CapNeverApplies, "W009", "cap-never-applies", Warning, "a cap on a channel that no channel row chooses")        \
  X(LimitWithoutRank, "W010", "limit-without-rank", Warning,                                                         \
    "a `limit` without `rank by`: who gets the budget is decided by a hash of the customer id")                     \
  X(CompareWithNull, "W011", "compare-with-null", Warning,                                                           \
    "a comparison with the `null` literal, which is always false (use `is null`)")                                  \
  X(NeverTrue, "W012", "never-true", Warning, "a row or segment condition that no customer can satisfy")            \
  X(ConditionIgnoresEvent, "W013", "condition-ignores-event", Warning,                                               \
    "a `where` or `streak` condition that reads no field of the event: it keeps all of the events or none")

namespace {

enum class Lint {
#define REKINDLE_X(e, code, name, severity, summary) e,
  REKINDLE_LINT_RULES(REKINDLE_X)
#undef REKINDLE_X
};

}  // namespace

const std::vector<LintRule>& lintRuleTable() {
  static const std::vector<LintRule> rules = {
#define REKINDLE_X(e, code, name, severity, summary) LintRule{code, name, Severity::severity, summary},
      REKINDLE_LINT_RULES(REKINDLE_X)
#undef REKINDLE_X
  };
  return rules;
}

namespace {

using ast::Expr;
using ast::ExprKind;
using ast::Op;
using ast::RefKind;

const LintRule& rule(Lint l) { return lintRuleTable()[static_cast<size_t>(l)]; }

// ---- value sets ------------------------------------------------------------------------------

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kExact = 9007199254740992.0;  // 2^53: larger integers are not exact as doubles

struct Interval {
  double lo = -kInf, hi = kInf;
  bool loClosed = false, hiClosed = false;
};

// The values of one term an atom allows, and whether null is among them. Ordered terms use
// sorted, disjoint, merged intervals; integral ones (int, duration, time, date) keep closed
// integer ends, so `x < 5` and `x <= 4` are the same set. Discrete terms use a finite set, or
// all values but a finite set (`cofinite`); with a known universe (bools, enums) always finite.
struct ValueSet {
  bool ordered = false;
  bool integral = false;
  std::vector<Interval> ivs;
  bool cofinite = false;
  std::set<std::string> items;
  bool null = false;

  bool operator==(const ValueSet& o) const {
    if (null != o.null || ordered != o.ordered) return false;
    if (!ordered) return cofinite == o.cofinite && items == o.items;
    if (ivs.size() != o.ivs.size()) return false;
    for (size_t k = 0; k < ivs.size(); ++k) {
      const Interval &a = ivs[k], &b = o.ivs[k];
      if (a.lo != b.lo || a.hi != b.hi || a.loClosed != b.loClosed || a.hiClosed != b.hiClosed) return false;
    }
    return true;
  }
};

void normalize(ValueSet& v) {
  if (!v.ordered) return;
  std::vector<Interval> in;
  for (Interval i : v.ivs) {
    if (v.integral) {
      if (std::isfinite(i.lo)) {
        i.lo = i.loClosed ? std::ceil(i.lo) : std::floor(i.lo) + 1;
        i.loClosed = true;
      }
      if (std::isfinite(i.hi)) {
        i.hi = i.hiClosed ? std::floor(i.hi) : std::ceil(i.hi) - 1;
        i.hiClosed = true;
      }
    }
    if (!std::isfinite(i.lo)) i.loClosed = false;
    if (!std::isfinite(i.hi)) i.hiClosed = false;
    if (i.lo > i.hi || (i.lo == i.hi && !(i.loClosed && i.hiClosed))) continue;
    in.push_back(i);
  }
  std::sort(in.begin(), in.end(), [](const Interval& a, const Interval& b) {
    return a.lo < b.lo || (a.lo == b.lo && a.loClosed && !b.loClosed);
  });
  std::vector<Interval> out;
  for (const Interval& i : in) {
    if (!out.empty()) {
      Interval& cur = out.back();
      bool touches = i.lo < cur.hi || (i.lo == cur.hi && (cur.hiClosed || i.loClosed)) ||
                     (v.integral && std::isfinite(cur.hi) && i.lo == cur.hi + 1);
      if (touches) {
        if (i.hi > cur.hi || (i.hi == cur.hi && i.hiClosed)) {
          cur.hi = i.hi;
          cur.hiClosed = i.hiClosed;
        }
        continue;
      }
    }
    out.push_back(i);
  }
  v.ivs = std::move(out);
}

bool contains(const Interval& outer, const Interval& inner) {
  bool lo = outer.lo < inner.lo || (outer.lo == inner.lo && (outer.loClosed || !inner.loClosed));
  bool hi = outer.hi > inner.hi || (outer.hi == inner.hi && (outer.hiClosed || !inner.hiClosed));
  return lo && hi;
}

bool valuesEmpty(const ValueSet& v) { return v.ordered ? v.ivs.empty() : (!v.cofinite && v.items.empty()); }
bool isEmpty(const ValueSet& v) { return valuesEmpty(v) && !v.null; }

ValueSet intersect(const ValueSet& a, const ValueSet& b) {
  ValueSet r = a;
  r.null = a.null && b.null;
  if (a.ordered) {
    r.ivs.clear();
    for (const Interval& x : a.ivs)
      for (const Interval& y : b.ivs) {
        Interval i;
        if (x.lo > y.lo) i.lo = x.lo, i.loClosed = x.loClosed;
        else if (y.lo > x.lo) i.lo = y.lo, i.loClosed = y.loClosed;
        else i.lo = x.lo, i.loClosed = x.loClosed && y.loClosed;
        if (x.hi < y.hi) i.hi = x.hi, i.hiClosed = x.hiClosed;
        else if (y.hi < x.hi) i.hi = y.hi, i.hiClosed = y.hiClosed;
        else i.hi = x.hi, i.hiClosed = x.hiClosed && y.hiClosed;
        r.ivs.push_back(i);
      }
    normalize(r);
    return r;
  }
  r.items.clear();
  if (!a.cofinite && !b.cofinite) {
    for (const auto& s : a.items)
      if (b.items.count(s)) r.items.insert(s);
  } else if (!a.cofinite) {
    for (const auto& s : a.items)
      if (!b.items.count(s)) r.items.insert(s);
  } else if (!b.cofinite) {
    r.cofinite = false;
    for (const auto& s : b.items)
      if (!a.items.count(s)) r.items.insert(s);
  } else {
    r.items = a.items;
    r.items.insert(b.items.begin(), b.items.end());
  }
  return r;
}

ValueSet unite(const ValueSet& a, const ValueSet& b) {
  ValueSet r = a;
  r.null = a.null || b.null;
  if (a.ordered) {
    r.ivs.insert(r.ivs.end(), b.ivs.begin(), b.ivs.end());
    normalize(r);
    return r;
  }
  r.items.clear();
  if (!a.cofinite && !b.cofinite) {
    r.items = a.items;
    r.items.insert(b.items.begin(), b.items.end());
  } else if (a.cofinite && b.cofinite) {
    for (const auto& s : a.items)
      if (b.items.count(s)) r.items.insert(s);
  } else {
    const ValueSet& fin = a.cofinite ? b : a;
    const ValueSet& co = a.cofinite ? a : b;
    r.cofinite = true;
    for (const auto& s : co.items)
      if (!fin.items.count(s)) r.items.insert(s);
  }
  return r;
}

bool subset(const ValueSet& a, const ValueSet& b) {
  if (a.null && !b.null) return false;
  if (a.ordered) {
    for (const Interval& x : a.ivs) {
      bool inside = false;
      for (const Interval& y : b.ivs) inside = inside || contains(y, x);
      if (!inside) return false;
    }
    return true;
  }
  if (!a.cofinite && !b.cofinite) return std::includes(b.items.begin(), b.items.end(), a.items.begin(), a.items.end());
  if (!a.cofinite) {
    for (const auto& s : a.items)
      if (b.items.count(s)) return false;
    return true;
  }
  if (!b.cofinite) return false;  // an infinite set is never inside a finite one
  return std::includes(a.items.begin(), a.items.end(), b.items.begin(), b.items.end());
}

// ---- terms, conjunctions, DNF ------------------------------------------------------------------

struct TermInfo {
  std::string key;      // canonical key, with its domain
  std::string baseKey;  // key of the expression compared (without a `now`/`today` offset)
  const Expr* expr = nullptr;
  bool ordered = false;
  bool integral = false;
  const std::vector<std::string>* universe = nullptr;
  bool mayBeNull = true;
};

using Conjunct = std::map<int, ValueSet>;  // term -> allowed values; a missing term is unconstrained

// A condition as an OR of ANDs. No conjuncts: never true; one empty conjunct: always true.
struct Dnf {
  std::vector<Conjunct> conj;
  bool overflow = false;  // too large to keep: the caller falls back to an opaque atom
  static Dnf never() { return Dnf{}; }
  static Dnf always() { return Dnf{{Conjunct{}}, false}; }
  bool isNever() const { return !overflow && conj.empty(); }
  bool isAlways() const {
    for (const auto& c : conj)
      if (c.empty()) return true;
    return false;
  }
};

constexpr size_t kMaxConjuncts = 64;
constexpr int kMaxInline = 12;

// Three-valued truth, as bits of a set of wanted outcomes.
constexpr int kT = 1, kF = 2, kN = 4, kAny = 7;

int and3(int a, int b) {
  if (a == kF || b == kF) return kF;
  if (a == kT && b == kT) return kT;
  return kN;
}
int or3(int a, int b) {
  if (a == kT || b == kT) return kT;
  if (a == kF && b == kF) return kF;
  return kN;
}
int swapTF(int s) { return (s & kN) | ((s & kT) ? kF : 0) | ((s & kF) ? kT : 0); }

// A constant folded from an expression: a number (with a base: 0 absolute, 1 seconds from
// `now`, 2 days from `today`), a discrete value (string, bool or enum member) or null.
struct Const {
  enum Kind { Number, Discrete, Null } kind = Number;
  double num = 0;
  int base = 0;
  std::string str;
};

std::string shorten(std::string s, size_t max = 70) {
  if (codePointCount(s) <= max) return s;
  size_t cut = 0, n = 0;
  while (cut < s.size() && n < max - 3) {
    ++cut;
    while (cut < s.size() && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) ++cut;
    ++n;
  }
  return s.substr(0, cut) + "...";
}

// The rules' spelling of an expression, rebuilt from the tree (it may come from a prelude).
std::string exprText(const Expr& e) {
  auto args = [&](size_t from) {
    std::string s;
    for (size_t k = from; k < e.args.size(); ++k) s += (k > from ? ", " : "") + exprText(*e.args[k]);
    return s;
  };
  switch (e.kind) {
    case ExprKind::Literal: return e.lit.text;
    case ExprKind::List: return "[" + args(0) + "]";
    case ExprKind::Paren: return "(" + exprText(*e.args[0]) + ")";
    case ExprKind::Name:
    case ExprKind::Decision: return e.name;
    case ExprKind::Now: return "now";
    case ExprKind::Today: return "today";
    case ExprKind::Previous: return "previous";
    case ExprKind::Member: return exprText(*e.args[0]) + "." + e.name;
    case ExprKind::Call: return e.name + "(" + args(0) + ")";
    case ExprKind::MethodCall: return exprText(*e.args[0]) + "." + e.name + "(" + args(1) + ")";
    case ExprKind::Unary: return e.op == Op::Not ? "not " + exprText(*e.args[0]) : "-" + exprText(*e.args[0]);
    case ExprKind::Binary:
      return exprText(*e.args[0]) + " " + ast::opSpelling(e.op) + " " + exprText(*e.args[1]);
    case ExprKind::IsNull: return exprText(*e.args[0]) + (e.op == Op::IsNotNull ? " is not null" : " is null");
    case ExprKind::Where: return exprText(*e.args[0]) + " where " + exprText(*e.args[1]);
  }
  return "?";
}

const Expr& strip(const Expr& e) { return e.kind == ExprKind::Paren ? strip(*e.args[0]) : e; }

bool isComparison(Op op) {
  return op == Op::Eq || op == Op::Ne || op == Op::Lt || op == Op::Le || op == Op::Gt || op == Op::Ge || op == Op::In ||
         op == Op::NotIn;
}

bool isNullLiteral(const Expr& e) {
  const Expr& s = strip(e);
  return s.kind == ExprKind::Literal && s.lit.kind == Kind::Null;
}

const Builtin* builtinOf(const Expr& e) {
  if (e.ref.kind != RefKind::Builtin || e.ref.index < 0 || static_cast<size_t>(e.ref.index) >= builtins().size()) return nullptr;
  return &builtins()[e.ref.index];
}

bool isStreak(const Expr& e) {
  const Builtin* b = builtinOf(e);
  return e.kind == ExprKind::Call && b && b->module.empty() && b->name == "streak" && e.args.size() == 2;
}

// ---- the linter ------------------------------------------------------------------------------

class Linter {
 public:
  Linter(const SourceFile& source, const CompileResult& compiled, const Config& config)
      : source_(source), compiled_(compiled), config_(config), module_(*compiled.module) {}

  std::vector<Diagnostic> run() {
    indexDeclarations();
    bool errors = hasErrors(compiled_.diags);
    for (const auto& d : compiled_.diags)
      if (d.severity == Severity::Error && d.file == module_.path) errorLines_.insert(d.range.begin.line);
    // Universes of the enums.
    boolUniverse_ = {"false", "true"};
    for (const auto& t : module_.tables)
      if (t.kind == ast::TableKind::Stage)
        for (const auto& r : t.rows)
          if (std::find(stageUniverse_.begin(), stageUniverse_.end(), r.outcome) == stageUniverse_.end())
            stageUniverse_.push_back(r.outcome);
    for (const auto& c : config_.channels) channelUniverse_.push_back(c.name);
    channelUniverse_.push_back("none");
    for (const auto& o : config_.offers) offerUniverse_.push_back(o.name);
    offerUniverse_.push_back("none");

    // Whole-program checks need a program without errors; the local ones run on every
    // declaration without an error of its own.
    if (!errors) {
      for (int k = 0; k < 3; ++k) analyzeTable(k);
      checkUnused();
      checkCaps();
    }
    forEachRoot([&](const Expr& e, bool condition) {
      if (!clean(e.range)) return;
      Walk w;
      w.condition = condition;
      w.guardRoot = &e;
      walk(e, w);
    });
    if (!errors) checkNeverTrueSegments();
    for (const auto& t : module_.tables)
      for (const auto& row : t.rows)
        if (row.limit && !row.limit->rankBy && clean(row.range)) {
          std::string what = row.outcome == "none" ? "`none`" : "`" + row.outcome + "`";
          report(Lint::LimitWithoutRank, row.limit->range,
                 fmt::format("`limit {}` without `rank by`: who gets {} is decided by a hash of the customer id, not by "
                             "anything they did",
                             row.limit->limitText.empty() ? row.limit->limitParam : row.limit->limitText, what),
                 "rank the customers who compete for it, e.g. `rank by spend desc`; for a deliberate random pick, say "
                 "so: `rank by bucket(\"" + row.outcome + "\")`");
        }
    return std::move(diags_);
  }

 private:
  // ---- declarations ------------------------------------------------------------------------

  void indexDeclarations() {
    for (const Symbol& s : compiled_.model.symbols) {
      if (s.kind == SymbolKind::Let && s.index >= 0) {
        if (lets_.size() <= static_cast<size_t>(s.index)) lets_.resize(s.index + 1, nullptr);
        const ast::LetDecl* decl = nullptr;
        if (s.file == module_.path) {
          for (const auto& l : module_.lets)
            if (l.nameRange.begin == s.range.begin && l.name == s.name) decl = &l;
          if (decl) mainLets_[decl] = s.index;
        } else {
          for (const auto& p : compiled_.preludes)
            if (p && p->path == s.file)
              for (const auto& l : p->lets)
                if (l.name == s.name) decl = &l;
        }
        lets_[s.index] = decl;
      } else if (s.kind == SymbolKind::Segment) {
        // Segment and param symbols are added in the checker's index order.
        const ast::SegmentDecl* decl = nullptr;
        for (const auto& g : module_.segments)
          if (g.nameRange.begin == s.range.begin) decl = &g;
        segments_.push_back(decl);
      } else if (s.kind == SymbolKind::Param) {
        const ast::ParamDecl* decl = nullptr;
        for (const auto& p : module_.params)
          if (p.nameRange.begin == s.range.begin) decl = &p;
        params_.push_back(decl);
      }
    }
  }

  const ast::LetDecl* letDecl(const Expr& e) const {
    if (e.ref.kind != RefKind::Let || e.ref.index < 0 || static_cast<size_t>(e.ref.index) >= lets_.size()) return nullptr;
    const ast::LetDecl* d = lets_[e.ref.index];
    return d && d->value ? d : nullptr;
  }

  const ast::SegmentDecl* segmentDecl(const Expr& e) const {
    if (e.ref.kind != RefKind::Segment || e.ref.index < 0 || static_cast<size_t>(e.ref.index) >= segments_.size()) return nullptr;
    const ast::SegmentDecl* d = segments_[e.ref.index];
    return d && d->condition ? d : nullptr;
  }

  bool clean(const SourceRange& r) const {
    for (uint32_t line = r.begin.line; line <= r.end.line; ++line)
      if (errorLines_.count(line)) return false;
    return true;
  }

  // Every expression of the rules file, with whether it is a condition (rows, segments, caps).
  void forEachRoot(const std::function<void(const Expr&, bool)>& fn) const {
    for (const auto& l : module_.lets)
      if (l.value) fn(*l.value, false);
    for (const auto& s : module_.segments)
      if (s.condition) fn(*s.condition, true);
    for (const auto& t : module_.tables)
      for (const auto& row : t.rows) {
        if (row.condition) fn(*row.condition, true);
        if (row.limit && row.limit->rankBy) fn(*row.limit->rankBy, false);
      }
    for (const auto& c : module_.caps)
      if (c.condition) fn(*c.condition, true);
  }

  // ---- reporting ---------------------------------------------------------------------------

  Diagnostic& report(Lint l, SourceRange range, std::string message, std::string help = "") {
    Diagnostic d;
    d.severity = rule(l).severity;
    d.code = rule(l).code;
    d.file = module_.path;
    d.range = range;
    d.message = std::move(message);
    d.suggestion = std::move(help);
    diags_.push_back(std::move(d));
    return diags_.back();
  }

  std::string rowText(const ast::TableRow& row) const {
    std::string t = shorten(source_.oneLine(row.range));
    return t.empty() ? row.outcome : t;
  }

  // ---- canonical keys ------------------------------------------------------------------------

  // Equal keys mean equal values for the same customer in the same run: every expression is
  // pure and deterministic, and a let is its definition.
  std::string keyOf(const Expr& e, int depth = 0) const {
    auto sub = [&](size_t from) {
      std::string s;
      for (size_t k = from; k < e.args.size(); ++k) s += " " + keyOf(*e.args[k], depth);
      return s;
    };
    switch (e.kind) {
      case ExprKind::Paren: return keyOf(*e.args[0], depth);
      case ExprKind::Literal:
        switch (e.lit.kind) {
          case Kind::String: return "s:" + e.lit.str;
          case Kind::Float: return fmt::format("f:{}", e.lit.f);
          case Kind::Null: return "null";
          case Kind::None: return "none";
          default: return fmt::format("{}:{}", kindName(e.lit.kind), e.lit.i);
        }
      case ExprKind::List: return "[" + sub(0) + "]";
      case ExprKind::Name:
      case ExprKind::Member:
        switch (e.ref.kind) {
          case RefKind::Let:
            if (const ast::LetDecl* d = letDecl(e); d && depth < kMaxInline) return keyOf(*d->value, depth + 1);
            return fmt::format("let:{}", e.ref.index);
          case RefKind::Segment: return fmt::format("seg:{}", e.ref.index);
          case RefKind::Param: return fmt::format("param:{}", e.ref.index);
          case RefKind::CustomerField: return fmt::format("cf:{}", e.ref.index);
          case RefKind::EventField: return fmt::format("ef:{}", e.ref.index);
          case RefKind::Events: return "events";
          case RefKind::StageValue: return "stage:" + e.name;
          case RefKind::ChannelValue: return "channel:" + e.name;
          case RefKind::OfferValue: return "offer:" + e.name;
          case RefKind::PreviousField: return fmt::format("prev:{}", e.ref.index);
          case RefKind::EventRecordField: return fmt::format("(rec{} {})", sub(0), e.ref.index);
          case RefKind::ListProjection: return fmt::format("(proj{} {})", sub(0), e.ref.index);
          case RefKind::Builtin: return fmt::format("(call {})", e.ref.index);
          default: return fmt::format("?{}", static_cast<const void*>(&e));  // unresolved: equal to nothing
        }
      case ExprKind::Decision:
        if (e.ref.kind == RefKind::EventField) return fmt::format("ef:{}", e.ref.index);
        if (e.ref.kind == RefKind::CustomerField) return fmt::format("cf:{}", e.ref.index);
        return fmt::format("dec:{}", static_cast<int>(e.decision));
      case ExprKind::Now: return "now";
      case ExprKind::Today: return "today";
      case ExprKind::Previous: return "previous";
      case ExprKind::Call: return fmt::format("(call {}{})", e.ref.kind == RefKind::Builtin ? e.ref.index : -1, sub(0));
      case ExprKind::MethodCall: return fmt::format("(call {}{})", e.ref.kind == RefKind::Builtin ? e.ref.index : -1, sub(1));
      case ExprKind::Unary: return fmt::format("({}{})", e.op == Op::Not ? "not" : "neg", sub(0));
      case ExprKind::Binary: return fmt::format("({}{})", ast::opSpelling(e.op), sub(0));
      case ExprKind::IsNull: return fmt::format("({}{})", e.op == Op::IsNotNull ? "notnull" : "isnull", sub(0));
      case ExprKind::Where: return "(where" + sub(0) + ")";
    }
    return fmt::format("?{}", static_cast<const void*>(&e));
  }

  // Whether a value can be null at run time. Stricter than the static type: integer and
  // duration arithmetic give null on overflow, and so may functions of big numbers.
  bool mayBeNull(const Expr& e, int depth = 0) const {
    if (e.type.nullable) return true;
    if (e.type.kind == Kind::List) return false;  // lists are never null
    switch (e.kind) {
      case ExprKind::Paren: return mayBeNull(*e.args[0], depth);
      case ExprKind::Literal:
      case ExprKind::Now:
      case ExprKind::Today:
      case ExprKind::IsNull:
      case ExprKind::Where: return false;
      case ExprKind::Decision: return false;  // the type says whether the table decides everyone
      case ExprKind::Name:
      case ExprKind::Member:
        if (e.ref.kind == RefKind::Let) {
          const ast::LetDecl* d = letDecl(e);
          return !d || depth >= kMaxInline || mayBeNull(*d->value, depth + 1);
        }
        return e.ref.kind == RefKind::Unresolved || e.ref.kind == RefKind::Builtin;
      case ExprKind::Call: {
        const Builtin* b = builtinOf(e);
        static const std::set<std::string> kNeverNull = {"count", "exists", "distinct_count", "streak", "bucket",
                                                         "lower", "upper", "len", "contains", "starts_with",
                                                         "ends_with"};
        return !(b && b->module.empty() && kNeverNull.count(b->name));
      }
      case ExprKind::Unary: return e.op == Op::Neg || mayBeNull(*e.args[0], depth);
      case ExprKind::Binary:
        if (isComparison(e.op)) return false;
        if (e.op == Op::Coalesce) return mayBeNull(*e.args[1], depth);
        if (e.op == Op::And || e.op == Op::Or) return mayBeNull(*e.args[0], depth) || mayBeNull(*e.args[1], depth);
        return true;  // arithmetic: overflow and division by zero give null
      default: return true;
    }
  }

  // ---- constants -------------------------------------------------------------------------------

  static std::optional<Const> number(double v, int base = 0) {
    if (!(std::fabs(v) < kExact)) return std::nullopt;
    Const c;
    c.num = v;
    c.base = base;
    return c;
  }

  std::optional<Const> fold(const Expr& e) const {
    switch (e.kind) {
      case ExprKind::Paren: return fold(*e.args[0]);
      case ExprKind::Literal: {
        Const c;
        switch (e.lit.kind) {
          case Kind::Int:
          case Kind::Duration:
          case Kind::Date:
          case Kind::Time: return number(static_cast<double>(e.lit.i));
          case Kind::Float: return number(e.lit.f);
          case Kind::String:
            c.kind = Const::Discrete;
            c.str = e.lit.str;
            return c;
          case Kind::Bool:
            c.kind = Const::Discrete;
            c.str = e.lit.i ? "true" : "false";
            return c;
          case Kind::Null:
            c.kind = Const::Null;
            return c;
          case Kind::None:
            c.kind = Const::Discrete;
            c.str = "none";
            return c;
          default: return std::nullopt;
        }
      }
      case ExprKind::Name:
        if (e.ref.kind == RefKind::StageValue || e.ref.kind == RefKind::ChannelValue || e.ref.kind == RefKind::OfferValue) {
          Const c;
          c.kind = Const::Discrete;
          c.str = e.name;
          return c;
        }
        return std::nullopt;
      case ExprKind::Now: return number(0, 1);
      case ExprKind::Today: return number(0, 2);
      case ExprKind::Unary: {
        if (e.op != Op::Neg) return std::nullopt;
        auto v = fold(*e.args[0]);
        if (!v || v->kind != Const::Number || v->base) return std::nullopt;
        return number(-v->num);
      }
      case ExprKind::Binary: {
        // Only exact integer-valued sums: durations added to durations, times and dates.
        if (e.op != Op::Add && e.op != Op::Sub) return std::nullopt;
        Kind lk = e.args[0]->type.kind, rk = e.args[1]->type.kind;
        if (rk != Kind::Duration || !(lk == Kind::Duration || lk == Kind::Time || lk == Kind::Date)) return std::nullopt;
        auto l = fold(*e.args[0]), r = fold(*e.args[1]);
        if (!l || !r || l->kind != Const::Number || r->kind != Const::Number || r->base) return std::nullopt;
        double delta = r->num;
        if (lk == Kind::Date) {
          if (std::fmod(delta, 86400.0) != 0) return std::nullopt;  // dates move by whole days only
          delta /= 86400.0;
        }
        return number(e.op == Op::Add ? l->num + delta : l->num - delta, l->base);
      }
      default: return std::nullopt;
    }
  }

  // ---- terms --------------------------------------------------------------------------------

  int termOf(const Expr& e, const std::string& baseKey, const std::string& suffix, Kind kind) {
    std::string key = baseKey + suffix + "|" + kindName(kind);
    auto it = termIndex_.find(key);
    if (it != termIndex_.end()) return it->second;
    TermInfo t;
    t.key = key;
    t.baseKey = baseKey;
    t.expr = &e;
    switch (kind) {
      case Kind::Int:
      case Kind::Duration:
      case Kind::Time:
      case Kind::Date:
        t.ordered = true;
        t.integral = true;
        break;
      case Kind::Float: t.ordered = true; break;
      case Kind::Bool: t.universe = &boolUniverse_; break;
      case Kind::Stage: t.universe = &stageUniverse_; break;
      case Kind::Channel: t.universe = &channelUniverse_; break;
      case Kind::Offer: t.universe = &offerUniverse_; break;
      default: break;
    }
    t.mayBeNull = mayBeNull(e);
    terms_.push_back(t);
    termIndex_[key] = static_cast<int>(terms_.size() - 1);
    return static_cast<int>(terms_.size() - 1);
  }

  // An opaque boolean: a comparison of two non-constant values, a bool field or call.
  int boolTerm(const Expr& e, const std::string& key, bool nullable) {
    int t = termOf(e, key, "", Kind::Bool);
    terms_[t].mayBeNull = nullable;
    return t;
  }

  ValueSet full(int t) const {
    const TermInfo& ti = terms_[t];
    ValueSet v;
    v.ordered = ti.ordered;
    v.integral = ti.integral;
    if (ti.ordered) v.ivs.push_back(Interval{});
    else if (ti.universe) v.items.insert(ti.universe->begin(), ti.universe->end());
    else v.cofinite = true;
    v.null = ti.mayBeNull;
    return v;
  }

  ValueSet nonNull(int t) const {
    ValueSet v = full(t);
    v.null = false;
    return v;
  }

  ValueSet onlyNull(int t) const {
    ValueSet v = full(t);
    v.ivs.clear();
    v.items.clear();
    v.cofinite = false;
    v.null = terms_[t].mayBeNull;
    return v;
  }

  // The values of `t` not in `v` (null included when `v` excludes it).
  ValueSet complement(int t, const ValueSet& v) const {
    ValueSet r = full(t);
    r.null = !v.null && terms_[t].mayBeNull;
    if (v.ordered) {
      r.ivs.clear();
      double lo = -kInf;
      bool loClosed = false;
      for (const Interval& i : v.ivs) {
        r.ivs.push_back(Interval{lo, i.lo, loClosed, !i.loClosed});
        lo = i.hi;
        loClosed = !i.hiClosed;
      }
      r.ivs.push_back(Interval{lo, kInf, loClosed, false});
      normalize(r);
      return r;
    }
    r.items.clear();
    if (terms_[t].universe) {
      r.cofinite = false;
      for (const auto& s : *terms_[t].universe)
        if (!v.cofinite ? !v.items.count(s) : v.items.count(s)) r.items.insert(s);
    } else {
      r.cofinite = !v.cofinite;
      r.items = v.items;
    }
    return r;
  }

  Dnf atom(int t, ValueSet v) {
    if (!terms_[t].mayBeNull) v.null = false;
    if (isEmpty(v)) return Dnf::never();
    if (v == full(t)) return Dnf::always();
    Conjunct c;
    c[t] = std::move(v);
    return Dnf{{c}, false};
  }

  // ---- DNF ----------------------------------------------------------------------------------

  Dnf orDnf(const Dnf& a, const Dnf& b) const {
    if (a.overflow || b.overflow) return Dnf{{}, true};
    Dnf r = a;
    r.conj.insert(r.conj.end(), b.conj.begin(), b.conj.end());
    if (r.conj.size() > kMaxConjuncts) return Dnf{{}, true};
    return r;
  }

  Dnf andDnf(const Dnf& a, const Dnf& b) const {
    if (a.overflow || b.overflow) return Dnf{{}, true};
    Dnf r;
    for (const auto& x : a.conj)
      for (const auto& y : b.conj) {
        Conjunct c = x;
        bool empty = false;
        for (const auto& [t, v] : y) {
          auto it = c.find(t);
          if (it == c.end()) {
            c[t] = v;
          } else {
            it->second = intersect(it->second, v);
            if (!terms_[t].mayBeNull) it->second.null = false;
            if (isEmpty(it->second)) empty = true;
          }
        }
        if (empty) continue;
        r.conj.push_back(std::move(c));
        if (r.conj.size() > kMaxConjuncts) return Dnf{{}, true};
      }
    return r;
  }

  // The customers for whom the boolean expression `e` has one of the outcomes in `s`.
  Dnf want(const Expr& e, int s, int depth = 0) {
    if (s == 0) return Dnf::never();
    if (s == kAny) return Dnf::always();
    Dnf r = wantInner(e, s, depth);
    if (r.overflow) return opaque(e, s);
    return r;
  }

  Dnf opaque(const Expr& e, int s) {
    int t = boolTerm(e, keyOf(e), mayBeNull(e));
    ValueSet v = full(t);
    v.items.clear();
    if (s & kT) v.items.insert("true");
    if (s & kF) v.items.insert("false");
    v.null = (s & kN) != 0;
    return atom(t, v);
  }

  Dnf wantInner(const Expr& e, int s, int depth) {
    switch (e.kind) {
      case ExprKind::Paren: return want(*e.args[0], s, depth);
      case ExprKind::Literal:
        if (e.lit.kind == Kind::Bool) return (s & (e.lit.i ? kT : kF)) ? Dnf::always() : Dnf::never();
        if (e.lit.kind == Kind::Null) return (s & kN) ? Dnf::always() : Dnf::never();
        return opaque(e, s);
      case ExprKind::Unary:
        if (e.op == Op::Not) return want(*e.args[0], swapTF(s), depth);
        return opaque(e, s);
      case ExprKind::IsNull: {
        const Expr& x = *e.args[0];
        bool wantNull = e.op == Op::IsNull;
        bool t = s & kT, f = s & kF;
        if (t && f) return Dnf::always();
        if (!t && !f) return Dnf::never();
        int term = valueTerm(x, "", x.type.kind);
        return atom(term, (t == wantNull) ? onlyNull(term) : nonNull(term));
      }
      case ExprKind::Binary:
        if (e.op == Op::And || e.op == Op::Or) {
          auto op = e.op == Op::And ? and3 : or3;
          // Group the left outcomes that need the same right outcomes.
          std::map<int, int> leftFor;  // right outcomes -> left outcomes
          for (int a : {kT, kF, kN}) {
            int sb = 0;
            for (int b : {kT, kF, kN})
              if (s & op(a, b)) sb |= b;
            if (sb) leftFor[sb] |= a;
          }
          Dnf r = Dnf::never();
          for (const auto& [sb, sa] : leftFor) {
            Dnf left = want(*e.args[0], sa, depth);
            if (left.isNever()) continue;
            r = orDnf(r, andDnf(left, want(*e.args[1], sb, depth)));
            if (r.overflow) return r;
          }
          return r;
        }
        if (e.op == Op::Coalesce) {
          Dnf known = want(*e.args[0], s & ~kN, depth);
          Dnf fallback = andDnf(want(*e.args[0], kN, depth), want(*e.args[1], s, depth));
          return orDnf(known, fallback);
        }
        if (isComparison(e.op)) return comparison(e, s);
        return opaque(e, s);
      case ExprKind::Name:
      case ExprKind::Member:
        if (depth < kMaxInline) {
          if (const ast::SegmentDecl* g = segmentDecl(e)) {
            // A segment is true exactly when its condition is; never null.
            Dnf r = Dnf::never();
            if (s & kT) r = want(*g->condition, kT, depth + 1);
            if (s & kF) r = orDnf(r, want(*g->condition, kF | kN, depth + 1));
            return r;
          }
          if (const ast::LetDecl* l = letDecl(e); l && l->value->type.kind == Kind::Bool)
            return want(*l->value, s, depth + 1);
        }
        return opaque(e, s);
      default: return opaque(e, s);
    }
  }

  // The term of a value compared with constants; `suffix` marks a `now`/`today` base.
  int valueTerm(const Expr& e, const std::string& suffix, Kind kind) { return termOf(e, keyOf(e), suffix, kind); }

  static Op flip(Op op) {
    switch (op) {
      case Op::Lt: return Op::Gt;
      case Op::Le: return Op::Ge;
      case Op::Gt: return Op::Lt;
      case Op::Ge: return Op::Le;
      default: return op;
    }
  }

  Dnf comparison(const Expr& e, int s) {
    bool t = s & kT, f = s & kF;
    if (t && f) return Dnf::always();  // a comparison is never null
    if (!t && !f) return Dnf::never();
    std::optional<std::pair<int, ValueSet>> a = comparisonAtom(e);
    if (!a) {
      // Two values that are not constants: an opaque bool, equal only to the same comparison.
      const Expr& l = strip(*e.args[0]);
      const Expr& r = strip(*e.args[1]);
      std::string lk = keyOf(l), rk = keyOf(r);
      Op op = e.op;
      if (op == Op::Gt || op == Op::Ge) {
        std::swap(lk, rk);
        op = flip(op);
      }
      if ((op == Op::Eq || op == Op::Ne) && rk < lk) std::swap(lk, rk);
      int term = boolTerm(e, fmt::format("(cmp {} {} {})", ast::opSpelling(op), lk, rk), false);
      ValueSet v = full(term);
      v.items = {t ? "true" : "false"};
      return atom(term, v);
    }
    if (a->first < 0) return (a->second.null == t) ? Dnf::always() : Dnf::never();  // a constant comparison
    return atom(a->first, t ? a->second : complement(a->first, a->second));
  }

  // `term op constants` as the set of values that make it true. A negative term index means the
  // comparison is constant, its truth in `null`.
  std::optional<std::pair<int, ValueSet>> comparisonAtom(const Expr& e) {
    const Expr& l = strip(*e.args[0]);
    const Expr& r = strip(*e.args[1]);
    auto constant = [](bool truth) {
      ValueSet v;
      v.null = truth;
      return std::make_pair(-1, v);
    };
    if (e.op == Op::In || e.op == Op::NotIn) {
      if (r.kind != ExprKind::List) return std::nullopt;
      std::vector<Const> items;
      for (const auto& item : r.args) {
        auto c = fold(*item);
        if (!c) return std::nullopt;
        if (c->kind != Const::Null) items.push_back(*c);  // a null item never matches
      }
      if (fold(l)) return std::nullopt;
      if (items.empty() && e.op == Op::In) return constant(false);
      if (items.empty()) return std::nullopt;
      auto term = termFor(l, items.empty() ? Const{} : items[0]);
      if (!term) return std::nullopt;
      ValueSet v = full(*term);
      v.null = false;
      v.ivs.clear();
      v.items.clear();
      v.cofinite = false;
      for (const Const& c : items) {
        if (v.ordered) {
          if (c.kind != Const::Number) return std::nullopt;
          v.ivs.push_back(Interval{c.num, c.num, true, true});
        } else {
          if (c.kind != Const::Discrete) return std::nullopt;
          v.items.insert(c.str);
        }
      }
      normalize(v);
      if (e.op == Op::NotIn) {
        v = complement(*term, v);
        v.null = false;
      }
      return std::make_pair(*term, v);
    }
    auto cr = fold(r), cl = fold(l);
    const Expr* x = &l;
    Op op = e.op;
    std::optional<Const> c = cr;
    if (!cr && cl) {
      x = &r;
      op = flip(op);
      c = cl;
    }
    if (!c) return std::nullopt;
    if (c->kind == Const::Null) return constant(false);  // every comparison with null is false
    if (cr && cl) {
      if (cl->kind == Const::Null) return constant(false);
      if (cl->kind != cr->kind || cl->base != cr->base) return std::nullopt;
      int cmp = cl->kind == Const::Number ? (cl->num < cr->num ? -1 : cl->num > cr->num ? 1 : 0)
                                          : (cl->str < cr->str ? -1 : cl->str > cr->str ? 1 : 0);
      if (cl->kind == Const::Discrete && op != Op::Eq && op != Op::Ne) return std::nullopt;
      switch (op) {
        case Op::Eq: return constant(cmp == 0);
        case Op::Ne: return constant(cmp != 0);
        case Op::Lt: return constant(cmp < 0);
        case Op::Le: return constant(cmp <= 0);
        case Op::Gt: return constant(cmp > 0);
        case Op::Ge: return constant(cmp >= 0);
        default: return std::nullopt;
      }
    }
    auto term = termFor(*x, *c);
    if (!term) return std::nullopt;
    ValueSet v = full(*term);
    v.null = false;
    if (v.ordered) {
      if (c->kind != Const::Number) return std::nullopt;
      double n = c->num;
      v.ivs.clear();
      switch (op) {
        case Op::Eq:
        case Op::Ne: v.ivs.push_back(Interval{n, n, true, true}); break;
        case Op::Lt: v.ivs.push_back(Interval{-kInf, n, false, false}); break;
        case Op::Le: v.ivs.push_back(Interval{-kInf, n, false, true}); break;
        case Op::Gt: v.ivs.push_back(Interval{n, kInf, false, false}); break;
        case Op::Ge: v.ivs.push_back(Interval{n, kInf, true, false}); break;
        default: return std::nullopt;
      }
      normalize(v);
    } else {
      if (c->kind != Const::Discrete || (op != Op::Eq && op != Op::Ne)) return std::nullopt;
      v.items = {c->str};
      v.cofinite = false;
    }
    if (op == Op::Ne) {
      v = complement(*term, v);
      v.null = false;
    }
    return std::make_pair(*term, v);
  }

  // The term for a value compared with constant `c`, or none when the pair has no usable domain.
  std::optional<int> termFor(const Expr& x, const Const& c) {
    Kind k = x.type.kind;
    std::string suffix;
    if (c.kind == Const::Number && c.base == 1) {
      if (k != Kind::Time) return std::nullopt;
      suffix = "@now";
    } else if (c.kind == Const::Number && c.base == 2) {
      if (k != Kind::Date) return std::nullopt;
      suffix = "@today";
    }
    switch (k) {
      case Kind::Int:
      case Kind::Float:
      case Kind::Duration:
      case Kind::Time:
      case Kind::Date:
        if (c.kind != Const::Number) return std::nullopt;
        break;
      case Kind::String:
      case Kind::Bool:
      case Kind::Stage:
      case Kind::Channel:
      case Kind::Offer:
        if (c.kind != Const::Discrete) return std::nullopt;
        break;
      default: return std::nullopt;
    }
    // An int compared with a fraction is still an int: its set stays integral.
    return valueTerm(x, suffix, k);
  }

  // ---- coverage ---------------------------------------------------------------------------------

  bool implies(const Conjunct& d, const Conjunct& c) const {
    for (const auto& [t, cv] : c) {
      auto it = d.find(t);
      if (!subset(it == d.end() ? full(t) : it->second, cv)) return false;
    }
    return true;
  }

  struct Tagged {
    const Conjunct* c;
    int row;
  };

  // Whether every customer satisfying `d` satisfies one of `cs`; the rows used when so. Either
  // one conjunct implies `d`'s, or all but one term of several are implied and the remaining
  // term's sets cover `d`'s values of it.
  std::optional<std::set<int>> covered(const Conjunct& d, const std::vector<Tagged>& cs) const {
    for (const auto& c : cs)
      if (implies(d, *c.c)) return std::set<int>{c.row};
    std::set<int> candidates;
    for (const auto& [t, v] : d) candidates.insert(t);
    for (const auto& c : cs)
      for (const auto& [t, v] : *c.c) candidates.insert(t);
    for (int t : candidates) {
      std::optional<ValueSet> u;
      std::set<int> rows;
      for (const auto& c : cs) {
        auto own = c.c->find(t);
        if (own == c.c->end()) continue;
        bool rest = true;
        for (const auto& [x, cv] : *c.c) {
          if (x == t) continue;
          auto it = d.find(x);
          if (!subset(it == d.end() ? full(x) : it->second, cv)) rest = false;
        }
        if (!rest) continue;
        u = u ? unite(*u, own->second) : own->second;
        rows.insert(c.row);
      }
      if (!u) continue;
      auto it = d.find(t);
      if (subset(it == d.end() ? full(t) : it->second, *u)) return rows;
    }
    return std::nullopt;
  }

  std::optional<std::set<int>> coveredDnf(const Dnf& dj, const std::vector<Tagged>& cs) const {
    if (dj.overflow) return std::nullopt;
    std::set<int> rows;
    for (const auto& d : dj.conj) {
      auto r = covered(d, cs);
      if (!r) return std::nullopt;
      rows.insert(r->begin(), r->end());
    }
    return rows;
  }

  // ---- decision tables -----------------------------------------------------------------------

  struct RowInfo {
    Dnf dnf;
    bool reachable = true;
  };

  static bool coversFor(const ast::TableDecl& t, const ast::TableRow& earlier, const ast::TableRow& later) {
    if (earlier.limit) return false;  // customers past the limit fall through
    // A channel row is skipped without consent: only `none`, or the same channel (skipped for
    // the same customers), takes everyone its condition holds for.
    if (t.kind == ast::TableKind::Channel) return earlier.outcome == "none" || earlier.outcome == later.outcome;
    return true;
  }

  static bool catchAll(const ast::TableDecl& t, const ast::TableRow& row) {
    if (row.limit) return false;
    return t.kind != ast::TableKind::Channel || row.outcome == "none";
  }

  void analyzeTable(int k) {
    const ast::TableDecl* table = nullptr;
    for (const auto& t : module_.tables)
      if (static_cast<int>(t.kind) == k) {
        table = &t;
        break;
      }
    if (!table || table->rows.empty()) return;
    analyzed_[k] = true;
    const char* kind = ast::tableKindName(table->kind);
    std::vector<RowInfo> rows(table->rows.size());
    for (size_t j = 0; j < rows.size(); ++j) {
      const ast::TableRow& row = table->rows[j];
      rows[j].dnf = row.condition ? want(*row.condition, kT) : Dnf::always();
      if (rows[j].dnf.overflow) rows[j].dnf = opaque(*row.condition, kT);
      if (rows[j].dnf.isNever()) {
        rows[j].reachable = false;
        if (!containsNullComparison(*row.condition))
          report(Lint::NeverTrue, row.condition->range, "this row's condition is never true, so the row is never taken",
                 "check the bounds and the `and` / `or` of the condition");
        continue;
      }
      // An earlier row that takes every customer reaching it: `otherwise`, or always true.
      bool done = false;
      for (size_t i = 0; i < j && !done; ++i) {
        const ast::TableRow& e = table->rows[i];
        if (!rows[i].reachable || !coversFor(*table, e, row) || !rows[i].dnf.isAlways()) continue;
        rows[j].reachable = false;
        done = true;
        Diagnostic& d = report(Lint::UnreachableRow, row.range,
                               fmt::format("row never taken: the row at line {} (`{}`) takes every customer that gets this far",
                                           e.range.begin.line, rowText(e)),
                               e.condition ? "move this row above it, or remove it"
                                           : "`otherwise` takes everyone left: it belongs last; move this row above it, or remove it");
        d.notes.push_back(DiagnosticNote{module_.path, e.range, "this row takes them first"});
      }
      if (done) continue;
      // A duplicate, or one earlier row whose condition holds whenever this one's does.
      for (size_t i = 0; i < j && !done; ++i) {
        const ast::TableRow& e = table->rows[i];
        if (!rows[i].reachable || !coversFor(*table, e, row)) continue;
        std::vector<Tagged> cs;
        for (const auto& c : rows[i].dnf.conj) cs.push_back(Tagged{&c, static_cast<int>(i)});
        if (!coveredDnf(rows[j].dnf, cs)) continue;
        rows[j].reachable = false;
        done = true;
        bool duplicate = e.outcome == row.outcome && e.condition && row.condition &&
                         keyOf(*e.condition) == keyOf(*row.condition);
        Diagnostic& d =
            duplicate
                ? report(Lint::UnreachableRow, row.range,
                         fmt::format("row never taken: it repeats the row at line {} (`{}`)", e.range.begin.line, rowText(e)),
                         "remove it")
                : report(Lint::UnreachableRow, row.range,
                         fmt::format("row never taken: the row at line {} (`{}`) already takes every customer this row would",
                                     e.range.begin.line, rowText(e)),
                         "move this row above it if it is the more specific one, or remove it");
        d.notes.push_back(DiagnosticNote{module_.path, e.range, "this row takes them first"});
      }
      if (done) continue;
      // Several earlier rows together.
      std::vector<Tagged> cs;
      for (size_t i = 0; i < j; ++i)
        if (rows[i].reachable && coversFor(*table, table->rows[i], row))
          for (const auto& c : rows[i].dnf.conj) cs.push_back(Tagged{&c, static_cast<int>(i)});
      if (auto used = coveredDnf(rows[j].dnf, cs); used && !used->empty()) {
        rows[j].reachable = false;
        // Name as few rows as will do.
        for (int i : std::set<int>(*used)) {
          std::vector<Tagged> fewer;
          for (const auto& c : cs)
            if (c.row != i && used->count(c.row)) fewer.push_back(c);
          if (auto still = coveredDnf(rows[j].dnf, fewer); still && !still->empty()) used = still;
        }
        std::vector<std::string> lines;
        for (int i : *used) lines.push_back(std::to_string(table->rows[i].range.begin.line));
        std::string list;
        for (size_t n = 0; n < lines.size(); ++n)
          list += (n == 0 ? "" : n + 1 == lines.size() ? " and " : ", ") + lines[n];
        Diagnostic& d = report(Lint::UnreachableRow, row.range,
                               fmt::format("row never taken: the rows at lines {} already take every customer this row would", list),
                               "move this row above them if it is the more specific one, or remove it");
        for (int i : *used)
          d.notes.push_back(DiagnosticNote{module_.path, table->rows[i].range,
                                           fmt::format("`{}` takes some of them first", rowText(table->rows[i]))});
      }
    }
    for (size_t j = 0; j < rows.size(); ++j)
      if (rows[j].reachable) produced_[k].insert(table->rows[j].outcome);
    for (const auto& row : table->rows) {
      auto& lines = outcomeRows_[k][row.outcome];
      lines.push_back(row.range.begin.line);
    }

    // Exhaustiveness: does some row certainly take every customer?
    std::vector<Tagged> all;
    for (size_t i = 0; i < rows.size(); ++i)
      if (rows[i].reachable && catchAll(*table, table->rows[i]))
        for (const auto& c : rows[i].dnf.conj) all.push_back(Tagged{&c, static_cast<int>(i)});
    if (covered(Conjunct{}, all)) return;
    // Would the table decide everyone if some compared value were never null? The terms of one
    // value (`x`, and `x` against `now - 30d`) are null together.
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!rows[i].reachable) continue;
      for (const auto& c : rows[i].dnf.conj)
        for (const auto& [t, v] : c) {
          if (v.null || !terms_[t].mayBeNull) continue;
          Conjunct known, unknown;
          for (size_t u = 0; u < terms_.size(); ++u)
            if (terms_[u].baseKey == terms_[t].baseKey && terms_[u].mayBeNull) {
              known[static_cast<int>(u)] = nonNull(static_cast<int>(u));
              unknown[static_cast<int>(u)] = onlyNull(static_cast<int>(u));
            }
          if (!covered(known, all) || covered(unknown, all)) continue;
          reportNullFallsThrough(*table, rows, t);
          return;
        }
    }
    const ast::TableRow& last = table->rows.back();
    std::string nothing = table->kind == ast::TableKind::Stage ? "no stage" : std::string("no ") + kind;
    if (!last.condition && last.limit) {
      report(Lint::NotExhaustive, last.limit->range,
             fmt::format("customers past this row's limit get {} (an empty cell)", nothing),
             fmt::format("add a last row after it, e.g. `{} otherwise`", table->kind == ast::TableKind::Stage ? "other" : "none"));
    } else if (!last.condition && table->kind == ast::TableKind::Channel && last.outcome != "none") {
      report(Lint::NotExhaustive, last.range,
             fmt::format("`{} otherwise` is skipped for customers without consent for {} or without the field it requires: "
                         "they get no channel (an empty cell, not `none`)",
                         last.outcome, last.outcome),
             "end the table with `none otherwise`");
    } else {
      report(Lint::NotExhaustive, table->keywordRange,
             fmt::format("the {} table may leave customers with {}: no `otherwise` row, and its rows do not cover every "
                         "customer, so some get an empty cell",
                         kind, nothing),
             table->kind == ast::TableKind::Stage
                 ? std::string("end the table with a catch-all row, e.g. `other otherwise`")
                 : std::string("end the table with `none otherwise`"));
    }
  }

  void reportNullFallsThrough(const ast::TableDecl& table, const std::vector<RowInfo>& rows, int t) {
    // Point at the last row that compares the value: there the customers fall out of the table.
    const Expr* at = nullptr;
    for (size_t i = rows.size(); i-- > 0 && !at;) {
      if (!rows[i].reachable || !table.rows[i].condition) continue;
      at = findUse(*table.rows[i].condition, terms_[t].baseKey);
      if (!at) {
        for (const auto& c : rows[i].dnf.conj)
          if (c.count(t)) at = table.rows[i].condition.get();
      }
    }
    if (!at) at = table.rows.back().condition.get();
    std::string name = shorten(exprText(*terms_[t].expr), 40);
    const char* kind = ast::tableKindName(table.kind);
    std::string fallback = defaultFor(terms_[t].expr->type.kind);
    std::string help = fmt::format("add a row for them (`... when {} is null`) or an `otherwise` row", name);
    if (!fallback.empty()) help += fmt::format(", or compare with a default: `({} ?? {})`", name, fallback);
    report(Lint::NullFallsThrough, at ? at->range : table.keywordRange,
           fmt::format("customers whose `{}` is null may get no {}: every comparison with null is false, and no row "
                       "is certain to take them",
                       name, kind),
           help);
  }

  static std::string defaultFor(Kind k) {
    switch (k) {
      case Kind::Int: return "0";
      case Kind::Float: return "0.0";
      case Kind::Duration: return "0d";
      case Kind::String: return "\"\"";
      case Kind::Bool: return "false";
      default: return "";
    }
  }

  // A comparison or null test in `e` that reads the value with key `key`.
  const Expr* findUse(const Expr& e, const std::string& key) const {
    if ((e.kind == ExprKind::Binary && isComparison(e.op)) || e.kind == ExprKind::IsNull) {
      for (const auto& a : e.args)
        if (keyOf(*a) == key) return &e;
    }
    if (e.kind == ExprKind::Where) return nullptr;
    for (const auto& a : e.args)
      if (const Expr* f = findUse(*a, key)) return f;
    return nullptr;
  }

  bool containsNullComparison(const Expr& e) const {
    if (e.kind == ExprKind::Binary && isComparison(e.op)) {
      if (isNullLiteral(*e.args[0]) || isNullLiteral(*e.args[1])) return true;
      const Expr& r = strip(*e.args[1]);
      if ((e.op == Op::In || e.op == Op::NotIn) && r.kind == ExprKind::List) {
        bool allNull = !r.args.empty();
        for (const auto& item : r.args) allNull = allNull && isNullLiteral(*item);
        if (allNull) return true;
      }
    }
    for (const auto& a : e.args)
      if (containsNullComparison(*a)) return true;
    return false;
  }

  void checkNeverTrueSegments() {
    for (const auto& s : module_.segments) {
      if (!s.condition || !clean(s.range) || containsNullComparison(*s.condition)) continue;
      Dnf d = want(*s.condition, kT);
      if (d.isNever())
        report(Lint::NeverTrue, s.condition->range, fmt::format("segment `{}` is never true: no customer can satisfy its condition", s.name),
               "check the bounds and the `and` / `or` of the condition");
    }
  }

  // ---- unused declarations ---------------------------------------------------------------------

  void checkUnused() {
    std::set<int> live, referenced;
    std::set<std::string> liveParams, referencedParams;
    std::vector<const Expr*> todo;
    std::function<void(const Expr&, bool)> visit = [&](const Expr& e, bool fromLive) {
      if ((e.kind == ExprKind::Name || e.kind == ExprKind::Member) && e.ref.kind == RefKind::Let) {
        referenced.insert(e.ref.index);
        if (fromLive && live.insert(e.ref.index).second)
          if (const ast::LetDecl* d = letDecl(e); d && mainLets_.count(d)) todo.push_back(d->value.get());
      }
      if (e.kind == ExprKind::Name && e.ref.kind == RefKind::Param) {
        referencedParams.insert(e.name);
        if (fromLive) liveParams.insert(e.name);
      }
      for (const auto& a : e.args) visit(*a, fromLive);
    };
    for (const auto& l : module_.lets)
      if (l.value) visit(*l.value, false);
    forEachRoot([&](const Expr& e, bool condition) {
      (void)condition;
      bool isLet = false;
      for (const auto& l : module_.lets) isLet = isLet || l.value.get() == &e;
      if (!isLet) todo.push_back(&e);
    });
    while (!todo.empty()) {
      const Expr* e = todo.back();
      todo.pop_back();
      visit(*e, true);
    }
    for (const auto& t : module_.tables)
      for (const auto& row : t.rows)
        if (row.limit && !row.limit->limitParam.empty()) liveParams.insert(row.limit->limitParam);
    for (const auto& l : module_.lets) {
      auto it = mainLets_.find(&l);
      if (it == mainLets_.end() || live.count(it->second)) continue;
      bool byDead = referenced.count(it->second) > 0;
      report(Lint::UnusedLet, l.nameRange,
             byDead ? fmt::format("let `{}` is only used by lets that are never used", l.name)
                    : fmt::format("let `{}` is never used", l.name),
             "remove it, or use it in a segment, a row or a cap");
    }
    for (const auto& p : module_.params) {
      if (liveParams.count(p.name)) continue;
      bool inConfig = false;
      for (const auto& s : config_.params) inConfig = inConfig || s.name == p.name;
      report(Lint::UnusedParam, p.nameRange,
             referencedParams.count(p.name) ? fmt::format("param `{}` is only used by lets that are never used", p.name)
                                            : fmt::format("param `{}` is never used", p.name),
             inConfig ? "remove it, and its entry under `params:` in the config" : "remove it");
    }
  }

  // ---- caps --------------------------------------------------------------------------------------

  void checkCaps() {
    for (const auto& c : module_.caps) {
      if (c.target == "any" || !config_.channel(c.target)) continue;
      if (!analyzed_[1]) {
        report(Lint::CapNeverApplies, c.targetRange,
               fmt::format("cap on `{}`, but there is no channel table: no channel is ever chosen, so the cap never applies", c.target),
               "add a channel table, or remove the cap");
      } else if (!produced_[1].count(c.target)) {
        report(Lint::CapNeverApplies, c.targetRange,
               fmt::format("cap on `{}`, which no channel row chooses: the cap never applies", c.target),
               outcomeRows_[1].count(c.target) ? "its channel rows are never taken; see the warnings on them"
                                               : "add a channel row for it, or remove the cap");
      }
    }
  }

  // ---- expression walk -------------------------------------------------------------------------

  struct Walk {
    bool condition = false;  // the expression's truth decides something (row, segment, filter)
    bool positive = true;    // ... and true means "kept" (not under a `not`)
    bool element = false;    // inside a where/streak condition
    const Expr* guardRoot = nullptr;
  };

  void walk(const Expr& e, Walk w) {
    switch (e.kind) {
      case ExprKind::Paren: walk(*e.args[0], w); return;
      case ExprKind::Unary:
        if (e.op == Op::Not) {
          Walk inner = w;
          inner.positive = !w.positive;
          walk(*e.args[0], inner);
          return;
        }
        break;
      case ExprKind::Binary:
        if (e.op == Op::And || e.op == Op::Or) {
          walk(*e.args[0], w);
          walk(*e.args[1], w);
          return;
        }
        if (isComparison(e.op)) checkComparison(e, w);
        break;
      case ExprKind::Where: {
        Walk list = w;
        list.condition = false;
        walk(*e.args[0], list);
        elementCondition(*e.args[1], "where");
        return;
      }
      case ExprKind::Call:
        if (isStreak(e)) {
          Walk list = w;
          list.condition = false;
          walk(*e.args[0], list);
          elementCondition(*e.args[1], "streak");
          return;
        }
        break;
      case ExprKind::Name:
        if (w.element && e.ref.kind == RefKind::EventField) checkShadow(e);
        break;
      default: break;
    }
    Walk value = w;
    value.condition = false;
    for (const auto& a : e.args) walk(*a, value);
  }

  void elementCondition(const Expr& cond, const char* form) {
    Walk inner;
    inner.condition = true;
    inner.positive = true;
    inner.element = true;
    inner.guardRoot = &cond;
    walk(cond, inner);
    if (!readsEvent(cond))
      report(Lint::ConditionIgnoresEvent, cond.range,
             std::string(form) == "where"
                 ? "this `where` condition reads no field of the event: it keeps all of the events or none"
                 : "this `streak` condition reads no field of the event: the streak is all of the events or none",
             "compare a field of the event (`kind == \"purchase\"`, `at >= now - 30d`); test the customer outside the list");
  }

  static bool readsEvent(const Expr& e) {
    if ((e.kind == ExprKind::Name || e.kind == ExprKind::Decision) && e.ref.kind == RefKind::EventField) return true;
    if (e.kind == ExprKind::Where) return readsEvent(*e.args[0]);  // its condition reads its own events
    if (isStreak(e)) return readsEvent(*e.args[0]);
    for (const auto& a : e.args)
      if (readsEvent(*a)) return true;
    return false;
  }

  void checkShadow(const Expr& e) {
    std::string hidden;
    if (config_.schema.customerField(e.name) >= 0) hidden = "the customer field";
    for (const auto& l : module_.lets)
      if (l.name == e.name) hidden = "the let";
    for (const auto& s : module_.segments)
      if (s.name == e.name) hidden = "the segment";
    for (const auto& p : module_.params)
      if (p.name == e.name) hidden = "the param";
    if (hidden.empty()) return;
    bool field = hidden == "the customer field";
    report(Lint::ShadowedName, e.range,
           fmt::format("`{}` here is the event's field, which hides {} `{}` inside this condition", e.name, hidden, e.name),
           field ? fmt::format("to compare with the customer's value, name it outside the condition (`let customer_{} = {}`) "
                               "and use that name here",
                               e.name, e.name)
                 : fmt::format("rename {} `{}` so that both can be read here", hidden.substr(4), e.name));
  }

  void checkComparison(const Expr& e, const Walk& w) {
    const Expr& l = strip(*e.args[0]);
    const Expr& r = strip(*e.args[1]);
    // W011: `x == null` and friends.
    bool nullSide = isNullLiteral(l) || isNullLiteral(r);
    bool nullItems = false;
    if ((e.op == Op::In || e.op == Op::NotIn) && r.kind == ExprKind::List)
      for (const auto& item : r.args) nullItems = nullItems || isNullLiteral(*item);
    if (nullSide) {
      const Expr& x = isNullLiteral(l) ? r : l;
      bool ne = e.op == Op::Ne;
      report(Lint::CompareWithNull, e.range,
             fmt::format("`{}` is always false: a comparison with null is false{}", shorten(source_.oneLine(e.range), 50),
                         ne ? ", `!=` included" : ""),
             e.op == Op::Eq || ne ? fmt::format("write `{} is {}null`", shorten(exprText(x), 40), ne ? "not " : "")
                                  : "test for null with `is null` / `is not null`");
      return;
    }
    if (nullItems) {
      report(Lint::CompareWithNull, e.range, "a null in the list never matches: `in` is false for a null value",
             fmt::format("write `{} is null or {} in [...]`", shorten(exprText(l), 40), shorten(exprText(l), 40)));
    }
    // W007: `!=` / `not in` on a nullable value leaves the nulls out.
    if (w.condition && w.positive && (e.op == Op::Ne || e.op == Op::NotIn)) {
      const Expr* x = nullptr;
      if (!fold(l) && l.type.nullable) x = &l;
      else if (e.op == Op::Ne && !fold(r) && r.type.nullable) x = &r;
      if (x && !guarded(*w.guardRoot, keyOf(*x))) {
        std::string name = shorten(exprText(*x), 40);
        std::string cmp = shorten(source_.oneLine(e.range), 50);
        report(Lint::NullExcludedByInequality, e.range,
               fmt::format("`{}` is false when `{}` is null: {} without a `{}` are left out", cmp, name,
                           w.element ? "events" : "customers", name),
               fmt::format("to keep them: `{} is null or {}`; to leave them out on purpose, say so: `{} is not null and {}`",
                           name, cmp, name, cmp));
      }
    }
    // W003: a decision compared with an outcome no row gives.
    const Expr* decision = l.kind == ExprKind::Decision ? &l : r.kind == ExprKind::Decision ? &r : nullptr;
    // (A `stage` that names an event or customer field has a ref; the decision itself has none.)
    if (decision && decision->ref.kind == RefKind::Unresolved) {
      int k = static_cast<int>(decision->decision);
      const Expr& other = decision == &l ? r : l;
      std::vector<const Expr*> members;
      if (other.kind == ExprKind::List) {
        for (const auto& item : other.args) members.push_back(&strip(*item));
      } else {
        members.push_back(&other);
      }
      if (!analyzed_[k]) return;
      for (const Expr* m : members) {
        auto c = fold(*m);
        if (!c || c->kind != Const::Discrete || produced_[k].count(c->str)) continue;
        reportNeverDecided(k, *m, c->str);
      }
    }
  }

  void reportNeverDecided(int k, const Expr& at, const std::string& outcome) {
    const char* kind = ast::tableKindName(static_cast<ast::TableKind>(k));
    auto rows = outcomeRows_[k].find(outcome);
    std::string message, help;
    if (rows != outcomeRows_[k].end()) {
      std::string lines;
      for (size_t n = 0; n < rows->second.size(); ++n) lines += (n ? ", " : "") + std::to_string(rows->second[n]);
      message = fmt::format("`{}` is never the {}: {} at line{} {} {} never taken", outcome, kind,
                            rows->second.size() == 1 ? "its row" : "its rows", rows->second.size() == 1 ? "" : "s", lines,
                            rows->second.size() == 1 ? "is" : "are");
      help = "see the warning on that row";
    } else if (outcome == "none") {
      message = fmt::format("`none` is never the {}: no row of the {} table gives it", kind, kind);
      help = fmt::format("customers no {} row matches have no {} (null), not `none`: test that with `{} is null`", kind, kind, kind);
    } else {
      message = fmt::format("`{}` is never the {}: no row of the {} table gives it", outcome, kind, kind);
      help = fmt::format("add a {} row for it, or check the name", kind);
    }
    report(Lint::OutcomeNeverDecided, at.range, message, help);
  }

  bool guarded(const Expr& root, const std::string& key) const {
    if (root.kind == ExprKind::IsNull && keyOf(*root.args[0]) == key) return true;
    if (root.kind == ExprKind::Where) return false;
    for (const auto& a : root.args)
      if (guarded(*a, key)) return true;
    return false;
  }

  const SourceFile& source_;
  const CompileResult& compiled_;
  const Config& config_;
  const ast::Module& module_;
  std::vector<Diagnostic> diags_;
  std::set<uint32_t> errorLines_;

  std::vector<const ast::LetDecl*> lets_;  // by let index (preludes included)
  std::map<const ast::LetDecl*, int> mainLets_;
  std::vector<const ast::SegmentDecl*> segments_;
  std::vector<const ast::ParamDecl*> params_;

  std::vector<std::string> boolUniverse_, stageUniverse_, channelUniverse_, offerUniverse_;
  std::vector<TermInfo> terms_;
  std::unordered_map<std::string, int> termIndex_;

  bool analyzed_[3] = {false, false, false};
  std::set<std::string> produced_[3];                               // outcomes of reachable rows
  std::map<std::string, std::vector<uint32_t>> outcomeRows_[3];     // outcome -> lines of its rows
};

// ---- suppression ------------------------------------------------------------------------------

int ruleIndex(const std::string& codeOrName) {
  const auto& rules = lintRuleTable();
  for (size_t k = 0; k < rules.size(); ++k)
    if (codeOrName == rules[k].code || codeOrName == rules[k].name) return static_cast<int>(k);
  return -1;
}

// `# rekindle:allow W001, W012` (codes or names, then any reason): on the line of a warning, or
// alone on the line above it.
std::map<uint32_t, std::set<int>> allowComments(const ast::Module& m) {
  std::map<uint32_t, std::set<int>> allowed;
  for (const auto& c : m.comments) {
    size_t p = c.text.find("rekindle:allow");
    if (p == std::string::npos) continue;
    std::string rest = c.text.substr(p + 14);
    std::string word;
    auto flush = [&] {
      int r = ruleIndex(word);
      if (r >= 0) {
        allowed[c.range.begin.line].insert(r);
        if (c.ownLine) allowed[c.range.begin.line + 1].insert(r);
      }
      word.clear();
    };
    // Codes and names are words; anything else separates them (`W008: reason` allows W008).
    for (char ch : rest) {
      if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_') word += ch;
      else flush();
    }
    flush();
  }
  return allowed;
}

}  // namespace

std::vector<Diagnostic> lintRules(const SourceFile& source, const CompileResult& compiled, const Config& config,
                                  const LintOptions& options) {
  if (!compiled.module) return {};
  // After a syntax error the tree is partial: nothing to say about it yet.
  for (const auto& d : compiled.diags) {
    if (d.severity != Severity::Error) continue;
    for (ErrorCode c : {ErrorCode::SyntaxError, ErrorCode::BadCharacter, ErrorCode::UnterminatedString, ErrorCode::BadEscape,
                        ErrorCode::NumberOutOfRange, ErrorCode::BadDateTime, ErrorCode::InputTooLarge, ErrorCode::NestingTooDeep})
      if (d.code == errorCodeString(c)) return {};
  }
  Linter linter(source, compiled, config);
  std::vector<Diagnostic> found = linter.run();

  // Settings: the config's `lint:` first, then the caller's options.
  const auto& rules = lintRuleTable();
  std::vector<bool> off(rules.size(), false);
  std::vector<Severity> severity;
  for (const auto& r : rules) severity.push_back(r.severity);
  for (const auto& s : config.lint) {
    int r = ruleIndex(s.code);
    if (r < 0) continue;  // reported by `rekindle lint`
    if (s.disabled) off[r] = true;
    else severity[r] = s.severity;
  }
  for (const auto& code : options.disabled)
    if (int r = ruleIndex(code); r >= 0) off[r] = true;
  for (const auto& [code, sev] : options.severities)
    if (int r = ruleIndex(code); r >= 0) severity[r] = sev;
  auto allowed = allowComments(*compiled.module);

  std::vector<Diagnostic> out;
  for (auto& d : found) {
    int r = ruleIndex(d.code);
    if (r < 0 || off[r]) continue;
    auto it = allowed.find(d.range.begin.line);
    if (it != allowed.end() && it->second.count(r)) continue;
    d.severity = severity[r];
    out.push_back(std::move(d));
  }
  sortDiagnostics(out);
  return out;
}

}  // namespace rekindle
