// std.clv's models: the BG/NBD and Gamma-Gamma likelihoods and conditional expectations, the
// Nelder-Mead fits behind `rekindle fit`, and the file it writes.
#include "rekindle/runtime/clv.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/special_functions/hypergeometric_pFq.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <tuple>

#include "rekindle/core/time.h"
#include "rekindle/runtime/program.h"
#include "rekindle/runtime/vm.h"

namespace rekindle {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// lgamma without errno or exceptions (Boost's is thread-safe, unlike std::lgamma's signgam).
using NoThrow = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>>;

double lg(double v) { return boost::math::lgamma(v, NoThrow()); }

// log(exp(u) + exp(v)) without overflow.
double logAddExp(double u, double v) {
  if (u == -kInf) return v;
  if (v == -kInf) return u;
  double hi = std::max(u, v), lo = std::min(u, v);
  return hi + std::log1p(std::exp(lo - hi));
}

}  // namespace

double clvUnitDays(const std::string& unit) {
  if (unit == "weeks") return 7;
  if (unit == "days") return 1;
  return 0;
}

std::optional<ClvSummary> summarizePurchases(std::vector<ClvPurchase> purchases, int64_t untilDay, double unitDays) {
  std::sort(purchases.begin(), purchases.end(), [](const ClvPurchase& u, const ClvPurchase& v) { return u.day < v.day; });
  std::vector<ClvPurchase> days;  // one per purchase day, amounts summed
  for (const auto& p : purchases) {
    if (p.day > untilDay) break;
    if (!days.empty() && days.back().day == p.day) days.back().amount += p.amount;
    else days.push_back(p);
  }
  if (days.empty()) return std::nullopt;
  ClvSummary s;
  s.days = static_cast<int64_t>(days.size());
  s.x = static_cast<double>(days.size() - 1);
  s.firstDay = days.front().day;
  s.tx = static_cast<double>(days.back().day - days.front().day) / unitDays;
  s.T = static_cast<double>(untilDay - days.front().day) / unitDays;
  if (days.size() > 1) {
    double repeat = 0;
    for (size_t k = 1; k < days.size(); ++k) repeat += days[k].amount;
    s.monetary = repeat / s.x;
  }
  return s;
}

bool readClvPurchases(Evaluator& ev, const Program& program, const TimeZone& zone, std::vector<ClvPurchase>& out,
                      std::string& error) {
  out.clear();
  Value times = ev.runChunk(program.clvChunks[0]);
  if (!ev.fault().empty()) {
    error = ev.fault();
    return false;
  }
  Value amounts = ev.runChunk(program.clvChunks[1]);
  if (!ev.fault().empty()) {
    error = ev.fault();
    return false;
  }
  if (times.tag != Kind::List || amounts.tag != Kind::List || times.list->items.size() != amounts.list->items.size()) {
    error = "bytecode fault: std.clv's purchase times and amounts are not two lists of the same length";
    return false;
  }
  const auto& ts = times.list->items;
  const auto& as = amounts.list->items;
  out.reserve(ts.size());
  for (size_t k = 0; k < ts.size(); ++k) {
    const Value& a = as[k];
    if (ts[k].tag != Kind::Time || !(a.isNull() || a.tag == Kind::Int || a.tag == Kind::Float)) {
      error = "bytecode fault: std.clv's purchase times are not times or its amounts not numbers";
      return false;
    }
    // A purchase without an amount still counts as a purchase, with no spend.
    out.push_back(ClvPurchase{floorDiv(zone.toLocal(ts[k].i), kSecondsPerDay), a.isNull() ? 0.0 : a.asNumber()});
  }
  return true;
}

// ---- the models ----------------------------------------------------------------------------

double hyp2f1(double a, double b, double c, double z) {
  // The series diverges for z <= -1: Pfaff's transformation maps z < -1/2 into (1/3, 1).
  if (z < -0.5) return std::pow(1 - z, -a) * hyp2f1(a, c - b, c, z / (z - 1));
  try {
    std::vector<double> num{a, b}, den{c};
    double r = boost::math::hypergeometric_pFq(num, den, z);
    return std::isfinite(r) ? r : kNaN;
  } catch (const std::exception&) {
    return kNaN;
  }
}

