// Event scans: a list expression over the customer's events run as one loop over them. Rules are
// written as lists (`let purchases = events where kind == "purchase"`, then
// `count(purchases)`, `max(purchases.at)`, `sum((purchases where at >= now - 365d).amount)`),
// and in bytecode each step builds a list: the events, the ones a condition keeps, their field.
// A scan finds the events every condition holds for and feeds them, or their field, in order, to
// the reduction (stdlib's Reducer, the natives' own), with no list in between.
//
// An expression is a scan when its bytecode is
//   source, Filter c1 ... Filter cn, [Project f], [Call r]
// where the source is LoadEvents or a let that is itself such a list (`purchases`, followed
// through lets), r is a list native that is a Reducer, and no jump lands inside it. Every
// condition but the last must be pure: compiled to an EventTest that reads no let, so that
// testing it cannot run anything else. The last may read lets or run in bytecode: it is tested
// on the events the others keep, in order, as the Filter would, so lets are computed at the same
// moments and faults are the same.
//
// A pure condition is tested on all of a customer's events at once, as a bit set
// (EventTest::select), computed on first use and kept for the customer: `purchases` is selected
// once however many expressions start from it. A count or an exists of pure conditions is then
// a popcount.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/program.h"
#include "rekindle/stdlib/builtins.h"

namespace rekindle {

class Executable;
class EventTest;
struct RunClock;

struct EventScan {
  uint32_t chunk = 0;
  uint32_t start = 0;  // the source instruction (LoadEvents or LoadLet)
  uint32_t end = 0;    // the instruction after the expression
  std::vector<uint32_t> selections;  // the pure where-conditions (chunks) an event must pass
  int32_t last = -1;                 // the last condition when it is not pure, else -1
  int32_t field = -1;                // projected event field; -1: the events themselves
  Reduction reduction = Reduction::None;  // None: the expression's value is the list
};

// The scans of every chunk of `exe`'s program, in chunk and instruction order. `tests` are the
// compiled where-conditions by chunk (null: the condition runs in bytecode).
std::vector<EventScan> findEventScans(const Executable& exe, const std::vector<std::unique_ptr<EventTest>>& tests);

// The scans' pure conditions that read only the events' own fields and run constants
// (`kind == "purchase"`, `at >= now - 365d`), tested once for every event of the dataset before
// the passes, across customers, a bit per event and condition. Each pass
// over a customer (the allocation passes, the decision pass) would otherwise test its events
// again; its scans read the customer's bits from here instead. Read-only once built: the workers share it.
class EventSelections {
 public:
  EventSelections(const Executable& exe, const RunClock& clock, const Dataset& data, int threads);

  // Whether the condition (a chunk) was selected for every event.
  bool has(uint32_t condition) const { return condition < bits_.size() && !bits_[condition].empty(); }
  // The condition's bits for the 64 events from `begin` (bit k: event begin + k). A customer's
  // events need not start on a word: it is a shift across two. (bits_ has two words past the last
  // event's, so bits[1] is there even from where a customer with no events at the end begins.)
  uint64_t word(uint32_t condition, uint32_t begin) const {
    const uint64_t* bits = bits_[condition].data() + begin / 64;
    const uint32_t shift = begin % 64;
    // bits[1] << (64 - shift), written so that a shift of 0 shifts by no more than 63.
    return bits[0] >> shift | (bits[1] << 1) << (63 - shift);
  }
  // Keeps in `kept` only the events of [begin, end) a condition that has() holds for: bit k of
  // kept[k / 64] (event begin + k) is cleared when the condition is false for that event.
  void keep(uint32_t condition, uint32_t begin, uint32_t end, uint64_t* kept) const {
    for (size_t w = 0, words = (end - begin + 63) / 64; w < words; ++w)
      kept[w] &= word(condition, begin + static_cast<uint32_t>(w * 64));
  }
  size_t conditions() const;

