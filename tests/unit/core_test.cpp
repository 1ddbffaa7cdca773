// core: civil dates, IANA zones with daylight saving, the time formats of exports, hashes,
// typo suggestions and diagnostic rendering.
#include <catch2/catch.hpp>

#include <date/tz.h>

#include <algorithm>
#include <vector>

#include "rekindle/core/diagnostic.h"
#include "rekindle/core/hash.h"
#include "rekindle/core/suggest.h"
#include "rekindle/core/time.h"
#include "rekindle/core/utf8.h"
#include "rekindle/core/value.h"
#include "test_support.h"

using namespace rekindle;

TEST_CASE("civil dates round trip and know their weekdays", "[core][time]") {
  CHECK(daysFromCivil(1970, 1, 1) == 0);
  CHECK(daysFromCivil(2026, 11, 23) == 20780);
  CivilDate d = civilFromDays(20780);
  CHECK((d.year == 2026 && d.month == 11 && d.day == 23));
  CHECK(isoWeekday(20780) == 1);  // 2026-11-23 is a Monday
  CHECK(isoWeekday(0) == 4);      // 1970-01-01 was a Thursday
  CHECK(civilFromDays(-1).year == 1969);
  for (int64_t day = -800000; day < 800000; day += 997) {
    CivilDate c = civilFromDays(day);
    REQUIRE(daysFromCivil(c.year, c.month, c.day) == day);
  }
  CHECK(validCivil(2024, 2, 29));
  CHECK_FALSE(validCivil(2026, 2, 29));
  CHECK_FALSE(validCivil(2026, 4, 31));
  CHECK(floorDiv(-1, 86400) == -1);
  CHECK(floorDiv(86399, 86400) == 0);
}

TEST_CASE("ISO 8601 times, dates, epoch seconds and durations parse exactly", "[core][time]") {
  TimeZone shanghai = *TimeZone::locate("Asia/Shanghai");
  CHECK(parseTime("2026-11-23T08:00:00+08:00", shanghai) == 1795392000);
  CHECK(parseTime("2026-11-23T00:00:00Z", shanghai) == 1795392000);
  CHECK(parseTime("2026-11-23 08:00:00", shanghai) == 1795392000);   // wall time in the zone
  CHECK(parseTime("2026-11-23T08:00", shanghai) == 1795392000);
  CHECK(parseTime("2026-11-23", shanghai) == 1795363200);            // local midnight
  CHECK(parseTime("1795392000", shanghai) == 1795392000);            // epoch seconds
  CHECK(parseTime("2026-11-23T08:00:00.750+08:00", shanghai) == 1795392000);  // fraction dropped
  CHECK(parseTime("2026-11-23T08:00:00+0800", shanghai) == 1795392000);
  CHECK_FALSE(parseTime("2026-13-01", shanghai));
  CHECK_FALSE(parseTime("2026-02-30T00:00:00Z", shanghai));
  CHECK_FALSE(parseTime("yesterday", shanghai));
  CHECK_FALSE(parseTime("2026-11-23T25:00:00Z", shanghai));
  CHECK_FALSE(parseTime("", shanghai));
  CHECK(parseDate("2024-02-29") == daysFromCivil(2024, 2, 29));
  CHECK_FALSE(parseDate("2023-02-29"));
  CHECK(parseDuration("90d") == 90 * 86400);
  CHECK(parseDuration("2w") == 14 * 86400);
  CHECK(parseDuration("45s") == 45);
  CHECK_FALSE(parseDuration("d"));
  CHECK_FALSE(parseDuration("5y"));
  CHECK(parseWithFormat("19970101", "%Y%m%d", shanghai, true) == daysFromCivil(1997, 1, 1));
  CHECK(parseWithFormat("01/02/2026 10:30", "%d/%m/%Y %H:%M", TimeZone(), false) == *parseTime("2026-02-01T10:30:00Z", TimeZone()));
  CHECK_FALSE(parseWithFormat("1997011", "%Y%m%d", shanghai, true));
}

