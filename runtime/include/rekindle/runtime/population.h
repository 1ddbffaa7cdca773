// Statistics over the whole run's population, computed in a first pass (SPEC §5.1): RFM
// quintile scores (std.rfm) and the distributions behind quantile_rank.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rekindle/core/value.h"

namespace rekindle {

// R's type-7 quantile (linear interpolation between order statistics) of sorted values.
double quantileType7(const std::vector<double>& sorted, double p);

// The 20/40/60/80 % breaks of a variable and the score of a value: bins are half-open,
// lower <= v < upper, so equal values always get equal scores.
struct QuintileBreaks {
  std::array<double, 4> at{};
  static QuintileBreaks of(std::vector<double> values);
  int score(double v) const;  // 1..5
};

// The R x F map of SPEC §4 ("Champions", "At Risk", ...); "No Purchases" for scores of 0.
const char* rfmSegmentName(int r, int f);

class Population {
 public:
  // Per customer: recency in days, frequency, monetary; nullopt for customers without a
  // purchase (they score 0 and are left out of the breaks).
  void setRfm(const std::vector<std::optional<std::array<double, 3>>>& values);
  bool hasRfm() const { return !rfm_.empty(); }
  int rfmScore(uint32_t customer, char which) const;  // 'r', 'f', 'm'
  const std::string* rfmScoreText(uint32_t customer) const;
  const std::string* rfmSegment(uint32_t customer) const;
  const QuintileBreaks& breaks(char which) const;

  // One distribution per quantile_rank site; null values are left out.
  void setQuantile(size_t site, std::vector<double> values);
  // The share of the population below v, plus half of those equal to it; null for an empty
  // population.
  Value quantileRank(size_t site, double v) const;

 private:
  std::vector<std::array<uint8_t, 3>> rfm_;  // per customer, 0 = no purchases
  QuintileBreaks breaks_[3];
  std::vector<std::vector<double>> quantiles_;
  StringPool names_;
};

}  // namespace rekindle
