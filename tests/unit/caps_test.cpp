// Cap windows and quiet hours at their edges: a contact exactly one window ago, the first second
// of a calendar day, week or month in the customer's zone, next_eligible_at to the second,
// quiet windows across midnight and on daylight-saving days.
#include <catch2/catch.hpp>

#include "rekindle/runtime/caps.h"

using namespace rekindle;

namespace {
int64_t at(const char* iso) { return *parseTime(iso, TimeZone()); }
CapWindow rolling(int64_t n, int64_t seconds) { return CapWindow{n, seconds, CalendarUnit::None}; }
CapWindow calendar(int64_t n, CalendarUnit u) { return CapWindow{n, 0, u}; }
// One window over these contacts at `now`, with the zone's calendar periods at `now`.
WindowCheck check(const CapWindow& w, const std::vector<int64_t>& contacts, int64_t now, const TimeZone& zone) {
  return checkWindow(w, contacts.data(), contacts.data() + contacts.size(), now, CalendarPeriods(now, zone));
}
const TimeZone& paris() {
  static TimeZone z = *TimeZone::locate("Europe/Paris");
  return z;
}
}  // namespace

TEST_CASE("rolling windows count t - W < c <= t", "[caps]") {
  const int64_t now = at("2026-11-23T09:00:00Z");
  const int64_t week = 7 * 86400;
  SECTION("a contact exactly one window ago has left it") {
    WindowCheck r = check(rolling(1, week), {now - week}, now, TimeZone());
    CHECK(r.count == 0);
    CHECK_FALSE(r.full);
    CHECK(r.eligibleAt == now);
  }
  SECTION("one second later it still counts, and leaves exactly W after it was made") {
    WindowCheck r = check(rolling(1, week), {now - week + 1}, now, TimeZone());
    CHECK(r.count == 1);
    CHECK(r.full);
    CHECK(r.eligibleAt == now + 1);
  }
  SECTION("a contact at now counts; one after now does not") {
    CHECK(check(rolling(1, week), {now}, now, TimeZone()).full);
    CHECK_FALSE(check(rolling(1, week), {now + 1}, now, TimeZone()).full);
  }
  SECTION("2 per 7d with three contacts: eligible when the two oldest have left") {
    int64_t c1 = now - 6 * 86400, c2 = now - 2 * 86400, c3 = now - 3600;
    WindowCheck r = check(rolling(2, week), {c1, c2, c3}, now, TimeZone());
    CHECK(r.count == 3);
    CHECK(r.full);
    // At t = c2 + 7d only c3 is left in (t - 7d, t]: one contact, room for one more.
    CHECK(r.eligibleAt == c2 + week);
    CHECK_FALSE(check(rolling(2, week), {c1, c2, c3}, r.eligibleAt, TimeZone()).full);
    CHECK(check(rolling(2, week), {c1, c2, c3}, r.eligibleAt - 1, TimeZone()).full);
  }
  CHECK(windowText(rolling(2, week)) == "2 per 7d");
}

TEST_CASE("calendar windows start at local midnight, Monday and the 1st", "[caps]") {
  // 2026-11-23 is a Monday. Paris is UTC+1 in November.
  const int64_t now = at("2026-11-25T10:00:00+01:00");  // Wednesday
  SECTION("day") {
    int64_t midnight = at("2026-11-25T00:00:00+01:00");
    CHECK(check(calendar(1, CalendarUnit::Day), {midnight}, now, paris()).full);
    CHECK_FALSE(check(calendar(1, CalendarUnit::Day), {midnight - 1}, now, paris()).full);
    CHECK(check(calendar(1, CalendarUnit::Day), {midnight}, now, paris()).eligibleAt == at("2026-11-26T00:00:00+01:00"));
    // The same instant is another day in UTC: midnight Paris is 23:00Z the day before.
    CHECK_FALSE(check(calendar(1, CalendarUnit::Day), {midnight}, now, TimeZone()).full);
  }
  SECTION("week (Monday)") {
    int64_t monday = at("2026-11-23T00:00:00+01:00");
    WindowCheck r = check(calendar(2, CalendarUnit::Week), {monday, monday + 3600}, now, paris());
    CHECK(r.full);
    CHECK(r.eligibleAt == at("2026-11-30T00:00:00+01:00"));
    CHECK_FALSE(check(calendar(2, CalendarUnit::Week), {monday - 1, monday + 3600}, now, paris()).full);
  }
  SECTION("month, across a change of offset") {
    // 1 October 2026 is in summer time (UTC+2); 1 November in winter time (UTC+1).
    int64_t now2 = at("2026-10-31T23:30:00+01:00");
    int64_t first = at("2026-10-01T00:00:00+02:00");
    WindowCheck r = check(calendar(1, CalendarUnit::Month), {first}, now2, paris());
    CHECK(r.full);
    CHECK(r.eligibleAt == at("2026-11-01T00:00:00+01:00"));
    CHECK_FALSE(check(calendar(1, CalendarUnit::Month), {first - 1}, now2, paris()).full);
  }
  SECTION("December rolls over to January") {
    int64_t now3 = at("2026-12-15T12:00:00+01:00");
    CHECK(check(calendar(1, CalendarUnit::Month), {now3 - 60}, now3, paris()).eligibleAt == at("2027-01-01T00:00:00+01:00"));
  }
  CHECK(windowText(calendar(1, CalendarUnit::Month)) == "1 per calendar month");
}

