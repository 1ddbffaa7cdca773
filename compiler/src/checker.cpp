// The checker: resolves every name against the declarations, the config's schema and catalogs
// and the built-in table; gives every expression its static type (SPEC §3.5); builds the
// dependency graph of lets, segments and decisions, rejects cycles and orders the decisions.
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>

#include "checked.h"
#include "rekindle/runtime/vm.h"
#include "rekindle/stdlib/builtins.h"

namespace rekindle {

namespace {

using ast::Expr;
using ast::ExprKind;
using ast::Op;
using ast::RefKind;

bool isOrderable(Kind k) {
  return k == Kind::Int || k == Kind::Float || k == Kind::String || k == Kind::Time || k == Kind::Date ||
         k == Kind::Duration;
}

bool isScalar(Kind k) { return k != Kind::List && k != Kind::Null && k != Kind::None; }

// Base kinds that may meet in ==, !=, in and ??: the same kind, or int with float.
bool compatible(Kind a, Kind b) {
  if (a == Kind::Null || b == Kind::Null) return true;
  if (a == b) return true;
  return (a == Kind::Int || a == Kind::Float) && (b == Kind::Int || b == Kind::Float);
}

Kind widen(Kind a, Kind b) {
  if (a == Kind::Null) return b;
  if (b == Kind::Null) return a;
  if (a != b && (a == Kind::Float || b == Kind::Float)) return Kind::Float;
  return a;
}

std::string describe(const Type& t) {
  if (t.kind == Kind::Null) return "null";
  if (t.kind == Kind::None) return "none";
  return t.str();
}

class Checker {
 public:
  Checker(const ast::Module& main, std::vector<std::unique_ptr<ast::Module>>& preludes,
          std::vector<SourceFile>& preludeSources, const Config& config, CheckedProgram& out, SemanticModel& model,
          std::vector<Diagnostic>& diags)
      : main_(main), preludes_(preludes), preludeSources_(preludeSources), config_(config), schema_(config.schema),
        out_(out), model_(model), diags_(diags) {}

  void run() {
    out_.main = &main_;
    out_.config = &config_;
    out_.files.push_back(main_.path);
    readHeader();
    readUses();
    declareSchemaSymbols();
    collectDeclarations();
    // Types of params are their literals'; lets are typed on demand (they may refer to each
    // other in any order); then every declaration is checked.
    for (size_t i = 0; i < out_.lets.size(); ++i)
      if (!out_.lets[i].fromPrelude || out_.lets[i].used) checkLet(static_cast<int>(i));
    for (size_t i = 0; i < out_.segments.size(); ++i) checkSegment(static_cast<int>(i));
    for (int k = 0; k < 3; ++k) checkTable(k);
    checkCaps();
    checkHoldout();
    orderDecisions();
  }

 private:
  struct Ctx {
    std::vector<Dependency>* deps = nullptr;
    bool* usesPopulation = nullptr;  // set when a population statistic is read directly
    bool element = false;       // inside a where/streak condition: event fields in scope
    uint32_t file = 0;          // 0 main; prelude file index otherwise
    const std::unordered_map<std::string, int>* preludeScope = nullptr;
  };

  // ---- reporting -----------------------------------------------------------------------

  void error(ErrorCode code, SourceRange r, std::string msg, std::string help = "", uint32_t file = 0) {
    Diagnostic d;
    d.severity = Severity::Error;
    d.code = errorCodeString(code);
    d.file = out_.files[file];
    d.range = r;
    d.message = std::move(msg);
    d.suggestion = std::move(help);
    diags_.push_back(std::move(d));
  }

  static std::string didYouMean(const std::string& name, const std::vector<std::string>& candidates) {
    std::string c = closestName(name, candidates);
    return c.empty() ? "" : "did you mean '" + c + "'?";
  }

  int addSymbol(SymbolKind kind, const std::string& name, const std::string& file, SourceRange range, Type type,
                std::string doc = "", std::string qualifier = "", int index = -1) {
    Symbol s;
    s.kind = kind;
    s.name = name;
    s.file = file;
    s.range = range;
    s.type = type;
    s.doc = std::move(doc);
    s.qualifier = std::move(qualifier);
    s.index = index;
    model_.symbols.push_back(std::move(s));
    return static_cast<int>(model_.symbols.size() - 1);
  }

  void reference(const Ctx& ctx, SourceRange range, int symbol) {
    if (ctx.file == 0 && symbol >= 0) model_.references.push_back(Reference{range, symbol});
  }

  // ---- declarations ----------------------------------------------------------------------

  void readHeader() {
    std::string stem = main_.path;
    size_t slash = stem.rfind('/');
    if (slash != std::string::npos) stem = stem.substr(slash + 1);
    size_t dot = stem.rfind('.');
    if (dot != std::string::npos && dot > 0) stem = stem.substr(0, dot);
    out_.rulesName = stem;
    if (main_.header) {
      if (!main_.header->name.empty()) out_.rulesName = main_.header->name;
      if (main_.header->hasVersion) out_.rulesVersion = std::to_string(main_.header->version);
    }
  }

  void readUses() {
    for (const auto& use : main_.uses) {
      std::string path;
      for (const auto& p : use.path) path += (path.empty() ? "" : ".") + p;
      if (use.path.size() != 2 || use.path[0] != "std" ||
          !(isNativeModule(use.path[1]) || preludeSource(use.path[1]))) {
        error(ErrorCode::UnknownModule, use.pathRange, "unknown module '" + path + "'",
              "the standard modules are std.rfm, std.clv and std.lifecycle");
        modules_[use.effectiveAlias()] = "";  // known to be broken: its uses are not reported again
        continue;
      }
      std::string alias = use.effectiveAlias();
      if (modules_.count(alias)) {
        error(ErrorCode::DuplicateName, use.range, "module alias '" + alias + "' is used twice",
              "give one of them another name with `as`");
        continue;
      }
      modules_[alias] = use.path[1];
      addSymbol(SymbolKind::Module, alias, main_.path, use.pathRange, Type(), "module std." + use.path[1]);
      if (const char* text = preludeSource(use.path[1])) loadPrelude(alias, use.path[1], text);
      if (use.path[1] == "rfm") loadRfmPrelude(use);
      if (use.path[1] == "clv") loadClvPrelude(use);
    }
  }

  void loadPrelude(const std::string& alias, const std::string& module, const char* text) {
    std::string path = "std/" + module + ".rules";
    preludeSources_.emplace_back(path, text);
    ParseResult pr = parseRules(preludeSources_.back());
    for (auto& d : pr.diags) diags_.push_back(d);
    uint32_t file = static_cast<uint32_t>(out_.files.size());
    out_.files.push_back(path);
    auto& scope = preludeScopes_[alias];
    for (const auto& let : pr.module->lets) {
      CheckedLet cl;
      cl.decl = &let;
      cl.name = alias + "." + let.name;
      cl.file = file;
      cl.fromPrelude = true;
      scope[let.name] = static_cast<int>(out_.lets.size());
      out_.lets.push_back(cl);
      letSymbol_.push_back(addSymbol(SymbolKind::Let, let.name, path, let.nameRange, Type(), let.doc, alias,
                                     static_cast<int>(out_.lets.size() - 1)));
    }
    preludeFile_[alias] = file;
    preludes_.push_back(std::move(pr.module));
  }

  // std.rfm's and std.clv's inputs are rules expressions from the config (rfm.purchase,
  // rfm.amount; clv.purchase, clv.amount): they are compiled as a hidden prelude whose lets become
  // the population pass's chunks. Returns the prelude's scope (let name -> index), or nullptr
  // when the config has no events.
  std::unordered_map<std::string, int>* loadConfigPrelude(const ast::UseDecl& use, const char* module, const std::string& text,
                                                 const char* settings, const char* scopeKey) {
    if (!schema_.hasEvents) {
      error(ErrorCode::NoEvents, use.pathRange,
            std::string("std.") + module + " reads purchases, and the config has no `events:` export");
      return nullptr;
    }
    std::string path = config_.path + " (" + settings + ")";
    preludeSources_.emplace_back(path, text);
    ParseResult pr = parseRules(preludeSources_.back());
    for (auto& d : pr.diags) diags_.push_back(d);
    uint32_t file = static_cast<uint32_t>(out_.files.size());
    out_.files.push_back(path);
    auto& scope = preludeScopes_[scopeKey];
    for (const auto& let : pr.module->lets) {
      CheckedLet cl;
      cl.decl = &let;
      cl.name = std::string(module) + "." + let.name;
      cl.file = file;
      cl.fromPrelude = true;
      cl.used = true;
      scope[let.name] = static_cast<int>(out_.lets.size());
      out_.lets.push_back(cl);
      letSymbol_.push_back(-1);
    }
    preludeFile_[scopeKey] = file;
    preludes_.push_back(std::move(pr.module));
    return &scope;
  }

