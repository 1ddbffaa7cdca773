// The built-in table: every entry documented, its signature parsed, its key stable and unique,
// and every native callable; the modules and preludes it names exist.
#include <catch2/catch.hpp>

#include <set>

#include "rekindle/compiler/compiler.h"
#include "rekindle/core/time.h"
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

TEST_CASE("anniversary_within finds the next anniversary on every day of the year", "[stdlib]") {
  // Against the definition, day by day: the first of this year's and next year's anniversaries
  // that is not before today, 29 February counting as 28 February in other years. Every
  // birthday of a leap cycle, on every day of two years (one of them leap), at the exact edge:
  // within the days to the next anniversary, and one day short of it.
  const Builtin& fn = builtins()[findBuiltins("", "anniversary_within")[0]];  // (d: date, within)
  REQUIRE(fn.params[0].kind == Kind::Date);
  NativeContext ctx;
  for (int64_t today = daysFromCivil(2023, 1, 1); today < daysFromCivil(2025, 1, 1); ++today) {
    ctx.setToday(today);
    ctx.now = today * kSecondsPerDay;
    for (int64_t born = daysFromCivil(2000, 1, 1); born < daysFromCivil(2004, 1, 1); born += 3) {
      const CivilDate b = civilFromDays(born);
      int64_t next = 0;
      for (int y = ctx.todayDate.year; next == 0; ++y) {
        const unsigned day = b.month == 2 && b.day == 29 && !validCivil(y, 2, 29) ? 28 : b.day;
        if (daysFromCivil(y, b.month, day) >= today) next = daysFromCivil(y, b.month, day);
      }
      const Value exact[] = {Value::date(born), Value::duration((next - today) * kSecondsPerDay)};
      const Value short_[] = {Value::date(born), Value::duration((next - today - 1) * kSecondsPerDay)};
      INFO("today " << today << ", born " << born);
      REQUIRE(fn.fn(ctx, exact, 2).isTrue());
      REQUIRE(fn.fn(ctx, short_, 2).isFalse());
    }
  }
  // 29 February itself, which the step above may not land on.
  ctx.setToday(daysFromCivil(2023, 2, 28));
  const Value leapling[] = {Value::date(daysFromCivil(2000, 2, 29)), Value::duration(0)};
  CHECK(fn.fn(ctx, leapling, 2).isTrue());  // 28 February in a year without a 29th
  ctx.setToday(daysFromCivil(2024, 2, 28));
  CHECK(fn.fn(ctx, leapling, 2).isFalse());  // tomorrow, the 29th, in a leap year
}