 private:
  std::vector<std::vector<uint64_t>> bits_;  // per chunk; empty when not selected here
};

// Whether `r` is the sum of a field of kind `k` that the checker picks for it: of an int, a
// float or a duration field (forged bytecode may pair them otherwise).
inline bool sumsOwnKind(Reduction r, Kind k) {
  return (r == Reduction::Sum && k == Kind::Int) ||
         (r == Reduction::SumFloat && k == Kind::Float) ||
         (r == Reduction::SumDuration && k == Kind::Duration);
}

// A sum of a field of its own kind: the kept non-null cells, added in event order as Reducer adds
// them, without a Value each; nullopt for any other scan.
inline std::optional<Value> sumOfCells(const EventScan& sc, const Dataset& data, uint32_t begin,
                                       const uint64_t* kept, size_t words) {
  if (sc.field < 0 || static_cast<size_t>(sc.field) >= data.events.size()) return std::nullopt;
  const Column& column = data.events[sc.field];
  if (!sumsOwnKind(sc.reduction, column.kind())) return std::nullopt;
  const bool real = column.kind() == Kind::Float;
  int64_t whole = 0;
  double fraction = 0;
  for (size_t w = 0; w < words; ++w) {
    // (No event kept, maybe none at all: the null bits are not read.)
    const uint32_t first = begin + static_cast<uint32_t>(w * 64);
    const uint64_t live = kept[w] ? kept[w] & ~column.nullBits(first, 64) : 0;
    for (uint64_t bits = live; bits; bits &= bits - 1) {
      const int64_t cell = column.payload(first + static_cast<uint32_t>(__builtin_ctzll(bits)));
      if (real)
        fraction += Value::tagged(Kind::Float, cell).f;
      else
        whole += cell;
    }
  }
  return real ? Value::real(fraction) : Value::tagged(column.kind(), whole);
}

// The value of a scan with no last condition, read off the bits of the events its conditions keep
// (`words` words from event `begin`), when it can be: a count, an exists, the first or last event,
// the earliest or latest time (events are in time order), a sum of a field of its own kind
// (sumOfCells). nullopt when the reduction needs a Reducer fed the events.
inline std::optional<Value> keptValue(const EventScan& sc, const Dataset& data, uint32_t begin,
                                      const uint64_t* kept, size_t words) {
  if (sc.last >= 0) return std::nullopt;
  if (sc.reduction == Reduction::Exists) {
    for (size_t w = 0; w < words; ++w)
      if (kept[w]) return Value::boolean(true);
    return Value::boolean(false);
  }
  if (sc.reduction == Reduction::Count) {
    int64_t n = 0;
    for (size_t w = 0; w < words; ++w) n += __builtin_popcountll(kept[w]);
    return Value::integer(n);
  }
  // The earliest or latest of the events' times (field 0, never null) is the first or last event
  // kept.
  const bool time = sc.field == 0;
  const bool earliest =
      sc.reduction == Reduction::First || (time && sc.reduction == Reduction::Min);
  const bool latest = sc.reduction == Reduction::Last || (time && sc.reduction == Reduction::Max);
  if (earliest || latest) {
    int64_t at = -1;
    if (earliest) {
      for (size_t w = 0; w < words && at < 0; ++w)
        if (kept[w]) at = static_cast<int64_t>(w * 64 + __builtin_ctzll(kept[w]));
    } else {
      for (size_t w = words; w-- > 0 && at < 0;)
        if (kept[w]) at = static_cast<int64_t>(w * 64 + 63 - __builtin_clzll(kept[w]));
    }
    if (at < 0) return Value::null();
    const uint32_t event = begin + static_cast<uint32_t>(at);
    return sc.field >= 0 ? data.events[sc.field].get(event) : Value::event(event);
  }
  return sumOfCells(sc, data, begin, kept, words);
}

// Whether a scan is quick: no last condition, its every condition tested up front in `selections`,
// and a value keptValue() reads off the bits. Its value then needs no test and no check.
bool isQuickScan(const EventScan& sc, const EventSelections* selections, const Dataset& data);

// A quick scan's value for the events [begin, end), more than 64 of them.
Value quickScanOfMany(const EventScan& sc, const EventSelections& selections, const Dataset& data,
                      uint32_t begin, uint32_t end, std::vector<uint64_t>& kept);

// A quick scan's value for one customer. Most customers have at most 64 events: their kept bits
// are one word, in a register; `kept` is room for the others'.
inline Value quickScanValue(const EventScan& sc, const EventSelections& selections,
                            const Dataset& data, uint32_t customer, std::vector<uint64_t>& kept) {
  const uint32_t begin = data.eventBegin[customer], end = data.eventBegin[customer + 1];
  const uint32_t count = end - begin;
  if (count > 64) return quickScanOfMany(sc, selections, data, begin, end, kept);
  uint64_t word = count == 64 ? ~uint64_t(0) : (uint64_t(1) << count) - 1;
  for (uint32_t condition : sc.selections) word &= selections.word(condition, begin);
  switch (sc.reduction) {
    case Reduction::Count:
      return Value::integer(__builtin_popcountll(word));
    case Reduction::Exists:
      return Value::boolean(word != 0);
    case Reduction::Sum:
    case Reduction::SumFloat:
    case Reduction::SumDuration:
      return *sumOfCells(sc, data, begin, &word, 1);
    default:
      break;
  }
  if (!word) return Value::null();
  const bool earliest = sc.reduction == Reduction::First || sc.reduction == Reduction::Min;
  const uint32_t event =
      begin + static_cast<uint32_t>(earliest ? __builtin_ctzll(word) : 63 - __builtin_clzll(word));
  return sc.field >= 0 ? data.events[sc.field].get(event) : Value::event(event);
}

}  // namespace rekindle