  void loadRfmPrelude(const ast::UseDecl& use) {
    std::string text = "let purchases = events where " + config_.rfm.purchase + "\n" +
                       "let recency = days_since(max(purchases.at))\n" +
                       "let frequency = count(purchases)\n" +
                       "let monetary = sum(purchases." + config_.rfm.amount + ")\n";
    auto* scope = loadConfigPrelude(use, "rfm", text, "rfm.purchase, rfm.amount", kRfmScope);
    if (!scope) return;
    const char* names[3] = {"recency", "frequency", "monetary"};
    for (int k = 0; k < 3; ++k)
      if (scope->count(names[k])) out_.rfmLets[k] = (*scope)[names[k]];
  }
  static constexpr const char* kRfmScope = " rfm";  // not an identifier: rules cannot name it

  // std.clv: the purchases' times and amounts, which the population pass summarises natively
  // (frequency, recency, T, spend).
  void loadClvPrelude(const ast::UseDecl& use) {
    std::string text = "let purchases = events where " + config_.clv.purchase + "\n" +
                       "let times = purchases.at\n" +
                       "let amounts = purchases." + config_.clv.amount + "\n";
    auto* scope = loadConfigPrelude(use, "clv", text, "clv.purchase, clv.amount", kClvScope);
    if (!scope) return;
    if (scope->count("times")) out_.clvLets[0] = (*scope)["times"];
    if (scope->count("amounts")) out_.clvLets[1] = (*scope)["amounts"];
    // The amount must be a number field (the spend the Gamma-Gamma model averages).
    int f = schema_.eventField(config_.clv.amount);
    if (f >= 0 && out_.clvLets[1] >= 0) {
      Kind k = schema_.eventFields[f].type.kind;
      if (k != Kind::Int && k != Kind::Float)
        error(ErrorCode::ConfigError, out_.lets[out_.clvLets[1]].decl->value->range,
              "clv.amount must name a number field of the events, and '" + config_.clv.amount + "' is a " +
                  schema_.eventFields[f].type.str(),
              "set clv.amount in the config", out_.lets[out_.clvLets[1]].file);
    }
  }
  static constexpr const char* kClvScope = " clv";

  void declareSchemaSymbols() {
    for (size_t i = 0; i < schema_.customerFields.size(); ++i) {
      const auto& f = schema_.customerFields[i];
      fieldSymbol_.push_back(addSymbol(SymbolKind::CustomerField, f.name, config_.path, {}, f.type,
                                       i == 0 ? "customer id" : "customer field", "", static_cast<int>(i)));
    }
    for (size_t i = 0; i < schema_.eventFields.size(); ++i) {
      const auto& f = schema_.eventFields[i];
      eventSymbol_.push_back(addSymbol(SymbolKind::EventField, f.name, config_.path, {}, f.type,
                                       i == 0 ? "event time" : "event field", "", static_cast<int>(i)));
    }
    for (const auto& c : config_.channels) {
      out_.channels.push_back(c.name);
      channelSymbol_.push_back(addSymbol(SymbolKind::Channel, c.name, config_.path, {}, Type::of(Kind::Channel),
                                         "channel; consent: " + c.consent + (c.requires.empty() ? "" : ", requires: " + c.requires)));
    }
    for (const auto& o : config_.offers) {
      out_.offers.push_back(o.name);
      offerSymbol_.push_back(addSymbol(SymbolKind::Offer, o.name, config_.path, {}, Type::of(Kind::Offer),
                                       o.description + fmt::format(" (cost {})", o.cost)));
    }
  }

  bool nameTaken(const std::string& name, SourceRange range, const char* what) {
    auto it = declared_.find(name);
    if (it != declared_.end()) {
      Diagnostic d;
      d.severity = Severity::Error;
      d.code = errorCodeString(ErrorCode::DuplicateName);
      d.file = main_.path;
      d.range = range;
      d.message = fmt::format("'{}' is already declared", name);
      d.notes.push_back(DiagnosticNote{main_.path, it->second, "first declared here"});
      diags_.push_back(std::move(d));
      return true;
    }
    if (schema_.customerField(name) >= 0) {
      error(ErrorCode::DuplicateName, range, fmt::format("{} '{}' has the name of a customer field", what, name),
            "pick another name; the field is already usable as '" + name + "'");
      return true;
    }
    if (name == "events" && schema_.hasEvents) {
      error(ErrorCode::DuplicateName, range, "'events' is the customer's event list; pick another name");
      return true;
    }
    if (modules_.count(name)) {
      error(ErrorCode::DuplicateName, range, fmt::format("'{}' is already a module alias", name));
      return true;
    }
    declared_[name] = range;
    return false;
  }

  void collectDeclarations() {
    for (const auto& p : main_.params) {
      if (nameTaken(p.name, p.nameRange, "param")) continue;
      Type t = paramType(*p.value);
      paramIndex_[p.name] = static_cast<int>(out_.params.size());
      out_.params.push_back(&p);
      out_.paramTypes.push_back(t);
      paramSymbol_.push_back(addSymbol(SymbolKind::Param, p.name, main_.path, p.nameRange, t, "param (overridable with --param)"));
    }
    checkConfigParams();
    for (const auto& l : main_.lets) {
      if (nameTaken(l.name, l.nameRange, "let")) continue;
      CheckedLet cl;
      cl.decl = &l;
      cl.name = l.name;
      letIndex_[l.name] = static_cast<int>(out_.lets.size());
      out_.lets.push_back(cl);
      letSymbol_.push_back(addSymbol(SymbolKind::Let, l.name, main_.path, l.nameRange, Type(), l.doc, "",
                                     static_cast<int>(out_.lets.size() - 1)));
    }
    for (const auto& s : main_.segments) {
      if (nameTaken(s.name, s.nameRange, "segment")) continue;
      segIndex_[s.name] = static_cast<int>(out_.segments.size());
      out_.segments.push_back(&s);
      segmentSymbol_.push_back(addSymbol(SymbolKind::Segment, s.name, main_.path, s.nameRange, Type::of(Kind::Bool), s.doc));
    }
    segDeps_.resize(out_.segments.size());
    segState_.assign(out_.segments.size(), 0);
    segPopulation_.assign(out_.segments.size(), false);
    for (const auto& t : main_.tables) {
      int k = static_cast<int>(t.kind);
      if (out_.tables[k]) {
        Diagnostic d;
        d.severity = Severity::Error;
        d.code = errorCodeString(ErrorCode::DuplicateDeclaration);
        d.file = main_.path;
        d.range = t.keywordRange;
        d.message = fmt::format("the {} table is declared twice", ast::tableKindName(t.kind));
        d.notes.push_back(DiagnosticNote{main_.path, out_.tables[k]->keywordRange, "first declared here"});
        diags_.push_back(std::move(d));
        continue;
      }
      out_.tables[k] = &t;
      if (t.rows.empty()) error(ErrorCode::EmptyTable, t.keywordRange, fmt::format("the {} table has no rows", ast::tableKindName(t.kind)));
    }
    // The stage enum: the stage table's outcomes, in order of first appearance.
    if (const ast::TableDecl* st = out_.tables[0]) {
      for (const auto& row : st->rows) {
        if (row.outcome == "none") {
          error(ErrorCode::BadOutcome, row.outcomeRange, "a stage cannot be `none`", "name the stage, e.g. `unknown otherwise`");
          continue;
        }
        if (stageIndex_.count(row.outcome)) continue;
        auto clash = declared_.find(row.outcome);
        if (clash != declared_.end()) {
          error(ErrorCode::NameClash, row.outcomeRange,
                fmt::format("stage '{}' has the name of a let, segment or param", row.outcome), "rename one of them");
        }
        stageIndex_[row.outcome] = static_cast<int>(out_.stages.size());
        out_.stages.push_back(row.outcome);
        stageSymbol_.push_back(addSymbol(SymbolKind::Stage, row.outcome, main_.path, row.outcomeRange, Type::of(Kind::Stage), "stage"));
      }
    }
    for (const auto& c : main_.caps) out_.caps.push_back(&c);
    for (const auto& h : main_.holdouts) {
      if (out_.holdout) {
        error(ErrorCode::DuplicateDeclaration, h.range, "holdout is declared twice");
        continue;
      }
      out_.holdout = &h;
    }
  }

