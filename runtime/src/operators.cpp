#include "operators.h"

#include <cmath>

#include "rekindle/core/time.h"

namespace rekindle {

namespace {

bool isNum(const Value& v) { return v.tag == Kind::Int || v.tag == Kind::Float; }

// Integer arithmetic that gives null rather than a wrapped number when out of range.
template <class Op>
Value checkedInt(int64_t a, int64_t b, Op op, Kind kind = Kind::Int) {
  int64_t r = 0;
  if (op(a, b, &r)) return Value::null();
  return Value::tagged(kind, r);
}
bool addOverflows(int64_t a, int64_t b, int64_t* r) { return __builtin_add_overflow(a, b, r); }
bool subOverflows(int64_t a, int64_t b, int64_t* r) { return __builtin_sub_overflow(a, b, r); }
bool mulOverflows(int64_t a, int64_t b, int64_t* r) { return __builtin_mul_overflow(a, b, r); }

std::optional<Value> durationOf(double seconds) {
  if (!std::isfinite(seconds) || std::fabs(seconds) > 9.0e15) return Value::null();
  return Value::duration(std::llround(seconds));
}

}  // namespace

std::optional<Value> arithMixed(Opcode op, const Value& a, const Value& b) {
  if (a.isNull() || b.isNull()) return Value::null();
  switch (op) {
    case Opcode::Add:
      if (a.tag == Kind::Int && b.tag == Kind::Int) return checkedInt(a.i, b.i, addOverflows);
      if (isNum(a) && isNum(b)) return Value::real(a.asNumber() + b.asNumber());
      if ((a.tag == Kind::Time && b.tag == Kind::Duration) || (a.tag == Kind::Duration && b.tag == Kind::Time))
        return checkedInt(a.i, b.i, addOverflows, Kind::Time);
      if (a.tag == Kind::Duration && b.tag == Kind::Duration) return checkedInt(a.i, b.i, addOverflows, Kind::Duration);
      if (a.tag == Kind::Date && b.tag == Kind::Duration) return Value::date(a.i + floorDiv(b.i, kSecondsPerDay));
      if (a.tag == Kind::Duration && b.tag == Kind::Date) return Value::date(b.i + floorDiv(a.i, kSecondsPerDay));
      return std::nullopt;
    case Opcode::Sub:
      if (a.tag == Kind::Int && b.tag == Kind::Int) return checkedInt(a.i, b.i, subOverflows);
      if (isNum(a) && isNum(b)) return Value::real(a.asNumber() - b.asNumber());
      if (a.tag == Kind::Time && b.tag == Kind::Time) return checkedInt(a.i, b.i, subOverflows, Kind::Duration);
      if (a.tag == Kind::Time && b.tag == Kind::Duration) return checkedInt(a.i, b.i, subOverflows, Kind::Time);
      if (a.tag == Kind::Duration && b.tag == Kind::Duration) return checkedInt(a.i, b.i, subOverflows, Kind::Duration);
      if (a.tag == Kind::Date && b.tag == Kind::Date) return Value::duration((a.i - b.i) * kSecondsPerDay);
      if (a.tag == Kind::Date && b.tag == Kind::Duration) return Value::date(a.i - floorDiv(b.i, kSecondsPerDay));
      return std::nullopt;
    case Opcode::Mul:
      if (a.tag == Kind::Int && b.tag == Kind::Int) return checkedInt(a.i, b.i, mulOverflows);
      if (isNum(a) && isNum(b)) return Value::real(a.asNumber() * b.asNumber());
      if (a.tag == Kind::Duration && isNum(b)) return durationOf(static_cast<double>(a.i) * b.asNumber());
      if (isNum(a) && b.tag == Kind::Duration) return durationOf(a.asNumber() * static_cast<double>(b.i));
      return std::nullopt;
    case Opcode::Div:
      if (isNum(a) && isNum(b)) {
        if (b.asNumber() == 0) return Value::null();
        return Value::real(a.asNumber() / b.asNumber());
      }
      if (a.tag == Kind::Duration && isNum(b)) {
        if (b.asNumber() == 0) return Value::null();
        return durationOf(static_cast<double>(a.i) / b.asNumber());
      }
      if (a.tag == Kind::Duration && b.tag == Kind::Duration) {
        if (b.i == 0) return Value::null();
        return Value::real(static_cast<double>(a.i) / static_cast<double>(b.i));
      }
      return std::nullopt;
    case Opcode::Mod:
      if ((a.tag == Kind::Int && b.tag == Kind::Int) || (a.tag == Kind::Duration && b.tag == Kind::Duration)) {
        if (b.i == 0) return Value::null();
        if (b.i == -1) return Value::tagged(a.tag, 0);  // INT64_MIN % -1 would trap; the answer is 0
        return Value::tagged(a.tag, a.i % b.i);
      }
      if (isNum(a) && isNum(b)) {
        if (b.asNumber() == 0) return Value::null();
        return Value::real(std::fmod(a.asNumber(), b.asNumber()));
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

bool orderable(const Value& a, const Value& b) {
  if (isNum(a) && isNum(b)) return true;
  if (a.tag != b.tag) return false;
  switch (a.tag) {
    case Kind::String: case Kind::Time: case Kind::Date: case Kind::Duration: case Kind::Bool: return true;
    default: return false;
  }
}

bool comparable(const Value& a, const Value& b) {
  return orderable(a, b) || (a.tag == b.tag && a.tag != Kind::List && a.tag != Kind::Event);
}

std::optional<bool> compareMixed(Opcode op, const Value& x, const Value& y) {
  if (x.isNull() || y.isNull()) return false;  // a comparison with null is false, != included
  switch (op) {
    case Opcode::Eq: case Opcode::Ne: {
      if (!comparable(x, y)) return std::nullopt;
      bool eq = valuesEqual(x, y);
      return op == Opcode::Eq ? eq : !eq;
    }
    default: break;
  }
  if (!orderable(x, y)) return std::nullopt;
  int c = compareValues(x, y);
  switch (op) {
    case Opcode::Lt: return c < 0;
    case Opcode::Le: return c <= 0;
    case Opcode::Gt: return c > 0;
    case Opcode::Ge: return c >= 0;
    default: return std::nullopt;
  }
}

std::optional<bool> member(Opcode op, const Value& x, const Value& list) {
  if (list.tag != Kind::List) return std::nullopt;
  if (x.isNull()) return false;
  bool found = false;
  const bool byIndex = integral(x.tag) || outcome(x.tag);  // `stage in [at_risk, dormant]`
  for (const Value& e : list.list->items)
    if (byIndex && e.tag == x.tag ? e.i == x.i : !e.isNull() && comparable(x, e) && valuesEqual(x, e)) {
      found = true;
      break;
    }
  return op == Opcode::In ? found : !found;
}

}  // namespace rekindle
