// Hover, go to definition, find references, document symbols and formatting, all read from one
// document's analysis: the annotated AST and the checker's semantic model (symbols + references).
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "internal.h"
#include "rekindle/compiler/format.h"
#include "rekindle/stdlib/builtins.h"

namespace rekindle::lsp {

namespace {

using ast::Expr;
using ast::ExprKind;
using ast::RefKind;

// ---- walking the tree ------------------------------------------------------------------------

template <class F>
void forEachRoot(const ast::Module& m, F&& f) {
  for (const auto& p : m.params)
    if (p.value) f(*p.value);
  for (const auto& l : m.lets)
    if (l.value) f(*l.value);
  for (const auto& s : m.segments)
    if (s.condition) f(*s.condition);
  for (const auto& t : m.tables)
    for (const auto& r : t.rows) {
      if (r.condition) f(*r.condition);
      if (r.limit && r.limit->rankBy) f(*r.limit->rankBy);
    }
  for (const auto& c : m.caps)
    if (c.condition) f(*c.condition);
}

template <class F>
void walk(const Expr& e, F&& f) {
  f(e);
  for (const auto& a : e.args)
    if (a) walk(*a, f);
}

const Expr* innermost(const Expr& e, SourceLoc p) {
  if (!e.range.valid() || !e.range.contains(p)) return nullptr;
  for (const auto& a : e.args)
    if (a)
      if (const Expr* x = innermost(*a, p)) return x;
  return &e;
}

size_t span(SourceRange r) {
  if (r.end.line != r.begin.line) return 1000000u * (r.end.line - r.begin.line) + r.end.col;
  return r.end.col - r.begin.col;
}

// What is at a position: a symbol (through a reference or its declaration), an expression of
// the tree, or a table's keyword.
struct Target {
  int symbol = -1;
  SourceRange range;
  const Expr* expr = nullptr;
  const ast::TableDecl* table = nullptr;
  bool found() const { return symbol >= 0 || expr || table; }
};

Target findTargetAt(const Analysis& a, SourceLoc p) {
  Target t;
  const SemanticModel& model = a.result.model;
  size_t best = SIZE_MAX;
  for (const auto& r : model.references) {
    if (r.symbol < 0 || r.symbol >= static_cast<int>(model.symbols.size())) continue;
    if (r.range.valid() && r.range.contains(p) && span(r.range) < best) {
      best = span(r.range);
      t.symbol = r.symbol;
      t.range = r.range;
    }
  }
  if (t.symbol < 0) {
    for (size_t i = 0; i < model.symbols.size(); ++i) {
      const Symbol& s = model.symbols[i];
      if (s.file == a.source.path() && s.range.valid() && s.range.contains(p)) {
        t.symbol = static_cast<int>(i);
        t.range = s.range;
        break;
      }
    }
  }
  if (!a.result.module) return t;
  const ast::Module& m = *a.result.module;
  forEachRoot(m, [&](const Expr& root) {
    if (t.expr) return;
    t.expr = innermost(root, p);
  });
  // A module alias before a dot (`rfm` in rfm.r) is not recorded as a reference: resolve it here.
  if (t.symbol < 0 && t.expr && t.expr->kind == ExprKind::Name && t.expr->ref.kind == RefKind::Module) {
    t.symbol = model.find(SymbolKind::Module, t.expr->name);
    t.range = t.expr->range;
  }
  if (!t.found())
    for (const auto& table : m.tables)
      if (table.keywordRange.valid() && table.keywordRange.contains(p)) t.table = &table;
  return t;
}

// The position itself, or just before it: a cursor right after a word means that word.
Target findTarget(const Analysis& a, Position pos) {
  SourceLoc p = a.loc(pos);
  Target t = findTargetAt(a, p);
  if (t.symbol < 0 && p.col > 1) {
    Target before = findTargetAt(a, SourceLoc{p.line, p.col - 1});
    if (before.symbol >= 0 || !t.found()) t = before;
  }
  return t;
}

std::string sourceText(const SourceFile& src, SourceRange r) {
  if (!r.valid()) return "";
  size_t b = src.offsetOf(r.begin), e = src.offsetOf(r.end);
  if (e <= b) return "";
  return src.text().substr(b, e - b);
}

std::string clip(std::string s, size_t max = 400) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // whole code points
  return s.substr(0, cut) + " ...";
}

std::string codeBlock(const std::string& code) { return "```rekindle\n" + code + "\n```"; }

std::string configName(const Analysis& a) {
  if (!a.config || a.config->path.empty()) return "rekindle.yaml";
  size_t slash = a.config->path.rfind('/');
  return slash == std::string::npos ? a.config->path : a.config->path.substr(slash + 1);
}

std::string configKey(const Symbol& s) {
  switch (s.kind) {
    case SymbolKind::CustomerField: return "customer:" + s.name;
    case SymbolKind::EventField: return "event:" + s.name;
    case SymbolKind::Channel: return "channel:" + s.name;
    case SymbolKind::Offer: return "offer:" + s.name;
    default: return "";
  }
}

std::string configLine(const Analysis& a, const Symbol& s) {
  if (!a.config) return "";
  std::string key = configKey(s);
  const SourceRange* r = key.empty() ? nullptr : a.config->location(key);
  if (!r || !r->valid()) return "";
  return fmt::format("Declared in `{}`, line {}.", configName(a), r->begin.line);
}

// ---- hover -----------------------------------------------------------------------------------

std::string builtinHover(const std::vector<int>& overloads, int chosen) {
  if (overloads.empty()) return "";
  const auto& table = builtins();
  std::vector<int> order = overloads;
  if (chosen >= 0) {
    order.erase(std::remove(order.begin(), order.end(), chosen), order.end());
    order.insert(order.begin(), chosen);
  }
  const Builtin& first = table[order[0]];
  std::string prefix = first.module.empty() ? "" : first.module + ".";
  std::string sigs;
  for (int i : order) sigs += (sigs.empty() ? "" : "\n") + prefix + table[i].signature;
  std::string out = codeBlock(sigs);
  std::set<std::string> docs;
  for (int i : order)
    if (docs.insert(table[i].doc).second) out += "\n\n" + table[i].doc;
  if (first.property)
    out += "\n\nA property: write `" + prefix + first.name + "`, without parentheses.";
  if (first.population) out += "\n\nA population statistic: it needs a first pass over every customer.";
  return out;
}

std::string moduleHover(const Analysis& a, const Symbol& s) {
  std::string module = s.doc.size() > 11 && s.doc.compare(0, 11, "module std.") == 0 ? s.doc.substr(11) : s.name;
  std::string out = codeBlock("use std." + module + (module == s.name ? "" : " as " + s.name));
  std::vector<std::string> members;
  if (isNativeModule(module)) {
    std::set<std::string> seen;
    for (const auto& b : builtins())
      if (b.module == module && seen.insert(b.name).second) members.push_back(b.property ? b.name : b.name + "()");
  } else {
    for (const auto& sym : a.result.model.symbols)
      if (sym.kind == SymbolKind::Let && sym.qualifier == s.name) members.push_back(sym.name);
  }
  if (!members.empty()) {
    std::string list;
    for (const auto& m : members) list += (list.empty() ? "" : ", ") + ("`" + s.name + "." + m + "`");
    out += "\n\nMembers: " + list + ".";
  }
  return out;
}

std::string symbolHover(const Analysis& a, const Symbol& s) {
  const ast::Module* m = a.result.module.get();
  const Config* cfg = a.cfg();
  std::string type = typeText(s.type);
  std::string out;
  switch (s.kind) {
    case SymbolKind::Let: {
      std::string decl;
      if (s.qualifier.empty() && m) {
        for (const auto& l : m->lets)
          if (l.name == s.name && l.nameRange.begin == s.range.begin) decl = sourceText(a.source, l.range);
      } else {
        for (const auto& src : a.result.preludeSources)
          if (src.path() == s.file) decl = std::string(src.line(s.range.begin.line));
        // Keep the declaration, not the comment after it.
        size_t hash = decl.find('#');
        if (hash != std::string::npos) decl = decl.substr(0, hash);
        while (!decl.empty() && decl.back() == ' ') decl.pop_back();
      }
      if (decl.empty()) decl = "let " + s.name;
      out = codeBlock(clip(decl));
      if (!type.empty()) out += "\n\n**type** `" + type + "`";
      if (!s.qualifier.empty()) out += "\n\nFrom `" + s.file + "` (`" + s.qualifier + "." + s.name + "`).";
      if (!s.doc.empty()) out += "\n\n" + s.doc;
      return out;
    }
    case SymbolKind::Segment: {
      std::string decl;
      if (m)
        for (const auto& seg : m->segments)
          if (seg.name == s.name && seg.nameRange.begin == s.range.begin) decl = sourceText(a.source, seg.range);
      out = codeBlock(clip(decl.empty() ? "segment " + s.name : decl));
      out += "\n\n**type** `bool` — a segment: listed in the output for every customer it is true for.";
      if (!s.doc.empty()) out += "\n\n" + s.doc;
      return out;
    }
    case SymbolKind::Param: {
      std::string decl;
      if (m)
        for (const auto& p : m->params)
          if (p.name == s.name && p.nameRange.begin == s.range.begin) decl = sourceText(a.source, p.range);
      out = codeBlock(clip(decl.empty() ? "param " + s.name : decl));
      if (!type.empty()) out += "\n\n**type** `" + type + "`";
      out += "\n\nA param: the config's `params:` or `--param " + s.name + "=VALUE` overrides it.";
      if (cfg)
        for (const auto& p : cfg->params)
          if (p.name == s.name) out += fmt::format("\n\n`{}` sets it to `{}` (line {}).", configName(a), p.text, p.line);
      return out;
    }
    case SymbolKind::Stage: {
      out = codeBlock("stage " + s.name);
      if (m)
        for (const auto& t : m->tables)
          if (t.kind == ast::TableKind::Stage)
            for (const auto& row : t.rows)
              if (row.outcome == s.name) {
                out += "\n\nA stage of the stage table: `" + clip(sourceText(a.source, row.range), 200) + "`";
                break;
              }
      return out;
    }
    case SymbolKind::CustomerField: {
      out = codeBlock("customer field " + s.name + ": " + type);
      if (s.index == 0) out += "\n\nThe customer id (`customers.id` in the config).";
      if (cfg && s.index >= 0 && s.index < static_cast<int>(cfg->schema.customerFields.size())) {
        const FieldSpec& f = cfg->schema.customerFields[s.index];
        if (!f.column.empty() && f.column != f.name) out += "\n\nRead from the column `" + f.column + "`.";
        for (const auto& c : cfg->channels) {
          if (c.consent == s.name) out += "\n\nThe consent field of channel `" + c.name + "`.";
          if (c.requires == s.name) out += "\n\nRequired by channel `" + c.name + "` (it must be non-empty).";
        }
      }
      std::string where = configLine(a, s);
      if (!where.empty()) out += "\n\n" + where;
      return out;
    }
    case SymbolKind::EventField: {
      out = codeBlock("event field " + s.name + ": " + type);
      if (s.index == 0) out += "\n\nThe event's time (`at` names it too).";
      out += "\n\nA plain name inside `where` and `streak` conditions; elsewhere project it from a list of events: `purchases." +
             s.name + "`.";
      std::string where = configLine(a, s);
      if (!where.empty()) out += "\n\n" + where;
      return out;
    }
    case SymbolKind::Channel: {
      out = codeBlock("channel " + s.name);
      if (const ChannelSpec* c = cfg ? cfg->channel(s.name) : nullptr) {
        out += "\n\nConsent field: `" + c->consent + "`";
        if (!c->requires.empty()) out += "; requires `" + c->requires + "`";
        if (c->quiet) out += "; quiet hours " + c->quiet->text;
        out += ".";
      } else if (!s.doc.empty()) {
        out += "\n\n" + s.doc;
      }
      std::string where = configLine(a, s);
      if (!where.empty()) out += "\n\n" + where;
      return out;
    }
    case SymbolKind::Offer: {
      out = codeBlock("offer " + s.name);
      if (const OfferSpec* o = cfg ? cfg->offer(s.name) : nullptr) {
        if (!o->description.empty()) out += "\n\n" + o->description;
        out += fmt::format("\n\nCost: {}", o->cost);
      } else if (!s.doc.empty()) {
        out += "\n\n" + s.doc;
      }
      std::string where = configLine(a, s);
      if (!where.empty()) out += "\n\n" + where;
      return out;
    }
    case SymbolKind::Module: return moduleHover(a, s);
    case SymbolKind::Builtin: return codeBlock(s.name) + (s.doc.empty() ? "" : "\n\n" + s.doc);
  }
  return "";
}

std::string exprHover(const Analysis& a, const Expr& e, SourceLoc p) {
  std::string type = typeText(e.type);
  switch (e.kind) {
    case ExprKind::Call:
    case ExprKind::MethodCall:
    case ExprKind::Member: {
      bool onName = e.nameRange.valid() && (e.nameRange.contains(p) || e.nameRange.end == p);
      if (e.ref.kind == RefKind::Builtin && e.ref.index >= 0 && e.ref.index < static_cast<int>(builtins().size())) {
        const Builtin& b = builtins()[e.ref.index];
        std::string out = builtinHover(findBuiltins(b.module, b.name), e.ref.index);
        if (!type.empty()) out += "\n\n**here** `" + type + "`";
        return out;
      }
      if (e.ref.kind == RefKind::PreviousField) {
        static const char* kNames[] = {"stage", "channel", "offer", "at"};
        int i = std::clamp(e.ref.index, 0, 3);
        return codeBlock("previous." + std::string(kNames[i]) + ": " + type) +
               "\n\nThe customer's " + kNames[i] + (i == 3 ? " time" : "") +
               " in the previous run's decisions (`rekindle run --previous FILE`); null when there is none.";
      }
      if (e.kind == ExprKind::Call && onName) {
        // Unresolved (wrong arguments, say): still show what the function takes.
        std::string out = builtinHover(findBuiltins("", e.name), -1);
        if (!out.empty()) return out;
      }
      if (e.kind == ExprKind::Member && !type.empty()) return codeBlock("." + e.name + ": " + type);
      break;
    }
    case ExprKind::Decision: {
      const char* name = ast::tableKindName(e.decision);
      return codeBlock(std::string(name) + ": " + type) + "\n\nThe customer's " + name +
             " decision: the outcome of the first matching row of the " + name + " table.";
    }
    case ExprKind::Name:
      if (e.ref.kind == RefKind::Events)
        return codeBlock("events: " + (type.empty() ? std::string("events") : type)) +
               "\n\nThe customer's events, oldest first. Filter them with `events where COND`.";
      break;
    case ExprKind::Now: return codeBlock("now: time") + "\n\nThe run's as-of time (`--as-of`, else the config's `as_of`, else the clock at start).";
    case ExprKind::Today: return codeBlock("today: date") + "\n\nThe as-of date in the config's time zone.";
    default: break;
  }
  if (type.empty()) return "";
  return codeBlock(clip(sourceText(a.source, e.range), 120) + ": " + type);
}

// ---- locations -------------------------------------------------------------------------------

std::optional<json> symbolLocation(const Analysis& a, const Symbol& s) {
  if (s.file == a.source.path() && s.range.valid()) return json{{"uri", a.uri}, {"range", a.range(s.range)}};
  if (!a.config || a.config->path.empty()) return std::nullopt;
  std::string key = configKey(s);
  const SourceRange* r = key.empty() ? nullptr : a.config->location(key);
  if (!r || !r->valid()) return std::nullopt;
  LineIndex index(a.config->text);
  return json{{"uri", a.config->uri()}, {"range", rangeJson(index, *r)}};
}

}  // namespace