  // The config's `params:` must fit the types the rules declare: found by lint, not at 2am.
  void checkConfigParams() {
    StringPool scratch;
    for (const auto& setting : config_.params) {
      auto it = paramIndex_.find(setting.name);
      if (it == paramIndex_.end()) continue;
      const Type& t = out_.paramTypes[it->second];
      if (t.kind == Kind::Null) continue;  // the declaration itself is wrong, already reported
      std::string why;
      bool ok = true;
      if (t.kind == Kind::List) {
        std::string_view rest = setting.text;
        while (ok) {
          size_t comma = rest.find(',');
          ok = parseParamValue(rest.substr(0, comma), t.element(), config_.zone, scratch, why).has_value();
          if (comma == std::string_view::npos) break;
          rest.remove_prefix(comma + 1);
        }
      } else {
        ok = parseParamValue(setting.text, t, config_.zone, scratch, why).has_value();
      }
      if (ok) continue;
      Diagnostic d;
      d.severity = Severity::Error;
      d.code = errorCodeString(ErrorCode::BadParamValue);
      d.file = config_.path;
      d.range = SourceRange{{uint32_t(setting.line), 3}, {uint32_t(setting.line), 3 + uint32_t(setting.name.size())}};
      d.message = fmt::format("config param '{}' does not fit its declaration: {}", setting.name, why);
      d.notes.push_back(DiagnosticNote{main_.path, out_.params[it->second]->nameRange,
                                       fmt::format("declared here as {}", t.str())});
      diags_.push_back(std::move(d));
    }
  }

  Type paramType(const Expr& v) {
    if (v.kind == ExprKind::Literal) {
      if (v.lit.kind == Kind::Null || v.lit.kind == Kind::None) {
        error(ErrorCode::BadParamValue, v.range, "a param needs a value with a type, not " + v.lit.text);
        return Type::of(Kind::Null);
      }
      if (v.lit.kind == Kind::Time && !v.lit.timeHasZone) fixLocalTime(const_cast<Expr&>(v));
      return Type::of(v.lit.kind);
    }
    if (v.kind == ExprKind::Unary && v.op == Op::Neg && v.args[0]->kind == ExprKind::Literal) {
      Type t = paramType(*v.args[0]);
      if (t.kind != Kind::Int && t.kind != Kind::Float && t.kind != Kind::Duration)
        error(ErrorCode::BadParamValue, v.range, "only numbers and durations can be negative");
      return t;
    }
    if (v.kind == ExprKind::List) {
      Kind elem = Kind::Null;
      for (const auto& item : v.args) {
        if (item->kind == ExprKind::List) {
          error(ErrorCode::BadParamValue, item->range, "a param list cannot hold lists");
          continue;
        }
        Type t = paramType(*item);
        if (!compatible(elem, t.kind)) error(ErrorCode::MixedList, item->range, fmt::format("list mixes {} and {}", kindName(elem), kindName(t.kind)));
        elem = widen(elem, t.kind);
      }
      if (elem == Kind::Null) error(ErrorCode::BadParamValue, v.range, "an empty list param has no element type");
      return Type::listOf(elem);
    }
    error(ErrorCode::BadParamValue, v.range, "a param's value must be a literal",
          "a param is a constant the config or --param can override; compute values with `let`");
    return Type::of(Kind::Null);
  }

  void fixLocalTime(Expr& e) {
    // A time literal without an offset is wall time in the config's zone.
    e.lit.i = config_.zone.fromLocal(e.lit.i);
    e.lit.timeHasZone = true;
  }

  // ---- lets, segments, tables ----------------------------------------------------------

  Type checkLet(int i) {
    CheckedLet& cl = out_.lets[i];
    if (cl.state == 2) return cl.type;
    if (cl.state == 1) return Type::of(Kind::Null);  // a cycle; reported by orderDecisions
    cl.state = 1;
    Ctx ctx;
    std::vector<Dependency> deps;
    bool population = false;
    ctx.deps = &deps;
    ctx.usesPopulation = &population;
    ctx.file = cl.file;
    if (cl.fromPrelude) {
      for (const auto& [alias, f] : preludeFile_)
        if (f == cl.file) ctx.preludeScope = &preludeScopes_[alias];
    }
    Type t = check(*const_cast<Expr*>(cl.decl->value.get()), ctx);
    if (t.kind == Kind::Null && cl.decl->value->kind == ExprKind::Literal)
      error(ErrorCode::UntypedNull, cl.decl->value->range, "the type of `null` cannot be inferred here",
            "write a typed value, e.g. `x ?? 0`", cl.file);
    if (t.kind == Kind::None)
      error(ErrorCode::MisplacedNone, cl.decl->value->range, "`none` needs a channel or offer context", "", cl.file);
    CheckedLet& after = out_.lets[i];  // the vector may not grow here, but be safe
    after.type = t;
    after.deps = std::move(deps);
    after.usesPopulation = population;
    after.state = 2;
    if (letSymbol_[i] >= 0) model_.symbols[letSymbol_[i]].type = t;
    return t;
  }

  void checkSegment(int i) {
    if (segState_[i] == 2) return;
    segState_[i] = 1;
    Ctx ctx;
    ctx.deps = &segDeps_[i];
    bool population = false;
    ctx.usesPopulation = &population;
    Expr& cond = *const_cast<Expr*>(out_.segments[i]->condition.get());
    Type t = check(cond, ctx);
    requireBool(cond, t, "a segment's condition", ctx.file);
    segPopulation_[i] = population;
    segState_[i] = 2;
  }

  void requireBool(const Expr& e, const Type& t, const char* what, uint32_t file) {
    if (t.kind != Kind::Bool && t.kind != Kind::Null && !invalid_.count(&e)) {
      std::string help;
      if (t.kind == Kind::List) help = "to ask whether there are any, write exists(...)";
      else if (t.nullable) help = "to ask whether it has a value, write `... is not null`";
      error(ErrorCode::NotBool, e.range, fmt::format("{} must be a bool, not {}", what, describe(t)), help, file);
    }
  }

  void checkTable(int k) {
    const ast::TableDecl* t = out_.tables[k];
    if (!t) return;
    Ctx ctx;
    ctx.deps = &tableDeps_[k];
    bool population = false;
    ctx.usesPopulation = &population;
    for (const auto& row : t->rows) {
      if (k == 1 && row.outcome != "none" && !config_.channel(row.outcome)) {
        error(ErrorCode::UnknownChannel, row.outcomeRange, "unknown channel '" + row.outcome + "'",
              didYouMean(row.outcome, out_.channels).empty() ? "the config's channels are: " + joined(out_.channels) + " (and `none`)"
                                                              : didYouMean(row.outcome, out_.channels));
      }
      if (k == 2 && row.outcome != "none" && !config_.offer(row.outcome)) {
        error(ErrorCode::UnknownOffer, row.outcomeRange, "unknown offer '" + row.outcome + "'",
              didYouMean(row.outcome, out_.offers).empty() ? "the config's offers are: " + joined(out_.offers) + " (and `none`)"
                                                            : didYouMean(row.outcome, out_.offers));
      }
      if (k == 1 && row.outcome != "none") {
        int idx = indexOf(out_.channels, row.outcome);
        if (idx >= 0) reference(ctx, row.outcomeRange, channelSymbol_[idx]);
      }
      if (k == 2 && row.outcome != "none") {
        int idx = indexOf(out_.offers, row.outcome);
        if (idx >= 0) reference(ctx, row.outcomeRange, offerSymbol_[idx]);
      }
      if (k == 0 && stageIndex_.count(row.outcome)) reference(ctx, row.outcomeRange, stageSymbol_[stageIndex_[row.outcome]]);
      if (row.condition) {
        Expr& cond = *const_cast<Expr*>(row.condition.get());
        Type ct = check(cond, ctx);
        requireBool(cond, ct, "a row's condition", 0);
      }
      if (row.limit) {
        if (k == 0) error(ErrorCode::BadLimit, row.limit->range, "stage rows cannot have a limit", "limits apply to channel and offer rows");
        if (!row.limit->limitParam.empty()) {
          auto it = paramIndex_.find(row.limit->limitParam);
          if (it == paramIndex_.end() || out_.paramTypes[it->second].kind != Kind::Int) {
            std::vector<std::string> ints;
            for (const auto& [n, i] : paramIndex_)
              if (out_.paramTypes[i].kind == Kind::Int) ints.push_back(n);
            std::string help = didYouMean(row.limit->limitParam, ints);
            error(ErrorCode::BadLimit, row.limit->limitRange,
                  it == paramIndex_.end() ? "unknown param '" + row.limit->limitParam + "' in a limit"
                                          : "param '" + row.limit->limitParam + "' is a " + out_.paramTypes[it->second].str() + "; a limit needs an int",
                  help.empty() ? "declare it: param " + row.limit->limitParam + " = 600" : help);
          } else {
            reference(ctx, row.limit->limitRange, paramSymbol_[it->second]);
          }
        }
        if (row.limit->rankBy) {
          Expr& rank = *const_cast<Expr*>(row.limit->rankBy.get());
          Type rt = check(rank, ctx);
          if (!(rt.isNumeric() || rt.kind == Kind::Time || rt.kind == Kind::Duration || rt.kind == Kind::String || rt.kind == Kind::Date || rt.kind == Kind::Null) && !invalid_.count(&rank))
            error(ErrorCode::BadRankBy, rank.range, "`rank by` needs a number, time, date, duration or string, not " + describe(rt));
        }
      }
    }
  }

  static std::string joined(const std::vector<std::string>& v) {
    if (v.empty()) return "(none declared)";
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
    return out;
  }

