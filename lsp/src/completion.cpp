// Completion. The text being typed rarely parses, so the context comes from a small lexer run
// over the text before the cursor (which table we are in, whether a `where` or `streak`
// condition is open, what the previous tokens are); the names come from the semantic model of
// the latest compile (and of the last one without syntax errors, for what a typo hid).
#include <algorithm>
#include <map>
#include <set>

#include "internal.h"
#include "rekindle/stdlib/builtins.h"

namespace rekindle::lsp {

namespace {

// ---- a lexer good enough for context ---------------------------------------------------------

enum class T { Word, Number, String, Punct };

struct Tok {
  T kind;
  std::string text;
  size_t begin, end;
  bool closed = true;  // strings: has its closing quote
};

bool identStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool identChar(char c) { return identStart(c) || (c >= '0' && c <= '9'); }

// Lexes text[0, end). Returns false when `end` is inside a comment.
bool lex(std::string_view text, size_t end, std::vector<Tok>& out) {
  size_t i = 0;
  while (i < end) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f') {
      ++i;
    } else if (c == '#') {
      size_t nl = text.find('\n', i);
      if (nl == std::string_view::npos || nl >= end) return false;
      i = nl + 1;
    } else if (c == '"') {
      size_t j = i + 1;
      bool closed = false;
      while (j < end && text[j] != '\n') {
        if (text[j] == '\\' && j + 1 < end) {
          j += 2;
          continue;
        }
        if (text[j] == '"') {
          closed = true;
          ++j;
          break;
        }
        ++j;
      }
      Tok t{T::String, std::string(text.substr(i, j - i)), i, j, closed};
      out.push_back(t);
      i = j;
    } else if (identStart(c)) {
      size_t j = i;
      while (j < end && identChar(text[j])) ++j;
      out.push_back(Tok{T::Word, std::string(text.substr(i, j - i)), i, j});
      i = j;
    } else if (c >= '0' && c <= '9') {
      size_t j = i;
      while (j < end && (identChar(text[j]) || text[j] == '.' || text[j] == '%' || text[j] == ':')) ++j;
      out.push_back(Tok{T::Number, std::string(text.substr(i, j - i)), i, j});
      i = j;
    } else {
      static const char* two[] = {"==", "!=", "<=", ">=", "??"};
      std::string p(1, c);
      for (const char* t : two)
        if (i + 1 < end && text[i] == t[0] && text[i + 1] == t[1]) p = t;
      out.push_back(Tok{T::Punct, p, i, i + p.size()});
      i += p.size();
    }
  }
  return true;
}

const std::set<std::string>& keywords() {
  static const std::set<std::string> k = {
      "rules", "version", "use",  "as",      "param", "let",  "segment", "stage", "channel", "offer",
      "end",   "when",    "otherwise", "limit", "rank", "by", "asc",     "desc",  "cap",     "per",
      "calendar", "holdout", "salt", "where", "and", "or",   "not",     "in",    "is",      "null",
      "true",  "false",   "none", "now",     "today", "previous"};
  return k;
}

bool isWord(const Tok& t, const char* w) { return t.kind == T::Word && t.text == w; }

// Can an expression end with this token (so a following word starts something new)?
bool valueEnding(const Tok& t) {
  if (t.kind == T::Number || t.kind == T::String) return true;
  if (t.kind == T::Punct) return t.text == ")" || t.text == "]";
  if (!keywords().count(t.text)) return true;
  static const std::set<std::string> values = {"null", "true", "false", "none", "now", "today", "previous",
                                               "stage", "channel", "offer", "end", "otherwise", "asc", "desc"};
  return values.count(t.text) > 0;
}

int tableKind(const Tok& t) {
  if (isWord(t, "stage")) return 0;
  if (isWord(t, "channel")) return 1;
  if (isWord(t, "offer")) return 2;
  return -1;
}

struct Frame {
  std::string open;  // "", "(", "["
  size_t openIndex = 0;
  bool where = false;    // a `where` condition runs to the end of this frame
  bool streak = false;   // the parentheses of streak(...)
  int arg = 0;
  bool element = false;  // streak's condition
};

struct Context {
  std::vector<Tok> toks;    // before the word being typed
  std::string word;         // the partial word at the cursor
  bool wordAtLineStart = false;
  int table = -1;           // inside a stage (0), channel (1) or offer (2) table
  size_t tableStart = 0;    // token index of its keyword
  std::vector<Frame> frames;
  bool element() const {
    for (const auto& f : frames)
      if (f.where || f.element) return true;
    return false;
  }
};

