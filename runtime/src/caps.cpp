// Cap windows and quiet hours.
#include "rekindle/runtime/caps.h"

#include <algorithm>

namespace rekindle {

CalendarPeriods::CalendarPeriods(int64_t now, const TimeZone& zone) {
  const int64_t day = floorDiv(zone.toLocal(now), kSecondsPerDay);
  const int64_t monday = day - (isoWeekday(day) - 1);  // weeks start on Monday
  const CivilDate c = civilFromDays(day);
  const int64_t first[4] = {0, day, monday, daysFromCivil(c.year, c.month, 1)};
  const int64_t next[4] = {0, day + 1, monday + 7,
                           c.month == 12 ? daysFromCivil(c.year + 1, 1, 1) : daysFromCivil(c.year, c.month + 1, 1)};
  for (int u = 1; u < 4; ++u) {
    start_[u] = zone.localDayStart(first[u]);
    next_[u] = zone.localDayStart(next[u]);
  }
}

namespace {

// The earliest contact time a window counts at `now`: a rolling window of W counts c when
// now - W < c (times are whole seconds), a calendar window from the start of its period.
int64_t windowFrom(const CapWindow& w, int64_t now, const CalendarPeriods& periods) {
  return w.unit == CalendarUnit::None ? now - w.seconds + 1 : periods.start(w.unit);
}

}  // namespace

WindowCheck checkWindow(const CapWindow& w, const int64_t* first, const int64_t* last, int64_t now,
                        const CalendarPeriods& periods) {
  WindowCheck r;
  r.eligibleAt = now;
  // Contacts up to now, oldest first. The window's contacts are the newest few (and contacts
  // after now fewer): both ends are counted back from the newest, not searched for.
  const int64_t* end = last;
  while (end != first && end[-1] > now) --end;
  const int64_t* begin = end;
  const int64_t from = windowFrom(w, now, periods);
  while (begin != first && begin[-1] >= from) --begin;
  r.count = end - begin;
  r.full = r.count >= w.count;
  if (!r.full) return r;
  // A rolling window admits one more once the oldest (count - limit + 1) contacts have left it
  // (contact c leaves at c + W); a calendar window when the next period starts.
  r.eligibleAt = w.unit == CalendarUnit::None ? *(begin + (r.count - w.count)) + w.seconds : periods.next(w.unit);
  return r;
}

bool countsInWindow(const CapWindow& w, int64_t c, int64_t now, const CalendarPeriods& periods) {
  return c <= now && c >= windowFrom(w, now, periods);
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

std::string suppressionText(const CapRule& rule, const CapWindow& window) {
  return rule.text + " " + windowText(window);
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
