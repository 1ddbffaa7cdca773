// RFM scores and quantile ranks.
#include "rekindle/runtime/population.h"

#include <algorithm>
#include <cmath>

#include "rekindle/core/time.h"

namespace rekindle {

double quantileType7(const std::vector<double>& x, double p) {
  if (x.empty()) return 0;
  double h = (static_cast<double>(x.size()) - 1) * p;
  size_t lo = static_cast<size_t>(std::floor(h));
  size_t hi = std::min(lo + 1, x.size() - 1);
  return x[lo] + (h - static_cast<double>(lo)) * (x[hi] - x[lo]);
}

namespace {
// A total order on doubles (NaN after everything, all NaNs equal), so that sorting is defined
// for any values the rules compute and parts sort the same way as the whole.
bool before(double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return a < b;
}
bool same(double a, double b) { return !before(a, b) && !before(b, a); }
}  // namespace

Distribution::Distribution(std::vector<double> values) {
  std::sort(values.begin(), values.end(), before);
  std::vector<std::pair<double, uint64_t>> counts;
  for (double v : values) {
    if (!counts.empty() && same(counts.back().first, v)) ++counts.back().second;
    else counts.emplace_back(v, 1);
  }
  build(std::move(counts));
}

Distribution Distribution::fromCounts(std::vector<std::pair<double, uint64_t>> counts) {
  std::stable_sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return before(a.first, b.first); });
  std::vector<std::pair<double, uint64_t>> merged;
  for (const auto& [v, n] : counts) {
    if (n == 0) continue;
    if (!merged.empty() && same(merged.back().first, v)) merged.back().second += n;
    else merged.emplace_back(v, n);
  }
  Distribution d;
  d.build(std::move(merged));
  return d;
}

void Distribution::merge(const Distribution& other) {
  std::vector<std::pair<double, uint64_t>> counts;
  counts.reserve(values_.size() + other.values_.size());
  for (size_t i = 0; i < values_.size(); ++i) counts.emplace_back(values_[i], count(i));
  for (size_t i = 0; i < other.values_.size(); ++i) counts.emplace_back(other.values_[i], other.count(i));
  *this = fromCounts(std::move(counts));
}

void Distribution::build(std::vector<std::pair<double, uint64_t>> counts) {
  values_.clear();
  ends_.clear();
  uint64_t total = 0;
  for (const auto& [v, n] : counts) {
    values_.push_back(v);
    ends_.push_back(total += n);
  }
}

double Distribution::at(uint64_t k) const {
  size_t i = static_cast<size_t>(std::upper_bound(ends_.begin(), ends_.end(), k) - ends_.begin());
  return values_[std::min(i, values_.size() - 1)];
}

std::pair<uint64_t, uint64_t> Distribution::rank(double v) const {
  size_t i = static_cast<size_t>(std::lower_bound(values_.begin(), values_.end(), v, before) - values_.begin());
  uint64_t below = i ? ends_[i - 1] : 0;
  uint64_t equal = i < values_.size() && same(values_[i], v) ? count(i) : 0;
  return {below, equal};
}

QuintileBreaks QuintileBreaks::of(std::vector<double> values) { return of(Distribution(std::move(values))); }

// quantileType7 over the order statistics of a distribution.
QuintileBreaks QuintileBreaks::of(const Distribution& d) {
  QuintileBreaks b;
  if (d.empty()) return b;
  for (int k = 0; k < 4; ++k) {
    double h = (static_cast<double>(d.size()) - 1) * (0.2 * (k + 1));
    uint64_t lo = static_cast<uint64_t>(std::floor(h));
    uint64_t hi = std::min(lo + 1, d.size() - 1);
    double xlo = d.at(lo), xhi = d.at(hi);
    b.at[k] = xlo + (h - static_cast<double>(lo)) * (xhi - xlo);
  }
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
  std::vector<double> cols[3];
  for (const auto& v : values)
    if (v)
      for (int k = 0; k < 3; ++k) cols[k].push_back((*v)[k]);
  setRfm(values, {Distribution(std::move(cols[0])), Distribution(std::move(cols[1])), Distribution(std::move(cols[2]))});
}

void Population::setRfm(const std::vector<std::optional<std::array<double, 3>>>& values,
                        const std::array<Distribution, 3>& population) {
  // Every score text and segment name is interned now, so that lookups during the (parallel)
  // decision pass only read.
  names_.intern("000");
  names_.intern(rfmSegmentName(0, 0));
  for (int r = 1; r <= 5; ++r)
    for (int f = 1; f <= 5; ++f) {
      names_.intern(rfmSegmentName(r, f));
      for (int m = 1; m <= 5; ++m) names_.intern(std::string{char('0' + r), char('0' + f), char('0' + m)});
    }
  for (int k = 0; k < 3; ++k) breaks_[k] = QuintileBreaks::of(population[k]);
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

void Population::setQuantile(size_t site, std::vector<double> values) { setQuantile(site, Distribution(std::move(values))); }

void Population::setQuantile(size_t site, Distribution values) {
  setQuantile(site, std::make_shared<const Distribution>(std::move(values)));
}

void Population::setQuantile(size_t site, std::shared_ptr<const Distribution> values) {
  if (quantiles_.size() <= site) quantiles_.resize(site + 1);
  quantiles_[site] = std::move(values);
}

Value Population::quantileRank(size_t site, double v) const {
  if (site >= quantiles_.size() || !quantiles_[site] || quantiles_[site]->empty()) return Value::null();
  const Distribution& d = *quantiles_[site];
  auto [below, equal] = d.rank(v);
  return Value::real((static_cast<double>(below) + 0.5 * static_cast<double>(equal)) / static_cast<double>(d.size()));
}

void Population::setClv(const ClvModel& model, std::vector<std::optional<ClvSummary>> summaries) {
  clvModel_ = model;
  clv_ = std::move(summaries);
}

const ClvSummary* Population::clvSummary(uint32_t customer) const {
  if (customer >= clv_.size() || !clv_[customer]) return nullptr;
  return &*clv_[customer];
}

Value Population::clv(uint32_t customer, std::string_view what, const Value* args, int argc) const {
  const ClvSummary* s = clvSummary(customer);
  if (!s || !clvModel_) return Value::null();
  const ClvModel& m = *clvModel_;
  if (what == "frequency") return Value::integer(static_cast<int64_t>(s->x));
  if (what == "recency") return Value::real(s->tx);
  if (what == "T") return Value::real(s->T);
  if (what == "p_alive") return Value::real(bgnbdPAlive(m.bgnbd, s->x, s->tx, s->T));
  if ((what == "expected_purchases" || what == "expected_value") && argc == 1 && args[0].tag == Kind::Duration) {
    // The horizon in the model's unit; a negative one has no meaning.
    if (args[0].i < 0) return Value::null();
    double t = static_cast<double>(args[0].i) / (static_cast<double>(kSecondsPerDay) * clvUnitDays(m.unit));
    double v = bgnbdExpectedPurchases(m.bgnbd, t, s->x, s->tx, s->T);
    if (what == "expected_value") v *= gammaGammaExpectedSpend(m.gammaGamma, s->x, std::max(0.0, s->monetary));
    return std::isfinite(v) ? Value::real(v) : Value::null();
  }
  return Value::null();
}

}  // namespace rekindle