void scan(Context& c) {
  c.frames.assign(1, Frame{});
  auto reset = [&] { c.frames.assign(1, Frame{}); };
  static const std::set<std::string> decl = {"let", "segment", "param", "use", "rules", "cap", "holdout"};
  for (size_t i = 0; i < c.toks.size(); ++i) {
    const Tok& t = c.toks[i];
    if (t.kind == T::Word) {
      if (decl.count(t.text)) {
        reset();
        c.table = -1;
      } else if (tableKind(t) >= 0 && c.table < 0 && c.frames.size() == 1 &&
                 (i == 0 || valueEnding(c.toks[i - 1])) && !(i > 0 && c.toks[i - 1].text == ".")) {
        c.table = tableKind(t);
        c.tableStart = i;
        reset();
      } else if (t.text == "end" && c.table >= 0 && !(i > 0 && c.toks[i - 1].text == ".")) {
        c.table = -1;
        reset();
      } else if (t.text == "when" || t.text == "otherwise") {
        reset();
      } else if (t.text == "limit" || t.text == "rank") {
        c.frames.resize(1);
        c.frames[0].where = false;
      } else if (t.text == "where") {
        c.frames.back().where = true;
      }
    } else if (t.kind == T::Punct) {
      if (t.text == "(" || t.text == "[") {
        Frame f;
        f.open = t.text;
        f.openIndex = i;
        f.streak = t.text == "(" && i > 0 && isWord(c.toks[i - 1], "streak");
        c.frames.push_back(f);
      } else if (t.text == ")" || t.text == "]") {
        if (c.frames.size() > 1) c.frames.pop_back();
      } else if (t.text == ",") {
        Frame& f = c.frames.back();
        ++f.arg;
        f.where = false;
        if (f.streak && f.arg >= 1) f.element = true;
      }
    }
  }
}

// ---- items -----------------------------------------------------------------------------------

enum ItemKind {
  kFunction = 3, kField = 5, kVariable = 6, kModule = 9, kProperty = 10, kValue = 12, kKeyword = 14,
  kEnumMember = 20, kConstant = 21
};

class Items {
 public:
  void add(const std::string& label, int kind, const std::string& detail, const std::string& doc, const std::string& sort) {
    if (label.empty() || !seen_.insert(label).second) return;
    json item{{"label", label}, {"kind", kind}, {"sortText", sort + label}};
    if (!detail.empty()) item["detail"] = detail;
    if (!doc.empty()) item["documentation"] = {{"kind", "markdown"}, {"value", doc}};
    items_.push_back(std::move(item));
  }
  json result() { return json{{"isIncomplete", false}, {"items", std::move(items_)}}; }

 private:
  std::set<std::string> seen_;
  json items_ = json::array();
};

// The symbols to offer: the current model's, then the last good compile's for names a syntax
// error has hidden.
std::vector<const Symbol*> symbolsOf(const Analysis& a, const Analysis* lastGood, SymbolKind kind) {
  std::vector<const Symbol*> out;
  std::set<std::string> names;
  auto take = [&](const Analysis& from) {
    for (const auto& s : from.result.model.symbols)
      if (s.kind == kind && s.qualifier.empty() && names.insert(s.name).second) out.push_back(&s);
  };
  take(a);
  if (lastGood && lastGood != &a && !a.syntaxOk) take(*lastGood);
  return out;
}

void addEnum(const Analysis& a, const Analysis* lastGood, int kind, Items& items, const std::string& sort) {
  const Config* cfg = a.cfg();
  if (kind == 0) {
    for (const Symbol* s : symbolsOf(a, lastGood, SymbolKind::Stage)) items.add(s->name, kEnumMember, "stage", "", sort);
    return;
  }
  if (kind == 1 && cfg)
    for (const auto& ch : cfg->channels)
      items.add(ch.name, kEnumMember, "channel",
                "consent `" + ch.consent + "`" + (ch.requires.empty() ? "" : ", requires `" + ch.requires + "`"), sort);
  if (kind == 2 && cfg)
    for (const auto& o : cfg->offers) items.add(o.name, kEnumMember, "offer", o.description, sort);
  items.add("none", kKeyword, kind == 1 ? "no channel" : "no offer", "", sort + "~");
}