  static int indexOf(const std::vector<std::string>& v, const std::string& s) {
    auto it = std::find(v.begin(), v.end(), s);
    return it == v.end() ? -1 : static_cast<int>(it - v.begin());
  }

  void checkCaps() {
    for (const ast::CapDecl* cap : out_.caps) {
      if (cap->target != "any" && !config_.channel(cap->target)) {
        error(ErrorCode::BadCapTarget, cap->targetRange, "cap on unknown channel '" + cap->target + "'",
              didYouMean(cap->target, out_.channels).empty() ? "cap a channel from the config, or `any`"
                                                              : didYouMean(cap->target, out_.channels));
      }
      for (const auto& w : cap->windows) {
        if (w.count <= 0) error(ErrorCode::BadCapWindow, w.range, "a cap allows at least 1 contact per window", "to stop a channel, remove its rows");
        if (w.calendar && w.unit != "day" && w.unit != "week" && w.unit != "month")
          error(ErrorCode::BadCalendarUnit, w.unitRange, "unknown calendar window '" + w.unit + "'", "use `calendar day`, `calendar week` or `calendar month`");
        if (!w.calendar && w.duration <= 0) error(ErrorCode::BadCapWindow, w.unitRange, "a rolling window must be longer than 0");
      }
      if (cap->condition) {
        Ctx ctx;
        capDeps_.emplace_back();
        ctx.deps = &capDeps_.back().second;
        capDeps_.back().first = cap->condition->range;
        Expr& cond = *const_cast<Expr*>(cap->condition.get());
        Type t = check(cond, ctx);
        requireBool(cond, t, "a cap's condition", 0);
      }
    }
  }

  void checkHoldout() {
    if (!out_.holdout) return;
    if (!(out_.holdout->fraction > 0 && out_.holdout->fraction <= 1))
      error(ErrorCode::BadHoldout, out_.holdout->range, "a holdout share must be more than 0% and at most 100%");
  }

  // ---- expressions -----------------------------------------------------------------------

  Type invalid(Expr& e) {
    invalid_.insert(&e);
    e.type = Type::of(Kind::Null);
    return e.type;
  }

  Type set(Expr& e, Type t) {
    e.type = t;
    return t;
  }

  // True for an expression whose meaning depends on the enum it is compared with.
  static bool contextual(const Expr& e) {
    if (e.kind == ExprKind::Name) return true;
    if (e.kind == ExprKind::Literal && e.lit.kind == Kind::None) return true;
    if (e.kind == ExprKind::Paren) return contextual(*e.args[0]);
    if (e.kind == ExprKind::List) {
      for (const auto& a : e.args)
        if (!contextual(*a)) return false;
      return true;
    }
    return false;
  }

  Type check(Expr& e, Ctx& ctx, Kind expectEnum = Kind::Null) {
    switch (e.kind) {
      case ExprKind::Literal: return checkLiteral(e, ctx, expectEnum);
      case ExprKind::List: return checkList(e, ctx, expectEnum);
      case ExprKind::Paren: {
        Type t = check(*e.args[0], ctx, expectEnum);
        if (invalid_.count(e.args[0].get())) invalid_.insert(&e);
        return set(e, t);
      }
      case ExprKind::Name: return checkName(e, ctx, expectEnum);
      case ExprKind::Decision: {
        int k = static_cast<int>(e.decision);
        // Inside a where/streak condition an event field called `channel` (or `stage`,
        // `offer`) is the event's: fields shadow everything there.
        if (ctx.element && schema_.eventField(e.name) >= 0) {
          int f = schema_.eventField(e.name);
          e.ref = {RefKind::EventField, f};
          reference(ctx, e.range, eventSymbol_[f]);
          return set(e, schema_.eventFields[f].type);
        }
        // Without that table, a customer field of the same name is what the rules mean.
        if (!out_.tables[k] && schema_.customerField(e.name) >= 0) {
          int f = schema_.customerField(e.name);
          e.ref = {RefKind::CustomerField, f};
          reference(ctx, e.range, fieldSymbol_[f]);
          return set(e, schema_.customerFields[f].type);
        }
        if (!out_.tables[k]) {
          error(ErrorCode::MissingTable, e.range, fmt::format("`{}` is used but there is no {} table", e.name, e.name), "", ctx.file);
          return invalid(e);
        }
        if (ctx.file != 0) {
          error(ErrorCode::MissingTable, e.range, "a prelude cannot read decisions", "", ctx.file);
          return invalid(e);
        }
        if (ctx.deps) ctx.deps->push_back({out_.tableNode(k), e.range});
        Kind kind = k == 0 ? Kind::Stage : k == 1 ? Kind::Channel : Kind::Offer;
        return set(e, Type::of(kind, tableNullable(k)));
      }
      case ExprKind::Now: return set(e, Type::of(Kind::Time));
      case ExprKind::Today: return set(e, Type::of(Kind::Date));
      case ExprKind::Previous:
        error(ErrorCode::BadPrevious, e.range, "`previous` needs a field: previous.stage, previous.channel, previous.offer or previous.at", "", ctx.file);
        return invalid(e);
      case ExprKind::Member: return checkMember(e, ctx);
      case ExprKind::Call: return checkCall(e, ctx, "", 0);
      case ExprKind::MethodCall: return checkMethodCall(e, ctx);
      case ExprKind::Unary: return checkUnary(e, ctx);
      case ExprKind::Binary: return checkBinary(e, ctx);
      case ExprKind::IsNull: {
        check(*e.args[0], ctx);
        return set(e, Type::of(Kind::Bool));
      }
      case ExprKind::Where: return checkWhere(e, ctx);
    }
    return invalid(e);
  }

  bool tableNullable(int k) const {
    const ast::TableDecl* t = out_.tables[k];
    if (!t || t->rows.empty()) return true;
    const ast::TableRow& last = t->rows.back();
    if (last.condition || last.limit) return true;
    // A channel row can be passed over for lack of consent: only `none otherwise` is certain.
    if (k == 1 && last.outcome != "none") return true;
    return false;
  }

  Type checkLiteral(Expr& e, Ctx& ctx, Kind expectEnum) {
    if (e.lit.kind == Kind::None) {
      if (expectEnum == Kind::Channel || expectEnum == Kind::Offer) return set(e, Type::of(expectEnum));
      error(ErrorCode::MisplacedNone, e.range, "`none` only means something next to a channel or offer",
            "compare it: `channel == none`", ctx.file);
      return invalid(e);
    }
    if (e.lit.kind == Kind::Time && !e.lit.timeHasZone) fixLocalTime(e);
    if (e.lit.kind == Kind::Null && e.lit.text.empty()) return invalid(e);  // a placeholder after a syntax error
    if (e.lit.kind == Kind::Null) return set(e, Type::of(Kind::Null, true));
    return set(e, Type::of(e.lit.kind));
  }

  Type checkList(Expr& e, Ctx& ctx, Kind expectEnum) {
    Kind elem = Kind::Null;
    bool elemNullable = false;
    bool bad = false;
    for (auto& item : e.args) {
      Type t = check(*item, ctx, expectEnum);
      if (invalid_.count(item.get())) {
        bad = true;
        continue;
      }
      if (t.kind == Kind::List) {
        error(ErrorCode::MixedList, item->range, "a list cannot hold lists", "", ctx.file);
        bad = true;
        continue;
      }
      if (!compatible(elem, t.kind)) {
        error(ErrorCode::MixedList, item->range, fmt::format("this list mixes {} and {}", kindName(elem), describe(t)), "", ctx.file);
        bad = true;
        continue;
      }
      elem = widen(elem, t.kind);
      elemNullable = elemNullable || t.nullable;
    }
    if (bad) return invalid(e);
    return set(e, Type::listOf(elem, elemNullable));
  }

  std::vector<std::string> visibleNames(const Ctx& ctx) const {
    std::vector<std::string> names;
    if (ctx.element)
      for (const auto& f : schema_.eventFields) names.push_back(f.name);
    if (ctx.preludeScope) {
      for (const auto& [n, i] : *ctx.preludeScope) names.push_back(n);
    } else {
      for (const auto& [n, i] : letIndex_) names.push_back(n);
      for (const auto& [n, i] : segIndex_) names.push_back(n);
      for (const auto& [n, i] : paramIndex_) names.push_back(n);
      for (const auto& s : out_.stages) names.push_back(s);
      for (const auto& [alias, scope] : preludeScopes_)
        for (const auto& [n, i] : scope) names.push_back(alias + "." + n);
    }
    for (const auto& f : schema_.customerFields) names.push_back(f.name);
    if (schema_.hasEvents) names.push_back("events");
    std::sort(names.begin(), names.end());
    return names;
  }

  Type useLet(Expr& e, Ctx& ctx, int idx) {
    e.ref = {RefKind::Let, idx};
    out_.lets[idx].used = true;
    if (ctx.deps) ctx.deps->push_back({out_.letNode(idx), e.range});
    reference(ctx, e.nameRange, letSymbol_[idx]);
    Type t = checkLet(idx);
    if (out_.lets[idx].state == 1) {
      // Still being checked: a cycle. Give it a placeholder type; the cycle is reported later.
      return set(e, Type::of(Kind::Null, true));
    }
    return set(e, t);
  }

