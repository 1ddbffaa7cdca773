// RFM scores and quantile ranks.
#include "rekindle/runtime/population.h"

#include <algorithm>
#include <cmath>

namespace rekindle {

double quantileType7(const std::vector<double>& x, double p) {
  if (x.empty()) return 0;
  double h = (static_cast<double>(x.size()) - 1) * p;
  size_t lo = static_cast<size_t>(std::floor(h));
  size_t hi = std::min(lo + 1, x.size() - 1);
  return x[lo] + (h - static_cast<double>(lo)) * (x[hi] - x[lo]);
}

QuintileBreaks QuintileBreaks::of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  QuintileBreaks b;
  for (int k = 0; k < 4; ++k) b.at[k] = quantileType7(values, 0.2 * (k + 1));
  return b;
}

int QuintileBreaks::score(double v) const {
  int s = 1;
  for (double b : at)
    if (v >= b) ++s;
  return s;
}

const char* rfmSegmentName(int r, int f) {
  if (r <= 0 || f <= 0) return "No Purchases";
  if (r == 5) return f == 1 ? "New Customers" : f <= 3 ? "Potential Loyalists" : "Champions";
  if (r == 4) return f == 1 ? "Promising" : f <= 3 ? "Potential Loyalists" : "Loyal";
  if (r == 3) return f <= 2 ? "About To Sleep" : f == 3 ? "Need Attention" : "Loyal";
  return f <= 2 ? "Hibernating" : f <= 4 ? "At Risk" : "Can't Lose Them";
}

void Population::setRfm(const std::vector<std::optional<std::array<double, 3>>>& values) {
  // Every score text and segment name is interned now, so that lookups during the (parallel)
  // decision pass only read.
  names_.intern("000");
  names_.intern(rfmSegmentName(0, 0));
  for (int r = 1; r <= 5; ++r)
    for (int f = 1; f <= 5; ++f) {
      names_.intern(rfmSegmentName(r, f));
      for (int m = 1; m <= 5; ++m) names_.intern(std::string{char('0' + r), char('0' + f), char('0' + m)});
    }
  std::vector<double> cols[3];
  for (const auto& v : values)
    if (v)
      for (int k = 0; k < 3; ++k) cols[k].push_back((*v)[k]);
  for (int k = 0; k < 3; ++k) breaks_[k] = QuintileBreaks::of(cols[k]);
  rfm_.assign(values.size(), {0, 0, 0});
  for (size_t c = 0; c < values.size(); ++c) {
    if (!values[c]) continue;
    const auto& v = *values[c];
    // Recency is days since the last purchase: fewer days is better, so its score is reversed.
    rfm_[c] = {static_cast<uint8_t>(6 - breaks_[0].score(v[0])), static_cast<uint8_t>(breaks_[1].score(v[1])),
               static_cast<uint8_t>(breaks_[2].score(v[2]))};
  }
}

int Population::rfmScore(uint32_t customer, char which) const {
  if (customer >= rfm_.size()) return 0;
  return rfm_[customer][which == 'r' ? 0 : which == 'f' ? 1 : 2];
}

const std::string* Population::rfmScoreText(uint32_t customer) const {
  std::string s;
  for (char w : {'r', 'f', 'm'}) s += static_cast<char>('0' + rfmScore(customer, w));
  return names_.find(s);
}

const std::string* Population::rfmSegment(uint32_t customer) const {
  return names_.find(rfmSegmentName(rfmScore(customer, 'r'), rfmScore(customer, 'f')));
}

const QuintileBreaks& Population::breaks(char which) const {
  return breaks_[which == 'r' ? 0 : which == 'f' ? 1 : 2];
}

void Population::setQuantile(size_t site, std::vector<double> values) {
  std::sort(values.begin(), values.end());
  if (quantiles_.size() <= site) quantiles_.resize(site + 1);
  quantiles_[site] = std::move(values);
}

Value Population::quantileRank(size_t site, double v) const {
  if (site >= quantiles_.size() || quantiles_[site].empty()) return Value::null();
  const auto& xs = quantiles_[site];
  auto lo = std::lower_bound(xs.begin(), xs.end(), v);
  auto hi = std::upper_bound(lo, xs.end(), v);
  double below = static_cast<double>(lo - xs.begin());
  double equal = static_cast<double>(hi - lo);
  return Value::real((below + 0.5 * equal) / static_cast<double>(xs.size()));
}

}  // namespace rekindle
