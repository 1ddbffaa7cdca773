// `rekindle fmt`: the canonical layout of a rules file (docs/fmt.md).
//
// The file is parsed (a file with errors is refused) and lexed again with the grammar's own
// lexer, comments and all. The formatter then walks the AST in source order and turns every
// source token into one piece of output, in the same order: nothing is added, removed or
// reordered but whitespace, a trailing comma in a list and the spelling of string escapes. So
// the token stream, and therefore the parse and the bytecode, cannot change; a final check
// re-lexes the output and compares token by token, comment by comment.
//
// Layout, in three steps:
//  1. Statements (a declaration, a table keyword, a table row, `end`) are built as pieces.
//     Each piece knows the space before it, the group it belongs to (which says where a
//     continuation line starts) and whether a line may break before it ("soft": before
//     `and` / `or`, after a comma in a list or call, before `limit`).
//     Alignment that decides where a statement's text starts (`=` of lets and params, `when`
//     of segments and table rows, the windows of caps) is padding decided before layout.
//  2. Each statement is laid out in lines: a soft point breaks where the author broke the
//     line, where a comment needs a line end, or where the text up to the next soft point of
//     the same or an outer group does not fit in kWidth columns (greedy fill).
//  3. Alignment after layout: `limit` clauses of consecutive one-line rows, then trailing
//     comments in runs of consecutive lines.
// Every decision depends only on the token stream, the comments and where the author put line
// breaks at soft points, and the output keeps those: formatting is idempotent.
#include "rekindle/compiler/format.h"

#include <antlr4-runtime.h>

#include <algorithm>
#include <stdexcept>

#include "RekindleLexer.h"
#include "rekindle/compiler/compiler.h"

