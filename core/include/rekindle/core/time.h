// Civil dates, IANA time zones and the time formats Rekindle reads and writes.
// Times are seconds since the Unix epoch (UTC); dates are days since 1970-01-01.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rekindle {

constexpr int64_t kSecondsPerMinute = 60;
constexpr int64_t kSecondsPerHour = 3600;
constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kSecondsPerWeek = 7 * kSecondsPerDay;

struct CivilDate {
  int year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

int64_t daysFromCivil(int year, unsigned month, unsigned day);
CivilDate civilFromDays(int64_t days);
int isoWeekday(int64_t days);  // 1 = Monday .. 7 = Sunday
bool validCivil(int year, unsigned month, unsigned day);
int64_t floorDiv(int64_t a, int64_t b);

// An IANA time zone with real daylight-saving rules (from the system tz database).
class TimeZone {
 public:
  TimeZone() = default;  // UTC
  static std::optional<TimeZone> locate(std::string_view name);
  const std::string& name() const { return name_; }
  bool isUtc() const { return zone_ == nullptr; }

  int64_t offsetAt(int64_t utcSeconds) const;  // seconds east of UTC at that instant
  int64_t toLocal(int64_t utcSeconds) const { return utcSeconds + offsetAt(utcSeconds); }
  // Local wall-clock seconds to UTC. A wall time inside a spring-forward gap moves forward by
  // the gap; a wall time that happens twice (fall back) takes the earlier instant.
  int64_t fromLocal(int64_t localSeconds) const;
  // The UTC instant at which local day `days` begins.
  int64_t localDayStart(int64_t days) const { return fromLocal(days * kSecondsPerDay); }

 private:
  const void* zone_ = nullptr;  // const date::time_zone*; nullptr means UTC
  std::string name_ = "UTC";
};

// ISO 8601 time ("2026-11-23T08:00:00+08:00", "2026-11-23 08:00:00", "2026-11-23") or epoch
// seconds ("1763856000"). A time without an offset is wall time in `zone`.
std::optional<int64_t> parseTime(std::string_view text, const TimeZone& zone);
// "2026-11-23".
std::optional<int64_t> parseDate(std::string_view text);
// "90d", "12h", "30m", "45s", "2w".
std::optional<int64_t> parseDuration(std::string_view text);
// strptime-like with %Y %m %d %H %M %S %z %%; for exports with their own layout ("%Y%m%d").
// Returns seconds (wantDate = false) or days (wantDate = true).
std::optional<int64_t> parseWithFormat(std::string_view text, std::string_view format,
                                       const TimeZone& zone, bool wantDate);

std::string formatTime(int64_t utcSeconds, const TimeZone& zone);  // 2026-11-23T08:00:00+08:00
std::string formatDate(int64_t days);                               // 2026-11-23
std::string formatDuration(int64_t seconds);                        // 90d, 36h, 90m, 45s

}  // namespace rekindle
