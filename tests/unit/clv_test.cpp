// std.clv and `rekindle fit`: the BG/NBD and Gamma-Gamma fits reproduce the published figures on
// the CDNOW sample (Fader, Hardie & Lee 2005; Fader & Hardie 2013), the model functions match
// closed forms, impossible fits are refused, and rules see the same values the model computes.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <unistd.h>

#include "rekindle/runtime/clv.h"
#include "test_support.h"

using namespace rekindle;
using namespace rekindle::test;

namespace {

// |got - want| within `relative` of want.
bool near(double got, double want, double relative) { return std::fabs(got - want) <= relative * std::fabs(want); }

std::string tempFile(const std::string& name) { return tempDir("clv") + "/" + name; }

}  // namespace

TEST_CASE("rekindle fit reproduces the published BG/NBD and Gamma-Gamma fits of the CDNOW sample", "[clv]") {
  std::string out = tempFile("clv.yaml"), text;
  int status = runCommand("cd '" + std::string(REKINDLE_SOURCE_DIR) + "' && '" + REKINDLE_BINARY +
                              "' fit --config examples/cdnow/sample.yaml --until 1997-09-30 -o " + out,
                          text);
  INFO(text);
  REQUIRE(status == 0);
  // What the literature counts: 2,357 customers, 946 of them with repeat purchases.
  CHECK_THAT(text, Catch::Contains("customers    2357 with purchases"));
  CHECK_THAT(text, Catch::Contains("946 with repeat purchases"));
  std::string error;
  auto m = loadClvModel(out, error);
  INFO(error);
  REQUIRE(m);
  CHECK(m->unit == "weeks");
  CHECK(m->until == "1997-09-30");
  // The published parameters, within 0.5 %.
  CHECK(near(m->bgnbd.r, 0.243, 0.005));
  CHECK(near(m->bgnbd.alpha, 4.414, 0.005));
  CHECK(near(m->bgnbd.a, 0.793, 0.005));
  CHECK(near(m->bgnbd.b, 2.426, 0.005));
  CHECK(near(m->bgnbdLogLikelihood, -9582.4, 0.0001));
  CHECK(near(m->gammaGamma.p, 6.25, 0.005));
  CHECK(near(m->gammaGamma.q, 3.74, 0.005));
  CHECK(near(m->gammaGamma.gamma, 15.44, 0.005));
  CHECK(m->gammaGammaCustomers == 946);
  // The published spot values, from the fitted parameters, within 0.1 %.
  CHECK(near(bgnbdExpectedPurchases(m->bgnbd, 39, 2, 30.43, 38.86), 1.226, 0.001));
  CHECK(near(bgnbdExpectedNew(m->bgnbd, 78), 1.8576, 0.001));
  CHECK(near(gammaGammaExpectedSpend(m->gammaGamma, 2, 22.35), 24.6586, 0.001));
}

TEST_CASE("the model functions agree with closed forms", "[clv]") {
  // 2F1(1, 1; 2; z) = -ln(1 - z) / z, and 2F1(a, b; b; z) = (1 - z)^-a.
  for (double z : {-3.0, -0.5, 0.1, 0.5, 0.9})
    CHECK(near(hyp2f1(1, 1, 2, z), -std::log1p(-z) / z, 1e-10));
  CHECK(near(hyp2f1(0.7, 2.5, 2.5, 0.3), std::pow(0.7, -0.7), 1e-10));
  BgNbdParams m{0.243, 4.414, 0.793, 2.426};
  // No repeat purchase: alive for sure; E[X(0)] is 0; expectations grow with the horizon.
  CHECK(bgnbdPAlive(m, 0, 0, 30) == Approx(1.0));
  CHECK(bgnbdExpectedNew(m, 0) == Approx(0.0).margin(1e-12));
  CHECK(bgnbdExpectedPurchases(m, 52, 3, 20, 38) > bgnbdExpectedPurchases(m, 26, 3, 20, 38));
  // A long silence after frequent buying makes dropout likely.
  CHECK(bgnbdPAlive(m, 10, 5, 38) < bgnbdPAlive(m, 10, 37, 38));
  // Gamma-Gamma: with no repeat purchase, the population mean gamma p / (q - 1).
  GammaGammaParams g{6.25, 3.74, 15.44};
  CHECK(gammaGammaExpectedSpend(g, 0, 0) == Approx(15.44 * 6.25 / 2.74));
  // Many purchases: close to the customer's own mean.
  CHECK(near(gammaGammaExpectedSpend(g, 1000, 50), 50, 0.01));
}

