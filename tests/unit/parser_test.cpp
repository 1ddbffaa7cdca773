// The parser: our AST with source ranges, precedence, comments kept for fmt, and the limits
// that keep ANTLR contained (input size, nesting depth, error count).
#include <catch2/catch.hpp>

#include "rekindle/compiler/compiler.h"

using namespace rekindle;

namespace {
ParseResult parse(const std::string& text, ParseLimits limits = {}) {
  static std::vector<std::unique_ptr<SourceFile>> keep;  // diagnostics refer to the file by name only
  keep.push_back(std::make_unique<SourceFile>("t.rules", text));
  return parseRules(*keep.back(), limits);
}

// The expression tree as text, fully parenthesised: shows what binds to what.
std::string shape(const ast::Expr& e) {
  switch (e.kind) {
    case ast::ExprKind::Literal: return e.lit.text;
    case ast::ExprKind::Name: return e.name;
    case ast::ExprKind::Paren: return shape(*e.args[0]);
    case ast::ExprKind::Unary: return std::string("(") + ast::opSpelling(e.op) + " " + shape(*e.args[0]) + ")";
    case ast::ExprKind::Binary:
      return "(" + shape(*e.args[0]) + " " + ast::opSpelling(e.op) + " " + shape(*e.args[1]) + ")";
    case ast::ExprKind::IsNull: return "(" + shape(*e.args[0]) + " " + ast::opSpelling(e.op) + ")";
    case ast::ExprKind::Where: return "(" + shape(*e.args[0]) + " where " + shape(*e.args[1]) + ")";
    case ast::ExprKind::Member: return shape(*e.args[0]) + "." + e.name;
    case ast::ExprKind::Call: {
      std::string s = e.name + "(";
      for (size_t i = 0; i < e.args.size(); ++i) s += (i ? ", " : "") + shape(*e.args[i]);
      return s + ")";
    }
    case ast::ExprKind::Now: return "now";
    default: return "?";
  }
}

std::string letShape(const std::string& expr) {
  ParseResult r = parse("let x = " + expr + "\n");
  REQUIRE(r.diags.empty());
  REQUIRE(r.module->lets.size() == 1);
  return shape(*r.module->lets[0].value);
}
}  // namespace

TEST_CASE("precedence follows the reference", "[parser]") {
  CHECK(letShape("spend ?? 0 >= 500") == "((spend ?? 0) >= 500)");
  CHECK(letShape("a or b and not c == d") == "(a or (b and (not (c == d))))");
  CHECK(letShape("1 + 2 * 3 - -4") == "((1 + (2 * 3)) - (- 4))");
  CHECK(letShape("a ?? b ?? c") == "(a ?? (b ?? c))");
  CHECK(letShape("events where kind == \"visit\" and at >= now - 30d") ==
        "(events where ((kind == \"visit\") and (at >= (now - 30d))))");
  CHECK(letShape("count(events where a or b) > 2") == "(count((events where (a or b))) > 2)");
  CHECK(letShape("x not in [1, 2]") == "(x not in ?)");
  CHECK(letShape("x is not null and y is null") == "((x is not null) and (y is null))");
  CHECK(letShape("(purchases where at > now).amount") == "(purchases where (at > now)).amount");
}

TEST_CASE("every node carries its source range", "[parser]") {
  ParseResult r = parse("let idle = now - last_order\n");
  const ast::Expr& e = *r.module->lets[0].value;
  CHECK(e.range.begin == SourceLoc{1, 12});
  CHECK(e.range.end == SourceLoc{1, 28});
  CHECK(e.args[1]->range.begin == SourceLoc{1, 18});
  CHECK(r.module->lets[0].nameRange.begin == SourceLoc{1, 5});
}

TEST_CASE("literals", "[parser]") {
  ParseResult r = parse("let a = 10%\nlet b = 90d\nlet c = \"\\\"hi\\\"\\n\"\nlet d = 2026-02-28\nlet e = 2w\n");
  REQUIRE(r.diags.empty());
  CHECK(r.module->lets[0].value->lit.f == Approx(0.10));
  CHECK(r.module->lets[1].value->lit.i == 90 * 86400);
  CHECK(r.module->lets[2].value->lit.str == "\"hi\"\n");
  CHECK(r.module->lets[3].value->lit.kind == Kind::Date);
  CHECK(r.module->lets[4].value->lit.i == 14 * 86400);
}

TEST_CASE("comments are kept, with doc comments attached to lets", "[parser]") {
  ParseResult r = parse("# Time since the last order.\n# Null without orders.\nlet idle = now  # trailing\n");
  REQUIRE(r.module->comments.size() == 3);
  CHECK(r.module->comments[0].ownLine);
  CHECK_FALSE(r.module->comments[2].ownLine);
  CHECK(r.module->lets[0].doc == "Time since the last order.\nNull without orders.");
}

TEST_CASE("limits keep the parser contained", "[parser]") {
  SECTION("nesting") {
    std::string deep = "let x = " + std::string(200, '(') + "1" + std::string(200, ')') + "\n";
    ParseResult r = parse(deep);
    REQUIRE(r.diags.size() == 1);
    CHECK(r.diags[0].code == "E008");
    std::string nots = "let x = ";
    for (int i = 0; i < 5000; ++i) nots += "not ";
    CHECK(parse(nots + "true\n").diags.at(0).code == "E008");
    std::string chain = "let x = a";
    for (int i = 0; i < 5000; ++i) chain += " ?? a";
    CHECK(parse(chain + "\n").diags.at(0).code == "E008");
    // A long flat expression is fine: it does not nest.
    std::string flat = "let x = 1";
    for (int i = 0; i < 5000; ++i) flat += " + 1";
    CHECK(parse(flat + "\n").diags.empty());
  }
  SECTION("size") {
    ParseLimits small;
    small.maxBytes = 100;
    ParseResult r = parse(std::string(200, '#') + "\n", small);
    REQUIRE(r.diags.size() == 1);
    CHECK(r.diags[0].code == "E007");
  }
  SECTION("error count") {
    std::string bad;
    for (int i = 0; i < 200; ++i) bad += "let = \n";
    ParseResult r = parse(bad);
    CHECK(r.diags.size() <= 50);
    CHECK_FALSE(r.diags.back().notes.empty());
  }
  SECTION("invalid UTF-8") {
    ParseResult r = parse("let x = \"\xff\"\n");
    REQUIRE(r.diags.size() == 1);
    CHECK(r.diags[0].code == "E002");
    CHECK(r.diags[0].range.begin == SourceLoc{1, 10});
  }
}