// ln L_i = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
//          + ln[ (α+T)^−(r+x) + δ(x>0) a/(b+x−1) (α+t_x)^−(r+x) ]
double bgnbdLogLikelihood(const BgNbdParams& m, double x, double tx, double T) {
  const double r = m.r, alpha = m.alpha, a = m.a, b = m.b;
  double a1 = lg(r + x) - lg(r) + r * std::log(alpha);
  double a2 = lg(a + b) + lg(b + x) - lg(b) - lg(a + b + x);
  double a3 = -(r + x) * std::log(alpha + T);
  double a4 = x > 0 ? std::log(a) - std::log(b + x - 1) - (r + x) * std::log(alpha + tx) : -kInf;
  return a1 + a2 + logAddExp(a3, a4);
}

// P(alive) = 1 / (1 + δ(x>0) a/(b+x−1) ((α+T)/(α+t_x))^(r+x)).
double bgnbdPAlive(const BgNbdParams& m, double x, double tx, double T) {
  if (x <= 0) return 1.0;
  double l = std::log(m.a) - std::log(m.b + x - 1) + (m.r + x) * (std::log(m.alpha + T) - std::log(m.alpha + tx));
  return l > 0 ? std::exp(-l) / (1 + std::exp(-l)) : 1 / (1 + std::exp(l));
}

namespace {

// (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))]
// When c − a' − b' = a − 1 − r − x < 0 the series converges slowly near z = 1 and its terms
// grow, so Euler's transformation is used instead: the same bracket is
// 1 − ((α+T)/(α+T+t))^(a−1) · 2F1(a+b−1−r, a−1; a+b+x−1; z).
double expectedBracket(double r, double alpha, double a, double b, double t, double x, double T) {
  double c = a + b + x - 1;
  double z = t / (alpha + T + t);
  double oneMinusZ = (alpha + T) / (alpha + T + t);
  double q;
  if (a - 1 - r - x >= 0) q = std::exp((r + x) * std::log(oneMinusZ)) * hyp2f1(r + x, b + x, c, z);
  else q = std::exp((a - 1) * std::log(oneMinusZ)) * hyp2f1(a + b - 1 - r, a - 1, c, z);
  return c / (a - 1) * (1 - q);
}

}  // namespace

double bgnbdExpectedPurchases(const BgNbdParams& m, double t, double x, double tx, double T) {
  if (!(t > 0)) return 0;
  double bracket;
  if (std::fabs(m.a - 1) < 1e-6) {
    // a = 1 is a removable singularity: the mean of both sides.
    bracket = 0.5 * (expectedBracket(m.r, m.alpha, 1 - 1e-6, m.b, t, x, T) + expectedBracket(m.r, m.alpha, 1 + 1e-6, m.b, t, x, T));
  } else {
    bracket = expectedBracket(m.r, m.alpha, m.a, m.b, t, x, T);
  }
  return bracket * bgnbdPAlive(m, x, tx, T);
}

double bgnbdExpectedNew(const BgNbdParams& m, double t) { return bgnbdExpectedPurchases(m, t, 0, 0, 0); }

// ln L = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m_x + px ln x − (px+q) ln(γ + x m_x)
double gammaGammaLogLikelihood(const GammaGammaParams& m, double x, double mx) {
  double px = m.p * x;
  return lg(px + m.q) - lg(px) - lg(m.q) + m.q * std::log(m.gamma) + (px - 1) * std::log(mx) + px * std::log(x) -
         (px + m.q) * std::log(m.gamma + x * mx);
}

// E[M | x, m_x] = p (γ + x m_x) / (p x + q − 1)
double gammaGammaExpectedSpend(const GammaGammaParams& m, double x, double mx) {
  return m.p * (m.gamma + x * mx) / (m.p * x + m.q - 1);
}

// ---- Nelder-Mead ---------------------------------------------------------------------------

