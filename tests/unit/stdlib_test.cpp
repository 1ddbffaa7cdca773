// The built-in table: every entry documented, its signature parsed, its key stable and unique,
// and every native callable; the modules and preludes it names exist.
#include <catch2/catch.hpp>

#include <set>

#include "rekindle/compiler/compiler.h"
#include "rekindle/stdlib/builtins.h"

using namespace rekindle;

TEST_CASE("every built-in is declared once, documented and callable", "[stdlib]") {
  std::set<std::string> keys;
  for (const Builtin& b : builtins()) {
    INFO(b.signature);
    CHECK_FALSE(b.doc.empty());
    CHECK(b.params.size() == b.paramNames.size());
    CHECK(keys.insert(b.key()).second);
    CHECK(findBuiltinByKey(b.key()) >= 0);
    // Only special forms (compiled to their own opcodes) have no native implementation.
    if (!b.fn) CHECK((b.name == "streak" || b.name == "quantile_rank"));
    if (b.property) CHECK(b.params.empty());
  }
  // The SPEC §4 library, by name.
  for (const char* name : {"days_since", "days_until", "hours_since", "date", "year", "month", "day", "weekday",
                           "anniversary_within", "age_years", "holiday", "count", "exists", "sum", "avg", "min",
                           "max", "first", "last", "distinct_count", "mode", "streak", "lower", "upper", "len",
                           "contains", "starts_with", "ends_with", "email_domain", "abs", "round", "floor", "ceil",
                           "clamp", "log", "exp", "bucket", "quantile_rank"}) {
    INFO(name);
    CHECK_FALSE(findBuiltins("", name).empty());
  }
  for (const char* name : {"r", "f", "m", "score", "segment"}) CHECK_FALSE(findBuiltins("rfm", name).empty());
  for (const char* name : {"frequency", "recency", "T", "p_alive", "expected_purchases", "expected_value"})
    CHECK_FALSE(findBuiltins("clv", name).empty());
  CHECK(findBuiltinByKey("count(list<T>)") >= 0);  // keys are part of the .rkb format
}

TEST_CASE("the std preludes parse cleanly", "[stdlib]") {
  const char* text = preludeSource("lifecycle");
  REQUIRE(text);
  SourceFile src("std/lifecycle.rules", text);
  ParseResult r = parseRules(src);
  CHECK(r.diags.empty());
  CHECK(r.module->lets.size() >= 10);
  CHECK(preludeSource("nothing") == nullptr);
  CHECK(isNativeModule("rfm"));
  CHECK_FALSE(isNativeModule("lifecycle"));
}
