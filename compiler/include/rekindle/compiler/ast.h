// Rekindle's own syntax tree, with a source range on every node. Built from the ANTLR parse
// tree by parser.cpp, annotated by the checker (types, what each name refers to), read by the
// emitter, the linter, the formatter and the language server.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rekindle/core/diagnostic.h"
#include "rekindle/core/value.h"

namespace rekindle::ast {

enum class TableKind : uint8_t { Stage = 0, Channel = 1, Offer = 2 };
const char* tableKindName(TableKind k);

enum class ExprKind : uint8_t {
  Literal,     // lit
  List,        // [args...]
  Paren,       // (args[0])
  Name,        // name
  Decision,    // stage / channel / offer used as a value
  Now,
  Today,
  Previous,    // `previous`, only valid under a Member: previous.stage
  Member,      // args[0].name
  Call,        // name(args...)
  MethodCall,  // args[0].name(args[1..]) — a module function: clv.expected_value(365d)
  Unary,       // op args[0]
  Binary,      // args[0] op args[1]
  IsNull,      // args[0] is [not] null
  Where,       // args[0] where args[1]
};

enum class Op : uint8_t {
  None,
  Neg,
  Not,
  Add,
  Sub,
  Mul,
  Div,
  Mod,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  In,
  NotIn,
  And,
  Or,
  Coalesce,
  IsNull,
  IsNotNull,
};
const char* opSpelling(Op op);

struct Literal {
  Kind kind = Kind::Null;  // Int Float String Bool Null None Duration Date Time; Float for 10%
  std::string text;        // the source spelling
  int64_t i = 0;           // Int, Bool, Duration (seconds), Date (days), Time (seconds, UTC)
  double f = 0;            // Float (a percentage is its fraction: 10% = 0.10)
  std::string str;         // String, unescaped
  bool percent = false;
  bool timeHasZone = true;  // a time literal without an offset is read in the config's zone
};

// What a name, member or call resolved to (filled by the checker).
enum class RefKind : uint8_t {
  Unresolved,
  Let,            // index: into Program::lets (after merging preludes)
  Segment,
  Param,
  CustomerField,  // index: schema customer field
  EventField,     // index: schema event field (inside where / streak conditions)
  Events,         // the customer's events
  StageValue,     // index: stage enum member
  ChannelValue,
  OfferValue,
  Builtin,        // index: builtins() row (after overload resolution)
  Module,         // a `use` alias, only valid before '.'
  PreviousField,  // index: 0 stage, 1 channel, 2 offer, 3 at
  EventRecordField,  // index: event field, read from an event value (first(xs).amount)
  ListProjection,    // index: event field, projected over a list of events (xs.amount)
};

struct Ref {
  RefKind kind = RefKind::Unresolved;
  int32_t index = -1;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::Literal;
  Op op = Op::None;
  SourceRange range;
  SourceRange nameRange;  // Name, Member, Call, MethodCall: where the name itself is
  std::string name;
  Literal lit;
  TableKind decision = TableKind::Stage;
  std::vector<ExprPtr> args;

  // Checker annotations.
  Type type;
  Ref ref;
};

struct Header {
  std::string name;
  int64_t version = 0;
  bool hasVersion = false;
  SourceRange range;
  SourceRange nameRange;
};

struct UseDecl {
  std::vector<std::string> path;  // {"std", "rfm"}
  std::string alias;              // explicit alias, or empty
  SourceRange range;
  SourceRange pathRange;
  std::string effectiveAlias() const { return alias.empty() ? path.back() : alias; }
};

struct ParamDecl {
  std::string name;
  ExprPtr value;  // a literal, a negated literal, or a list of those
  SourceRange range;
  SourceRange nameRange;
};

struct LetDecl {
  std::string name;
  ExprPtr value;
  SourceRange range;
  SourceRange nameRange;
  std::string doc;  // the comment lines just above it, for hover
};

struct SegmentDecl {
  std::string name;
  ExprPtr condition;
  SourceRange range;
  SourceRange nameRange;
  std::string doc;
};

struct LimitClause {
  int64_t limit = 0;
  std::string limitText;
  std::string limitParam;  // `limit daily_calls`: the param's name
  SourceRange limitRange;
  ExprPtr rankBy;  // may be null
  bool descending = true;
  bool explicitOrder = false;
  SourceRange range;
};

struct TableRow {
  std::string outcome;  // stage name, channel, offer, or "none"
  SourceRange outcomeRange;
  ExprPtr condition;    // null for `otherwise`
  std::optional<LimitClause> limit;
  SourceRange range;
};

struct TableDecl {
  TableKind kind = TableKind::Stage;
  std::vector<TableRow> rows;
  SourceRange range;
  SourceRange keywordRange;
};

struct CapWindow {
  int64_t count = 0;
  std::string countText;
  bool calendar = false;
  int64_t duration = 0;  // seconds, rolling windows
  std::string unit;      // calendar windows: day, week, month; rolling: the duration's text
  SourceRange range;
  SourceRange unitRange;
};

struct CapDecl {
  std::string target;  // a channel, or "any"
  std::vector<CapWindow> windows;
  ExprPtr condition;   // may be null
  SourceRange range;
  SourceRange targetRange;
};

struct HoldoutDecl {
  double fraction = 0;
  std::string percentText;
  std::string salt;
  bool hasSalt = false;
  SourceRange range;
};

enum class DeclKind : uint8_t { Use, Param, Let, Segment, Table, Cap, Holdout };

struct Comment {
  std::string text;  // including '#'
  SourceRange range;
  bool ownLine = false;  // nothing but blanks before it on its line
};

// One parsed rules file.
struct Module {
  std::string path;
  std::optional<Header> header;
  std::vector<UseDecl> uses;
  std::vector<ParamDecl> params;
  std::vector<LetDecl> lets;
  std::vector<SegmentDecl> segments;
  std::vector<TableDecl> tables;
  std::vector<CapDecl> caps;
  std::vector<HoldoutDecl> holdouts;
  std::vector<std::pair<DeclKind, size_t>> order;  // declarations in source order
  std::vector<Comment> comments;
};

}  // namespace rekindle::ast
