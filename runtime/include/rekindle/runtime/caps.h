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

// Counts `contacts` (sorted ascending; times after `now` are not counted) in one window:
//  rolling W:            a contact c counts at t when t - W < c <= t;
//  calendar day/week/month: from the start of the current local day / week (Monday) /
//                        month in `zone` up to t.
// When full, eligibleAt is when enough contacts have left the window (rolling) or the next
// period starts (calendar); otherwise it is `now`. Exact to the second.
WindowCheck checkWindow(const CapWindow& window, const std::vector<int64_t>& contacts, int64_t now,
                        const TimeZone& zone);

// Does a contact at `c` count in the window at `now`?
bool countsInWindow(const CapWindow& window, int64_t c, int64_t now, const TimeZone& zone);

// "2 per 7d", "1 per calendar month": how a window is named in suppressed_by.
std::string windowText(const CapWindow& window);

// When a message decided at `now` may go out: `now`, or the end of the quiet window it falls
// in (local wall time in `zone`; windows may cross midnight). A quiet end that does not exist
// on a daylight-saving day moves forward with the clock.
int64_t sendTimeAfterQuietHours(int64_t now, const QuietHours& quiet, const TimeZone& zone);

}  // namespace rekindle