std::string signatures(const std::vector<int>& overloads) {
  std::string out;
  for (int i : overloads) {
    const Builtin& b = builtins()[i];
    out += (out.empty() ? "" : "\n") + (b.module.empty() ? "" : b.module + ".") + b.signature;
  }
  return out;
}

void addBuiltins(const std::string& module, Items& items, const std::string& sort) {
  std::map<std::string, std::vector<int>> byName;
  std::vector<std::string> order;
  for (size_t i = 0; i < builtins().size(); ++i) {
    const Builtin& b = builtins()[i];
    if (b.module != module) continue;
    if (!byName.count(b.name)) order.push_back(b.name);
    byName[b.name].push_back(static_cast<int>(i));
  }
  for (const auto& name : order) {
    const auto& ov = byName[name];
    const Builtin& first = builtins()[ov[0]];
    std::string detail = (module.empty() ? "" : module + ".") + first.signature;
    if (ov.size() > 1) detail += " (+" + std::to_string(ov.size() - 1) + " overload" + (ov.size() > 2 ? "s" : "") + ")";
    std::string doc = "```rekindle\n" + signatures(ov) + "\n```\n\n" + first.doc;
    items.add(name, first.property ? kProperty : kFunction, detail, doc, sort);
  }
}

// `use` aliases and the module each names, from the model or, failing that, from the tokens.
std::map<std::string, std::string> moduleAliases(const Analysis& a, const std::vector<Tok>& toks) {
  std::map<std::string, std::string> out;
  for (const auto& s : a.result.model.symbols)
    if (s.kind == SymbolKind::Module && s.doc.compare(0, 11, "module std.") == 0) out[s.name] = s.doc.substr(11);
  for (size_t i = 0; i + 3 < toks.size(); ++i) {
    if (!isWord(toks[i], "use") || toks[i + 1].text != "std" || toks[i + 2].text != ".") continue;
    std::string module = toks[i + 3].text, alias = module;
    if (i + 5 < toks.size() && isWord(toks[i + 4], "as") && toks[i + 5].kind == T::Word) alias = toks[i + 5].text;
    out.emplace(alias, module);
  }
  return out;
}

void addModuleMembers(const Analysis& a, const std::string& alias, const std::string& module, Items& items) {
  if (isNativeModule(module)) {
    addBuiltins(module, items, "0");
    return;
  }
  const char* text = preludeSource(module);
  if (!text) return;
  // Types come from the model (prelude lets are typed when used); docs from the prelude itself.
  std::map<std::string, std::string> types;
  for (const auto& s : a.result.model.symbols)
    if (s.kind == SymbolKind::Let && s.qualifier == alias) types[s.name] = typeText(s.type);
  SourceFile src("std/" + module + ".rules", text);
  ParseResult pr = parseRules(src);
  for (const auto& l : pr.module->lets) {
    std::string line(src.line(l.range.begin.line));
    size_t hash = line.find('#');
    if (hash != std::string::npos) line = line.substr(0, hash);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::string doc = "```rekindle\n" + line + "\n```";
    if (!l.doc.empty()) doc += "\n\n" + l.doc;
    std::string type = types.count(l.name) ? types[l.name] : "";
    items.add(l.name, kVariable, type.empty() ? "std." + module : type + " — std." + module, doc, "0");
  }
}

void addKeywords(const std::vector<std::string>& words, Items& items, const std::string& sort = "6") {
  for (const auto& w : words) items.add(w, kKeyword, "", "", sort);
}

