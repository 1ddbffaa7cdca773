// Civil-date arithmetic (Howard Hinnant's algorithms), time-zone lookups through the date
// library's OS tz database, and the hand-written parsers for the time formats of exports.
#include "rekindle/core/time.h"

#include <date/tz.h>

#include <cstdio>

namespace rekindle {

int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t daysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

CivilDate civilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<int>(y + (m <= 2)), m, d};
}

int isoWeekday(int64_t days) {
  // 1970-01-01 was a Thursday (ISO 4).
  int64_t w = (days + 3) % 7;
  if (w < 0) w += 7;
  return static_cast<int>(w) + 1;
}

bool validCivil(int y, unsigned m, unsigned d) {
  if (y < 0 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  unsigned dim = kDays[m - 1];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) dim = 29;
  return d <= dim;
}

std::optional<TimeZone> TimeZone::locate(std::string_view name) {
  TimeZone tz;
  if (name == "UTC" || name == "Etc/UTC" || name == "Z") return tz;
  try {
    tz.zone_ = date::locate_zone(std::string(name));
    tz.name_ = std::string(name);
    return tz;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

namespace {

// The last interval of constant offset a thread looked up, per zone: exports list millions of
// times, nearly all in the same interval (Asia/Shanghai has had one since 1991), and the tz
// database's lookup costs far more than this compare.
struct OffsetInterval {
  const void* zone = nullptr;
  int64_t begin = 0, end = 0;  // UTC seconds, [begin, end)
  int64_t offset = 0;
};
thread_local OffsetInterval lastInterval;

const OffsetInterval& intervalAt(const void* zone, int64_t utc) {
  OffsetInterval& cached = lastInterval;
  if (cached.zone == zone && utc >= cached.begin && utc < cached.end) return cached;
  auto info = static_cast<const date::time_zone*>(zone)->get_info(date::sys_seconds{std::chrono::seconds{utc}});
  cached.zone = zone;
  cached.begin = info.begin.time_since_epoch().count();
  cached.end = info.end.time_since_epoch().count();
  cached.offset = info.offset.count();
  return cached;
}

}  // namespace

int64_t TimeZone::offsetAt(int64_t utc) const {
  if (!zone_) return 0;
  return intervalAt(zone_, utc).offset;
}

int64_t TimeZone::fromLocal(int64_t local) const {
  if (!zone_) return local;
  // A wall time maps to exactly one instant, with no gap or fold, when the instant read with the
  // interval's offset lies more than a day inside that interval: any other offset (they differ
  // by less than a day) would give an instant inside it too, where that offset does not apply.
  const OffsetInterval& known = lastInterval;
  if (known.zone == zone_) {
    const __int128 utc = static_cast<__int128>(local) - known.offset;  // no overflow at the extremes
    if (utc - kSecondsPerDay >= known.begin && utc + kSecondsPerDay < known.end) return static_cast<int64_t>(utc);
  }
  auto z = static_cast<const date::time_zone*>(zone_);
  auto info = z->get_info(date::local_seconds{std::chrono::seconds{local}});
  // For a gap, `first` is the offset before the transition, which maps the wall time forward.
  const int64_t utc = local - info.first.offset.count();
  intervalAt(zone_, utc);  // the next wall time is most likely in the same interval
  return utc;
}

namespace {

struct Cursor {
  std::string_view s;
  size_t p = 0;
  bool done() const { return p >= s.size(); }
  char peek() const { return p < s.size() ? s[p] : '\0'; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++p;
    return true;
  }
  // Exactly n digits.
  bool digits(int n, int& out) {
    if (p + n > s.size()) return false;
    int v = 0;
    for (int k = 0; k < n; ++k) {
      char c = s[p + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    p += n;
    out = v;
    return true;
  }
};

bool parseOffset(Cursor& c, int64_t& offset) {
  if (c.eat('Z') || c.eat('z')) {
    offset = 0;
    return true;
  }
  char sign = c.peek();
  if (sign != '+' && sign != '-') return false;
  ++c.p;
  int hh = 0, mm = 0;
  if (!c.digits(2, hh)) return false;
  if (c.eat(':')) {
    if (!c.digits(2, mm)) return false;
  } else if (!c.done()) {
    if (!c.digits(2, mm)) return false;
  }
  if (hh > 18 || mm > 59) return false;
  offset = (hh * 3600 + mm * 60) * (sign == '-' ? -1 : 1);
  return true;
}

bool parseDatePart(Cursor& c, int64_t& days) {
  int y = 0, m = 0, d = 0;
  if (!c.digits(4, y) || !c.eat('-') || !c.digits(2, m) || !c.eat('-') || !c.digits(2, d))
    return false;
  if (!validCivil(y, unsigned(m), unsigned(d))) return false;
  days = daysFromCivil(y, unsigned(m), unsigned(d));
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<int64_t> parseDate(std::string_view text) {
  Cursor c{trim(text)};
  int64_t days = 0;
  if (!parseDatePart(c, days) || !c.done()) return std::nullopt;
  return days;
}

std::optional<int64_t> parseTime(std::string_view text, const TimeZone& zone) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  // Epoch seconds: an optional sign and digits only.
  {
    size_t k = (text[0] == '-') ? 1 : 0;
    bool allDigits = k < text.size();
    for (size_t j = k; j < text.size(); ++j)
      if (text[j] < '0' || text[j] > '9') allDigits = false;
    if (allDigits) {
      if (text.size() - k > 12) return std::nullopt;  // beyond year 33658: not a timestamp
      int64_t v = 0;
      for (size_t j = k; j < text.size(); ++j) v = v * 10 + (text[j] - '0');
      return k ? -v : v;
    }
  }
  Cursor c{text};
  int64_t days = 0;
  if (!parseDatePart(c, days)) return std::nullopt;
  int64_t local = days * kSecondsPerDay;
  if (c.done()) return zone.fromLocal(local);
  if (!c.eat('T') && !c.eat(' ') && !c.eat('t')) return std::nullopt;
  int hh = 0, mi = 0, ss = 0;
  if (!c.digits(2, hh) || !c.eat(':') || !c.digits(2, mi)) return std::nullopt;
  if (c.eat(':')) {
    if (!c.digits(2, ss)) return std::nullopt;
    if (c.eat('.') || c.eat(',')) {  // fractions of a second are dropped (floor)
      size_t start = c.p;
      while (!c.done() && c.peek() >= '0' && c.peek() <= '9') ++c.p;
      if (c.p == start) return std::nullopt;
    }
  }
  if (hh > 23 || mi > 59 || ss > 60) return std::nullopt;
  if (ss == 60) ss = 59;  // a leap second is read as the last second of its minute
  local += hh * kSecondsPerHour + mi * kSecondsPerMinute + ss;
  if (c.done()) return zone.fromLocal(local);
  int64_t offset = 0;
  if (!parseOffset(c, offset) || !c.done()) return std::nullopt;
  return local - offset;
}

std::optional<int64_t> parseDuration(std::string_view text) {
  text = trim(text);
  if (text.size() < 2) return std::nullopt;
  char unit = text.back();
  int64_t mult = 0;
  switch (unit) {
    case 'w': mult = kSecondsPerWeek; break;
    case 'd': mult = kSecondsPerDay; break;
    case 'h': mult = kSecondsPerHour; break;
    case 'm': mult = kSecondsPerMinute; break;
    case 's': mult = 1; break;
    default: return std::nullopt;
  }
  int64_t v = 0;
  bool neg = false;
  size_t k = 0;
  if (text[0] == '-') {
    neg = true;
    k = 1;
  }
  if (k >= text.size() - 1) return std::nullopt;
  for (; k + 1 < text.size(); ++k) {
    char ch = text[k];
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
    if (v > 1'000'000'000'000LL) return std::nullopt;
  }
  return (neg ? -v : v) * mult;
}

std::optional<int64_t> parseWithFormat(std::string_view text, std::string_view format,
                                       const TimeZone& zone, bool wantDate) {
  Cursor c{trim(text)};
  int y = 1970, m = 1, d = 1, hh = 0, mi = 0, ss = 0;
  int64_t offset = 0;
  bool haveOffset = false;
  for (size_t k = 0; k < format.size(); ++k) {
    char f = format[k];
    if (f != '%') {
      if (!c.eat(f)) return std::nullopt;
      continue;
    }
    if (++k >= format.size()) return std::nullopt;
    bool ok = true;
    switch (format[k]) {
      case 'Y': ok = c.digits(4, y); break;
      case 'm': ok = c.digits(2, m); break;
      case 'd': ok = c.digits(2, d); break;
      case 'H': ok = c.digits(2, hh); break;
      case 'M': ok = c.digits(2, mi); break;
      case 'S': ok = c.digits(2, ss); break;
      case 'z': ok = parseOffset(c, offset); haveOffset = true; break;
      case '%': ok = c.eat('%'); break;
      default: return std::nullopt;
    }
    if (!ok) return std::nullopt;
  }
  if (!c.done() || !validCivil(y, unsigned(m), unsigned(d)) || hh > 23 || mi > 59 || ss > 59)
    return std::nullopt;
  int64_t days = daysFromCivil(y, unsigned(m), unsigned(d));
  if (wantDate) return days;
  int64_t local = days * kSecondsPerDay + hh * kSecondsPerHour + mi * kSecondsPerMinute + ss;
  return haveOffset ? local - offset : zone.fromLocal(local);
}

namespace {

// v (0 to 99) as two digits at p. Decisions files write a time or two per customer: snprintf
// was a tenth of the writing.
char* twoDigits(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}

}  // namespace

std::string formatDate(int64_t days) {
  CivilDate cd = civilFromDays(days);
  char buf[32];
  if (cd.year < 0 || cd.year > 9999) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", cd.year, cd.month, cd.day);
    return buf;
  }
  char* p = twoDigits(buf, cd.year / 100);
  p = twoDigits(p, cd.year % 100);
  *p++ = '-';
  p = twoDigits(p, static_cast<int>(cd.month));
  *p++ = '-';
  p = twoDigits(p, static_cast<int>(cd.day));
  return std::string(buf, p);
}

std::string formatTime(int64_t utc, const TimeZone& zone) {
  int64_t offset = zone.offsetAt(utc);
  int64_t local = utc + offset;
  int64_t days = floorDiv(local, kSecondsPerDay);
  int64_t sod = local - days * kSecondsPerDay;
  std::string out = formatDate(days);
  char buf[16];
  char* p = buf;
  *p++ = 'T';
  p = twoDigits(p, static_cast<int>(sod / 3600));
  *p++ = ':';
  p = twoDigits(p, static_cast<int>(sod / 60 % 60));
  *p++ = ':';
  p = twoDigits(p, static_cast<int>(sod % 60));
  const int64_t a = offset < 0 ? -offset : offset;  // a zone's offset: within a day
  if (offset == 0) {
    *p++ = 'Z';
  } else {
    *p++ = offset < 0 ? '-' : '+';
    p = twoDigits(p, static_cast<int>(a / 3600));
    *p++ = ':';
    p = twoDigits(p, static_cast<int>(a / 60 % 60));
  }
  out.append(buf, p);
  return out;
}

std::string formatDuration(int64_t s) {
  if (s != 0 && s % kSecondsPerDay == 0) return std::to_string(s / kSecondsPerDay) + "d";
  if (s != 0 && s % kSecondsPerHour == 0) return std::to_string(s / kSecondsPerHour) + "h";
  if (s != 0 && s % kSecondsPerMinute == 0) return std::to_string(s / kSecondsPerMinute) + "m";
  return std::to_string(s) + "s";
}

}  // namespace rekindle