namespace {

struct Simplex {
  std::vector<std::vector<double>> x;
  std::vector<double> f;
};

// One Nelder-Mead descent from x0 (standard coefficients: reflection 1, expansion 2,
// contraction 1/2, shrink 1/2).
NelderMeadResult descend(const std::function<double(const std::vector<double>&)>& fn, const std::vector<double>& x0,
                         const NelderMeadOptions& o) {
  const size_t n = x0.size();
  NelderMeadResult res;
  auto eval = [&](const std::vector<double>& p) {
    ++res.evaluations;
    double v = fn(p);
    return std::isfinite(v) ? v : kInf;
  };
  Simplex s;
  s.x.assign(n + 1, x0);
  for (size_t i = 0; i < n; ++i) s.x[i + 1][i] += o.step;
  for (const auto& p : s.x) s.f.push_back(eval(p));
  std::vector<size_t> idx(n + 1);
  std::vector<double> c(n), xr(n), xe(n), xc(n);
  for (;;) {
    for (size_t i = 0; i <= n; ++i) idx[i] = i;
    std::sort(idx.begin(), idx.end(), [&](size_t u, size_t v) { return s.f[u] < s.f[v]; });
    Simplex sorted;
    for (size_t i : idx) {
      sorted.x.push_back(s.x[i]);
      sorted.f.push_back(s.f[i]);
    }
    s = std::move(sorted);
    const double fBest = s.f[0], fWorst = s.f[n];
    double size = 0;
    for (size_t i = 1; i <= n; ++i)
      for (size_t j = 0; j < n; ++j) size = std::max(size, std::fabs(s.x[i][j] - s.x[0][j]));
    bool flat = std::isfinite(fWorst) && fWorst - fBest <= o.ftol * std::max(1.0, std::fabs(fBest));
    if (flat && size <= o.xtol) {
      res.converged = true;
      break;
    }
    if (res.iterations >= o.maxIterations) break;
    ++res.iterations;
    for (size_t j = 0; j < n; ++j) {
      c[j] = 0;
      for (size_t i = 0; i < n; ++i) c[j] += s.x[i][j];
      c[j] /= static_cast<double>(n);
    }
    for (size_t j = 0; j < n; ++j) xr[j] = c[j] + (c[j] - s.x[n][j]);
    double fr = eval(xr);
    if (fr < s.f[0]) {
      for (size_t j = 0; j < n; ++j) xe[j] = c[j] + 2 * (c[j] - s.x[n][j]);
      double fe = eval(xe);
      if (fe < fr) {
        s.x[n] = xe;
        s.f[n] = fe;
      } else {
        s.x[n] = xr;
        s.f[n] = fr;
      }
      continue;
    }
    if (fr < s.f[n - 1]) {
      s.x[n] = xr;
      s.f[n] = fr;
      continue;
    }
    bool outside = fr < s.f[n];
    for (size_t j = 0; j < n; ++j) xc[j] = outside ? c[j] + 0.5 * (xr[j] - c[j]) : c[j] + 0.5 * (s.x[n][j] - c[j]);
    double fc = eval(xc);
    if (outside ? fc <= fr : fc < s.f[n]) {
      s.x[n] = xc;
      s.f[n] = fc;
      continue;
    }
    for (size_t i = 1; i <= n; ++i) {
      for (size_t j = 0; j < n; ++j) s.x[i][j] = s.x[0][j] + 0.5 * (s.x[i][j] - s.x[0][j]);
      s.f[i] = eval(s.x[i]);
    }
  }
  res.x = s.x[0];
  res.f = s.f[0];
  return res;
}

}  // namespace

