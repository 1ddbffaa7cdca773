// The built-in table and the native implementations of SPEC §4.
#include "rekindle/stdlib/builtins.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <stdexcept>

#include "rekindle/core/hash.h"

namespace rekindle {

// As the natives always did: count and exists count every element, nulls too; sums, min and
// max skip nulls; a sum is an int sum unless a float is met, then the float part plus the int
// part; min and max keep the first of equal values.
void Reducer::add(const Value& v) {
  switch (r_) {
    case Reduction::Min:
    case Reduction::Max:
      if (!v.isNull() && (best_.isNull() || compareValues(v, best_) * (r_ == Reduction::Max ? 1 : -1) > 0)) best_ = v;
      break;
    case Reduction::Sum:
    case Reduction::SumFloat:
    case Reduction::SumDuration:
      if (v.isNull()) break;
      sumKind_ = v.tag;
      if (v.tag == Kind::Float) {
        isFloat_ = true;
        sf_ += v.f;
      } else {
        si_ += v.i;
      }
      break;
    case Reduction::First:
      if (n_ == 0) best_ = v;
      break;
    case Reduction::Last: best_ = v; break;
    case Reduction::None:
    case Reduction::Count:
    case Reduction::Exists: break;
  }
  ++n_;
}

void Reducer::addList(const std::vector<Value>& items) {
  if (items.empty()) return;
  switch (r_) {
    case Reduction::Count:
    case Reduction::Exists: break;
    case Reduction::First:
      if (n_ == 0) best_ = items.front();
      break;
    case Reduction::Last: best_ = items.back(); break;
    default:
      for (const Value& v : items) add(v);
      return;
  }
  n_ += static_cast<int64_t>(items.size());
}

Value Reducer::result() const {
  switch (r_) {
    case Reduction::Count: return Value::integer(n_);
    case Reduction::Exists: return Value::boolean(n_ > 0);
    case Reduction::Sum:
      if (isFloat_) return Value::real(sf_ + static_cast<double>(si_));
      return Value::tagged(sumKind_ == Kind::Duration ? Kind::Duration : Kind::Int, si_);
    case Reduction::SumFloat: return Value::real(isFloat_ ? sf_ + static_cast<double>(si_) : static_cast<double>(si_));
    case Reduction::SumDuration: return Value::duration(si_);
    case Reduction::Min:
    case Reduction::Max:
    case Reduction::First:
    case Reduction::Last: return best_;
    case Reduction::None: break;
  }
  return Value::null();
}

namespace {

// ---- helpers -------------------------------------------------------------------------------

Value mkString(NativeContext& ctx, std::string s) {
  return Value::string(ctx.arena->newString(std::move(s)));
}

int64_t localDays(NativeContext& ctx, int64_t t) {
  return floorDiv(ctx.zone->toLocal(t), kSecondsPerDay);
}

// Days of a date-or-time argument, as a local date.
int64_t asDays(NativeContext& ctx, const Value& v) {
  return v.tag == Kind::Date ? v.i : localDays(ctx, v.i);
}

const std::vector<Value>& items(const Value& v) { return v.list->items; }

// ---- time ----------------------------------------------------------------------------------

Value daysSince(NativeContext& ctx, const Value* a, int) {
  if (a[0].tag == Kind::Date) return Value::integer(ctx.today - a[0].i);
  return Value::integer(floorDiv(ctx.now - a[0].i, kSecondsPerDay));
}
Value daysUntil(NativeContext& ctx, const Value* a, int) {
  if (a[0].tag == Kind::Date) return Value::integer(a[0].i - ctx.today);
  return Value::integer(floorDiv(a[0].i - ctx.now, kSecondsPerDay));
}
Value hoursSince(NativeContext& ctx, const Value* a, int) {
  return Value::integer(floorDiv(ctx.now - a[0].i, kSecondsPerHour));
}
Value dateOf(NativeContext& ctx, const Value* a, int) { return Value::date(localDays(ctx, a[0].i)); }
Value yearOf(NativeContext& ctx, const Value* a, int) {
  return Value::integer(civilFromDays(asDays(ctx, a[0])).year);
}
Value monthOf(NativeContext& ctx, const Value* a, int) {
  return Value::integer(civilFromDays(asDays(ctx, a[0])).month);
}
Value dayOf(NativeContext& ctx, const Value* a, int) {
  return Value::integer(civilFromDays(asDays(ctx, a[0])).day);
}
Value weekdayOf(NativeContext& ctx, const Value* a, int) {
  return Value::integer(isoWeekday(asDays(ctx, a[0])));
}

Value anniversaryWithin(NativeContext& ctx, const Value* a, int) {
  const CivilDate born = civilFromDays(asDays(ctx, a[0]));
  // "within 7d" covers today and the next 7 days.
  return Value::boolean(ctx.daysToAnniversary[born.month * 32 + born.day] * kSecondsPerDay <= a[1].i);
}

Value ageYears(NativeContext& ctx, const Value* a, int) {
  CivilDate b = civilFromDays(asDays(ctx, a[0]));
  const CivilDate& t = ctx.todayDate;
  // As in anniversary_within: a 29 February birthday falls on 28 February in other years.
  if (b.month == 2 && b.day == 29 && !validCivil(t.year, 2, 29)) b.day = 28;
  int age = t.year - b.year;
  if (t.month < b.month || (t.month == b.month && t.day < b.day)) --age;
  return Value::integer(age);
}

Value holiday(NativeContext& ctx, const Value* a, int) {
  if (!ctx.calendar) return Value::null();
  auto it = ctx.calendar->find(*a[0].s);
  if (it == ctx.calendar->end()) return Value::null();
  auto pos = std::lower_bound(it->second.begin(), it->second.end(), ctx.today);
  return pos == it->second.end() ? Value::null() : Value::date(*pos);
}

// ---- lists ---------------------------------------------------------------------------------

Value reduce(Reduction r, const Value& list) {
  Reducer acc(r);
  acc.addList(items(list));
  return acc.result();
}

Value count(NativeContext&, const Value* a, int) { return reduce(Reduction::Count, a[0]); }
Value exists(NativeContext&, const Value* a, int) { return reduce(Reduction::Exists, a[0]); }
Value sumOf(NativeContext&, const Value* a, int) { return reduce(Reduction::Sum, a[0]); }
Value sumFloat(NativeContext&, const Value* a, int) { return reduce(Reduction::SumFloat, a[0]); }
Value sumDuration(NativeContext&, const Value* a, int) { return reduce(Reduction::SumDuration, a[0]); }

Value avgOf(NativeContext&, const Value* a, int) {
  double s = 0;
  int64_t n = 0;
  bool duration = false;
  for (const Value& v : items(a[0])) {
    if (v.isNull()) continue;
    duration = v.tag == Kind::Duration;
    s += v.asNumber();
    ++n;
  }
  if (n == 0) return Value::null();
  if (duration) return Value::duration(static_cast<int64_t>(std::llround(s / double(n))));
  return Value::real(s / double(n));
}

Value minList(NativeContext&, const Value* a, int) { return reduce(Reduction::Min, a[0]); }
Value maxList(NativeContext&, const Value* a, int) { return reduce(Reduction::Max, a[0]); }

// Widens to float when the two numbers differ in kind.
Value pick(const Value& x, const Value& y, bool wantMin) {
  bool takeX = wantMin ? compareValues(x, y) <= 0 : compareValues(x, y) >= 0;
  Value r = takeX ? x : y;
  if ((x.tag == Kind::Float) != (y.tag == Kind::Float) && r.tag == Kind::Int)
    return Value::real(static_cast<double>(r.i));
  return r;
}
Value min2(NativeContext&, const Value* a, int) { return pick(a[0], a[1], true); }
Value max2(NativeContext&, const Value* a, int) { return pick(a[0], a[1], false); }

Value firstOf(NativeContext&, const Value* a, int) { return reduce(Reduction::First, a[0]); }
Value lastOf(NativeContext&, const Value* a, int) { return reduce(Reduction::Last, a[0]); }

Value distinctCount(NativeContext&, const Value* a, int) {
  std::vector<Value> seen;
  for (const Value& v : items(a[0])) {
    if (v.isNull()) continue;
    bool dup = false;
    for (const Value& s : seen)
      if (valuesEqual(s, v)) {
        dup = true;
        break;
      }
    if (!dup) seen.push_back(v);
  }
  return Value::integer(static_cast<int64_t>(seen.size()));
}

// Most frequent non-null value; a tie goes to the value seen most recently (lists are in
// event time order), which is what "their usual channel" means to a marketer.
Value modeOf(NativeContext&, const Value* a, int) {
  struct Tally {
    Value v;
    int64_t n;
    size_t last;
  };
  std::vector<Tally> t;
  const auto& xs = items(a[0]);
  for (size_t k = 0; k < xs.size(); ++k) {
    if (xs[k].isNull()) continue;
    auto it = std::find_if(t.begin(), t.end(), [&](const Tally& e) { return valuesEqual(e.v, xs[k]); });
    if (it == t.end()) {
      t.push_back({xs[k], 1, k});
    } else {
      ++it->n;
      it->last = k;
    }
  }
  if (t.empty()) return Value::null();
  const Tally* best = &t[0];
  for (const Tally& e : t)
    if (e.n > best->n || (e.n == best->n && e.last > best->last)) best = &e;
  return best->v;
}

// ---- strings -------------------------------------------------------------------------------

std::string asciiMap(const std::string& s, bool upper) {
  std::string r = s;
  for (char& c : r) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return r;
}
Value lowerOf(NativeContext& ctx, const Value* a, int) { return mkString(ctx, asciiMap(*a[0].s, false)); }
Value upperOf(NativeContext& ctx, const Value* a, int) { return mkString(ctx, asciiMap(*a[0].s, true)); }
Value lenOf(NativeContext&, const Value* a, int) {
  int64_t n = 0;
  for (unsigned char c : *a[0].s)
    if ((c & 0xC0) != 0x80) ++n;
  return Value::integer(n);
}
Value containsOf(NativeContext&, const Value* a, int) {
  return Value::boolean(a[0].s->find(*a[1].s) != std::string::npos);
}
Value startsWith(NativeContext&, const Value* a, int) {
  return Value::boolean(a[0].s->compare(0, a[1].s->size(), *a[1].s) == 0);
}
Value endsWith(NativeContext&, const Value* a, int) {
  const std::string& s = *a[0].s;
  const std::string& x = *a[1].s;
  return Value::boolean(s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0);
}
Value emailDomain(NativeContext& ctx, const Value* a, int) {
  const std::string& s = *a[0].s;
  size_t at = s.rfind('@');
  if (at == std::string::npos || at + 1 >= s.size()) return Value::null();
  return mkString(ctx, asciiMap(s.substr(at + 1), false));
}

// ---- math ----------------------------------------------------------------------------------

Value absOf(NativeContext&, const Value* a, int) {
  if (a[0].tag == Kind::Float) return Value::real(std::fabs(a[0].f));
  return Value::tagged(a[0].tag, a[0].i < 0 ? -a[0].i : a[0].i);
}
Value roundOf(NativeContext&, const Value* a, int) {
  return a[0].tag == Kind::Int ? a[0] : Value::integer(std::llround(a[0].f));
}
Value roundTo(NativeContext&, const Value* a, int) {
  double p = std::pow(10.0, static_cast<double>(a[1].i));
  return Value::real(std::round(a[0].asNumber() * p) / p);
}
Value floorOf(NativeContext&, const Value* a, int) {
  return a[0].tag == Kind::Int ? a[0] : Value::integer(static_cast<int64_t>(std::floor(a[0].f)));
}
Value ceilOf(NativeContext&, const Value* a, int) {
  return a[0].tag == Kind::Int ? a[0] : Value::integer(static_cast<int64_t>(std::ceil(a[0].f)));
}
Value clampOf(NativeContext&, const Value* a, int) {
  bool anyFloat = a[0].tag == Kind::Float || a[1].tag == Kind::Float || a[2].tag == Kind::Float;
  Value r = a[0];
  if (compareValues(r, a[1]) < 0) r = a[1];
  if (compareValues(r, a[2]) > 0) r = a[2];
  if (anyFloat && r.tag == Kind::Int) return Value::real(static_cast<double>(r.i));
  return r;
}
Value logOf(NativeContext&, const Value* a, int) {
  double x = a[0].asNumber();
  return x > 0 ? Value::real(std::log(x)) : Value::null();
}
Value expOf(NativeContext&, const Value* a, int) {
  double r = std::exp(a[0].asNumber());
  return std::isfinite(r) ? Value::real(r) : Value::null();
}

Value bucketOf(NativeContext& ctx, const Value* a, int) {
  return Value::real(customerBucket(ctx.customerId ? std::string_view(*ctx.customerId) : std::string_view(), *a[0].s));
}

// ---- std.rfm and std.clv -------------------------------------------------------------------

Value rfmR(NativeContext& ctx, const Value*, int) { return Value::integer(ctx.population->rfmScore('r')); }
Value rfmF(NativeContext& ctx, const Value*, int) { return Value::integer(ctx.population->rfmScore('f')); }
Value rfmM(NativeContext& ctx, const Value*, int) { return Value::integer(ctx.population->rfmScore('m')); }
Value rfmScore(NativeContext& ctx, const Value*, int) {
  return Value::string(ctx.population->rfmScoreString());
}
Value rfmSegment(NativeContext& ctx, const Value*, int) {
  return Value::string(ctx.population->rfmSegment());
}
Value clvFrequency(NativeContext& ctx, const Value* a, int n) { return ctx.population->clv("frequency", a, n); }
Value clvRecency(NativeContext& ctx, const Value* a, int n) { return ctx.population->clv("recency", a, n); }
Value clvT(NativeContext& ctx, const Value* a, int n) { return ctx.population->clv("T", a, n); }
Value clvPAlive(NativeContext& ctx, const Value* a, int n) { return ctx.population->clv("p_alive", a, n); }
Value clvExpectedPurchases(NativeContext& ctx, const Value* a, int n) {
  return ctx.population->clv("expected_purchases", a, n);
}
Value clvExpectedValue(NativeContext& ctx, const Value* a, int n) {
  return ctx.population->clv("expected_value", a, n);
}

// ---- the table -----------------------------------------------------------------------------

struct Row {
  const char* module;
  const char* signature;
  const char* doc;
  NativeFn fn;
  bool property;
  bool population;
};

// clang-format off
const Row kRows[] = {
  // time
  {"", "days_since(t: time) -> int", "Whole days from t to now (floor).", daysSince, false, false},
  {"", "days_since(d: date) -> int", "Days from date d to today.", daysSince, false, false},
  {"", "days_until(t: time) -> int", "Whole days from now to t (floor); negative when t is past.", daysUntil, false, false},
  {"", "days_until(d: date) -> int", "Days from today to date d; negative when d is past.", daysUntil, false, false},
  {"", "hours_since(t: time) -> int", "Whole hours from t to now (floor).", hoursSince, false, false},
  {"", "date(t: time) -> date", "The date of t in the config's time zone.", dateOf, false, false},
  {"", "year(t: time) -> int", "Year of t in the config's time zone.", yearOf, false, false},
  {"", "year(d: date) -> int", "Year of d.", yearOf, false, false},
  {"", "month(t: time) -> int", "Month (1-12) of t in the config's time zone.", monthOf, false, false},
  {"", "month(d: date) -> int", "Month (1-12) of d.", monthOf, false, false},
  {"", "day(t: time) -> int", "Day of the month of t in the config's time zone.", dayOf, false, false},
  {"", "day(d: date) -> int", "Day of the month of d.", dayOf, false, false},
  {"", "weekday(t: time) -> int", "ISO weekday of t: 1 = Monday .. 7 = Sunday.", weekdayOf, false, false},
  {"", "weekday(d: date) -> int", "ISO weekday of d: 1 = Monday .. 7 = Sunday.", weekdayOf, false, false},
  {"", "anniversary_within(d: date, within: duration) -> bool", "Does the month/day of d fall between today and today + within? (29 Feb counts as 28 Feb in other years.)", anniversaryWithin, false, false},
  {"", "anniversary_within(t: time, within: duration) -> bool", "Does the month/day of t (in the config's zone) fall between today and today + within?", anniversaryWithin, false, false},
  {"", "age_years(d: date) -> int", "Full years from d to today (an age from a birthday; 29 Feb counts as 28 Feb in other years).", ageYears, false, false},
  {"", "holiday(name: string) -> date?", "The next date of a `calendar:` entry on or after today; null when none is left.", holiday, false, false},
  // lists
  {"", "count(xs: list<T>) -> int", "Number of elements.", count, false, false},
  {"", "exists(xs: list<T>) -> bool", "True when the list has at least one element.", exists, false, false},
  {"", "sum(xs: list<int>) -> int", "Sum of the non-null values; 0 for none.", sumOf, false, false},
  {"", "sum(xs: list<float>) -> float", "Sum of the non-null values; 0 for none.", sumFloat, false, false},
  {"", "sum(xs: list<duration>) -> duration", "Sum of the non-null values; 0s for none.", sumDuration, false, false},
  {"", "avg(xs: list<int>) -> float?", "Mean of the non-null values; null for none.", avgOf, false, false},
  {"", "avg(xs: list<float>) -> float?", "Mean of the non-null values; null for none.", avgOf, false, false},
  {"", "avg(xs: list<duration>) -> duration?", "Mean of the non-null values; null for none.", avgOf, false, false},
  {"", "min(xs: list<O>) -> O?", "Smallest non-null value; null for none.", minList, false, false},
  {"", "max(xs: list<O>) -> O?", "Largest non-null value; null for none.", maxList, false, false},
  {"", "first(xs: list<T>) -> T?", "The first (earliest) element; null for an empty list.", firstOf, false, false},
  {"", "last(xs: list<T>) -> T?", "The last (most recent) element; null for an empty list.", lastOf, false, false},
  {"", "distinct_count(xs: list<T>) -> int", "Number of distinct non-null values.", distinctCount, false, false},
  {"", "mode(xs: list<T>) -> T?", "Most frequent non-null value; a tie goes to the most recent.", modeOf, false, false},
  {"", "streak(xs: list<T>, cond: C) -> int", "How many of the most recent elements satisfy cond, counting back until one does not.", nullptr, false, false},
  // strings
  {"", "lower(s: string) -> string", "ASCII lower case.", lowerOf, false, false},
  {"", "upper(s: string) -> string", "ASCII upper case.", upperOf, false, false},
  {"", "len(s: string) -> int", "Length in Unicode code points.", lenOf, false, false},
  {"", "contains(s: string, part: string) -> bool", "Does s contain part?", containsOf, false, false},
  {"", "starts_with(s: string, prefix: string) -> bool", "Does s start with prefix?", startsWith, false, false},
  {"", "ends_with(s: string, suffix: string) -> bool", "Does s end with suffix?", endsWith, false, false},
  {"", "email_domain(s: string) -> string?", "The lower-cased part after the last '@'; null when there is none.", emailDomain, false, false},
  // math
  {"", "abs(x: int) -> int", "Absolute value.", absOf, false, false},
  {"", "abs(x: float) -> float", "Absolute value.", absOf, false, false},
  {"", "abs(x: duration) -> duration", "Absolute value.", absOf, false, false},
  {"", "round(x: float) -> int", "Nearest integer, halves away from zero.", roundOf, false, false},
  {"", "round(x: float, digits: int) -> float", "x rounded to `digits` decimals.", roundTo, false, false},
  {"", "floor(x: float) -> int", "Largest integer not above x.", floorOf, false, false},
  {"", "ceil(x: float) -> int", "Smallest integer not below x.", ceilOf, false, false},
  {"", "min(a: O, b: O) -> O", "The smaller of a and b.", min2, false, false},
  {"", "max(a: O, b: O) -> O", "The larger of a and b.", max2, false, false},
  {"", "clamp(x: N, lo: N, hi: N) -> N", "x limited to [lo, hi].", clampOf, false, false},
  {"", "log(x: float) -> float?", "Natural logarithm; null for x <= 0.", logOf, false, false},
  {"", "exp(x: float) -> float?", "e to the power x; null when it overflows.", expOf, false, false},
  {"", "bucket(salt: string) -> float", "A stable number in [0, 1) from the customer id and salt (the holdout hash).", bucketOf, false, false},
  {"", "quantile_rank(x: N) -> float?", "Where x falls in this run's population: the share of customers with a smaller value, plus half of those with an equal one (0..1); null when x is null.", nullptr, false, true},
  // std.rfm
  {"rfm", "r() -> int", "Recency quintile score, 5 = most recent purchase; 0 without purchases.", rfmR, true, true},
  {"rfm", "f() -> int", "Frequency quintile score, 5 = most purchases; 0 without purchases.", rfmF, true, true},
  {"rfm", "m() -> int", "Monetary quintile score, 5 = highest total; 0 without purchases.", rfmM, true, true},
  {"rfm", "score() -> string", "The three scores as text, e.g. \"545\"; \"000\" without purchases.", rfmScore, true, true},
  {"rfm", "segment() -> string", "Segment from the R×F map (Champions, Loyal, At Risk, ...); \"No Purchases\" without purchases.", rfmSegment, true, true},
  // std.clv
  {"clv", "frequency() -> int?", "Repeat purchases (same-day purchases merged, the first excluded); null without purchases.", clvFrequency, true, true},
  {"clv", "recency() -> float?", "First to last purchase, in the configured unit (weeks by default); null without purchases.", clvRecency, true, true},
  {"clv", "T() -> float?", "First purchase to today, in the configured unit; null without purchases.", clvT, true, true},
  {"clv", "p_alive() -> float?", "BG/NBD probability the customer is still active; null without purchases.", clvPAlive, false, true},
  {"clv", "expected_purchases(horizon: duration) -> float?", "BG/NBD expected purchases over the horizon; null without purchases.", clvExpectedPurchases, false, true},
  {"clv", "expected_value(horizon: duration) -> float?", "Expected purchases times the Gamma-Gamma expected spend; null without purchases.", clvExpectedValue, false, true},
};
// clang-format on

// ---- signature parsing ---------------------------------------------------------------------

TypePattern parsePattern(std::string_view t) {
  TypePattern p;
  if (!t.empty() && t.back() == '?') {
    p.nullable = true;
    t.remove_suffix(1);
  }
  if (t.substr(0, 5) == "list<") {
    p.list = true;
    t = t.substr(5, t.size() - 6);
  }
  if (t.size() == 1 && (t[0] == 'T' || t[0] == 'O' || t[0] == 'N' || t[0] == 'C')) {
    p.var = t[0];
    if (p.var == 'C') p.kind = Kind::Bool;
    return p;
  }
  auto ty = parseTypeName(t);
  if (!ty) throw std::logic_error("bad builtin type: " + std::string(t));
  p.kind = ty->kind;
  return p;
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

Builtin build(const Row& r) {
  Builtin b;
  b.module = r.module;
  b.signature = r.signature;
  b.doc = r.doc;
  b.fn = r.fn;
  const std::pair<NativeFn, Reduction> reducers[] = {
      {count, Reduction::Count},   {exists, Reduction::Exists}, {sumOf, Reduction::Sum},
      {sumFloat, Reduction::SumFloat}, {sumDuration, Reduction::SumDuration}, {minList, Reduction::Min},
      {maxList, Reduction::Max},   {firstOf, Reduction::First}, {lastOf, Reduction::Last}};
  for (const auto& [fn, reduction] : reducers)
    if (r.fn == fn) b.reduction = reduction;
  b.property = r.property;
  b.population = r.population;
  std::string_view sig = r.signature;
  size_t open = sig.find('('), close = sig.rfind(')'), arrow = sig.find("->");
  b.name = std::string(sig.substr(0, open));
  std::string_view params = sig.substr(open + 1, close - open - 1);
  while (!params.empty()) {
    size_t comma = params.find(',');
    std::string_view one = params.substr(0, comma);
    size_t colon = one.find(':');
    b.paramNames.push_back(trimmed(one.substr(0, colon)));
    b.params.push_back(parsePattern(trimmed(one.substr(colon + 1))));
    if (comma == std::string_view::npos) break;
    params.remove_prefix(comma + 1);
  }
  b.result = parsePattern(trimmed(sig.substr(arrow + 2)));
  return b;
}

}  // namespace

void NativeContext::setToday(int64_t days) {
  today = days;
  todayDate = civilFromDays(days);
  // This year's anniversary, unless its month and day have passed: then next year's. 29 February
  // compares as itself: in a year without one, today is never the 29th, so it passes when the
  // 28th would.
  for (unsigned month = 1; month <= 12; ++month)
    for (unsigned day = 1; day <= 31; ++day) {
      if (!validCivil(2000, month, day)) continue;  // a leap year: every month and day there is
      const bool passed = month < todayDate.month || (month == todayDate.month && day < todayDate.day);
      const int year = passed ? todayDate.year + 1 : todayDate.year;
      const unsigned on = month == 2 && day == 29 && !validCivil(year, 2, 29) ? 28 : day;
      daysToAnniversary[month * 32 + day] = static_cast<int16_t>(daysFromCivil(year, month, on) - days);
    }
}

std::string Builtin::key() const {
  std::string k = module.empty() ? name : module + "." + name;
  k += "(";
  for (size_t i = 0; i < params.size(); ++i) {
    if (i) k += ",";
    const TypePattern& p = params[i];
    if (p.list) k += "list<";
    k += p.var ? std::string(1, p.var) : std::string(kindName(p.kind));
    if (p.list) k += ">";
  }
  return k + ")";
}

const std::vector<Builtin>& builtins() {
  static const std::vector<Builtin> table = [] {
    std::vector<Builtin> t;
    for (const Row& r : kRows) t.push_back(build(r));
    return t;
  }();
  return table;
}

int findBuiltinByKey(std::string_view key) {
  static const std::unordered_map<std::string, int> index = [] {
    std::unordered_map<std::string, int> m;
    const auto& t = builtins();
    for (size_t i = 0; i < t.size(); ++i) m.emplace(t[i].key(), static_cast<int>(i));
    return m;
  }();
  auto it = index.find(std::string(key));
  return it == index.end() ? -1 : it->second;
}

std::vector<int> findBuiltins(std::string_view module, std::string_view name) {
  std::vector<int> out;
  const auto& t = builtins();
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i].module == module && t[i].name == name) out.push_back(static_cast<int>(i));
  return out;
}

bool isNativeModule(std::string_view module) { return module == "rfm" || module == "clv"; }

}  // namespace rekindle
