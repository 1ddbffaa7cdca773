// The decision engine: for every customer, in input order, the stage, segments, channel (with
// consent), offer and send decision of SPEC §5, written to a sink.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/vm.h"

namespace rekindle {

// One output row (SPEC §5.7).
struct Decision {
  uint32_t customer = 0;
  Value stage, channel, offer;          // null when no row matched
  std::vector<uint8_t> segments;        // per program segment: 1 when true
  bool send = false;
  std::optional<int64_t> sendAt;
  std::string suppressedBy;
  std::optional<int64_t> nextEligibleAt;
  bool holdout = false;
  std::string transition;
  int row[kTableCount] = {-1, -1, -1};  // the row that decided each table, for --explain
};

class DecisionSink {
 public:
  virtual ~DecisionSink() = default;
  virtual void write(const Decision& d) = 0;
};

struct RunOptions {
  int64_t now = 0;
  std::vector<std::pair<std::string, std::string>> params;
};

// Counts for the run summary.
struct RunSummary {
  uint64_t customers = 0;
  uint64_t sends = 0;
  std::map<std::pair<std::string, std::string>, uint64_t> stageChannel;  // (stage, channel)
  std::map<std::string, uint64_t> offers;
  std::map<std::string, uint64_t> segments;
  double offerCost = 0;
};

// Runs the decision pass. Returns false with `error` on a bytecode fault.
bool runDecisions(const Executable& exe, const Dataset& data, const RunClock& clock,
                  DecisionSink& sink, RunSummary& summary, std::string& error);

// Label of an outcome for output and summaries: the name, "none", or "" for null.
std::string outcomeLabel(const Executable& exe, TableKind k, const Value& v);

}  // namespace rekindle