NelderMeadResult nelderMead(const std::function<double(const std::vector<double>&)>& f, std::vector<double> x0,
                            const NelderMeadOptions& o) {
  NelderMeadResult best = descend(f, x0, o);
  // Restart from the best point with a fresh simplex until a restart no longer improves it: a
  // collapsed simplex can stall away from the minimum.
  while (best.converged && best.restarts < o.maxRestarts) {
    NelderMeadResult again = descend(f, best.x, o);
    best.iterations += again.iterations;
    best.evaluations += again.evaluations;
    ++best.restarts;
    if (!again.converged) {
      best.converged = false;
      break;
    }
    double gain = best.f - again.f;
    if (again.f < best.f) {
      best.x = again.x;
      best.f = again.f;
    }
    if (gain <= o.ftol * std::max(1.0, std::fabs(best.f))) break;
    if (best.restarts == o.maxRestarts) best.converged = false;  // still improving
  }
  return best;
}

// ---- fits ----------------------------------------------------------------------------------

namespace {

// Log-parameters are kept in a box; a minimum found near its edge means the likelihood keeps
// improving as a parameter goes to 0 or infinity.
constexpr double kLogBox = 25;            // e^±25: the optimiser does not go further
constexpr double kRunaway = 13.815510558; // ln 1e6: a (scaled) parameter beyond 1e±6 ran off

std::string runaway(const std::vector<double>& theta, const char* const* names, const char* model) {
  for (size_t j = 0; j < theta.size(); ++j) {
    if (std::fabs(theta[j]) > kRunaway)
      return fmt::format("{} cannot be fitted: parameter {} runs off to {} (the likelihood keeps growing as it does); "
                         "the data do not identify the model (too few customers, or purchases that do not look like "
                         "repeat buying)",
                         model, names[j], theta[j] > 0 ? "infinity" : "zero");
  }
  return "";
}

struct MultiStart {
  NelderMeadResult best;
  bool any = false;
};

MultiStart minimise(const std::function<double(const std::vector<double>&)>& f,
                    const std::vector<std::vector<double>>& starts) {
  MultiStart m;
  int iterations = 0, evaluations = 0, restarts = 0;
  for (const auto& s : starts) {
    if (!std::isfinite(f(s))) continue;
    NelderMeadResult r = nelderMead(f, s);
    iterations += r.iterations;
    evaluations += r.evaluations;
    restarts += r.restarts;
    if (!m.any || (r.converged && !m.best.converged) || (r.converged == m.best.converged && r.f < m.best.f)) m.best = r;
    m.any = true;
  }
  m.best.iterations = iterations;
  m.best.evaluations = evaluations;
  m.best.restarts = restarts;
  return m;
}

// Records the optimiser's effort; false with the reason when the best minimum is not a fit: it
// did not converge, or a parameter ran off (runaway).
bool accept(const MultiStart& m, const char* const* names, const char* model, ClvFitReport& rep) {
  rep.iterations = m.best.iterations;
  rep.evaluations = m.best.evaluations;
  rep.restarts = m.best.restarts;
  if (!m.any || !m.best.converged) {
    rep.error = fmt::format("{} did not converge ({} iterations)", model, rep.iterations);
    return false;
  }
  rep.error = runaway(m.best.x, names, model);
  return rep.error.empty();
}

}  // namespace