json hover(const Analysis& a, Position pos) {
  Target t = findTarget(a, pos);
  std::string text;
  SourceRange range;
  SourceLoc p = a.loc(pos);
  // A builtin's name inside a call wins over the reference ranges (there are none for it).
  if (t.symbol >= 0 && t.symbol < static_cast<int>(a.result.model.symbols.size())) {
    text = symbolHover(a, a.result.model.symbols[t.symbol]);
    range = t.range;
  } else if (t.expr) {
    text = exprHover(a, *t.expr, p);
    range = (t.expr->nameRange.valid() && t.expr->kind != ExprKind::Name) ? t.expr->nameRange : t.expr->range;
  } else if (t.table) {
    const char* name = ast::tableKindName(t.table->kind);
    text = codeBlock(std::string(name) + " ... end") +
           fmt::format("\n\nThe {} table: {} row{}, tried top to bottom; the first whose condition is true wins.", name,
                       t.table->rows.size(), t.table->rows.size() == 1 ? "" : "s");
    range = t.table->keywordRange;
  }
  if (text.empty()) return nullptr;
  json out{{"contents", {{"kind", "markdown"}, {"value", text}}}};
  if (range.valid()) out["range"] = a.range(range);
  return out;
}

json definition(const Analysis& a, Position pos) {
  Target t = findTarget(a, pos);
  if (t.symbol < 0) return nullptr;
  auto loc = symbolLocation(a, a.result.model.symbols[t.symbol]);
  if (!loc) return nullptr;
  return *loc;
}

