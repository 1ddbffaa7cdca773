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

#include "rekindle/runtime/program.h"
#include "rekindle/stdlib/builtins.h"

namespace rekindle {

class Dataset;
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

}  // namespace rekindle