TEST_CASE("time zones follow daylight saving, not fixed offsets", "[core][time]") {
  TimeZone paris = *TimeZone::locate("Europe/Paris");
  int64_t winter = *parseTime("2026-01-15T12:00:00Z", TimeZone());
  int64_t summer = *parseTime("2026-07-15T12:00:00Z", TimeZone());
  CHECK(paris.offsetAt(winter) == 3600);
  CHECK(paris.offsetAt(summer) == 7200);
  CHECK(formatTime(summer, paris) == "2026-07-15T14:00:00+02:00");
  // 2026-03-29 02:30 does not exist in Paris: it moves forward to 03:30 (01:30Z).
  CHECK(parseTime("2026-03-29T02:30:00", paris) == *parseTime("2026-03-29T01:30:00Z", TimeZone()));
  // 2026-10-25 02:30 happens twice: the earlier one (CEST, 00:30Z) is taken.
  CHECK(parseTime("2026-10-25T02:30:00", paris) == *parseTime("2026-10-25T00:30:00Z", TimeZone()));
  CHECK_FALSE(TimeZone::locate("Mars/Olympus_Mons"));
  CHECK(formatTime(0, TimeZone()) == "1970-01-01T00:00:00Z");
  TimeZone newfoundland = *TimeZone::locate("America/St_Johns");  // -03:30 in winter
  CHECK(formatTime(*parseTime("2026-01-05T03:04:05Z", TimeZone()), newfoundland) == "2026-01-04T23:34:05-03:30");
  CHECK(formatTime(*parseTime("2026-12-31T23:59:59+08:00", TimeZone()), TimeZone()) == "2026-12-31T15:59:59Z");
  CHECK(formatDate(daysFromCivil(9, 3, 7)) == "0009-03-07");
  CHECK(formatDate(daysFromCivil(9999, 12, 31)) == "9999-12-31");
  CHECK(formatDate(daysFromCivil(10000, 1, 1)) == "10000-01-01");
  CHECK(formatDuration(90 * 86400) == "90d");
  CHECK(formatDuration(36 * 3600) == "36h");
  CHECK(formatDuration(61) == "61s");
}

TEST_CASE("customer buckets are stable and documented", "[core][hash]") {
  // The reference values of docs/runtime.md: another system reproduces the split with them.
  CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  double b = customerBucket("C001", "winback-2026q4");
  CHECK(b == 0.7877239976937441);  // docs/runtime.md's Python gives exactly this
  CHECK(b >= 0.0);
  CHECK(b < 1.0);
  CHECK(customerBucket("C001", "winback-2026q4") == b);
  CHECK(customerBucket("C001", bucketSeed("winback-2026q4")) == b);  // the salt hashed once, as runs do
  CHECK(customerBucket("C001", "other-salt") != b);
  // Roughly uniform over sequential ids.
  int below = 0;
  for (int i = 0; i < 10000; ++i) below += customerBucket("C" + std::to_string(i), "s") < 0.1;
  CHECK(below > 900);
  CHECK(below < 1100);
}

TEST_CASE("typo suggestions", "[core]") {
  CHECK(editDistance("emial", "email") == 1);
  CHECK(closestName("signup_date", {"signup_at", "email", "phone"}) == "signup_at");
  CHECK(closestName("emial", {"email", "sms"}) == "email");
  CHECK(closestName("zzz", {"email", "sms"}).empty());
}

TEST_CASE("UTF-8 validation rejects overlongs, surrogates and truncation", "[core]") {
  CHECK(findInvalidUtf8("plain") == kValidUtf8);
  CHECK(findInvalidUtf8("沉睡客户") == kValidUtf8);
  CHECK(findInvalidUtf8("\xC0\xAF") == 0);          // overlong '/'
  CHECK(findInvalidUtf8("ab\xED\xA0\x80") == 2);    // UTF-16 surrogate
  CHECK(findInvalidUtf8("\xF4\x90\x80\x80") == 0);  // above U+10FFFF
  CHECK(findInvalidUtf8("x\xE6\xB2") == 1);         // truncated
}

TEST_CASE("values: equality and order as the language defines them", "[core]") {
  StringPool pool;
  const std::string* a = pool.intern("gold");
  CHECK(pool.intern("gold") == a);
  std::string other = "gold";
  CHECK(valuesEqual(Value::string(a), Value::string(&other)));
  CHECK(valuesEqual(Value::integer(2), Value::real(2.0)));
  CHECK_FALSE(valuesEqual(Value::integer(2), Value::duration(2)));
  CHECK(compareValues(Value::integer(1), Value::real(1.5)) < 0);
  CHECK(Type::listOf(Kind::Float, true).str() == "list<float?>");
  CHECK(Type::listOf(Kind::Event).str() == "events");
  CHECK(parseTypeName("string?")->nullable);
  CHECK_FALSE(parseTypeName("strin"));
}

