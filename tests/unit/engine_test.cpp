// The decision engine's passes on tests/engine (see its README.md): RFM quintiles worked out
// by hand, budgets with ties and fall-through, holdout stability, caps chosen and counted as
// the runtime docs say, transitions, and the same bytes whatever the thread count.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <unistd.h>

#include "rekindle/core/hash.h"
#include "test_support.h"

using namespace rekindle;
using namespace rekindle::test;

namespace {

// customer id -> column -> value
using Table = std::map<std::string, std::map<std::string, std::string>>;

// The rules run on tests/engine (or `configPath`); the run must succeed.
RunOutcome runOutcome(const std::string& rules, int threads = 1, const std::string& configPath = "",
                      const std::string& previous = "") {
  RunRequest r;
  r.rulesPath = "engine.rules";
  r.rulesText = rules;
  r.configPath = configPath.empty() ? sourcePath("tests/engine/rekindle.yaml") : configPath;
  r.threads = threads;
  r.previousPath = previous;
  RunOutcome out = runRules(r);
  INFO(out.error);
  REQUIRE(out.ok);
  return out;
}

Table runEngine(const std::string& rules, int threads = 1, const std::string& configPath = "",
                const std::string& previous = "") {
  auto rows = parseCsv(runOutcome(rules, threads, configPath, previous).output);
  Table t;
  for (size_t i = 1; i < rows.size(); ++i)
    for (size_t k = 0; k < rows[0].size(); ++k) t[rows[i][0]][rows[0][k]] = rows[i][k];
  return t;
}

std::string header() { return "rules engine_test version 1\nuse std.rfm\n"; }

}  // namespace

TEST_CASE("RFM quintile scores and segments match the hand-computed table", "[engine][rfm]") {
  Table t = runEngine(header() +
                      "stage\n  scored otherwise\nend\n"
                      "segment seg_new when rfm.segment == \"New Customers\"\n"
                      "segment seg_pot when rfm.segment == \"Potential Loyalists\"\n"
                      "segment seg_loyal when rfm.segment == \"Loyal\"\n"
                      "segment seg_risk when rfm.segment == \"At Risk\"\n"
                      "segment seg_cant when rfm.segment == \"Can't Lose Them\"\n"
                      "segment seg_none when rfm.segment == \"No Purchases\" and rfm.score == \"000\"\n"
                      "segment r5 when rfm.r == 5\nsegment f4 when rfm.f == 4\nsegment f3 when rfm.f == 3\nsegment m2 when rfm.m == 2\n");
  const std::map<std::string, std::string> expected = {
      {"P01", "seg_new;r5"},       {"P02", "seg_new;r5;m2"},   {"P03", "seg_pot;m2"},   {"P04", "seg_pot;m2"},
      {"P05", "seg_loyal;f4"},     {"P06", "seg_loyal;f4"},    {"P07", "seg_risk;f4"},  {"P08", "seg_risk;f4"},  // no f3
      {"P09", "seg_cant"},         {"P10", "seg_cant"},        {"P11", "seg_none"},     {"K01", "seg_none"},
  };
  for (const auto& [id, segs] : expected) {
    INFO(id);
    CHECK(t[id]["segments"] == segs);
  }
}