void addExpression(const Analysis& a, const Analysis* lastGood, bool element, Items& items) {
  const Config* cfg = a.cfg();
  if (element && cfg) {
    for (const auto& f : cfg->schema.eventFields)
      items.add(f.name, kField, "event field: " + typeText(f.type), "", "0");
    if (!cfg->schema.eventFields.empty()) items.add("at", kField, "event time: time", "", "0");
  }
  for (const Symbol* s : symbolsOf(a, lastGood, SymbolKind::Let)) {
    std::string type = typeText(s->type);
    items.add(s->name, kVariable, type.empty() ? "let" : "let: " + type, s->doc, "1");
  }
  for (const Symbol* s : symbolsOf(a, lastGood, SymbolKind::Segment)) items.add(s->name, kVariable, "segment: bool", s->doc, "1");
  for (const Symbol* s : symbolsOf(a, lastGood, SymbolKind::Param))
    items.add(s->name, kConstant, "param: " + typeText(s->type), "", "1");
  if (cfg) {
    for (size_t i = 0; i < cfg->schema.customerFields.size(); ++i) {
      const FieldSpec& f = cfg->schema.customerFields[i];
      items.add(f.name, kField, (i == 0 ? "customer id: " : "customer field: ") + typeText(f.type), "", "2");
    }
    if (cfg->schema.hasEvents) items.add("events", kVariable, "events", "The customer's events, oldest first.", "2");
  }
  for (const Symbol* s : symbolsOf(a, lastGood, SymbolKind::Stage)) items.add(s->name, kEnumMember, "stage", "", "3");
  addBuiltins("", items, "4");
  for (const Symbol* s : symbolsOf(a, lastGood, SymbolKind::Module)) items.add(s->name, kModule, s->doc, "", "5");
  addKeywords({"now", "today", "previous", "stage", "channel", "offer", "not", "null", "true", "false", "none"}, items);
}

}  // namespace