TEST_CASE("the string pool knows its blank strings without reading them", "[core]") {
  StringPool pool;
  // Many strings interned around the blank ones, so that the pool's storage spans several blocks.
  std::vector<const std::string*> blanks, others;
  for (int i = 0; i < 3000; ++i) {
    others.push_back(pool.intern("c" + std::to_string(i) + "@example.com"));
    if (i % 1000 == 0) blanks.push_back(pool.intern(std::string(static_cast<size_t>(i / 1000), ' ')));
  }
  blanks.push_back(pool.intern("\t"));
  blanks.push_back(pool.intern(" \t "));
  others.push_back(pool.intern(" x"));
  others.push_back(pool.intern("x\t"));
  others.push_back(pool.intern("\n"));  // only spaces and tabs are blank
  for (const std::string* b : blanks) CHECK(pool.isBlank(b));
  for (const std::string* o : others) CHECK_FALSE(pool.isBlank(o));
  CHECK(pool.isBlank(pool.intern("  ")));  // interned before: the same string
}

TEST_CASE("diagnostics render with the source line and a caret range", "[core]") {
  SourceFile src("r.rules", "let x = 1\nsegment s when 沉睡 > 2\n");
  Diagnostic d;
  d.code = "E011";
  d.file = "r.rules";
  d.range = SourceRange{{2, 16}, {2, 18}};
  d.message = "unknown name '沉睡'";
  d.suggestion = "did you mean 'x'?";
  std::string r = renderDiagnostic(d, &src, false);
  CHECK(r == "r.rules:2:16: error[E011]: unknown name '沉睡'\n"
             " 2 | segment s when 沉睡 > 2\n"
             "   |                ^^^^\n"  // wide characters get two carets each
             " = help: did you mean 'x'?\n");
  CHECK(src.locOf(src.offsetOf(SourceLoc{2, 18})).col == 18);
}

TEST_CASE("no test name has a semicolon, which would hide the test from CTest", "[meta]") {
  // catch_discover_tests passes names to CTest as a list: a ';' splits one test into two
  // that match nothing, and both "pass" without running.
  std::string out;
  REQUIRE(rekindle::test::runCommand("grep -n 'TEST_CASE(\"[^\"]*;' " + rekindle::test::sourcePath("tests/unit") + "/*.cpp", out) == 1);
  CHECK(out.empty());
}

TEST_CASE("time zone lookups give the tz database's answer in any order", "[core][time]") {
  // TimeZone keeps the last interval of constant offset it looked up, per thread. Walking the
  // times forward (the cache hits), backward and at random (it misses), in zones with daylight
  // saving, half-hour shifts and none, must give what the tz database gives for each time alone.
  const int64_t start = *parseTime("2025-10-20T00:00:00Z", TimeZone());
  std::vector<int64_t> times;
  for (int64_t t = start; t < start + 200 * kSecondsPerDay; t += 1800 + 17) times.push_back(t);
  for (const char* name : {"Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Shanghai", "America/St_Johns"}) {
    INFO(name);
    TimeZone zone = *TimeZone::locate(name);
    const auto* tz = date::locate_zone(name);
    auto expectedOffset = [&](int64_t utc) { return tz->get_info(date::sys_seconds{std::chrono::seconds{utc}}).offset.count(); };
    auto expectedUtc = [&](int64_t local) {
      return local - tz->get_info(date::local_seconds{std::chrono::seconds{local}}).first.offset.count();
    };
    std::vector<int64_t> order = times;
    for (int pass = 0; pass < 3; ++pass) {
      if (pass == 1) std::reverse(order.begin(), order.end());
      if (pass == 2)
        for (size_t k = 0; k < order.size(); ++k) std::swap(order[k], order[(k * 7919) % order.size()]);
      for (int64_t t : order) {
        INFO(t);
        REQUIRE(zone.offsetAt(t) == expectedOffset(t));
        REQUIRE(zone.fromLocal(t) == expectedUtc(t));  // t read as a wall time: gaps and folds too
      }
    }
  }
}
