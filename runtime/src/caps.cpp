// Cap windows and quiet hours.
#include "rekindle/runtime/caps.h"

#include <algorithm>

namespace rekindle {

namespace {

// Start of the local period containing `now`, and the start of the next one.
std::pair<int64_t, int64_t> calendarPeriod(CalendarUnit unit, int64_t now, const TimeZone& zone) {
  int64_t day = floorDiv(zone.toLocal(now), kSecondsPerDay);
  int64_t first = day, next = day + 1;
  if (unit == CalendarUnit::Week) {
    first = day - (isoWeekday(day) - 1);  // weeks start on Monday
    next = first + 7;
  } else if (unit == CalendarUnit::Month) {
    CivilDate c = civilFromDays(day);
    first = daysFromCivil(c.year, c.month, 1);
    next = c.month == 12 ? daysFromCivil(c.year + 1, 1, 1) : daysFromCivil(c.year, c.month + 1, 1);
  }
  return {zone.localDayStart(first), zone.localDayStart(next)};
}

}  // namespace

WindowCheck checkWindow(const CapWindow& w, const std::vector<int64_t>& contacts, int64_t now, const TimeZone& zone) {
  WindowCheck r;
  r.eligibleAt = now;
  // Contacts up to now, oldest first.
  auto end = std::upper_bound(contacts.begin(), contacts.end(), now);
  if (w.unit == CalendarUnit::None) {
    auto begin = std::upper_bound(contacts.begin(), end, now - w.seconds);  // c > now - W
    r.count = end - begin;
    r.full = r.count >= w.count;
    // The window admits one more once the oldest (count - limit + 1) contacts have left it:
    // contact c leaves at c + W.
    if (r.full) r.eligibleAt = *(begin + (r.count - w.count)) + w.seconds;
  } else {
    auto [start, next] = calendarPeriod(w.unit, now, zone);
    auto begin = std::lower_bound(contacts.begin(), end, start);  // c >= start of the period
    r.count = end - begin;
    r.full = r.count >= w.count;
    if (r.full) r.eligibleAt = next;
  }
  return r;
}

bool countsInWindow(const CapWindow& w, int64_t c, int64_t now, const TimeZone& zone) {
  if (c > now) return false;
  if (w.unit == CalendarUnit::None) return c > now - w.seconds;
  return c >= calendarPeriod(w.unit, now, zone).first;
}

std::string windowText(const CapWindow& w) {
  std::string n = std::to_string(w.count) + " per ";
  switch (w.unit) {
    case CalendarUnit::None: return n + formatDuration(w.seconds);
    case CalendarUnit::Day: return n + "calendar day";
    case CalendarUnit::Week: return n + "calendar week";
    case CalendarUnit::Month: return n + "calendar month";
  }
  return n;
}

int64_t sendTimeAfterQuietHours(int64_t now, const QuietHours& q, const TimeZone& zone) {
  int64_t local = zone.toLocal(now);
  int64_t day = floorDiv(local, kSecondsPerDay);
  int64_t minute = (local - day * kSecondsPerDay) / kSecondsPerMinute;
  bool crosses = q.startMinute > q.endMinute;
  bool quiet = crosses ? (minute >= q.startMinute || minute < q.endMinute)
                       : (minute >= q.startMinute && minute < q.endMinute);
  if (!quiet) return now;
  // The window ends today, or tomorrow when it started this evening and crosses midnight.
  int64_t endDay = (crosses && minute >= q.startMinute) ? day + 1 : day;
  int64_t endLocal = endDay * kSecondsPerDay + q.endMinute * kSecondsPerMinute;
  int64_t send = zone.fromLocal(endLocal);
  // A wall time that happens twice (clocks going back) reads as its first occurrence; when that
  // is already past, the window ends at the second one.
  if (send <= now) {
    int64_t second = endLocal - zone.offsetAt(now);
    if (second > now && zone.toLocal(second) == endLocal) send = second;
  }
  return std::max(send, now);
}

}  // namespace rekindle