ClvFitReport fitBgNbd(const std::vector<ClvSummary>& customers, BgNbdParams& out, size_t minRepeat) {
  ClvFitReport rep;
  rep.customers = customers.size();
  size_t repeat = 0;
  double meanT = 0;
  for (const auto& c : customers) {
    repeat += c.x > 0;
    meanT += c.T;
  }
  if (repeat < minRepeat) {
    rep.error = fmt::format("BG/NBD cannot be fitted: {} customer{} with repeat purchases (purchases on two days or "
                            "more), and at least {} are needed",
                            repeat, repeat == 1 ? "" : "s", minRepeat);
    return rep;
  }
  meanT /= static_cast<double>(customers.size());
  if (!(meanT > 0)) {
    rep.error = "BG/NBD cannot be fitted: every customer's first purchase is on the last day of the period (T = 0)";
    return rep;
  }
  // Time is scaled by the mean T so that every parameter is of order one; customers with the
  // same (x, t_x, T) are counted once.
  std::map<std::tuple<double, double, double>, double> groups;
  for (const auto& c : customers) groups[{c.x, c.tx / meanT, c.T / meanT}] += 1;
  std::vector<double> gx, gtx, gT, gn;
  std::map<double, size_t> xIndex;
  for (const auto& [k, n] : groups) {
    gx.push_back(std::get<0>(k));
    gtx.push_back(std::get<1>(k));
    gT.push_back(std::get<2>(k));
    gn.push_back(n);
    xIndex.emplace(std::get<0>(k), 0);
  }
  std::vector<double> xs;
  for (auto& [x, i] : xIndex) {
    i = xs.size();
    xs.push_back(x);
  }
  std::vector<size_t> gxi;
  for (double x : gx) gxi.push_back(xIndex[x]);
  std::vector<double> perX(xs.size()), perX4(xs.size());
  auto negLL = [&](const std::vector<double>& th) {
    for (double t : th)
      if (!(std::fabs(t) <= kLogBox)) return kInf;
    const double r = std::exp(th[0]), alpha = std::exp(th[1]), a = std::exp(th[2]), b = std::exp(th[3]);
    const double lr = lg(r), la = std::log(a), lab = lg(a + b) - lg(b), lalpha = std::log(alpha);
    for (size_t i = 0; i < xs.size(); ++i) {
      double x = xs[i];
      perX[i] = lg(r + x) - lr + r * lalpha + lab + lg(b + x) - lg(a + b + x);
      perX4[i] = x > 0 ? la - std::log(b + x - 1) : -kInf;
    }
    double ll = 0;
    for (size_t g = 0; g < gn.size(); ++g) {
      double x = gx[g];
      double a3 = -(r + x) * std::log(alpha + gT[g]);
      double a4 = x > 0 ? perX4[gxi[g]] - (r + x) * std::log(alpha + gtx[g]) : -kInf;
      ll += gn[g] * (perX[gxi[g]] + logAddExp(a3, a4));
    }
    return std::isfinite(ll) ? -ll : kInf;
  };
  MultiStart m = minimise(negLL, {{0, 0, 0, 0}, {std::log(0.5), 0, std::log(0.5), std::log(2.0)}, {std::log(2.0), std::log(0.5), std::log(2.0), std::log(5.0)}});
  static const char* const kNames[] = {"r", "alpha", "a", "b"};
  if (!accept(m, kNames, "BG/NBD", rep)) return rep;
  out.r = std::exp(m.best.x[0]);
  out.alpha = std::exp(m.best.x[1]) * meanT;
  out.a = std::exp(m.best.x[2]);
  out.b = std::exp(m.best.x[3]);
  double ll = 0;
  for (const auto& c : customers) ll += bgnbdLogLikelihood(out, c.x, c.tx, c.T);
  rep.logLikelihood = ll;
  rep.ok = true;
  return rep;
}