  Type checkName(Expr& e, Ctx& ctx, Kind expectEnum) {
    const std::string& n = e.name;
    // An enum member in a context that wants one wins over everything else: in
    // `channel == email`, `email` is the channel even when a customer field is called email.
    if (expectEnum == Kind::Channel) {
      int idx = indexOf(out_.channels, n);
      if (idx >= 0) {
        e.ref = {RefKind::ChannelValue, idx};
        reference(ctx, e.range, channelSymbol_[idx]);
        return set(e, Type::of(Kind::Channel));
      }
    }
    if (expectEnum == Kind::Offer) {
      int idx = indexOf(out_.offers, n);
      if (idx >= 0) {
        e.ref = {RefKind::OfferValue, idx};
        reference(ctx, e.range, offerSymbol_[idx]);
        return set(e, Type::of(Kind::Offer));
      }
    }
    if (expectEnum == Kind::Stage && stageIndex_.count(n)) {
      int idx = stageIndex_.at(n);
      e.ref = {RefKind::StageValue, idx};
      reference(ctx, e.range, stageSymbol_[idx]);
      return set(e, Type::of(Kind::Stage));
    }
    if (ctx.element) {
      int f = schema_.eventField(n);
      if (f < 0 && n == "at") f = 0;  // `at` always names the event's time
      if (f >= 0) {
        e.ref = {RefKind::EventField, f};
        reference(ctx, e.range, eventSymbol_[f]);
        return set(e, schema_.eventFields[f].type);
      }
    }
    if (ctx.preludeScope) {
      auto it = ctx.preludeScope->find(n);
      if (it != ctx.preludeScope->end()) return useLet(e, ctx, it->second);
    } else {
      if (auto it = letIndex_.find(n); it != letIndex_.end()) return useLet(e, ctx, it->second);
      if (auto it = segIndex_.find(n); it != segIndex_.end()) {
        e.ref = {RefKind::Segment, it->second};
        if (ctx.deps) ctx.deps->push_back({out_.segmentNode(it->second), e.range});
        reference(ctx, e.range, segmentSymbol_[it->second]);
        if (segState_[it->second] == 0) checkSegment(it->second);
        return set(e, Type::of(Kind::Bool));
      }
      if (auto it = paramIndex_.find(n); it != paramIndex_.end()) {
        e.ref = {RefKind::Param, it->second};
        reference(ctx, e.range, paramSymbol_[it->second]);
        return set(e, out_.paramTypes[it->second]);
      }
    }
    if (int f = schema_.customerField(n); f >= 0) {
      e.ref = {RefKind::CustomerField, f};
      reference(ctx, e.range, fieldSymbol_[f]);
      return set(e, schema_.customerFields[f].type);
    }
    if (n == "events") {
      if (!schema_.hasEvents) {
        error(ErrorCode::NoEvents, e.range, "`events` is used but the config has no `events:` export", "", ctx.file);
        return invalid(e);
      }
      e.ref = {RefKind::Events, 0};
      return set(e, Type::listOf(Kind::Event));
    }
    if (!ctx.preludeScope && stageIndex_.count(n)) {
      int idx = stageIndex_.at(n);
      e.ref = {RefKind::StageValue, idx};
      reference(ctx, e.range, stageSymbol_[idx]);
      return set(e, Type::of(Kind::Stage));
    }
    if (modules_.count(n)) {
      error(ErrorCode::ModuleAsValue, e.range, fmt::format("'{}' is a module; use one of its members, e.g. {}.{}", n, n,
                                                           modules_.at(n) == "rfm" ? "r" : modules_.at(n) == "clv" ? "p_alive()" : "idle"), "", ctx.file);
      return invalid(e);
    }
    std::string help = didYouMean(n, visibleNames(ctx));
    if (help.empty() && (n == "rfm" || n == "clv" || n == "lifecycle")) help = "add `use std." + n + "` at the top";
    if (help.empty() && indexOf(out_.channels, n) >= 0) help = "'" + n + "' is a channel; compare it with `channel`";
    if (help.empty() && indexOf(out_.offers, n) >= 0) help = "'" + n + "' is an offer; compare it with `offer`";
    if (help.empty() && !ctx.element && schema_.eventField(n) >= 0)
      help = "'" + n + "' is an event field; use it inside `events where ...`";
    error(ErrorCode::UnknownName, e.range, "unknown name '" + n + "'", help, ctx.file);
    return invalid(e);
  }

  Type checkMember(Expr& e, Ctx& ctx) {
    Expr& base = *e.args[0];
    // Module members: rfm.r, lifecycle.idle.
    if (base.kind == ExprKind::Name && modules_.count(base.name) && !letIndex_.count(base.name)) {
      base.ref = {RefKind::Module, 0};
      const std::string& module = modules_.at(base.name);
      if (module.empty()) return invalid(e);  // an unknown module, already reported
      if (preludeSource(module)) {
        auto& scope = preludeScopes_[base.name];
        auto it = scope.find(e.name);
        if (it == scope.end()) {
          std::vector<std::string> names;
          for (const auto& [n, i] : scope) names.push_back(n);
          error(ErrorCode::UnknownField, e.nameRange, fmt::format("std.{} has no '{}'", module, e.name), didYouMean(e.name, names), ctx.file);
          return invalid(e);
        }
        Ctx inner = ctx;
        Type t = useLet(e, inner, it->second);
        reference(ctx, e.nameRange, letSymbol_[it->second]);
        return t;
      }
      return checkCall(e, ctx, module, 0);
    }
    if (base.kind == ExprKind::Previous) {
      static const char* kFields[] = {"stage", "channel", "offer", "at"};
      for (int i = 0; i < 4; ++i) {
        if (e.name != kFields[i]) continue;
        if (i < 3 && !out_.tables[i]) {
          error(ErrorCode::MissingTable, e.range, fmt::format("previous.{} needs a {} table in these rules", e.name, e.name), "", ctx.file);
          return invalid(e);
        }
        e.ref = {RefKind::PreviousField, i};
        out_.features |= kUsesPrevious;
        Kind k = i == 0 ? Kind::Stage : i == 1 ? Kind::Channel : i == 2 ? Kind::Offer : Kind::Time;
        return set(e, Type::of(k, true));
      }
      error(ErrorCode::BadPrevious, e.nameRange, "previous has no '" + e.name + "'",
            "previous has stage, channel, offer and at", ctx.file);
      return invalid(e);
    }
    Type bt = check(base, ctx);
    if (invalid_.count(&base)) return invalid(e);
    std::vector<std::string> fieldNames;
    for (const auto& f : schema_.eventFields) fieldNames.push_back(f.name);
    if (bt.kind == Kind::Event || (bt.kind == Kind::List && bt.elem == Kind::Event)) {
      int f = schema_.eventField(e.name);
      if (f < 0 && e.name == "at") f = 0;
      if (f < 0) {
        error(ErrorCode::UnknownField, e.nameRange, "events have no field '" + e.name + "'", didYouMean(e.name, fieldNames), ctx.file);
        return invalid(e);
      }
      reference(ctx, e.nameRange, eventSymbol_[f]);
      const Type& ft = schema_.eventFields[f].type;
      if (bt.kind == Kind::Event) {
        e.ref = {RefKind::EventRecordField, f};
        return set(e, ft.asNullable(ft.nullable || bt.nullable));
      }
      e.ref = {RefKind::ListProjection, f};
      return set(e, Type::listOf(ft.kind, ft.nullable));
    }
    error(ErrorCode::UnknownField, e.nameRange, fmt::format("a value of type {} has no field '{}'", describe(bt), e.name),
          bt.kind == Kind::List ? "only lists of events have fields" : "", ctx.file);
    return invalid(e);
  }

  Type checkMethodCall(Expr& e, Ctx& ctx) {
    Expr& base = *e.args[0];
    if (base.kind == ExprKind::Name && modules_.count(base.name)) {
      base.ref = {RefKind::Module, 0};
      const std::string& module = modules_.at(base.name);
      if (module.empty()) return invalid(e);
      if (preludeSource(module)) {
        error(ErrorCode::UnknownFunction, e.nameRange, fmt::format("std.{} has no functions; '{}' is a value: {}.{}", module, e.name, base.name, e.name), "", ctx.file);
        return invalid(e);
      }
      return checkCall(e, ctx, module, 1);
    }
    error(ErrorCode::UnknownFunction, e.nameRange, "only modules have functions: '" + e.name + "(...)' needs a module before the dot",
          "call it as a function: " + e.name + "(x, ...)", ctx.file);
    return invalid(e);
  }

