// The steps of a run that need the whole population (SPEC §5.1): the population statistics
// (std.rfm, quantile_rank) and one allocation per decision table with budgets. A sharded run
// (`rekindle run --shard K/N --phase stats`) or a grouped one (`--grouped`) computes each step
// in parts; this is what a part contributes, how parts are merged, and the summary file that
// carries a shard's part between machines (docs/runtime.md, "Sharding").
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "rekindle/runtime/population.h"
#include "rekindle/runtime/program.h"

namespace rekindle {

struct StatsStep {
  enum class Kind : uint8_t { Population, Allocation };
  Kind kind = Kind::Population;
  TableKind table = TableKind::Offer;  // for Allocation
  std::string name() const;            // "population", "allocation offer"
  bool operator==(const StatsStep& o) const { return kind == o.kind && (kind == Kind::Population || table == o.table); }
};

// How a customer ranks for one limited row: the `rank by` value, nulls last.
struct RankKey {
  int kind = 0;  // 0 null, 1 number, 2 string
  double number = 0;
  std::string text;
  static RankKey of(const Value& v);
  // -1 when a ranks before b.
  static int compare(const RankKey& a, const RankKey& b, bool descending);
};

// One eligible row of a competing customer.
struct AllocationChoice {
  int32_t row = 0;
  bool limited = false;
  bool consumes = true;  // limited rows: counts against the limit if the customer gets it
  RankKey key;
};

// A customer who competes for a table's budgets: their eligible rows in table order, up to the
// first they take without competing (a row without a limit, or one whose budget they would not
// use). Everyone else simply takes their first eligible row, so only competitors are exchanged.
struct AllocationEntry {
  std::string id;
  std::vector<AllocationChoice> rows;
};

// One part's (a shard's, or a batch's of a grouped run) contribution to one step.
struct StepStats {
  StatsStep step;
  uint64_t customers = 0;
  bool rfm = false;
  std::array<Distribution, 3> rfmValues;  // recency, frequency, monetary of buyers
  std::vector<Distribution> quantiles;    // one per quantile_rank site
  std::vector<AllocationEntry> entries;   // allocation: the competitors
  // Adds another part of the same step.
  void absorb(StepStats&& other);
};

// A table's allocation as decided over every part.
struct BudgetUse {
  TableKind table = TableKind::Offer;
  int row = 0;
  std::string outcome;
  int64_t limit = 0;
  uint64_t given = 0;     // customers who received it and count against the limit
  uint64_t turnedAway = 0;  // qualified, but the budget was full
  std::string cutoff;     // the `rank by` value of the last customer given it
  bool tieAtCutoff = false;  // the first turned away had the same value: the bucket decided
};

// The results of the completed steps, as every part's later steps and decision pass need them.
struct MergedStats {
  size_t steps = 0;  // steps of the plan completed, in order
  bool population = false;
  std::array<Distribution, 3> rfm;
  std::vector<std::shared_ptr<const Distribution>> quantiles;
  struct Allocation {
    bool present = false;
    // competitor id -> (the row they get or -1, the first full row they qualified for or -1)
    std::unordered_map<std::string, std::pair<int32_t, int32_t>> rows;
    std::vector<BudgetUse> budgets;
  };
  Allocation allocations[kTableCount];
};

// A shard's summary file (JSON): the run it belongs to, the step, and the part.
struct StatsFile {
  std::string path;  // where it was read from
  std::string rules;
  std::string run;    // runKey(): the same rules, config, as-of, params and shard count
  std::string basis;  // digest of the earlier steps' files it was computed from
  uint32_t shard = 0, shards = 1;
  size_t step = 0;
  std::vector<std::string> plan;  // every step's name
  StepStats stats;
  uint64_t digest = 0;  // of the file's content, for the next steps' basis
};

// Identifies a run across machines: the program (without its file names), the config's text,
// the as-of time, the param overrides and the shard count. 16 hex digits.
std::string runKey(const std::string& programBytes, const std::string& configText, int64_t now,
                   const std::vector<std::pair<std::string, std::string>>& params, uint32_t shards);

std::string writeStatsFile(StatsFile& file);  // sets file.digest
bool readStatsFile(const std::string& path, const std::vector<StatsStep>& plan, StatsFile& out, std::string& error);

// Checks a set of summary files against the run and its plan and groups them into complete
// steps: `parts[i]` holds step i's parts merged, for i < the number of complete steps.
// `nextBasis` is what files of the next step must carry.
bool assembleStats(std::vector<StatsFile>& files, const std::string& run, uint32_t shards,
                   const std::vector<StatsStep>& plan, std::vector<StepStats>& parts,
                   std::string& nextBasis, std::string& error);
std::string basisFor(const std::string& run, const std::vector<StatsFile>& earlier);

}  // namespace rekindle