json completion(const Analysis& a, const Analysis* lastGood, Position pos) {
  Items items;
  const std::string& text = a.source.text();
  size_t cursor = a.index->offsetOf(pos);
  Context c;
  if (!lex(text, cursor, c.toks)) return items.result();  // in a comment
  if (!c.toks.empty()) {
    const Tok& last = c.toks.back();
    if (last.kind == T::String && last.end == cursor && !last.closed) {
      // Inside a string: only holiday("...") has names to offer.
      size_t n = c.toks.size();
      if (n >= 3 && c.toks[n - 2].text == "(" && isWord(c.toks[n - 3], "holiday") && a.cfg())
        for (const auto& [name, dates] : a.cfg()->calendar) items.add(name, kConstant, "calendar entry", "", "0");
      return items.result();
    }
    if (last.kind == T::Number && last.end == cursor) return items.result();  // typing a number
    if (last.kind == T::Word && last.end == cursor) {
      c.word = last.text;
      c.toks.pop_back();
    }
  }
  {
    size_t wordBegin = cursor - c.word.size();
    size_t lineStart = text.rfind('\n', wordBegin == 0 ? 0 : wordBegin - 1);
    lineStart = (lineStart == std::string::npos || wordBegin == 0) ? 0 : lineStart + 1;
    if (wordBegin == 0) lineStart = 0;
    c.wordAtLineStart = text.find_first_not_of(" \t\r", lineStart) >= wordBegin;
  }
  scan(c);
  const Config* cfg = a.cfg();
  const size_t n = c.toks.size();
  const Tok* prev = n ? &c.toks[n - 1] : nullptr;
  const Tok* prev2 = n > 1 ? &c.toks[n - 2] : nullptr;

  // After a dot: module members, previous's fields, event fields.
  if (prev && prev->text == ".") {
    if (!prev2) return items.result();
    if (n >= 3 && isWord(c.toks[n - 3], "use") && prev2->text == "std") {
      for (const char* m : {"rfm", "clv", "lifecycle"}) items.add(m, kModule, std::string("std.") + m, "", "0");
      return items.result();
    }
    if (isWord(*prev2, "previous")) {
      items.add("stage", kField, "stage?", "The stage in the previous run's decisions.", "0");
      items.add("channel", kField, "channel?", "The channel in the previous run's decisions.", "0");
      items.add("offer", kField, "offer?", "The offer in the previous run's decisions.", "0");
      items.add("at", kField, "time?", "When the previous decisions were made.", "0");
      return items.result();
    }
    auto aliases = moduleAliases(a, c.toks);
    if (prev2->kind == T::Word && aliases.count(prev2->text)) {
      addModuleMembers(a, prev2->text, aliases.at(prev2->text), items);
      return items.result();
    }
    if (prev2->kind == T::Word && (prev2->text == "rfm" || prev2->text == "clv" || prev2->text == "lifecycle")) {
      // Not imported yet: show what it has (the diagnostic will ask for the `use`).
      addModuleMembers(a, prev2->text, prev2->text, items);
      return items.result();
    }
    if (cfg) {
      for (const auto& f : cfg->schema.eventFields) items.add(f.name, kField, "event field: " + typeText(f.type), "", "0");
      if (!cfg->schema.eventFields.empty()) items.add("at", kField, "event time: time", "", "0");
    }
    return items.result();
  }

  if (prev) {
    if (isWord(*prev, "use")) {
      items.add("std", kModule, "the standard library", "", "0");
      return items.result();
    }
    if (isWord(*prev, "cap")) {
      addEnum(a, lastGood, 1, items, "0");
      items.add("any", kKeyword, "every channel together", "", "1");
      return items.result();
    }
    if (isWord(*prev, "limit")) {
      for (const Symbol* s : symbolsOf(a, lastGood, SymbolKind::Param))
        if (s->type.kind == Kind::Int) items.add(s->name, kConstant, "param: int", "", "0");
      return items.result();
    }
    if (isWord(*prev, "calendar")) {
      addKeywords({"day", "week", "month"}, items, "0");
      return items.result();
    }
    if (isWord(*prev, "per")) {
      addKeywords({"calendar"}, items, "0");
      return items.result();
    }
    if (isWord(*prev, "rank")) {
      addKeywords({"by"}, items, "0");
      return items.result();
    }
    // Naming something new: nothing to offer.
    if (isWord(*prev, "let") || isWord(*prev, "segment") || isWord(*prev, "param") || isWord(*prev, "rules") ||
        isWord(*prev, "as") || isWord(*prev, "version") || isWord(*prev, "salt"))
      return items.result();
    // stage == / channel != / offer == (also previous.stage ==): the enum's members.
    if ((prev->text == "==" || prev->text == "!=") && prev2 && tableKind(*prev2) >= 0) {
      addEnum(a, lastGood, tableKind(*prev2), items, "0");
      return items.result();
    }
  }
  // channel in [email, |]: the enum's members.
  if (c.frames.size() > 1 && c.frames.back().open == "[") {
    size_t open = c.frames.back().openIndex;
    size_t k = open;
    if (k >= 1 && isWord(c.toks[k - 1], "in")) {
      size_t before = k - 1;
      if (before >= 1 && isWord(c.toks[before - 1], "not")) --before;
      if (before >= 1 && tableKind(c.toks[before - 1]) >= 0) {
        addEnum(a, lastGood, tableKind(c.toks[before - 1]), items, "0");
        return items.result();
      }
    }
  }

  bool topLevel = c.frames.size() == 1;
  if (c.table >= 0 && topLevel) {
    // A row's outcome: at the table's start, after `otherwise`, or on a new line after a
    // complete condition.
    bool rowStart = !prev || n - 1 == c.tableStart || isWord(*prev, "otherwise") ||
                    (c.wordAtLineStart && valueEnding(*prev));
    if (rowStart) {
      addEnum(a, lastGood, c.table, items, "0");
      addKeywords({"end"}, items, "1");
      return items.result();
    }
    // After the outcome: when / otherwise.
    if (prev && (prev->kind == T::Word) && n >= 2 &&
        (n - 2 == c.tableStart || isWord(c.toks[n - 2], "otherwise") || valueEnding(c.toks[n - 2]))) {
      bool prevStartsLine = text.find_first_not_of(" \t\r", text.rfind('\n', prev->begin) == std::string::npos
                                                                ? 0
                                                                : text.rfind('\n', prev->begin) + 1) >= prev->begin;
      if (prevStartsLine) {
        addKeywords({"when", "otherwise"}, items, "0");
        return items.result();
      }
    }
  }
  if (c.table < 0 && topLevel && (!prev || (c.wordAtLineStart && valueEnding(*prev)))) {
    addKeywords({"let", "segment", "param", "use", "stage", "channel", "offer", "cap", "holdout"}, items, "0");
    if (!prev) addKeywords({"rules"}, items, "0");
    return items.result();
  }
  if (prev && valueEnding(*prev) && !(prev->kind == T::Word && (isWord(*prev, "not")))) {
    // After a complete operand: operators that are words.
    std::vector<std::string> ops = {"and", "or", "in", "not", "is", "null", "where"};
    if (c.table >= 0) ops.insert(ops.end(), {"limit", "rank", "by", "asc", "desc"});
    if (isWord(*prev, "is")) ops = {"null", "not"};
    addKeywords(ops, items, "0");
    if (!c.wordAtLineStart) return items.result();
  }
  addExpression(a, lastGood, c.element(), items);
  return items.result();
}

}  // namespace rekindle::lsp