TEST_CASE("budgets: top N by rank, ties by bucket, nulls last, fall-through", "[engine][budget]") {
  const std::string rules = header() +
                            "channel\n  email when true\n  none otherwise\nend\n"
                            "offer\n"
                            "  GOLD   when account_type == \"b2c\" and spend > 0 limit 3 rank by spend desc\n"
                            "  SILVER when id < \"P\" limit 2\n"
                            "  none   otherwise\nend\n";
  Table t = runEngine(rules);
  // K10 has no email consent: no message reaches it, so it takes GOLD without using the
  // budget. GOLD's three go to K09 (200) first, then the 100s (K01 K02 K03 K04), whose tie is
  // broken by bucket("GOLD").
  std::vector<std::string> hundreds = {"K01", "K02", "K03", "K04"};
  std::sort(hundreds.begin(), hundreds.end(), [](const std::string& a, const std::string& b) {
    return customerBucket(a, "GOLD") < customerBucket(b, "GOLD");
  });
  std::set<std::string> gold = {"K09", hundreds[0], hundreds[1], "K10"};
  // SILVER (no rank by: bucket alone) among the K customers left: the GOLD losers and the rest.
  std::vector<std::string> silverCandidates;
  for (const char* id : {"K01", "K02", "K03", "K04", "K05", "K06", "K07", "K08", "K09", "K10"})
    if (!gold.count(id)) silverCandidates.push_back(id);
  std::sort(silverCandidates.begin(), silverCandidates.end(), [](const std::string& a, const std::string& b) {
    return customerBucket(a, "SILVER") < customerBucket(b, "SILVER");
  });
  std::set<std::string> silver = {silverCandidates[0], silverCandidates[1]};
  for (const char* id : {"K01", "K02", "K03", "K04", "K05", "K06", "K07", "K08", "K09", "K10"}) {
    INFO(id);
    std::string want = gold.count(id) ? "GOLD" : silver.count(id) ? "SILVER" : "none";
    CHECK(t[id]["offer"] == want);
  }
  // The same allocation when the customers come in another order or on more threads.
  CHECK(runEngine(rules, 4) == t);
}

TEST_CASE("a budget's summary: given, turned away, the cut-off and whether it was a tie", "[engine][budget]") {
  // The b2c spenders: K09 200; K01 K02 K03 K04 100; K05 50; K10 100 but without email consent,
  // so it takes GOLD without using the budget. GOLD's 4 go to K09 and three of the 100s: the last
  // one given is a 100 and so is the first turned away (not K05), a tie broken by the bucket.
  // SILVER's 2 go to the last 100 and K05: nobody turned away.
  const RunOutcome out = runOutcome(header() +
                                    "channel\n  email when true\n  none otherwise\nend\n"
                                    "offer\n"
                                    "  GOLD   when account_type == \"b2c\" and spend > 0 limit 4 rank by spend desc\n"
                                    "  SILVER when account_type == \"b2c\" and spend > 0 limit 2 rank by spend desc\n"
                                    "  none   otherwise\nend\n");
  struct Expected {
    const char* outcome;
    uint64_t given, turnedAway;
    const char* cutoff;
    bool tie;
  };
  const Expected expected[] = {{"GOLD", 4, 2, "100", true}, {"SILVER", 2, 0, "50", false}};
  REQUIRE(out.summary.budgets.size() == 2);
  for (size_t k = 0; k < 2; ++k) {
    const BudgetUse& use = out.summary.budgets[k];
    INFO(expected[k].outcome);
    CHECK(use.outcome == expected[k].outcome);
    CHECK(use.given == expected[k].given);
    CHECK(use.turnedAway == expected[k].turnedAway);
    CHECK(use.cutoff == expected[k].cutoff);
    CHECK(use.tieAtCutoff == expected[k].tie);
  }
}

TEST_CASE("asc ranking and the control group, which uses no budget", "[engine][budget][holdout]") {
  const std::string rules = header() +
                            "offer\n  GOLD when account_type == \"b2c\" and spend > 0 limit 2 rank by spend asc\n  none otherwise\nend\n"
                            "holdout 30% salt \"engine\"\n";
  Table t = runEngine(rules);
  std::vector<std::pair<double, std::string>> competing;  // (spend, id) of b2c spenders not held out
  std::map<std::string, double> spend = {{"K01", 100}, {"K02", 100}, {"K03", 100}, {"K04", 100},
                                         {"K05", 50},  {"K09", 200}, {"K10", 100}};
  for (const auto& [id, s] : spend) {
    bool held = customerBucket(id, "engine") < 0.30;
    INFO(id);
    CHECK(t[id]["holdout"] == (held ? "true" : "false"));
    if (held) CHECK(t[id]["offer"] == "GOLD");  // takes its first eligible row, uses no budget
    else competing.push_back({s, id});
  }
  std::sort(competing.begin(), competing.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return customerBucket(a.second, "GOLD") < customerBucket(b.second, "GOLD");
  });
  for (size_t i = 0; i < competing.size(); ++i) {
    INFO(competing[i].second);
    CHECK(t[competing[i].second]["offer"] == (i < 2 ? "GOLD" : "none"));
  }
  for (const auto& [id, row] : t)
    if (row.at("holdout") == "true") CHECK(row.at("send") == "false");
}