  // A call of a built-in: plain `f(x)` (firstArg 0), a module property `rfm.r` (a Member), or
  // a module function `clv.expected_value(d)` (firstArg 1: args[0] is the module name).
  Type checkCall(Expr& e, Ctx& ctx, const std::string& module, size_t firstArg) {
    std::vector<int> cands = findBuiltins(module, e.name);
    bool isMember = e.kind == ExprKind::Member;
    if (cands.empty()) {
      std::vector<std::string> names;
      for (const auto& b : builtins())
        if (b.module == module) names.push_back(b.name);
      std::string help = didYouMean(e.name, names);
      if (module.empty()) {
        if (help.empty() && preludeScopes_.size())
          for (const auto& [alias, scope] : preludeScopes_)
            if (scope.count(e.name)) help = "did you mean '" + alias + "." + e.name + "'?";
        error(ErrorCode::UnknownFunction, e.nameRange, "unknown function '" + e.name + "'", help, ctx.file);
      } else {
        error(ErrorCode::UnknownField, e.nameRange, fmt::format("std.{} has no '{}'", module, e.name), help, ctx.file);
      }
      return invalid(e);
    }
    const Builtin& first = builtins()[cands[0]];
    if (isMember && !first.property) {
      error(ErrorCode::WrongArgCount, e.range, fmt::format("{}.{} is a function: call it, e.g. {}", module, e.name, first.signature), "", ctx.file);
      return invalid(e);
    }
    if (first.population) {
      out_.features |= module == "rfm" ? kUsesRfm : module == "clv" ? kUsesClv : kUsesQuantile;
      if (ctx.usesPopulation) *ctx.usesPopulation = true;
    }
    if (module.empty() && e.name == "quantile_rank") return checkQuantileRank(e, ctx, cands[0]);
    size_t argc = isMember ? 0 : e.args.size() - firstArg;
    // streak(xs, cond): the condition is checked with the event in scope.
    if (module.empty() && e.name == "streak") return checkStreak(e, ctx, cands[0]);
    std::vector<Type> types;
    bool bad = false;
    for (size_t k = firstArg; k < e.args.size() && !isMember; ++k) {
      types.push_back(check(*e.args[k], ctx));
      if (invalid_.count(e.args[k].get())) bad = true;
    }
    if (bad) return invalid(e);
    std::vector<int> byCount;
    for (int c : cands)
      if (builtins()[c].params.size() == argc) byCount.push_back(c);
    std::string qualified = module.empty() ? e.name : module + "." + e.name;
    if (byCount.empty()) {
      std::set<size_t> counts;
      for (int c : cands) counts.insert(builtins()[c].params.size());
      std::string want;
      for (size_t n : counts) want += (want.empty() ? "" : " or ") + std::to_string(n);
      std::string sigs;
      for (int c : cands) sigs += (sigs.empty() ? "" : "; ") + builtins()[c].signature;
      error(ErrorCode::WrongArgCount, e.range, fmt::format("{} takes {} argument{}, {} given", qualified, want,
                                                           want == "1" ? "" : "s", argc),
            sigs, ctx.file);
      return invalid(e);
    }
    for (int c : byCount) {
      Type result;
      if (matchSignature(builtins()[c], types, result)) {
        e.ref = {RefKind::Builtin, c};
        if (module.empty() && e.name == "holiday") checkHolidayName(*e.args[firstArg], ctx);
        return set(e, result);
      }
    }
    bool wantsList = true;
    for (int c : byCount) wantsList = wantsList && !builtins()[c].params.empty() && builtins()[c].params[0].list;
    if (wantsList && !types.empty() && types[0].kind != Kind::List) {
      error(ErrorCode::NotAList, e.args[firstArg]->range,
            fmt::format("{} needs a list, not {}", qualified, describe(types[0])),
            types[0].kind == Kind::Event ? "" : "give it a list of events or values, e.g. " + qualified + "(purchases.amount)", ctx.file);
      return invalid(e);
    }
    std::string got;
    for (const auto& t : types) got += (got.empty() ? "" : ", ") + describe(t);
    std::string sigs;
    for (int c : byCount) sigs += (sigs.empty() ? "" : "; ") + builtins()[c].signature;
    error(ErrorCode::NoMatchingOverload, e.range, fmt::format("{} cannot take ({})", qualified, got), sigs, ctx.file);
    return invalid(e);
  }

  // holiday("name") with a literal name must name a calendar entry of the config.
  void checkHolidayName(const Expr& arg, const Ctx& ctx) {
    const Expr* a = &arg;
    while (a->kind == ExprKind::Paren) a = a->args[0].get();
    if (a->kind != ExprKind::Literal || a->lit.kind != Kind::String) return;
    if (config_.calendar.count(a->lit.str)) return;
    std::vector<std::string> names;
    for (const auto& [n, dates] : config_.calendar) names.push_back(n);
    std::string help = didYouMean(a->lit.str, names);
    error(ErrorCode::UnknownHoliday, a->range, "the config's calendar has no entry '" + a->lit.str + "'",
          help.empty() ? "add it under `calendar:` in the config" : help, ctx.file);
  }

  // Matches argument types to a signature, binding its type variable; computes the result.
  static bool matchSignature(const Builtin& b, const std::vector<Type>& args, Type& result) {
    Kind bound = Kind::Null;
    bool anyNullable = false;
    auto fits = [&](const TypePattern& p, Kind k) {
      if (k == Kind::Null) return true;  // the null literal, or the element of []
      if (p.var == 0) return k == p.kind || (p.kind == Kind::Float && k == Kind::Int && !p.list);
      bool ok = p.var == 'T' ? isScalar(k) : p.var == 'O' ? isOrderable(k) : p.var == 'N' ? (k == Kind::Int || k == Kind::Float) : k == Kind::Bool;
      if (!ok) return false;
      if (bound == Kind::Null) bound = k;
      else if (bound != k) {
        if ((bound == Kind::Int || bound == Kind::Float) && (k == Kind::Int || k == Kind::Float)) bound = Kind::Float;
        else return false;
      }
      return true;
    };
    for (size_t i = 0; i < args.size(); ++i) {
      const TypePattern& p = b.params[i];
      const Type& a = args[i];
      if (p.list) {
        if (a.kind != Kind::List || !fits(p, a.elem)) return false;
      } else {
        if (a.kind == Kind::List || !fits(p, a.kind)) return false;
        anyNullable = anyNullable || a.nullable;
      }
    }
    Kind rk = b.result.var ? bound : b.result.kind;
    if (b.result.var && rk == Kind::Null) rk = Kind::Null;
    bool nullable = b.result.nullable || (b.propagatesNull && anyNullable);
    result = b.result.list ? Type::listOf(rk) : Type::of(rk, nullable);
    return true;
  }

  // quantile_rank(x): x is computed for every customer in the population pass, before any
  // decision, so it may not read decisions, population statistics or an event in scope.
  Type checkQuantileRank(Expr& e, Ctx& ctx, int builtin) {
    if (e.args.size() != 1) {
      error(ErrorCode::WrongArgCount, e.range, fmt::format("quantile_rank takes 1 argument, {} given", e.args.size()),
            builtins()[builtin].signature, ctx.file);
      return invalid(e);
    }
    if (ctx.element) {
      error(ErrorCode::BadQuantileRank, e.range, "quantile_rank cannot be used inside a where or streak condition",
            "rank a customer-level value: quantile_rank(sum(purchases.amount))", ctx.file);
      return invalid(e);
    }
    Ctx inner = ctx;
    std::vector<Dependency> deps;
    bool population = false;
    inner.deps = &deps;
    inner.usesPopulation = &population;
    Type t = check(*e.args[0], inner);
    if (invalid_.count(e.args[0].get())) return invalid(e);
    if (ctx.deps) ctx.deps->insert(ctx.deps->end(), deps.begin(), deps.end());
    if (t.kind != Kind::Int && t.kind != Kind::Float && t.kind != Kind::Null) {
      error(ErrorCode::NoMatchingOverload, e.range, "quantile_rank needs a number, not " + describe(t),
            builtins()[builtin].signature, ctx.file);
      return invalid(e);
    }
    if (population) {
      error(ErrorCode::BadQuantileRank, e.args[0]->range, "quantile_rank's value cannot itself use population statistics", "", ctx.file);
      return invalid(e);
    }
    quantileDeps_.emplace_back(e.args[0]->range, std::move(deps));
    e.ref = {RefKind::Builtin, builtin};
    return set(e, Type::of(Kind::Float, true));
  }

  Type checkStreak(Expr& e, Ctx& ctx, int builtin) {
    if (e.args.size() != 2) {
      error(ErrorCode::WrongArgCount, e.range, fmt::format("streak takes 2 arguments, {} given", e.args.size()),
            "streak(emails, opened == true)", ctx.file);
      return invalid(e);
    }
    Type lt = check(*e.args[0], ctx);
    if (invalid_.count(e.args[0].get())) return invalid(e);
    if (!(lt.kind == Kind::List && lt.elem == Kind::Event)) {
      error(ErrorCode::WhereNeedsEvents, e.args[0]->range, "streak needs a list of events, not " + describe(lt), "", ctx.file);
      return invalid(e);
    }
    Ctx inner = ctx;
    inner.element = true;
    Type ct = check(*e.args[1], inner);
    requireBool(*e.args[1], ct, "streak's condition", ctx.file);
    e.ref = {RefKind::Builtin, builtin};
    return set(e, Type::of(Kind::Int));
  }