TEST_CASE("a summary merges same-day purchases and counts repeat purchase days", "[clv]") {
  std::vector<ClvPurchase> p = {{100, 10}, {100, 5}, {107, 20}, {121, 40}, {200, 99}};
  auto s = summarizePurchases(p, 150, 7);  // the purchase on day 200 is after `until`
  REQUIRE(s);
  CHECK(s->x == 2);                       // days 100, 107, 121: two repeat purchase days
  CHECK(s->tx == Approx(3.0));            // 21 days
  CHECK(s->T == Approx(50.0 / 7));
  CHECK(s->monetary == Approx(30.0));     // (20 + 40) / 2: the first day is not a repeat
  CHECK_FALSE(summarizePurchases({{200, 1}}, 150, 7));
}

TEST_CASE("a fit with too few repeat buyers is refused with a reason", "[clv]") {
  std::vector<ClvSummary> few;
  for (int k = 0; k < 50; ++k) few.push_back(ClvSummary{k < 3 ? 1.0 : 0.0, k < 3 ? 2.0 : 0.0, 30, k < 3 ? 10.0 : 0.0});
  BgNbdParams bg;
  auto r = fitBgNbd(few, bg);
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.error, Catch::Contains("repeat"));
  GammaGammaParams gg;
  CHECK_FALSE(fitGammaGamma(few, gg).ok);
}

TEST_CASE("a parameters file that is not one is refused, and rules without one say how to fit", "[clv]") {
  std::string error;
  CHECK_FALSE(parseClvModel("unit: weeks\nbgnbd: { r: -1, alpha: 1, a: 1, b: 1 }\n", error));
  CHECK_FALSE(error.empty());
  error.clear();
  CHECK_FALSE(parseClvModel("[1, 2", error));
  CHECK_FALSE(error.empty());
  // The sample's config names no fitted file: a run of rules using std.clv says what to do.
  std::string text;
  std::string rules = tempFile("clv.rules");
  REQUIRE(runCommand("printf 'rules r version 1\\nuse std.clv\\nsegment gone when clv.p_alive() < 0.2\\n' > " + rules, text) == 0);
  int status = runCommand("cd '" + std::string(REKINDLE_SOURCE_DIR) + "' && '" + REKINDLE_BINARY + "' run " + rules +
                              " --config examples/cdnow/sample.yaml -o /dev/null",
                          text);
  CHECK(status != 0);
  CHECK_THAT(text, Catch::Contains("rekindle fit"));
}

TEST_CASE("rules read p_alive and expected value as the model computes them", "[clv]") {
  // The CDNOW example's fitted parameters, over the whole cohort: the customers the rules put
  // in each band are those the model functions put there, customer by customer.
  std::string error;
  auto m = loadClvModel(sourcePath("examples/cdnow/clv.yaml"), error);
  INFO(error);
  REQUIRE(m);
  RunRequest r;
  r.configPath = sourcePath("examples/cdnow/rekindle.yaml");
  r.rulesPath = "clv_check.rules";
  r.rulesText =
      "use std.clv\n"
      "segment likely_gone when clv.p_alive() < 0.3\n"
      "segment valuable when clv.expected_value(52w) >= 30.0\n"
      "segment repeat when clv.frequency() >= 1\n";
  RunOutcome out = runRules(r);
  INFO(out.error);
  REQUIRE(out.ok);
  // The same counts from the raw file and the model functions.
  std::map<std::string, std::vector<ClvPurchase>> byCustomer;
  std::string raw = readText(sourcePath("examples/cdnow/data/CDNOW_master.txt"));
  size_t pos = raw.find('\n') + 1;  // header
  while (pos < raw.size()) {
    size_t end = raw.find('\n', pos);
    if (end == std::string::npos) end = raw.size();
    char id[32];
    int ymd = 0, cds = 0;
    double amount = 0;
    if (std::sscanf(raw.c_str() + pos, "%31s %d %d %lf", id, &ymd, &cds, &amount) == 4) {
      int y = ymd / 10000, mo = ymd / 100 % 100, d = ymd % 100;
      // Days since 1970-01-01 (civil calendar).
      y -= mo <= 2;
      int era = y / 400, yoe = y - era * 400, doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
      int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
      byCustomer[id].push_back({days, amount});
    }
    pos = end + 1;
  }
  const int64_t until = 10408;  // 1998-07-01
  size_t likelyGone = 0, valuable = 0, repeat = 0;
  for (auto& [id, purchases] : byCustomer) {
    auto s = summarizePurchases(purchases, until, 7);
    REQUIRE(s);
    likelyGone += bgnbdPAlive(m->bgnbd, s->x, s->tx, s->T) < 0.3;
    valuable += bgnbdExpectedPurchases(m->bgnbd, 52, s->x, s->tx, s->T) *
                    gammaGammaExpectedSpend(m->gammaGamma, s->x, s->monetary) >= 30.0;
    repeat += s->x >= 1;
  }
  CHECK(byCustomer.size() == 23570);
  CHECK(out.summary.segments["likely_gone"] == likelyGone);
  CHECK(out.summary.segments["valuable"] == valuable);
  CHECK(out.summary.segments["repeat"] == repeat);
  CHECK(repeat == 11516);
}