json references(const Analysis& a, Position pos, bool includeDeclaration) {
  Target t = findTarget(a, pos);
  json out = json::array();
  if (t.symbol < 0) return out;
  const SemanticModel& model = a.result.model;
  const Symbol& s = model.symbols[t.symbol];
  std::set<std::tuple<uint32_t, uint32_t, uint32_t, uint32_t>> seen;
  auto add = [&](SourceRange r) {
    if (!r.valid()) return;
    if (!seen.insert({r.begin.line, r.begin.col, r.end.line, r.end.col}).second) return;
    out.push_back(json{{"uri", a.uri}, {"range", a.range(r)}});
  };
  bool declInMain = s.file == a.source.path() && s.range.valid();
  if (includeDeclaration) {
    if (declInMain) add(s.range);
    else if (auto loc = symbolLocation(a, s)) out.push_back(*loc);
  } else if (declInMain) {
    seen.insert({s.range.begin.line, s.range.begin.col, s.range.end.line, s.range.end.col});
  }
  std::vector<SourceRange> found;
  for (const auto& r : model.references)
    if (r.symbol == t.symbol) found.push_back(r.range);
  if (s.kind == SymbolKind::Module && a.result.module)
    forEachRoot(*a.result.module, [&](const Expr& root) {
      walk(root, [&](const Expr& e) {
        if (e.kind == ExprKind::Name && e.ref.kind == RefKind::Module && e.name == s.name) found.push_back(e.range);
      });
    });
  std::sort(found.begin(), found.end(), [](const SourceRange& x, const SourceRange& y) { return x.begin < y.begin; });
  for (const auto& r : found) add(r);
  return out;
}