  Type checkWhere(Expr& e, Ctx& ctx) {
    Type lt = check(*e.args[0], ctx);
    if (invalid_.count(e.args[0].get())) return invalid(e);
    if (!(lt.kind == Kind::List && lt.elem == Kind::Event)) {
      error(ErrorCode::WhereNeedsEvents, e.args[0]->range, "`where` filters a list of events, not " + describe(lt),
            lt.kind == Kind::List ? "filter the events first, then project: (events where ...).amount" : "", ctx.file);
      return invalid(e);
    }
    Ctx inner = ctx;
    inner.element = true;
    Type ct = check(*e.args[1], inner);
    requireBool(*e.args[1], ct, "a `where` condition", ctx.file);
    return set(e, Type::listOf(Kind::Event));
  }

  Type checkUnary(Expr& e, Ctx& ctx) {
    Type t = check(*e.args[0], ctx);
    if (invalid_.count(e.args[0].get())) return invalid(e);
    if (e.op == Op::Not) {
      if (t.kind != Kind::Bool && t.kind != Kind::Null) {
        error(ErrorCode::OperandTypes, e.range, "`not` needs a bool, not " + describe(t), "", ctx.file);
        return invalid(e);
      }
      return set(e, Type::of(Kind::Bool, t.nullable));
    }
    if (t.kind != Kind::Int && t.kind != Kind::Float && t.kind != Kind::Duration && t.kind != Kind::Null) {
      error(ErrorCode::OperandTypes, e.range, "cannot negate " + describe(t), "", ctx.file);
      return invalid(e);
    }
    return set(e, t);
  }

  Type checkBinary(Expr& e, Ctx& ctx) {
    Expr& l = *e.args[0];
    Expr& r = *e.args[1];
    Op op = e.op;
    bool equality = op == Op::Eq || op == Op::Ne || op == Op::In || op == Op::NotIn || op == Op::Coalesce;
    Type lt, rt;
    if (equality && contextual(r) && !contextual(l)) {
      lt = check(l, ctx);
      if (invalid_.count(&l)) return invalid(e);  // the right side's meaning depended on it
      rt = check(r, ctx, lt.kind == Kind::List ? lt.elem : lt.kind);
    } else if (equality && contextual(l) && !contextual(r)) {
      rt = check(r, ctx);
      if (invalid_.count(&r)) return invalid(e);
      Kind want = rt.kind == Kind::List ? rt.elem : rt.kind;
      lt = check(l, ctx, want);
    } else {
      lt = check(l, ctx);
      rt = check(r, ctx, equality ? (lt.kind == Kind::List ? lt.elem : lt.kind) : Kind::Null);
    }
    if (invalid_.count(&l) || invalid_.count(&r)) return invalid(e);
    const char* sym = ast::opSpelling(op);
    switch (op) {
      case Op::And:
      case Op::Or:
        if ((lt.kind != Kind::Bool && lt.kind != Kind::Null) || (rt.kind != Kind::Bool && rt.kind != Kind::Null)) {
          error(ErrorCode::OperandTypes, e.range, fmt::format("`{}` needs bools, not {} and {}", sym, describe(lt), describe(rt)), "", ctx.file);
          return invalid(e);
        }
        return set(e, Type::of(Kind::Bool, lt.nullable || rt.nullable));
      case Op::Eq:
      case Op::Ne:
        if (lt.kind == Kind::List || rt.kind == Kind::List || !compatible(lt.kind, rt.kind) ||
            lt.kind == Kind::Event || rt.kind == Kind::Event) {
          std::string help;
          if (lt.kind == Kind::Duration && rt.isNumeric()) help = "write a duration, e.g. 90d";
          if (lt.isEnum() && rt.kind == Kind::String) help = fmt::format("{} values are names, not strings: drop the quotes", kindName(lt.kind));
          if (lt.kind == Kind::Time && rt.kind == Kind::Date) help = "compare dates with date(t), or write a time: 2026-01-01T00:00:00";
          error(ErrorCode::IncomparableTypes, e.range, fmt::format("cannot compare {} with {}", describe(lt), describe(rt)), help, ctx.file);
          return invalid(e);
        }
        return set(e, Type::of(Kind::Bool));
      case Op::Lt:
      case Op::Le:
      case Op::Gt:
      case Op::Ge: {
        bool ok = (lt.kind == Kind::Null || isOrderable(lt.kind)) && (rt.kind == Kind::Null || isOrderable(rt.kind)) &&
                  compatible(lt.kind, rt.kind);
        if (!ok) {
          std::string help;
          if (lt.kind == Kind::Duration && rt.isNumeric())
            help = "durations compare with durations: write 90d, not 90";
          else if (rt.kind == Kind::Duration && lt.isNumeric())
            help = "the left side is a number: compare it with a number (90, not 90d)";
          else if ((lt.kind == Kind::Time && rt.kind == Kind::Date) || (lt.kind == Kind::Date && rt.kind == Kind::Time))
            help = "compare date(t) with a date, or a time with a time literal (2026-01-01T00:00:00)";
          else if (lt.isEnum() || rt.isEnum())
            help = "stages, channels and offers have no order; use == or in";
          error(ErrorCode::IncomparableTypes, e.range, fmt::format("cannot compare {} with {}", describe(lt), describe(rt)), help, ctx.file);
          return invalid(e);
        }
        return set(e, Type::of(Kind::Bool));
      }
      case Op::In:
      case Op::NotIn:
        if (rt.kind != Kind::List) {
          error(ErrorCode::InNeedsList, r.range, "`in` needs a list on the right, not " + describe(rt),
                rt.kind == Kind::String ? "for text, use contains(s, part)" : "", ctx.file);
          return invalid(e);
        }
        if (lt.kind == Kind::List || lt.kind == Kind::Event || !compatible(lt.kind, rt.elem)) {
          error(ErrorCode::IncomparableTypes, e.range, fmt::format("cannot look for {} in {}", describe(lt), describe(rt)), "", ctx.file);
          return invalid(e);
        }
        return set(e, Type::of(Kind::Bool));
      case Op::Coalesce: {
        if (lt.kind == Kind::List || rt.kind == Kind::List || !compatible(lt.kind, rt.kind)) {
          error(ErrorCode::OperandTypes, e.range, fmt::format("`??` needs the same type on both sides, not {} and {}", describe(lt), describe(rt)), "", ctx.file);
          return invalid(e);
        }
        Type t = Type::of(widen(lt.kind, rt.kind), rt.nullable);
        return set(e, t);
      }
      default:
        return checkArithmetic(e, lt, rt, ctx);
    }
  }

  Type checkArithmetic(Expr& e, const Type& lt, const Type& rt, Ctx& ctx) {
    Kind a = lt.kind, b = rt.kind;
    bool nullable = lt.nullable || rt.nullable || e.op == Op::Div || e.op == Op::Mod;
    auto num = [](Kind k) { return k == Kind::Int || k == Kind::Float; };
    if (a == Kind::Null || b == Kind::Null) return set(e, Type::of(a == Kind::Null ? b : a, true));
    std::optional<Kind> r;
    switch (e.op) {
      case Op::Add:
        if (num(a) && num(b)) r = widen(a, b);
        else if ((a == Kind::Time && b == Kind::Duration) || (a == Kind::Duration && b == Kind::Time)) r = Kind::Time;
        else if (a == Kind::Duration && b == Kind::Duration) r = Kind::Duration;
        else if ((a == Kind::Date && b == Kind::Duration) || (a == Kind::Duration && b == Kind::Date)) r = Kind::Date;
        break;
      case Op::Sub:
        if (num(a) && num(b)) r = widen(a, b);
        else if (a == Kind::Time && b == Kind::Time) r = Kind::Duration;
        else if (a == Kind::Time && b == Kind::Duration) r = Kind::Time;
        else if (a == Kind::Duration && b == Kind::Duration) r = Kind::Duration;
        else if (a == Kind::Date && b == Kind::Date) r = Kind::Duration;
        else if (a == Kind::Date && b == Kind::Duration) r = Kind::Date;
        break;
      case Op::Mul:
        if (num(a) && num(b)) r = widen(a, b);
        else if ((a == Kind::Duration && num(b)) || (num(a) && b == Kind::Duration)) r = Kind::Duration;
        break;
      case Op::Div:
        if (num(a) && num(b)) r = Kind::Float;
        else if (a == Kind::Duration && num(b)) r = Kind::Duration;
        else if (a == Kind::Duration && b == Kind::Duration) r = Kind::Float;
        break;
      case Op::Mod:
        if (num(a) && num(b)) r = widen(a, b);
        else if (a == Kind::Duration && b == Kind::Duration) r = Kind::Duration;
        break;
      default: break;
    }
    if (!r) {
      std::string help;
      if ((a == Kind::Time && num(b)) || (num(a) && b == Kind::Time)) help = "add a duration to a time: now - 30d";
      if (a == Kind::Time && b == Kind::Date) help = "convert with date(t) to subtract dates";
      error(ErrorCode::OperandTypes, e.range, fmt::format("cannot apply `{}` to {} and {}", ast::opSpelling(e.op), describe(lt), describe(rt)), help, ctx.file);
      return invalid(e);
    }
    return set(e, Type::of(*r, nullable));
  }