TEST_CASE("quiet hours move send_at to the end of the window and never suppress", "[caps]") {
  QuietHours night = *parseQuietHours("21:00-08:00");
  const TimeZone& z = paris();
  SECTION("outside the window nothing moves") {
    int64_t t = at("2026-11-23T08:00:00+01:00");
    CHECK(sendTimeAfterQuietHours(t, night, z) == t);
    CHECK(sendTimeAfterQuietHours(at("2026-11-23T20:59:59+01:00"), night, z) == at("2026-11-23T20:59:59+01:00"));
  }
  SECTION("in the evening: the next morning") {
    CHECK(sendTimeAfterQuietHours(at("2026-11-23T21:00:00+01:00"), night, z) == at("2026-11-24T08:00:00+01:00"));
    CHECK(sendTimeAfterQuietHours(at("2026-11-23T23:59:59+01:00"), night, z) == at("2026-11-24T08:00:00+01:00"));
  }
  SECTION("after midnight: the same morning") {
    CHECK(sendTimeAfterQuietHours(at("2026-11-24T00:00:00+01:00"), night, z) == at("2026-11-24T08:00:00+01:00"));
    CHECK(sendTimeAfterQuietHours(at("2026-11-24T07:59:59+01:00"), night, z) == at("2026-11-24T08:00:00+01:00"));
  }
  SECTION("the night clocks go back keeps wall-clock 08:00") {
    // 25 October 2026: Paris goes from UTC+2 to UTC+1 at 03:00 local.
    CHECK(sendTimeAfterQuietHours(at("2026-10-24T22:00:00+02:00"), night, z) == at("2026-10-25T08:00:00+01:00"));
  }
  SECTION("a quiet end inside the spring-forward gap moves with the clock") {
    // 29 March 2026: 02:00 local jumps to 03:00. A window ending at 02:30 ends at 03:30 (01:30Z).
    QuietHours early = *parseQuietHours("01:00-02:30");
    CHECK(sendTimeAfterQuietHours(at("2026-03-29T01:30:00+01:00"), early, z) == at("2026-03-29T01:30:00Z"));
  }
  SECTION("a quiet end in the hour that happens twice: the second one, once inside the window") {
    // 25 October 2026: 02:00-03:00 local happens twice. At the second 02:15 (+01:00) a window
    // ending at 02:30 ends at the second 02:30, not at the first, which is past.
    QuietHours late = *parseQuietHours("22:00-02:30");
    CHECK(sendTimeAfterQuietHours(at("2026-10-25T02:15:00+01:00"), late, z) == at("2026-10-25T02:30:00+01:00"));
    CHECK(sendTimeAfterQuietHours(at("2026-10-25T02:15:00+02:00"), late, z) == at("2026-10-25T02:30:00+02:00"));
  }
  SECTION("a daytime window") {
    QuietHours lunch = *parseQuietHours("12:00-14:00");
    CHECK(sendTimeAfterQuietHours(at("2026-11-23T13:00:00+01:00"), lunch, z) == at("2026-11-23T14:00:00+01:00"));
    CHECK(sendTimeAfterQuietHours(at("2026-11-23T14:00:00+01:00"), lunch, z) == at("2026-11-23T14:00:00+01:00"));
  }
  SECTION("in the customer's zone, not the config's") {
    TimeZone shanghai = *TimeZone::locate("Asia/Shanghai");
    int64_t t = at("2026-11-23T14:00:00+01:00");  // 21:00 in Shanghai
    CHECK(sendTimeAfterQuietHours(t, night, z) == t);
    CHECK(sendTimeAfterQuietHours(t, night, shanghai) == at("2026-11-24T08:00:00+08:00"));
  }
}