namespace rekindle {

namespace {

using grammar::RekindleLexer;

constexpr int kWidth = 100;      // wrap lines longer than this (comments do not count)
constexpr int kRowIndent = 2;    // table rows
constexpr int kCommentGap = 2;   // spaces before a trailing comment, at least

struct InternalError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int widthOf(const std::string& s) { return static_cast<int>(displayWidth(s)); }

std::string trimRight(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\f')) s.pop_back();
  return s;
}

// ---- lexing -------------------------------------------------------------------------------------

struct Token {
  size_t type = 0;
  std::string text;
  uint32_t line = 0;
  uint32_t col = 0;
  bool blankBefore = false;  // a blank line between it and the previous token or comment
};

enum class CommentKind {
  Trailing,      // after code on its line
  Continuation,  // on the next line, in the same column as a trailing comment: continues it
  Own,           // alone on its line
};

struct Comment {
  std::string text;
  uint32_t line = 0;
  uint32_t col = 0;
  CommentKind kind = CommentKind::Own;
  bool blankBefore = false;
  size_t beforeTok = 0;  // index of the significant token that follows it
};

struct Lexed {
  std::vector<Token> toks;  // significant tokens, without EOF
  std::vector<Comment> comments;
};

Lexed lex(const std::string& text) {
  Lexed out;
  antlr4::ANTLRInputStream input(text);
  RekindleLexer lexer(&input);
  lexer.removeErrorListeners();
  uint32_t prevLine = 0;  // line of the previous token or comment
  bool havePrev = false;
  uint32_t prevTokLine = 0;
  bool haveTok = false;
  int chainLast = -1;  // the last trailing / continuation comment since the last token
  uint32_t chainCol = 0;
  for (const auto& t : lexer.getAllTokens()) {
    size_t type = t->getType();
    if (type == RekindleLexer::NEWLINE || type == RekindleLexer::WS) continue;
    uint32_t line = static_cast<uint32_t>(t->getLine());
    uint32_t col = static_cast<uint32_t>(t->getCharPositionInLine()) + 1;
    bool blank = havePrev && line > prevLine + 1;
    if (type == RekindleLexer::COMMENT) {
      Comment c;
      c.text = trimRight(t->getText());
      c.line = line;
      c.col = col;
      c.blankBefore = blank;
      c.beforeTok = out.toks.size();
      if (haveTok && prevTokLine == line) {
        c.kind = CommentKind::Trailing;
        chainCol = col;
        chainLast = static_cast<int>(out.comments.size());
      } else if (chainLast >= 0 && out.comments[chainLast].line + 1 == line && col == chainCol) {
        c.kind = CommentKind::Continuation;
        chainLast = static_cast<int>(out.comments.size());
      } else {
        c.kind = CommentKind::Own;
        chainLast = -1;
      }
      out.comments.push_back(std::move(c));
    } else {
      Token k;
      k.type = type;
      k.text = t->getText();
      k.line = line;
      k.col = col;
      k.blankBefore = blank;
      out.toks.push_back(std::move(k));
      prevTokLine = line;
      haveTok = true;
      chainLast = -1;
    }
    prevLine = line;
    havePrev = true;
  }
  return out;
}

// A string literal's value (the lexer accepted it; the parser checked its escapes).
std::string unescape(const std::string& raw) {
  std::string out;
  size_t end = raw.size() >= 2 && raw.back() == '"' ? raw.size() - 1 : raw.size();
  for (size_t k = 1; k < end; ++k) {
    char c = raw[k];
    if (c != '\\' || k + 1 >= end) {
      out += c;
      continue;
    }
    char e = raw[++k];
    out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
  }
  return out;
}

// The canonical spelling: only `"` and `\` are escaped, and newline and tab as \n and \t.
std::string canonicalString(const std::string& raw) {
  std::string out = "\"";
  for (char c : unescape(raw)) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

// ---- statements as pieces -----------------------------------------------------------------------

enum class GroupKind {
  Fixed,  // a fixed column
  At,     // the column of piece `anchor` (when the anchor is already placed)
  After,  // the column just after piece `anchor`: inside a bracket
  Plus1,  // one column right of piece `anchor`: inside a `when`
};

struct Group {
  GroupKind kind = GroupKind::Fixed;
  int anchor = -1;
  int col = 0;
  int parent = -1;
  int depth = 0;
};

struct Piece {
  std::string text;
  int width = 0;
  size_t tok = 0;          // the source token it prints
  bool space = true;       // one space before it, unless it starts a line
  int pad = 0;             // alignment: more spaces before it
  bool soft = false;       // a line may break before it
  bool userBreak = false;  // ... and the author broke the line there
  int group = 0;
};

enum class StmtKind { Header, Use, Param, Let, Segment, TableOpen, Row, TableEnd, Cap, Holdout };

struct Stmt {
  StmtKind kind = StmtKind::Let;
  int indent = 0;
  std::vector<Piece> pieces;
  std::vector<Group> groups;
  size_t firstTok = 0;
  int alignPiece = -1;  // the piece padded for alignment, and the width of what precedes it
  int keyWidth = 0;
  int limitPiece = -1;
  size_t limitByte = 0;  // where the limit piece was printed in its line (by the layout)
  int limitCol = 0;
  int table = -1;
  // Filled by the layout: the output lines of its code.
  size_t firstLine = 0;
  size_t lineCount = 0;
};

class Builder {
 public:
  explicit Builder(const Lexed& lx) : lx_(lx) {}

  std::vector<Stmt> stmts;
  std::vector<size_t> skipped;  // source tokens deliberately not printed (trailing commas)

  void build(const ast::Module& m) {
    if (m.header) {
      begin(StmtKind::Header, 0);
      take(RekindleLexer::RULES, false);
      take(RekindleLexer::IDENT, true);
      if (peek() == RekindleLexer::VERSION) {
        take(RekindleLexer::VERSION, true);
        take(RekindleLexer::INT, true);
      }
    }
    int tableNo = 0;
    for (const auto& [kind, index] : m.order) {
      switch (kind) {
        case ast::DeclKind::Use:
          begin(StmtKind::Use, 0);
          take(RekindleLexer::USE, false);
          take(RekindleLexer::IDENT, true);
          while (peek() == RekindleLexer::DOT) {
            take(RekindleLexer::DOT, false);
            take(RekindleLexer::IDENT, false);
          }
          if (peek() == RekindleLexer::AS) {
            take(RekindleLexer::AS, true);
            take(RekindleLexer::IDENT, true);
          }
          break;
        case ast::DeclKind::Param:
          assignment(StmtKind::Param, RekindleLexer::PARAM, *m.params[index].value);
          break;
        case ast::DeclKind::Let:
          assignment(StmtKind::Let, RekindleLexer::LET, *m.lets[index].value);
          break;
        case ast::DeclKind::Segment: {
          begin(StmtKind::Segment, 0);
          take(RekindleLexer::SEGMENT, false);
          int name = take(RekindleLexer::IDENT, true);
          int when = take(RekindleLexer::WHEN, true);
          align(when, st().pieces[name].width);
          open(GroupKind::Plus1, when);
          expr(*m.segments[index].condition, true);
          break;
        }
        case ast::DeclKind::Table:
          table(m.tables[index], tableNo++);
          break;
        case ast::DeclKind::Cap:
          cap(m.caps[index]);
          break;
        case ast::DeclKind::Holdout:
          begin(StmtKind::Holdout, 0);
          take(RekindleLexer::HOLDOUT, false);
          take(RekindleLexer::PERCENT, true);
          if (peek() == RekindleLexer::SALT) {
            take(RekindleLexer::SALT, true);
            take(RekindleLexer::STRING, true);
          }
          break;
      }
    }
    if (next_ != lx_.toks.size()) throw InternalError("a token was not printed: '" + lx_.toks[next_].text + "'");
  }

 private:
  Stmt& st() { return stmts.back(); }

  size_t peek() const { return next_ < lx_.toks.size() ? lx_.toks[next_].type : antlr4::Token::EOF; }

  void begin(StmtKind kind, int indent) {
    stmts.emplace_back();
    Stmt& s = st();
    s.kind = kind;
    s.indent = indent;
    s.firstTok = next_;
    Group root;
    root.col = indent + 4;
    s.groups.push_back(root);
    group_ = 0;
  }

  // Prints the next source token. `type` 0 accepts any token (a member name may be a keyword).
  int take(size_t type, bool space) {
    if (next_ >= lx_.toks.size()) throw InternalError("ran past the last token");
    const Token& t = lx_.toks[next_];
    if (type != 0 && t.type != type) throw InternalError("unexpected token '" + t.text + "'");
    Piece p;
    p.text = t.type == RekindleLexer::STRING ? canonicalString(t.text) : t.text;
    p.width = widthOf(p.text);
    p.tok = next_++;
    p.space = space;
    p.group = group_;
    st().pieces.push_back(std::move(p));
    return static_cast<int>(st().pieces.size()) - 1;
  }

  int open(GroupKind kind, int anchor) {
    Stmt& s = st();
    Group g;
    g.kind = kind;
    g.anchor = anchor;
    g.parent = group_;
    g.depth = s.groups[group_].depth + 1;
    s.groups.push_back(g);
    int prev = group_;
    group_ = static_cast<int>(s.groups.size()) - 1;
    return prev;
  }

  void close(int prev) { group_ = prev; }

  bool newlineBetween(size_t a, size_t b) const { return lx_.toks[b].line > lx_.toks[a].line; }

  bool commentsBefore(size_t tok) const {
    for (const auto& c : lx_.comments)
      if (c.beforeTok == tok) return true;
    return false;
  }

  void align(int piece, int keyWidth) {
    st().alignPiece = piece;
    st().keyWidth = keyWidth;
  }

  void assignment(StmtKind kind, size_t keyword, const ast::Expr& value) {
    begin(kind, 0);
    take(keyword, false);
    int name = take(RekindleLexer::IDENT, true);
    int eq = take(RekindleLexer::ASSIGN, true);
    align(eq, st().pieces[name].width);
    open(GroupKind::At, static_cast<int>(st().pieces.size()));
    expr(value, true);
  }

  void table(const ast::TableDecl& t, int tableNo) {
    begin(StmtKind::TableOpen, 0);
    st().table = tableNo;
    take(0, false);  // stage / channel / offer
    for (const auto& row : t.rows) {
      begin(StmtKind::Row, kRowIndent);
      st().table = tableNo;
      int outcome = take(0, false);
      int kw;
      if (row.condition) {
        kw = take(RekindleLexer::WHEN, true);
        open(GroupKind::Plus1, kw);
        expr(*row.condition, true);
      } else {
        kw = take(RekindleLexer::OTHERWISE, true);
        open(GroupKind::Plus1, kw);
      }
      align(kw, st().pieces[outcome].width);
      if (row.limit) {
        size_t at = next_;
        int limit = take(RekindleLexer::LIMIT, true);
        st().pieces[limit].soft = true;
        st().pieces[limit].userBreak = newlineBetween(at - 1, at);
        st().limitPiece = limit;
        take(0, true);  // INT or a param's name
        if (peek() == RekindleLexer::RANK) {
          take(RekindleLexer::RANK, true);
          take(RekindleLexer::BY, true);
          int prev = open(GroupKind::At, static_cast<int>(st().pieces.size()));
          expr(*row.limit->rankBy, true);
          close(prev);
          if (peek() == RekindleLexer::ASC || peek() == RekindleLexer::DESC) take(0, true);
        }
      }
    }
    begin(StmtKind::TableEnd, 0);
    st().table = tableNo;
    take(RekindleLexer::END, false);
  }

  void cap(const ast::CapDecl& c) {
    begin(StmtKind::Cap, 0);
    take(RekindleLexer::CAP, false);
    int target = take(RekindleLexer::IDENT, true);
    int colon = take(RekindleLexer::COLON, false);
    for (size_t w = 0; w < c.windows.size(); ++w) {
      if (w) take(RekindleLexer::COMMA, false);
      int count = take(RekindleLexer::INT, true);
      if (!w) align(count, st().pieces[target].width + st().pieces[colon].width);
      take(RekindleLexer::PER, true);
      if (peek() == RekindleLexer::CALENDAR) {
        take(RekindleLexer::CALENDAR, true);
        take(RekindleLexer::IDENT, true);
      } else {
        take(RekindleLexer::DURATION, true);
      }
    }
    if (c.condition) {
      int when = take(RekindleLexer::WHEN, true);
      open(GroupKind::Plus1, when);
      expr(*c.condition, true);
    }
  }

  // `items` separated by commas inside brackets already opened; a soft break before each
  // item but the first.
  void items(const std::vector<ast::ExprPtr>& args, size_t from) {
    for (size_t k = from; k < args.size(); ++k) {
      if (k > from) take(RekindleLexer::COMMA, false);
      size_t tok = next_;
      int first = static_cast<int>(st().pieces.size());
      expr(*args[k], k > from);
      if (k > from) {
        st().pieces[first].soft = true;
        st().pieces[first].userBreak = newlineBetween(tok - 2, tok);
      }
    }
  }

  void expr(const ast::Expr& e, bool space) {
    using K = ast::ExprKind;
    switch (e.kind) {
      case K::Literal:
      case K::Name:
      case K::Decision:
      case K::Now:
      case K::Today:
      case K::Previous:
        take(0, space);
        return;
      case K::List: {
        int bracket = take(RekindleLexer::LBRACKET, space);
        int prev = open(GroupKind::After, bracket);
        items(e.args, 0);
        if (peek() == RekindleLexer::COMMA) skipped.push_back(next_++);  // [a, b,] -> [a, b]
        take(RekindleLexer::RBRACKET, false);
        close(prev);
        return;
      }
      case K::Paren: {
        int paren = take(RekindleLexer::LPAREN, space);
        int prev = open(GroupKind::After, paren);
        expr(*e.args[0], false);
        take(RekindleLexer::RPAREN, false);
        close(prev);
        return;
      }
      case K::Member:
        expr(*e.args[0], space);
        take(RekindleLexer::DOT, false);
        take(0, false);
        return;
      case K::Call:
      case K::MethodCall: {
        size_t from = 0;
        if (e.kind == K::MethodCall) {
          expr(*e.args[0], space);
          take(RekindleLexer::DOT, false);
          take(0, false);
          from = 1;
        } else {
          take(RekindleLexer::IDENT, space);
        }
        int paren = take(RekindleLexer::LPAREN, false);
        int prev = open(GroupKind::After, paren);
        items(e.args, from);
        take(RekindleLexer::RPAREN, false);
        close(prev);
        return;
      }
      case K::Unary:
        if (e.op == ast::Op::Neg) {
          take(RekindleLexer::MINUS, space);
          expr(*e.args[0], false);
        } else {
          take(RekindleLexer::NOT, space);
          expr(*e.args[0], true);
        }
        return;
      case K::Binary: {
        expr(*e.args[0], space);
        size_t at = next_;
        int op = -1;
        if (e.op == ast::Op::NotIn) {
          take(RekindleLexer::NOT, true);
          take(RekindleLexer::IN, true);
        } else {
          op = take(0, true);
        }
        if (e.op == ast::Op::And || e.op == ast::Op::Or) {
          // A break before the operator; a line ending just after it counts as one too
          // (unless a comment ends that line: then the break stays where the comment is).
          Piece& p = st().pieces[op];
          p.soft = true;
          p.userBreak = newlineBetween(at - 1, at) ||
                        (at + 1 < lx_.toks.size() && newlineBetween(at, at + 1) && !commentsBefore(at + 1));
        }
        expr(*e.args[1], true);
        return;
      }
      case K::IsNull:
        expr(*e.args[0], space);
        take(RekindleLexer::IS, true);
        if (e.op == ast::Op::IsNotNull) take(RekindleLexer::NOT, true);
        take(RekindleLexer::NULL_LIT, true);
        return;
      case K::Where: {
        expr(*e.args[0], space);
        take(RekindleLexer::WHERE, true);
        int prev = open(GroupKind::At, static_cast<int>(st().pieces.size()));
        expr(*e.args[1], true);
        close(prev);
        return;
      }
    }
    throw InternalError("unknown expression");
  }

  const Lexed& lx_;
  size_t next_ = 0;
  int group_ = 0;
};

// ---- layout -------------------------------------------------------------------------------------

struct Line {
  enum Kind { Code, Own, Cont, Blank } kind = Code;
  std::string code;     // Code: the text with its indentation; Own: indentation and comment
  int width = 0;        // display width of `code`
  std::string comment;  // Code: a trailing comment; Cont: the comment
};

class Layout {
 public:
  Layout(const Lexed& lx, std::vector<Stmt>& stmts) : lx_(lx), stmts_(stmts) {
    byTok_.resize(lx.toks.size() + 1);
    for (size_t c = 0; c < lx.comments.size(); ++c) byTok_[lx.comments[c].beforeTok].push_back(c);
  }

  std::string run() {
    alignKeys();
    for (size_t s = 0; s < stmts_.size(); ++s) {
      Stmt& st = stmts_[s];
      // No blank line just after a table's keyword or just before its `end`.
      bool afterOpen = s > 0 && stmts_[s - 1].kind == StmtKind::TableOpen;
      int ownIndent = st.kind == StmtKind::Row || st.kind == StmtKind::TableEnd ? kRowIndent : st.indent;
      bool wrote = betweenStatements(byTok_[st.firstTok], ownIndent, !afterOpen);
      if (lx_.toks[st.firstTok].blankBefore && st.kind != StmtKind::TableEnd && (wrote || !afterOpen)) addBlank();
      layout(st);
    }
    betweenStatements(byTok_[lx_.toks.size()], 0, true);
    alignLimits();
    alignComments();
    std::string out;
    for (const auto& l : lines_) {
      switch (l.kind) {
        case Line::Code:
          out += l.code;
          if (!l.comment.empty()) out += std::string(kCommentGap, ' ') + l.comment;  // unaligned fallback
          break;
        case Line::Own: out += l.code; break;
        case Line::Cont: out += l.comment; break;
        case Line::Blank: break;
      }
      out = trimRight(std::move(out));
      out += '\n';
    }
    return out;
  }

 private:
  // `=` of params and lets, `when` of segments and the windows of caps line up in runs of
  // consecutive declarations of one kind (comment lines do not end a run, blank lines do);
  // `when` / `otherwise` line up over a whole table.
  void alignKeys() {
    auto gapHasBlank = [&](const Stmt& s) {
      if (lx_.toks[s.firstTok].blankBefore) return true;
      for (size_t c : byTok_[s.firstTok])
        if (lx_.comments[c].kind == CommentKind::Own && lx_.comments[c].blankBefore) return true;
      return false;
    };
    for (size_t s = 0; s < stmts_.size();) {
      StmtKind k = stmts_[s].kind;
      size_t e = s + 1;
      if (k == StmtKind::Row) {
        while (e < stmts_.size() && stmts_[e].kind == StmtKind::Row) ++e;
      } else if (k == StmtKind::Param || k == StmtKind::Let || k == StmtKind::Segment || k == StmtKind::Cap) {
        while (e < stmts_.size() && stmts_[e].kind == k && !gapHasBlank(stmts_[e])) ++e;
      } else {
        s = e;
        continue;
      }
      int key = 0;
      for (size_t i = s; i < e; ++i) key = std::max(key, stmts_[i].keyWidth);
      for (size_t i = s; i < e; ++i)
        if (stmts_[i].alignPiece >= 0) stmts_[i].pieces[stmts_[i].alignPiece].pad = key - stmts_[i].keyWidth;
      s = e;
    }
  }

  void addBlank() {
    if (!lines_.empty() && lines_.back().kind != Line::Blank) lines_.push_back(Line{Line::Blank, "", 0, ""});
  }

  // Comments between two statements: a trailing comment (and its continuations) ends the last
  // line; the others stand above the next statement at `indent`, with the blank lines kept (at
  // most one). Returns whether an own-line comment was written.
  bool betweenStatements(const std::vector<size_t>& comments, int indent, bool allowFirstBlank) {
    bool attach = true;
    bool wrote = false;
    for (size_t ci : comments) {
      const Comment& c = lx_.comments[ci];
      if (c.kind != CommentKind::Own && attach && !lines_.empty()) {
        attachTrailing(c);
        continue;
      }
      attach = false;
      if (c.blankBefore && (allowFirstBlank || wrote)) addBlank();
      wrote = true;
      lines_.push_back(Line{Line::Own, std::string(indent, ' ') + c.text, 0, ""});
    }
    return wrote;
  }

  void attachTrailing(const Comment& c) {
    if (c.kind == CommentKind::Trailing && lines_.back().kind == Line::Code && lines_.back().comment.empty())
      lines_.back().comment = c.text;
    else
      lines_.push_back(Line{Line::Cont, "", 0, c.text});
  }

  // Where a line broken before piece i starts.
  int indentFor(const Stmt& s, size_t i) const {
    int g = s.pieces[i].group;
    while (true) {
      const Group& G = s.groups[g];
      switch (G.kind) {
        case GroupKind::Fixed: return G.col;
        case GroupKind::At:
          if (G.anchor < static_cast<int>(i)) return cols_[G.anchor];
          break;
        case GroupKind::After: return cols_[G.anchor] + s.pieces[G.anchor].width;
        case GroupKind::Plus1: return cols_[G.anchor] + 1;
      }
      g = G.parent;
    }
  }

  // The width of the text from soft piece i to the next soft point of its group or an outer
  // one, or to the next line break that is certain.
  int chunkWidth(const Stmt& s, size_t i, const std::vector<bool>& hard) const {
    int depth = s.groups[s.pieces[i].group].depth;
    int w = (s.pieces[i].space ? 1 : 0) + s.pieces[i].width;
    for (size_t j = i + 1; j < s.pieces.size(); ++j) {
      const Piece& q = s.pieces[j];
      if (hard[j] || (q.soft && s.groups[q.group].depth <= depth)) break;
      w += (q.space ? 1 : 0) + q.width;
    }
    return w;
  }

  void layout(Stmt& s) {
    size_t n = s.pieces.size();
    cols_.assign(n, 0);
    // Breaks that do not depend on widths: the author's at soft points, and comments.
    std::vector<bool> hard(n, false);
    std::vector<std::vector<size_t>> gaps(n);
    for (size_t i = 1; i < n; ++i) {
      for (size_t t = s.pieces[i - 1].tok + 1; t <= s.pieces[i].tok; ++t)
        gaps[i].insert(gaps[i].end(), byTok_[t].begin(), byTok_[t].end());
      hard[i] = (s.pieces[i].soft && s.pieces[i].userBreak) || !gaps[i].empty();
    }
    s.firstLine = lines_.size();
    Line cur{Line::Code, std::string(s.indent, ' '), s.indent, ""};
    int col = s.indent;
    for (size_t i = 0; i < n; ++i) {
      const Piece& p = s.pieces[i];
      bool brk = false;
      if (i > 0) {
        brk = hard[i];
        if (!brk && p.soft && col + chunkWidth(s, i, hard) > kWidth && indentFor(s, i) < col) brk = true;
      }
      if (brk) {
        std::vector<const Comment*> own;
        bool attach = true;
        for (size_t ci : gaps[i]) {
          const Comment& c = lx_.comments[ci];
          if (c.kind != CommentKind::Own && attach) {
            if (c.kind == CommentKind::Trailing && cur.comment.empty()) {
              cur.comment = c.text;
            } else {
              lines_.push_back(std::move(cur));
              cur = Line{Line::Cont, "", 0, c.text};
            }
            continue;
          }
          attach = false;
          own.push_back(&c);
        }
        lines_.push_back(std::move(cur));
        int ind = indentFor(s, i);
        for (const Comment* c : own) lines_.push_back(Line{Line::Own, std::string(ind, ' ') + c->text, 0, ""});
        cur = Line{Line::Code, std::string(ind, ' '), ind, ""};
        col = ind;
      } else if (i > 0 && p.space) {
        cur.code.append(1 + p.pad, ' ');
        col += 1 + p.pad;
      }
      cols_[i] = col;
      if (static_cast<int>(i) == s.limitPiece) {
        s.limitByte = cur.code.size();
        s.limitCol = col;
      }
      cur.code += p.text;
      col += p.width;
      cur.width = col;
    }
    lines_.push_back(std::move(cur));
    s.lineCount = lines_.size() - s.firstLine;
  }

  // `limit` clauses of consecutive rows that are one line each start in one column, unless
  // that would take a line past the width.
  void alignLimits() {
    auto single = [&](const Stmt& s) {
      return s.kind == StmtKind::Row && s.limitPiece >= 0 && s.lineCount == 1;
    };
    for (size_t s = 0; s < stmts_.size();) {
      if (!single(stmts_[s])) {
        ++s;
        continue;
      }
      size_t e = s + 1;
      while (e < stmts_.size() && single(stmts_[e]) && stmts_[e].table == stmts_[s].table &&
             !lx_.toks[stmts_[e].firstTok].blankBefore)
        ++e;
      struct Cell {
        size_t line;
        std::string before, clause;
        int beforeWidth, clauseWidth;
      };
      std::vector<Cell> cells;
      int col = 0;
      bool fits = true;
      for (size_t i = s; i < e; ++i) {
        const Stmt& st = stmts_[i];
        const Line& l = lines_[st.firstLine];
        cells.push_back(Cell{st.firstLine, l.code.substr(0, st.limitByte - 1), l.code.substr(st.limitByte),
                             st.limitCol - 1, l.width - st.limitCol});
        col = std::max(col, st.limitCol);
      }
      for (const auto& c : cells)
        if (col + c.clauseWidth > kWidth) fits = false;
      if (fits && cells.size() > 1)
        for (const auto& c : cells) {
          Line& l = lines_[c.line];
          l.code = c.before + std::string(col - c.beforeWidth, ' ') + c.clause;
          l.width = col + c.clauseWidth;
        }
      s = e;
    }
  }

  // Trailing comments of consecutive lines start in one column, two spaces after the longest
  // line of the run (one more if an own-line comment right below would look like a
  // continuation of the run).
  void alignComments() {
    for (size_t i = 0; i < lines_.size();) {
      auto inRun = [&](const Line& l) {
        return (l.kind == Line::Code && !l.comment.empty()) || l.kind == Line::Cont;
      };
      if (!inRun(lines_[i])) {
        ++i;
        continue;
      }
      size_t e = i;
      int col = 0;
      while (e < lines_.size() && inRun(lines_[e])) {
        if (lines_[e].kind == Line::Code) col = std::max(col, lines_[e].width + kCommentGap);
        ++e;
      }
      if (e < lines_.size() && lines_[e].kind == Line::Own) {
        const std::string& c = lines_[e].code;
        if (static_cast<int>(c.find('#')) == col) ++col;
      }
      for (size_t k = i; k < e; ++k) {
        Line& l = lines_[k];
        if (l.kind == Line::Code) {
          l.code += std::string(col - l.width, ' ') + l.comment;
        } else {
          l.kind = Line::Own;
          l.code = std::string(col, ' ') + l.comment;
        }
        l.comment.clear();
      }
      i = e;
    }
  }

  const Lexed& lx_;
  std::vector<Stmt>& stmts_;
  std::vector<std::vector<size_t>> byTok_;
  std::vector<Line> lines_;
  std::vector<int> cols_;
};

// The output must hold the same tokens (but the dropped trailing commas, and strings compared
// by value) and the same comments, in the same order.
std::string sameProgram(const Lexed& before, const std::vector<size_t>& skipped, const std::string& output) {
  Lexed after = lex(output);
  size_t j = 0;
  for (size_t i = 0; i < before.toks.size(); ++i) {
    if (std::find(skipped.begin(), skipped.end(), i) != skipped.end()) continue;
    if (j >= after.toks.size()) return "a token is missing";
    const Token& a = before.toks[i];
    const Token& b = after.toks[j++];
    bool same = a.type == b.type &&
                (a.type == RekindleLexer::STRING ? unescape(a.text) == unescape(b.text) : a.text == b.text);
    if (!same) return "'" + a.text + "' became '" + b.text + "'";
  }
  if (j != after.toks.size()) return "a token was added";
  if (before.comments.size() != after.comments.size()) return "a comment was lost";
  for (size_t i = 0; i < before.comments.size(); ++i)
    if (before.comments[i].text != after.comments[i].text) return "a comment changed";
  return "";
}

}  // namespace

std::optional<std::string> formatRules(const SourceFile& source, std::vector<Diagnostic>& diags) {
  ParseResult parsed = parseRules(source);
  if (hasErrors(parsed.diags)) {
    diags.insert(diags.end(), parsed.diags.begin(), parsed.diags.end());
    return std::nullopt;
  }
  auto internal = [&](const std::string& what) {
    Diagnostic d;
    d.code = "E000";
    d.file = source.path();
    d.range = SourceRange{{1, 1}, {1, 2}};
    d.message = "internal formatter error: " + what + "; the file was left as it is";
    diags.push_back(d);
    return std::nullopt;
  };
  try {
    Lexed lexed = lex(source.text());
    Builder builder(lexed);
    builder.build(*parsed.module);
    Layout layout(lexed, builder.stmts);
    std::string out = layout.run();
    std::string problem = sameProgram(lexed, builder.skipped, out);
    if (!problem.empty()) return internal(problem);
    return out;
  } catch (const InternalError& e) {
    return internal(e.what());
  }
}

}  // namespace rekindle