ClvFitReport fitGammaGamma(const std::vector<ClvSummary>& customers, GammaGammaParams& out, size_t minRepeat) {
  ClvFitReport rep;
  std::vector<double> xs, ms;
  double meanM = 0;
  for (const auto& c : customers)
    if (c.x > 0 && c.monetary > 0) {
      xs.push_back(c.x);
      ms.push_back(c.monetary);
      meanM += c.monetary;
    }
  rep.customers = xs.size();
  if (xs.size() < minRepeat) {
    rep.error = fmt::format("Gamma-Gamma cannot be fitted: {} customer{} with repeat purchases of positive amount, and at "
                            "least {} are needed",
                            xs.size(), xs.size() == 1 ? "" : "s", minRepeat);
    return rep;
  }
  // Amounts are scaled by their mean, for the same reason as time in the BG/NBD fit.
  meanM /= static_cast<double>(xs.size());
  std::vector<double> scaled(ms.size()), logM(ms.size()), logX(xs.size());
  for (size_t k = 0; k < ms.size(); ++k) {
    scaled[k] = ms[k] / meanM;
    logM[k] = std::log(scaled[k]);
    logX[k] = std::log(xs[k]);
  }
  auto negLL = [&](const std::vector<double>& th) {
    for (double t : th)
      if (!(std::fabs(t) <= kLogBox)) return kInf;
    const double p = std::exp(th[0]), q = std::exp(th[1]), g = std::exp(th[2]);
    const double base = -lg(q) + q * std::log(g);
    double ll = 0;
    for (size_t k = 0; k < xs.size(); ++k) {
      double px = p * xs[k];
      ll += lg(px + q) - lg(px) + base + (px - 1) * logM[k] + px * logX[k] - (px + q) * std::log(g + xs[k] * scaled[k]);
    }
    return std::isfinite(ll) ? -ll : kInf;
  };
  MultiStart m = minimise(negLL, {{0, std::log(2.0), 0}, {std::log(5.0), std::log(3.0), std::log(0.5)}, {std::log(0.5), std::log(1.5), std::log(2.0)}});
  static const char* const kNames[] = {"p", "q", "gamma"};
  if (!accept(m, kNames, "Gamma-Gamma", rep)) return rep;
  out.p = std::exp(m.best.x[0]);
  out.q = std::exp(m.best.x[1]);
  out.gamma = std::exp(m.best.x[2]) * meanM;
  if (!(out.q > 1)) {
    rep.error = fmt::format("Gamma-Gamma: q = {:.4g} is not above 1, so the mean spend per purchase does not exist "
                            "(spend is too heavy-tailed for the model)",
                            out.q);
    return rep;
  }
  double ll = 0;
  for (size_t k = 0; k < xs.size(); ++k) ll += gammaGammaLogLikelihood(out, xs[k], ms[k]);
  rep.logLikelihood = ll;
  rep.ok = true;
  return rep;
}

// ---- the fitted file -----------------------------------------------------------------------

