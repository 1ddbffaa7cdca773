// Statistics over the whole run's population, computed in a first pass (SPEC §5.1): RFM
// quintile scores (std.rfm) and the distributions behind quantile_rank.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rekindle/core/value.h"
#include "rekindle/runtime/clv.h"

namespace rekindle {

// R's type-7 quantile (linear interpolation between order statistics) of sorted values.
double quantileType7(const std::vector<double>& sorted, double p);

// A population's values as sorted distinct values with their counts: all that exact
// quantiles and ranks need, and what shards exchange (`rekindle run --phase stats`). Merging
// the distributions of parts gives the distribution of the whole, so a sharded or grouped run
// computes the same breaks and ranks as one pass over everything.
class Distribution {
 public:
  Distribution() = default;
  explicit Distribution(std::vector<double> values);
  // The combined distribution of this and `other`.
  void merge(const Distribution& other);
  // From (value, count) pairs in any order; equal values are combined.
  static Distribution fromCounts(std::vector<std::pair<double, uint64_t>> counts);

  uint64_t size() const { return ends_.empty() ? 0 : ends_.back(); }
  bool empty() const { return ends_.empty(); }
  // The k-th smallest value (0-based), k < size().
  double at(uint64_t k) const;
  // How many values are smaller than v, and how many equal it.
  std::pair<uint64_t, uint64_t> rank(double v) const;
  const std::vector<double>& values() const { return values_; }  // distinct, ascending
  uint64_t count(size_t i) const { return ends_[i] - (i ? ends_[i - 1] : 0); }

 private:
  void build(std::vector<std::pair<double, uint64_t>> counts);
  std::vector<double> values_;
  std::vector<uint64_t> ends_;  // cumulative counts
};

// The 20/40/60/80 % breaks of a variable and the score of a value: bins are half-open,
// lower <= v < upper, so equal values always get equal scores.
struct QuintileBreaks {
  std::array<double, 4> at{};
  static QuintileBreaks of(std::vector<double> values);
  static QuintileBreaks of(const Distribution& values);
  int score(double v) const;  // 1..5
};

// The R x F map of SPEC §4 ("Champions", "At Risk", ...); "No Purchases" for scores of 0.
const char* rfmSegmentName(int r, int f);

class Population {
 public:
  // Per customer: recency in days, frequency, monetary; nullopt for customers without a
  // purchase (they score 0 and are left out of the breaks).
  void setRfm(const std::vector<std::optional<std::array<double, 3>>>& values);
  // The same, with the breaks of a larger population (all shards, all batches).
  void setRfm(const std::vector<std::optional<std::array<double, 3>>>& values,
              const std::array<Distribution, 3>& population);
  bool hasRfm() const { return !rfm_.empty(); }
  int rfmScore(uint32_t customer, char which) const;  // 'r', 'f', 'm'
  const std::string* rfmScoreText(uint32_t customer) const;
  const std::string* rfmSegment(uint32_t customer) const;
  const QuintileBreaks& breaks(char which) const;

  // One distribution per quantile_rank site; null values are left out.
  void setQuantile(size_t site, std::vector<double> values);
  void setQuantile(size_t site, Distribution values);
  // Shared, not copied: a grouped run's batches all rank against the merged population.
  void setQuantile(size_t site, std::shared_ptr<const Distribution> values);
  // The share of the population below v, plus half of those equal to it; null for an empty
  // population.
  Value quantileRank(size_t site, double v) const;

  // std.clv: the fitted model and each customer's summary as of the run's today (nullopt for
  // customers without a purchase: every clv value is null for them).
  void setClv(const ClvModel& model, std::vector<std::optional<ClvSummary>> summaries);
  bool hasClv() const { return clvModel_.has_value(); }
  const ClvModel* clvModel() const { return clvModel_ ? &*clvModel_ : nullptr; }
  const ClvSummary* clvSummary(uint32_t customer) const;
  // frequency, recency, T, p_alive, expected_purchases(duration), expected_value(duration).
  Value clv(uint32_t customer, std::string_view what, const Value* args, int argc) const;

 private:
  std::vector<std::array<uint8_t, 3>> rfm_;  // per customer, 0 = no purchases
  QuintileBreaks breaks_[3];
  std::vector<std::shared_ptr<const Distribution>> quantiles_;
  StringPool names_;
  std::optional<ClvModel> clvModel_;
  std::vector<std::optional<ClvSummary>> clv_;
};

}  // namespace rekindle
