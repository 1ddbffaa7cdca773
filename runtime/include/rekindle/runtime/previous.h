// The previous run's decisions (`rekindle run --previous FILE`, SPEC §5.6): what previous.stage,
// previous.channel, previous.offer and previous.at read, and what `transition` compares with.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/program.h"

namespace rekindle {

// An empty or unknown previous outcome (distinct from kNoOutcome, the `none` outcome).
constexpr int32_t kUnknownOutcome = -2;

struct PreviousDecisions {
  // Per customer of this run; a customer absent from the previous file has present = 0.
  std::vector<uint8_t> present;
  std::vector<int32_t> stage;    // program stage index, or kUnknownOutcome (empty, or no longer a stage)
  std::vector<int32_t> channel;  // program channel index, kNoOutcome for none, kUnknownOutcome when empty
  std::vector<int32_t> offer;    // likewise
  std::vector<std::optional<int64_t>> at;  // the previous run's decided_at
  std::vector<std::string> stageName;      // as written, for `transition`
  uint64_t rows = 0;                       // rows read from the file
  uint64_t unknownCustomers = 0;           // rows for customers not in this run
};

// Reads an earlier decisions file (CSV or JSON Lines, as `rekindle run` writes them).
std::optional<PreviousDecisions> loadPrevious(const std::string& path, const Program& program,
                                              const Dataset& data, const TimeZone& zone,
                                              std::string& error);

}  // namespace rekindle
