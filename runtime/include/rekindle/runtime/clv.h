// Customer lifetime value (std.clv, `rekindle fit`): the BG/NBD model of repeat purchases
// (Fader, Hardie & Lee 2005, "Counting your customers the easy way") and the Gamma-Gamma model
// of spend per purchase (Fader, Hardie & Lee 2005; Fader & Hardie 2013). A customer is
// summarised by x (repeat purchase days), t_x (first to last purchase) and T (first purchase to
// the end of the observation), in a time unit (weeks or days), and m_x, the mean spend of the
// repeat purchase days. The parameters are fitted by maximum likelihood (`rekindle fit`) and
// read by runs from the file it writes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rekindle {

class Evaluator;
struct Program;
class TimeZone;

// One purchase: its local day (days since 1970-01-01 in the config's zone) and amount.
struct ClvPurchase {
  int64_t day = 0;
  double amount = 0;
};

struct ClvSummary {
  double x = 0;         // repeat purchase days: distinct purchase days - 1
  double tx = 0;        // last - first purchase day, in the unit
  double T = 0;         // `until` - first purchase day, in the unit
  double monetary = 0;  // mean spend of the repeat purchase days (the first excluded); 0 when x == 0
  int64_t firstDay = 0;
  int64_t days = 0;     // distinct purchase days up to `until`
};

// Days per unit: "weeks" 7, "days" 1; 0 for anything else.
double clvUnitDays(const std::string& unit);

// Merges purchases on the same day (amounts summed) and summarises those on or before
// `untilDay`. nullopt when there is none.
std::optional<ClvSummary> summarizePurchases(std::vector<ClvPurchase> purchases, int64_t untilDay, double unitDays);

// The purchases of the customer `ev` has begun, read through the program's two clv population
// chunks (purchase times, purchase amounts; see the std.clv prelude). False with `error` when
// the chunks do not give two lists of the same length (a forged program) or the VM faulted.
bool readClvPurchases(Evaluator& ev, const Program& program, const TimeZone& zone, std::vector<ClvPurchase>& out,
                      std::string& error);

struct BgNbdParams {
  double r = 0, alpha = 0, a = 0, b = 0;
};
struct GammaGammaParams {
  double p = 0, q = 0, gamma = 0;
};

// The Gauss hypergeometric function 2F1(a, b; c; z) for z < 1 (Boost.Math); NaN when the
// series fails.
double hyp2f1(double a, double b, double c, double z);

// BG/NBD: one customer's log-likelihood; P(alive | x, t_x, T); E[X(t)] for a new customer;
// E[Y(t) | x, t_x, T], the expected purchases in the next t.
double bgnbdLogLikelihood(const BgNbdParams& m, double x, double tx, double T);
double bgnbdPAlive(const BgNbdParams& m, double x, double tx, double T);
double bgnbdExpectedNew(const BgNbdParams& m, double t);
double bgnbdExpectedPurchases(const BgNbdParams& m, double t, double x, double tx, double T);

// Gamma-Gamma: one customer's log-likelihood (x > 0, m > 0) and E[M | x, m_x], the expected
// spend per purchase (for x = 0, the population mean gamma p / (q - 1)).
double gammaGammaLogLikelihood(const GammaGammaParams& m, double x, double mx);
double gammaGammaExpectedSpend(const GammaGammaParams& m, double x, double mx);

// Nelder-Mead minimisation (for the fits, on log-parameters). Converged when, on the same
// simplex, the spread of the function values is at most ftol relative to the best value and
// every vertex is within xtol of the best in every coordinate; then restarted from the best
// point until a restart improves the minimum by less than ftol (relative).
struct NelderMeadOptions {
  double step = 0.5;      // initial simplex edge
  double ftol = 1e-12;    // relative
  double xtol = 1e-7;     // absolute, in the (log-)parameters
  int maxIterations = 20000;  // per start
  int maxRestarts = 30;
};
struct NelderMeadResult {
  std::vector<double> x;
  double f = 0;
  int iterations = 0;   // over all starts
  int evaluations = 0;
  int restarts = 0;
  bool converged = false;
};
NelderMeadResult nelderMead(const std::function<double(const std::vector<double>&)>& f, std::vector<double> x0,
                            const NelderMeadOptions& options = {});

struct ClvFitReport {
  bool ok = false;
  std::string error;
  double logLikelihood = 0;
  int iterations = 0, evaluations = 0, restarts = 0;
  size_t customers = 0;  // in the fit
};

// Maximum likelihood. BG/NBD on every summary; Gamma-Gamma on those with x > 0 and m_x > 0.
// Refused (ok = false, error) with fewer than `minRepeat` repeat buyers, without convergence, or
// when a parameter runs off to zero or infinity.
ClvFitReport fitBgNbd(const std::vector<ClvSummary>& customers, BgNbdParams& out, size_t minRepeat = 10);
ClvFitReport fitGammaGamma(const std::vector<ClvSummary>& customers, GammaGammaParams& out, size_t minRepeat = 10);

// The file `rekindle fit` writes and runs read (YAML).
struct ClvModel {
  BgNbdParams bgnbd;
  GammaGammaParams gammaGamma;
  std::string unit = "weeks";
  std::string purchase;  // the config's clv.purchase and clv.amount it was fitted with
  std::string amount;
  std::string until;     // YYYY-MM-DD
  // Informational.
  double bgnbdLogLikelihood = 0, gammaGammaLogLikelihood = 0;
  uint64_t customers = 0, repeatCustomers = 0, gammaGammaCustomers = 0;
  std::string source;  // the config it was fitted from
};
std::string writeClvModel(const ClvModel& m);
std::optional<ClvModel> parseClvModel(const std::string& text, std::string& error);
std::optional<ClvModel> loadClvModel(const std::string& path, std::string& error);

}  // namespace rekindle