namespace {

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string writeClvModel(const ClvModel& m) {
  std::string out;
  out += "# std.clv parameters, written by `rekindle fit`: BG/NBD (purchases) and Gamma-Gamma (spend).\n";
  out += "# Runs read them through the config's clv.fitted; refit rather than edit.\n";
  out += fmt::format("unit: {}\n", m.unit);
  out += fmt::format("until: {}\n", m.until);
  out += fmt::format("purchase: {}\n", quoted(m.purchase));
  out += fmt::format("amount: {}\n", quoted(m.amount));
  out += "bgnbd:\n";
  out += fmt::format("  r: {}\n  alpha: {}\n  a: {}\n  b: {}\n", m.bgnbd.r, m.bgnbd.alpha, m.bgnbd.a, m.bgnbd.b);
  out += "gamma_gamma:\n";
  out += fmt::format("  p: {}\n  q: {}\n  gamma: {}\n", m.gammaGamma.p, m.gammaGamma.q, m.gammaGamma.gamma);
  out += "fit:\n";
  out += fmt::format("  config: {}\n", quoted(m.source));
  out += fmt::format("  customers: {}\n", m.customers);
  out += fmt::format("  repeat_customers: {}\n", m.repeatCustomers);
  out += fmt::format("  bgnbd_log_likelihood: {:.6f}\n", m.bgnbdLogLikelihood);
  out += fmt::format("  gamma_gamma_customers: {}\n", m.gammaGammaCustomers);
  out += fmt::format("  gamma_gamma_log_likelihood: {:.6f}\n", m.gammaGammaLogLikelihood);
  return out;
}

std::optional<ClvModel> parseClvModel(const std::string& text, std::string& error) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    error = "not valid YAML: " + e.msg;
    return std::nullopt;
  }
  if (!root.IsMap()) {
    error = "not a file written by `rekindle fit` (expected unit:, bgnbd:, gamma_gamma:)";
    return std::nullopt;
  }
  auto checkKeys = [&](const YAML::Node& n, const std::string& where, std::initializer_list<const char*> allowed) {
    for (const auto& kv : n) {
      std::string key = kv.first.as<std::string>();
      if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }) == allowed.end()) {
        error = "unknown key '" + key + "' in " + where;
        return false;
      }
    }
    return true;
  };
  auto text_ = [&](const YAML::Node& n, const std::string& what, std::string& outText) {
    if (!n || !n.IsScalar()) {
      error = "missing `" + what + ":`";
      return false;
    }
    outText = n.Scalar();
    return true;
  };
  auto number = [&](const YAML::Node& n, const std::string& what, double& v) {
    std::string s;
    if (!text_(n, what, s)) return false;
    try {
      size_t used = 0;
      v = std::stod(s, &used);
      if (used != s.size()) throw std::invalid_argument(what);
    } catch (const std::exception&) {
      error = what + " is not a number: '" + s + "'";
      return false;
    }
    if (!(std::isfinite(v) && v > 0)) {
      error = what + " must be a positive number, not " + s;
      return false;
    }
    return true;
  };
  ClvModel m;
  try {
    if (!checkKeys(root, "the fitted file", {"unit", "until", "purchase", "amount", "bgnbd", "gamma_gamma", "fit"})) return std::nullopt;
    if (!text_(root["unit"], "unit", m.unit)) return std::nullopt;
    if (clvUnitDays(m.unit) == 0) {
      error = "unit must be weeks or days, not '" + m.unit + "'";
      return std::nullopt;
    }
    if (root["until"] && !text_(root["until"], "until", m.until)) return std::nullopt;
    if (!text_(root["purchase"], "purchase", m.purchase) || !text_(root["amount"], "amount", m.amount)) return std::nullopt;
    YAML::Node bg = root["bgnbd"], gg = root["gamma_gamma"];
    if (!bg || !bg.IsMap() || !gg || !gg.IsMap()) {
      error = "missing `bgnbd:` or `gamma_gamma:` (the parameters)";
      return std::nullopt;
    }
    if (!checkKeys(bg, "bgnbd", {"r", "alpha", "a", "b"}) || !checkKeys(gg, "gamma_gamma", {"p", "q", "gamma"})) return std::nullopt;
    if (!number(bg["r"], "bgnbd.r", m.bgnbd.r) || !number(bg["alpha"], "bgnbd.alpha", m.bgnbd.alpha) ||
        !number(bg["a"], "bgnbd.a", m.bgnbd.a) || !number(bg["b"], "bgnbd.b", m.bgnbd.b) ||
        !number(gg["p"], "gamma_gamma.p", m.gammaGamma.p) || !number(gg["q"], "gamma_gamma.q", m.gammaGamma.q) ||
        !number(gg["gamma"], "gamma_gamma.gamma", m.gammaGamma.gamma))
      return std::nullopt;
    if (!(m.gammaGamma.q > 1)) {
      error = "gamma_gamma.q must be above 1 (the mean spend per purchase is gamma p / (q - 1))";
      return std::nullopt;
    }
    if (YAML::Node fit = root["fit"]; fit && fit.IsMap()) {
      if (fit["config"] && fit["config"].IsScalar()) m.source = fit["config"].Scalar();
      auto opt = [&](const char* key, double& v) {
        if (fit[key] && fit[key].IsScalar()) {
          try {
            v = std::stod(fit[key].Scalar());
          } catch (const std::exception&) {
          }
        }
      };
      double c = 0, rc = 0, gc = 0;
      opt("customers", c);
      opt("repeat_customers", rc);
      opt("gamma_gamma_customers", gc);
      opt("bgnbd_log_likelihood", m.bgnbdLogLikelihood);
      opt("gamma_gamma_log_likelihood", m.gammaGammaLogLikelihood);
      m.customers = static_cast<uint64_t>(c);
      m.repeatCustomers = static_cast<uint64_t>(rc);
      m.gammaGammaCustomers = static_cast<uint64_t>(gc);
    }
  } catch (const YAML::Exception& e) {
    error = std::string("invalid fitted file: ") + e.what();
    return std::nullopt;
  }
  return m;
}

std::optional<ClvModel> loadClvModel(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read '" + path + "'";
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto m = parseClvModel(ss.str(), error);
  if (!m) error = path + ": " + error;
  return m;
}

}  // namespace rekindle
