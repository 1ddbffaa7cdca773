// The built-in function table: declared once, read by the checker (types, hover, completion)
// and by the VM (native implementations). SPEC §4.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rekindle/core/time.h"
#include "rekindle/core/value.h"

namespace rekindle {

// Population statistics that need a first pass over all customers (std.rfm, quantile_rank).
// The runtime implements it; natives read it through NativeContext.
class PopulationView {
 public:
  virtual ~PopulationView() = default;
  // rfm scores 1..5 for the current customer (0 = no purchases), and the R×F segment name.
  virtual int rfmScore(char which) const = 0;  // 'r', 'f' or 'm'
  virtual const std::string* rfmSegment() const = 0;
  virtual const std::string* rfmScoreString() const = 0;
  // clv quantities for the current customer, from the fitted parameters.
  virtual Value clv(std::string_view what, const Value* args, int argc) const = 0;
};

// Named dates from the config's `calendar:` section, sorted ascending.
using Calendar = std::unordered_map<std::string, std::vector<int64_t>>;

// What a native may read: the run's clock, zone and calendar, the current customer, and
// scratch storage for the strings and lists it returns. Nothing else (SPEC §3.6).
struct NativeContext {
  NativeContext() { setToday(0); }
  // Sets today (a date in the config's zone) and what is derived from it.
  void setToday(int64_t days);

  int64_t now = 0;    // time
  int64_t today = 0;  // date, in the config's zone
  CivilDate todayDate{1970, 1, 1};  // today as year, month and day
  // Days from today to the next anniversary of each month and day (index month * 32 + day), 29
  // February falling on 28 February in years without one: anniversary_within reads it, a month
  // and a day away from the date, instead of working the anniversary out for every customer.
  std::array<int16_t, 13 * 32> daysToAnniversary{};
  const TimeZone* zone = nullptr;
  const Calendar* calendar = nullptr;
  const std::string* customerId = nullptr;  // the current customer's (read by bucket() only)
  Arena* arena = nullptr;
  StringPool* pool = nullptr;  // for strings that must compare equal to data strings
  const PopulationView* population = nullptr;
};

// Arguments are never null for a native whose `propagatesNull` is set: the VM returns null
// without calling it. Lists are never null.
using NativeFn = Value (*)(NativeContext& ctx, const Value* args, int argc);

// One element of a signature: a concrete kind, or a type variable:
//   T any scalar, O orderable (int float string time date duration), N number (int float)
// `cond` is a per-element condition compiled inline (streak).
struct TypePattern {
  Kind kind = Kind::Null;  // concrete kind, when var == 0
  char var = 0;            // 'T', 'O', 'N', or 'C' (cond)
  bool list = false;
  bool nullable = false;   // result only: may be null even when the arguments are not
};

// How a list native reduces its list. The natives count, exists, sum, min, max, first and last
// are a Reducer fed the list in order; the VM's event scans feed one the events a list
// expression keeps, as it scans them, and so reduce without building the list.
enum class Reduction : uint8_t { None, Count, Exists, Sum, SumFloat, SumDuration, Min, Max, First, Last };

class Reducer {
 public:
  explicit Reducer(Reduction r = Reduction::None) : r_(r) {}
  void add(const Value& v);
  // A whole list, in order: count, exists, first and last need only its size and its ends.
  void addList(const std::vector<Value>& items);
  Value result() const;

 private:
  Reduction r_;
  int64_t n_ = 0;        // elements added
  Value best_;           // min, max, first, last
  bool isFloat_ = false; // sums: as sum() of a list of mixed numbers
  Kind sumKind_ = Kind::Int;
  int64_t si_ = 0;
  double sf_ = 0;
};

struct Builtin {
  std::string module;  // "" for global functions, "rfm", "clv"
  std::string name;
  std::string signature;  // as written in the table: "min(xs: list<O>) -> O?"
  std::string doc;
  std::vector<TypePattern> params;
  std::vector<std::string> paramNames;
  TypePattern result;
  NativeFn fn = nullptr;         // nullptr: a special form compiled to its own opcodes
  bool property = false;         // used without parentheses: rfm.r
  bool population = false;       // needs the population pass (5.1)
  bool propagatesNull = true;    // null scalar argument -> null result
  Reduction reduction = Reduction::None;  // a list native that is a Reducer
  std::string key() const;       // "module.name/arity" plus overload tag, stable in .rkb
};

// The table, in declaration order. Overloads share a name and are tried in order.
const std::vector<Builtin>& builtins();
// Index of a builtin by its stable key, or -1.
int findBuiltinByKey(std::string_view key);
// Every overload of module.name, in table order.
std::vector<int> findBuiltins(std::string_view module, std::string_view name);
// The modules `use std.X` may name and whether they are native (rfm, clv) or a prelude.
bool isNativeModule(std::string_view module);
// Source text of a prelude module written in the rules language (std.lifecycle), or null.
const char* preludeSource(std::string_view module);

}  // namespace rekindle