TEST_CASE("holdout is stable across runs, input orders and thread counts", "[engine][holdout]") {
  const std::string rules = header() + "channel\n  email when true\nend\nholdout 25% salt \"q4\"\n";
  Table a = runEngine(rules);
  // The same customers, in reverse order.
  std::string dir = "/tmp/rekindle-engine-" + std::to_string(::getpid());
  std::string out;
  runCommand("mkdir -p " + dir, out);
  std::string csv = readText(sourcePath("tests/engine/customers.csv"));
  std::vector<std::string> lines;
  std::istringstream in(csv);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::reverse(lines.begin() + 1, lines.end());
  std::ofstream(dir + "/customers.csv") << [&] {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
  }();
  std::string cfg = readText(sourcePath("tests/engine/rekindle.yaml"));
  cfg.replace(cfg.find("path: customers.csv"), 19, "path: " + dir + "/customers.csv");
  for (const char* f : {"events.csv", "contacts.csv"}) {
    std::string key = std::string("path: ") + f;
    cfg.replace(cfg.find(key), key.size(), "path: " + sourcePath(std::string("tests/engine/") + f));
  }
  std::ofstream(dir + "/rekindle.yaml") << cfg;
  Table reversed = runEngine(rules, 3, dir + "/rekindle.yaml");
  CHECK(reversed == a);
  size_t held = 0;
  for (const auto& [id, row] : a) {
    INFO(id);
    CHECK(row.at("holdout") == (customerBucket(id, "q4") < 0.25 ? "true" : "false"));
    held += row.at("holdout") == "true";
  }
  CHECK(held > 0);
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("caps: first matching conditional line, else the unconditional ones, plus any", "[engine][caps]") {
  const std::string rules = header() +
                            "channel\n  email when true\n  phone when true\n  none otherwise\nend\n"
                            "cap email: 2 per 7d\n"
                            "cap email: 1 per calendar month when account_type == \"b2b\"\n"
                            "cap phone: 3 per 30d\n"
                            "cap any: 1 per 6h\n";
  Table t = runEngine(rules);
  // K01: two emails in 3 days: 2 per 7d is full until the older (3 days ago) leaves: +4 days.
  CHECK(t["K01"]["send"] == "false");
  CHECK(t["K01"]["suppressed_by"] == "cap email 2 per 7d");
  CHECK(t["K01"]["next_eligible_at"] == "2026-11-27T12:00:00Z");
  // K02: the email exactly 7 days ago is outside the window; one 6 days ago leaves room.
  CHECK(t["K02"]["send"] == "true");
  CHECK(t["K02"]["suppressed_by"] == "");
  // K07 is b2b: its conditional cap replaces 2 per 7d; an email on the 1st fills November.
  CHECK(t["K07"]["suppressed_by"] == "cap email 1 per calendar month");
  CHECK(t["K07"]["next_eligible_at"] == "2026-12-01T00:00:00Z");
  // K08 is b2b too, but its only contact is an SMS five hours ago: `cap any` counts it.
  CHECK(t["K08"]["suppressed_by"] == "cap any 1 per 6h");
  CHECK(t["K08"]["next_eligible_at"] == "2026-11-23T13:00:00Z");
  // K10 has no email consent, so phone; no calls yet: sent. K05 consents to email: email.
  CHECK(t["K05"]["channel"] == "email");
  CHECK(t["K10"]["channel"] == "phone");
  CHECK(t["K10"]["send"] == "true");
}

TEST_CASE("a channel's capacity is not used by customers its caps would stop", "[engine][budget][caps]") {
  // Phone for everyone who consents, 2 calls available; K05 has had 3 calls in 20 days.
  const std::string rules = header() +
                            "channel\n  phone when account_type == \"b2c\" and spend > 0 limit 2 rank by spend desc\n  none otherwise\nend\n"
                            "cap phone: 3 per 30d\n";
  Table t = runEngine(rules);
  // Candidates (b2c, spend > 0, phone consent and number): K01 K02 K03 K05 K09 K10.
  // K05 is capped: it takes the row without using capacity (and is not sent).
  CHECK(t["K05"]["channel"] == "phone");
  CHECK(t["K05"]["send"] == "false");
  CHECK(t["K09"]["channel"] == "phone");  // 200, the highest
  int phones = 0;
  for (const char* id : {"K01", "K02", "K03", "K10"}) phones += t[id]["channel"] == "phone";
  CHECK(phones == 1);  // one of the 100s, by bucket: two calls in all, K09 and one more
}

TEST_CASE("send_at respects quiet hours in the customer's zone", "[engine][caps]") {
  // 12:00Z is 20:00 in Shanghai (inside 18:00-09:00) and 07:00 in New York (inside too).
  const std::string rules = header() + "channel\n  phone when true\n  none otherwise\nend\n";
  Table t = runEngine(rules);
  CHECK(t["K03"]["send_at"] == "2026-11-24T09:00:00+08:00");
  CHECK(t["K09"]["send_at"] == "2026-11-23T09:00:00-05:00");
  CHECK(t["K01"]["send_at"] == "2026-11-23T12:00:00Z");  // UTC: 12:00 is working hours
}

TEST_CASE("previous decisions: previous.* and transitions", "[engine][previous]") {
  std::string dir = "/tmp/rekindle-prev-" + std::to_string(::getpid());
  std::string out;
  runCommand("mkdir -p " + dir, out);
  std::ofstream(dir + "/previous.csv") << "customer_id,stage,segments,channel,send,send_at,suppressed_by,next_eligible_at,offer,holdout,transition,rules,rules_version,decided_at\n"
                                          "P01,lapsed,,email,true,,,,GOLD,false,,engine_test,1,2026-11-16T12:00:00Z\n"
                                          "P02,buyer,,email,true,,,,none,false,,engine_test,1,2026-11-16T12:00:00Z\n"
                                          "P11,gone,,none,false,,,,none,false,,engine_test,1,2026-11-16T12:00:00Z\n";
  const std::string rules = header() +
                            "stage\n  buyer when rfm.f > 0\n  lapsed otherwise\nend\n"
                            "segment was_lapsed when previous.stage == lapsed\n"
                            "segment had_gold when previous.offer == GOLD\n"
                            "segment last_week when previous.at == now - 7d\n"
                            "offer\n  GOLD when previous.offer is null\n  none otherwise\nend\n";
  Table t = runEngine(rules, 1, "", dir + "/previous.csv");
  CHECK(t["P01"]["transition"] == "lapsed->buyer");
  CHECK(t["P01"]["segments"] == "was_lapsed;had_gold;last_week");
  CHECK(t["P02"]["transition"] == "");  // unchanged
  CHECK(t["P11"]["transition"] == "gone->lapsed");  // `gone` is no longer a stage: previous.stage is null
  CHECK(t["P11"]["segments"] == "last_week");
  CHECK(t["P03"]["transition"] == "->buyer");  // not in the previous file
  CHECK(t["P03"]["offer"] == "GOLD");
  CHECK(t["P01"]["offer"] == "none");
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("quantile_rank over the run's population", "[engine]") {
  Table t = runEngine(header() +
                      "let total = sum((events where kind == \"purchase\").amount)\n"
                      "segment top when quantile_rank(total) > 0.9\n"
                      "segment bottom when quantile_rank(total) < 0.3\n");
  // 21 customers: 11 with total 0 (K*, P11), then 10, 20, 20, 40, 50, 60, 70, 80, 90, 1000.
  // 0 ranks (0 + 11/2)/21 = 0.26; 1000 ranks (20 + 0.5)/21 = 0.976; 90 ranks 19.5/21 = 0.93.
  CHECK(t["P10"]["segments"] == "top");
  CHECK(t["P09"]["segments"] == "top");
  CHECK(t["P08"]["segments"] == "");
  CHECK(t["K01"]["segments"] == "bottom");
}

TEST_CASE("the same bytes whatever the thread count", "[engine][determinism]") {
  RunRequest r;
  r.rulesPath = sourcePath("examples/retail/retail.rules");
  r.configPath = sourcePath("examples/retail/rekindle.yaml");
  r.explain = true;
  RunOutcome one = runRules(r);
  REQUIRE(one.ok);
  for (int threads : {2, 3, 8}) {
    r.threads = threads;
    RunOutcome many = runRules(r);
    REQUIRE(many.ok);
    CHECK(many.output == one.output);
  }
}