  // ---- order -----------------------------------------------------------------------------

  void orderDecisions() {
    const int L = static_cast<int>(out_.lets.size()), S = static_cast<int>(out_.segments.size());
    const int N = L + S + 3;
    std::vector<const std::vector<Dependency>*> deps(N);
    for (int i = 0; i < L; ++i) deps[i] = &out_.lets[i].deps;
    for (int i = 0; i < S; ++i) deps[L + i] = &segDeps_[i];
    for (int k = 0; k < 3; ++k) deps[L + S + k] = &tableDeps_[k];
    std::vector<std::vector<int>> edges(N);
    for (int v = 0; v < N; ++v)
      for (const Dependency& d : *deps[v]) edges[v].push_back(d.node);
    auto nodeName = [&](int n) -> std::string {
      if (n < L) return "let " + out_.lets[n].name;
      if (n < L + S) return "segment " + out_.segments[n - L]->name;
      return std::string(ast::tableKindName(static_cast<ast::TableKind>(n - L - S))) + " table";
    };
    auto nodeRange = [&](int n) -> std::pair<SourceRange, uint32_t> {
      if (n < L) return {out_.lets[n].decl->nameRange, out_.lets[n].file};
      if (n < L + S) return {out_.segments[n - L]->nameRange, 0};
      return {out_.tables[n - L - S]->keywordRange, 0};
    };
    // Tarjan's strongly connected components: every cycle is reported once.
    std::vector<int> index(N, -1), low(N, 0), stack;
    std::vector<bool> onStack(N, false);
    int counter = 0;
    std::vector<std::vector<int>> cycles;
    std::function<void(int)> visit = [&](int v) {
      index[v] = low[v] = counter++;
      stack.push_back(v);
      onStack[v] = true;
      for (int w : edges[v]) {
        if (index[w] < 0) {
          visit(w);
          low[v] = std::min(low[v], low[w]);
        } else if (onStack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
      }
      if (low[v] == index[v]) {
        std::vector<int> comp;
        int w;
        do {
          w = stack.back();
          stack.pop_back();
          onStack[w] = false;
          comp.push_back(w);
        } while (w != v);
        bool selfLoop = std::find(edges[v].begin(), edges[v].end(), v) != edges[v].end();
        if (comp.size() > 1 || selfLoop) cycles.push_back(comp);
      }
    };
    for (int v = 0; v < N; ++v)
      if (index[v] < 0) visit(v);
    for (auto& comp : cycles) {
      // Walk the cycle from its first-declared member for a readable path.
      std::sort(comp.begin(), comp.end());
      int start = comp.front();
      std::vector<int> path{start};
      std::set<int> inComp(comp.begin(), comp.end());
      int cur = start;
      std::set<int> seen{start};
      for (;;) {
        int next = -1;
        for (int w : edges[cur])
          if (inComp.count(w) && (w == start || !seen.count(w))) {
            next = w;
            if (w == start) break;
          }
        if (next < 0 || next == start) break;
        path.push_back(next);
        seen.insert(next);
        cur = next;
      }
      std::string text;
      for (int n : path) text += nodeName(n) + " -> ";
      text += nodeName(start);
      // Point at the reference that starts the cycle: in `let a = b + 1`, at `b`.
      auto [range, file] = nodeRange(start);
      int next = path.size() > 1 ? path[1] : start;
      for (const Dependency& d : *deps[start])
        if (d.node == next) {
          range = d.range;
          break;
        }
      error(ErrorCode::DependencyCycle, range, "dependency cycle: " + text,
            "a let, segment or decision cannot depend on itself, directly or through others", file);
    }
    // Decision order: a table comes after every table it reaches through lets and segments.
    std::vector<int> order;
    std::vector<int> state(3, 0);
    std::function<bool(int, std::vector<bool>&, int)> reaches = [&](int from, std::vector<bool>& seen, int target) {
      for (int w : edges[from]) {
        if (w == target) return true;
        if (seen[w]) continue;
        seen[w] = true;
        if (w >= L + S) continue;  // stop at other tables: they are ordered on their own
        if (reaches(w, seen, target)) return true;
      }
      return false;
    };
    std::vector<std::vector<bool>> before(3, std::vector<bool>(3, false));  // before[a][b]: a needs b
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) {
        if (a == b || !out_.tables[a] || !out_.tables[b]) continue;
        std::vector<bool> seen(N, false);
        before[a][b] = reaches(L + S + a, seen, L + S + b);
      }
    std::function<void(int)> place = [&](int t) {
      if (state[t]) return;
      state[t] = 1;
      for (int b = 0; b < 3; ++b)
        if (before[t][b] && !state[b]) place(b);
      state[t] = 2;
      order.push_back(t);
    };
    for (int t = 0; t < 3; ++t)
      if (out_.tables[t]) place(t);
    for (int t : order) out_.decisionOrder.push_back(static_cast<uint8_t>(t));

    // What each node reaches, for the rules of the passes.
    auto reachesAny = [&](const std::vector<Dependency>& from, const std::function<bool(int)>& target) {
      std::vector<bool> seen(N, false);
      std::vector<int> todo;
      for (const Dependency& d : from) todo.push_back(d.node);
      while (!todo.empty()) {
        int v = todo.back();
        todo.pop_back();
        if (v < 0 || v >= N || seen[v]) continue;
        seen[v] = true;
        if (target(v)) return true;
        for (int w : edges[v]) todo.push_back(w);
      }
      return false;
    };
    auto isChannelOrOffer = [&](int v) { return v == L + S + 1 || v == L + S + 2; };
    for (const auto& [range, deps] : capDeps_)
      if (reachesAny(deps, isChannelOrOffer))
        error(ErrorCode::CapReadsDecision, range, "a cap condition cannot depend on the channel or offer decision",
              "caps apply to the channel once it is chosen; condition them on the customer (account_type, stage, ...)");
    auto readsPopulation = [&](int v) {
      if (v < L) return out_.lets[v].usesPopulation;
      if (v < L + S) return static_cast<bool>(segPopulation_[v - L]);
      return false;
    };
    for (const auto& [range, deps] : quantileDeps_) {
      if (reachesAny(deps, [&](int v) { return v >= L + S; }))
        error(ErrorCode::BadQuantileRank, range, "quantile_rank's value cannot depend on a decision",
              "it is computed for every customer before the stage, channel and offer are decided");
      else if (reachesAny(deps, readsPopulation))
        error(ErrorCode::BadQuantileRank, range, "quantile_rank's value cannot itself use population statistics");
    }
  }

  const ast::Module& main_;
  std::vector<std::unique_ptr<ast::Module>>& preludes_;
  std::vector<SourceFile>& preludeSources_;
  const Config& config_;
  const Schema& schema_;
  CheckedProgram& out_;
  SemanticModel& model_;
  std::vector<Diagnostic>& diags_;

  std::unordered_map<std::string, SourceRange> declared_;
  std::unordered_map<std::string, int> letIndex_, segIndex_, paramIndex_, stageIndex_;
  std::unordered_map<std::string, std::string> modules_;
  std::unordered_map<std::string, std::unordered_map<std::string, int>> preludeScopes_;
  std::unordered_map<std::string, uint32_t> preludeFile_;
  std::vector<std::vector<Dependency>> segDeps_;
  std::vector<uint8_t> segPopulation_;
  std::vector<std::pair<SourceRange, std::vector<Dependency>>> capDeps_, quantileDeps_;
  std::vector<int> segState_;
  std::vector<Dependency> tableDeps_[3];
  std::set<const Expr*> invalid_;  // expressions already reported: no cascade of errors

  std::vector<int> letSymbol_, segmentSymbol_, paramSymbol_, stageSymbol_, fieldSymbol_, eventSymbol_,
      channelSymbol_, offerSymbol_;
};

}  // namespace

void checkProgram(const ast::Module& main, std::vector<std::unique_ptr<ast::Module>>& preludes,
                  std::vector<SourceFile>& preludeSources, const Config& config, CheckedProgram& out,
                  SemanticModel& model, std::vector<Diagnostic>& diags) {
  preludeSources.reserve(8);  // SourceFiles are referenced while their module is parsed
  Checker c(main, preludes, preludeSources, config, out, model, diags);
  c.run();
}

}  // namespace rekindle