// ---- document symbols ------------------------------------------------------------------------

namespace {

constexpr int kSymModule = 2, kSymNamespace = 3, kSymEnum = 10, kSymVariable = 13, kSymConstant = 14,
              kSymBoolean = 17, kSymEnumMember = 22, kSymEvent = 24;

json docSymbol(const Analysis& a, const std::string& name, int kind, SourceRange range, SourceRange selection,
               const std::string& detail = "") {
  if (!selection.valid() || selection.begin < range.begin || range.end < selection.end) selection = range;
  json s{{"name", name.empty() ? "?" : name}, {"kind", kind}, {"range", a.range(range)}, {"selectionRange", a.range(selection)}};
  if (!detail.empty()) s["detail"] = detail;
  return s;
}

std::string oneLine(std::string s, size_t max = 80) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  std::string out;
  for (char c : s)
    if (!(c == ' ' && !out.empty() && out.back() == ' ')) out += c;
  return clip(out, max);
}

}  // namespace

json documentSymbols(const Analysis& a) {
  json out = json::array();
  if (!a.result.module) return out;
  const ast::Module& m = *a.result.module;
  const SemanticModel& model = a.result.model;
  auto typeOf = [&](SymbolKind k, const std::string& name) {
    int i = model.find(k, name);
    return i >= 0 ? typeText(model.symbols[i].type) : std::string();
  };
  if (m.header && m.header->range.valid())
    out.push_back(docSymbol(a, "rules " + m.header->name, kSymNamespace, m.header->range, m.header->nameRange,
                            m.header->hasVersion ? "version " + std::to_string(m.header->version) : ""));
  for (const auto& [kind, i] : m.order) {
    switch (kind) {
      case ast::DeclKind::Use: {
        const auto& u = m.uses[i];
        std::string path;
        for (const auto& p : u.path) path += (path.empty() ? "" : ".") + p;
        out.push_back(docSymbol(a, u.effectiveAlias(), kSymModule, u.range, u.pathRange, "use " + path));
        break;
      }
      case ast::DeclKind::Param: {
        const auto& p = m.params[i];
        out.push_back(docSymbol(a, p.name, kSymConstant, p.range, p.nameRange, typeOf(SymbolKind::Param, p.name)));
        break;
      }
      case ast::DeclKind::Let: {
        const auto& l = m.lets[i];
        out.push_back(docSymbol(a, l.name, kSymVariable, l.range, l.nameRange, typeOf(SymbolKind::Let, l.name)));
        break;
      }
      case ast::DeclKind::Segment: {
        const auto& s = m.segments[i];
        out.push_back(docSymbol(a, s.name, kSymBoolean, s.range, s.nameRange, "segment"));
        break;
      }
      case ast::DeclKind::Table: {
        const auto& t = m.tables[i];
        json table = docSymbol(a, ast::tableKindName(t.kind), kSymEnum, t.range, t.keywordRange,
                               fmt::format("{} row{}", t.rows.size(), t.rows.size() == 1 ? "" : "s"));
        json rows = json::array();
        for (const auto& r : t.rows) {
          std::string detail = r.condition ? "when " + oneLine(sourceText(a.source, r.condition->range)) : "otherwise";
          if (r.limit) detail += " limit " + (r.limit->limitParam.empty() ? r.limit->limitText : r.limit->limitParam);
          rows.push_back(docSymbol(a, r.outcome, kSymEnumMember, r.range, r.outcomeRange, detail));
        }
        table["children"] = rows;
        out.push_back(table);
        break;
      }
      case ast::DeclKind::Cap: {
        const auto& c = m.caps[i];
        std::string windows;
        for (const auto& w : c.windows)
          windows += (windows.empty() ? "" : ", ") + w.countText + " per " + (w.calendar ? "calendar " : "") + w.unit;
        out.push_back(docSymbol(a, "cap " + c.target, kSymEvent, c.range, c.targetRange, windows));
        break;
      }
      case ast::DeclKind::Holdout: {
        const auto& h = m.holdouts[i];
        out.push_back(docSymbol(a, "holdout " + h.percentText, kSymConstant, h.range, h.range,
                                h.hasSalt ? "salt \"" + h.salt + "\"" : ""));
        break;
      }
    }
  }
  return out;
}

// ---- formatting ------------------------------------------------------------------------------

json formatting(const Analysis& a) {
  std::vector<Diagnostic> diags;
  std::optional<std::string> formatted = formatRules(a.source, diags);
  if (!formatted) return nullptr;  // it does not parse: nothing to do (the diagnostics say why)
  if (*formatted == a.source.text()) return json::array();
  Position end = a.index->end();
  json edit{{"range", {{"start", positionJson(Position{})}, {"end", positionJson(end)}}}, {"newText", *formatted}};
  return json::array({edit});
}

}  // namespace rekindle::lsp
