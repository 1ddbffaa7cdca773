// Frequency caps and quiet hours (SPEC §5.3), as pure functions of the contact history, the
// run's time and the customer's time zone, so their edges can be tested exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rekindle/core/time.h"
#include "rekindle/runtime/config.h"
#include "rekindle/runtime/program.h"

namespace rekindle {

struct WindowCheck {
  int64_t count = 0;       // contacts counted in the window at `now`
  bool full = false;       // count >= the window's limit: no contact allowed now
  int64_t eligibleAt = 0;  // the earliest time >= now at which one more contact is allowed
};

// The local calendar periods holding `now` in one time zone, each as [start, next): where calendar
// windows start counting and when they admit one more. They depend only on the run's time and the
// zone, so a run computes them once per zone, not once per customer.
struct CalendarPeriods {
  CalendarPeriods(int64_t now, const TimeZone& zone);
  int64_t start(CalendarUnit u) const { return start_[static_cast<int>(u)]; }
  int64_t next(CalendarUnit u) const { return next_[static_cast<int>(u)]; }

 private:
  int64_t start_[4] = {}, next_[4] = {};  // by CalendarUnit; None unused
};

// Counts the contacts in [first, last) (sorted ascending; times after `now` are not counted) in
// one window:
//  rolling W:            a contact c counts at t when t - W < c <= t;
//  calendar day/week/month: from the start of the current local day / week (Monday) /
//                        month (`periods`, for the customer's zone) up to t.
// When full, eligibleAt is when enough contacts have left the window (rolling) or the next
// period starts (calendar); otherwise it is `now`. Exact to the second.
WindowCheck checkWindow(const CapWindow& window, const int64_t* first, const int64_t* last, int64_t now,
                        const CalendarPeriods& periods);

// Does a contact at `c` count in the window at `now`?
bool countsInWindow(const CapWindow& window, int64_t c, int64_t now, const CalendarPeriods& periods);

// "2 per 7d", "1 per calendar month": how a window is named in suppressed_by.
std::string windowText(const CapWindow& window);
// "cap email 2 per 7d": the suppressed_by of a window of a cap line.
std::string suppressionText(const CapRule& rule, const CapWindow& window);

// When a message decided at `now` may go out: `now`, or the end of the quiet window it falls
// in (local wall time in `zone`; windows may cross midnight). A quiet end that does not exist
// on a daylight-saving day moves forward with the clock.
int64_t sendTimeAfterQuietHours(int64_t now, const QuietHours& quiet, const TimeZone& zone);

}  // namespace rekindle
