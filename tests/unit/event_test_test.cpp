// Compiled where-conditions (runtime/src/event_test.h) and event scans (event_scan.h) against
// bytecode: for every customer of every example and conformance program, of a program made of
// every condition shape, and of one made of scans over long histories, each let, segment and
// decision must be the same whether they run compiled or in bytecode.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <fstream>

#include "rekindle/core/time.h"
#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/engine.h"
#include "rekindle/runtime/vm.h"
#include "test_support.h"

using namespace rekindle;
using namespace rekindle::test;

namespace {

// Same value, lists element by element (strings by content: the two evaluators share the pool).
bool same(const Value& a, const Value& b) {
  if (a.tag != b.tag) return false;
  if (a.tag == Kind::List) {
    if (a.list->items.size() != b.list->items.size()) return false;
    for (size_t k = 0; k < a.list->items.size(); ++k)
      if (!same(a.list->items[k], b.list->items[k])) return false;
    return true;
  }
  if (a.tag == Kind::Float) return a.f == b.f || (a.f != a.f && b.f != b.f);
  return a.isNull() || valuesEqual(a, b);
}

struct Compiled {
  size_t conditions = 0;  // where-conditions compiled
  size_t scans = 0;       // list expressions run as event scans
  size_t selected = 0;    // their conditions on events alone, selected up front
  size_t quick = 0;       // scans whose conditions were all selected up front and that need no value
                          // but the count, or the ends, or a sum of the events they keep
  size_t customers = 0;   // rows', segments' and cap lines' conditions tested up front for every customer
};

// Compares three ways on every customer: in bytecode; compiled, each customer's events selected
// as its scans need them; and compiled with the run's selections made up front for every event
// (EventSelections) and its customer conditions for every customer (CustomerConditions), on
// `threads` threads, as the passes of a run use them.
Compiled compareEvaluations(const std::string& rulesPath, const std::string& rulesText, const std::string& configPath,
                            int threads = 1) {
  INFO(rulesPath);
  BoundRules bound = bindRules(rulesPath, rulesText, configPath);
  const Config* config = bound.config.get();
  const Dataset* data = bound.data.get();
  const Executable* exe = bound.exe.get();
  std::string error;
  RunOptions options;
  options.now = *config->asOf;
  options.threads = threads;
  DecisionRun run(*exe, *data, options);
  REQUIRE(run.prepare(error));  // the population statistics, for rules that use them
  RunContext context;
  context.clock = RunClock::at(options.now, config->zone);
  context.population = &run.population();
  Evaluator compiledWay(*exe, *data, context), bytecodeWay(*exe, *data, context);
  Evaluator selectedWay(*exe, *data, run.context());
  bytecodeWay.useCompiled(false);
  const Program& p = *bound.program;
  for (uint32_t c = 0; c < data->customerCount; ++c) {
    INFO("customer " << data->customerId(c));
    compiledWay.begin(c);
    selectedWay.begin(c);
    bytecodeWay.begin(c);
    for (uint32_t i = 0; i < p.lets.size(); ++i) {
      INFO("let " << p.lets[i].name);
      const Value expected = bytecodeWay.let(i);
      REQUIRE(same(compiledWay.let(i), expected));
      REQUIRE(same(selectedWay.let(i), expected));
    }
    for (uint32_t i = 0; i < p.segments.size(); ++i) {
      INFO("segment " << p.segments[i].name);
      const Value expected = bytecodeWay.segment(i);
      REQUIRE(same(compiledWay.segment(i), expected));
      REQUIRE(same(selectedWay.segment(i), expected));
    }
    for (TableKind k : {TableKind::Stage, TableKind::Channel, TableKind::Offer}) {
      if (!p.table(k).present) continue;
      const Value expected = bytecodeWay.decision(k);
      REQUIRE(same(compiledWay.decision(k), expected));
      REQUIRE(same(selectedWay.decision(k), expected));
      REQUIRE(compiledWay.decidedRow(k) == bytecodeWay.decidedRow(k));
      REQUIRE(selectedWay.decidedRow(k) == bytecodeWay.decidedRow(k));
    }
    REQUIRE(compiledWay.fault() == bytecodeWay.fault());
    REQUIRE(selectedWay.fault() == bytecodeWay.fault());
  }
  REQUIRE(bytecodeWay.compiledConditions() == compiledWay.compiledConditions());
  CHECK(compiledWay.quickScans() == 0);  // no selections made up front: none is quick
  return {compiledWay.compiledConditions(), compiledWay.eventScans(), run.eventsSelected(), selectedWay.quickScans(),
          run.customerConditions()};
}

// A config over customers with `counts[k]` events each (random kinds, amounts, channels,
// quantities and times, seeded), written to `dir`; its path.
std::string writeHistories(const std::string& dir, const std::vector<int>& counts) {
  std::string config = readText(sourcePath("tests/conformance/rekindle.yaml"));
  config.replace(config.find("data/customers.csv"), 18, dir + "/customers.csv");
  config.replace(config.find("data/events.csv"), 15, dir + "/events.csv");
  std::string customers = "customer_id,signup_at,email,phone,birthday,account_type,consent_email,consent_sms,"
                          "consent_push,app_token,score,balance,tier,email_bounced,last_login\n";
  std::string events = "customer_id,at,kind,amount,channel,opened,qty\n";
  const char* kinds[] = {"purchase", "visit", "cart_add", "email_open", "refund"};
  const char* channels[] = {"", "web", "store", "app"};
  uint64_t seed = 42;
  auto next = [&](uint64_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % n;
  };
  const std::optional<int64_t> start = parseTime("2024-12-01T00:00:00+08:00", TimeZone());
  int number = 0;
  for (int n : counts) {
    std::string id = "H" + std::to_string(number++);
    customers += id + ",2024-01-01T00:00:00+08:00,a@b.c,,,b2c,true,false,,,,,web,,\n";
    for (int k = 0; k < n; ++k) {
      const int64_t at = *start + static_cast<int64_t>(next(700 * 86400));
      events += fmt::format("{},{},{},{},{},,{}\n", id, formatTime(at, TimeZone()),
                            kinds[next(5)], next(4) == 0 ? std::string() : std::to_string(next(200)),
                            channels[next(4)], next(3) == 0 ? std::string() : std::to_string(1 + next(3)));
    }
  }
  std::ofstream(dir + "/rekindle.yaml") << config;
  std::ofstream(dir + "/customers.csv") << customers;
  std::ofstream(dir + "/events.csv") << events;
  return dir + "/rekindle.yaml";
}

}  // namespace

TEST_CASE("compiled where-conditions agree with bytecode on every example", "[vm][where]") {
  const char* examples[][2] = {{"examples/retail/retail.rules", "examples/retail/rekindle.yaml"},
                               {"examples/dormant/dormant.rules", "examples/dormant/rekindle.yaml"},
                               {"examples/b2b/b2b.rules", "examples/b2b/rekindle.yaml"},
                               {"examples/hillstrom/hillstrom.rules", "examples/hillstrom/rekindle.yaml"},
                               {"examples/cdnow/cdnow.rules", "examples/cdnow/rekindle.yaml"}};
  Compiled retail = compareEvaluations(sourcePath(examples[0][0]), "", sourcePath(examples[0][1]));
  CHECK(retail.conditions == 10);  // every where-condition of retail compiles
  CHECK(retail.scans == 16);       // and every list expression over its events is a scan
  // Its counts, sums and latest times of events are quick: orders, last_order, spend_12m,
  // lifetime_spend, last_visit, last_cart, last_seen's max(behaviour.at) and browsed_no_cart's exists.
  CHECK(retail.quick == 8);
  // Tested up front: the stage's four rows (quiet, orders, idle: lets of quick scans and a native,
  // max, in a let), the email and push rows, `account_type == "b2b"`, high_value, browsed_no_cart,
  // points_expiring and cart_abandoned (its right side, a scan whose condition reads a let, in
  // bytecode for the few with a recent cart). Not: back_in_stock (such a scan), the anniversaries
  // (a native the condition calls itself), rows that read a decision.
  CHECK(retail.customers == 11);
  for (const auto& [rules, config] : examples) compareEvaluations(sourcePath(rules), "", sourcePath(config));
}

TEST_CASE("compiled where-conditions agree with bytecode on every conformance program", "[vm][where]") {
  size_t programs = 0;
  for (const auto& rules : listFiles(sourcePath("tests/conformance"), ".rules")) {
    std::string own = rules.substr(0, rules.size() - 6) + ".yaml";
    std::string config = fileExists(own) ? own : sourcePath("tests/conformance/rekindle.yaml");
    compareEvaluations(rules, "", config);
    ++programs;
  }
  CHECK(programs > 50);
}

TEST_CASE("compiled where-conditions agree with bytecode on every condition shape", "[vm][where]") {
  // The conformance data: customers with and without events, nulls in every event field.
  const std::string rules = R"(rules shapes version 1
param window = 400d
param kinds = ["visit", "email_sent"]
let purchases = events where kind == "purchase"
let last_purchase = max(purchases.at)
let s01 = count(events where kind != "purchase")
let s02 = count(events where "purchase" == kind)
let s03 = count(events where kind in ["purchase", "visit", "nope"])
let s04 = count(events where kind not in ["purchase", "visit"])
let s05 = count(events where kind in kinds)
let s06 = count(events where channel == "web")
let s07 = count(events where channel != "web")
let s08 = count(events where channel is null)
let s09 = count(events where channel is not null and opened)
let s10 = count(events where amount > 50)
let s11 = count(events where amount >= 50.0 or qty == 1)
let s12 = count(events where not (amount < 100))
let s13 = count(events where at >= now - window)
let s14 = count(events where at < now - 30d and kind == "purchase")
let s15 = count(events where at >= last_purchase)
let s16 = count(events where at > signup_at)
let s17 = count(events where channel == tier)
let s18 = count(events where (kind == "purchase" or kind == "visit") and not (channel == "store"))
let s19 = count(events where kind == "never seen in the data")
let s20 = count(events where kind != "never seen in the data")
let s21 = count(events where opened == true)
let s22 = count(events where qty in [1, 2, 3])
let s23 = count(events where amount * 2 > 100)
let s24 = count(events where kind == lower("PURCHASE"))
let s25 = streak(events where kind != "", kind == "purchase")
let s26 = count(events where date(at) >= today - 400d)
stage
  active when s01 + s02 + s03 + s04 + s05 + s06 + s07 + s08 + s09 + s10 + s11 + s12 + s13 > 0
  dormant when s14 + s15 + s16 + s17 + s18 + s19 + s20 + s21 + s22 + s23 + s24 + s25 + s26 > 0
  new otherwise
end
)";
  std::string rulesPath = sourcePath("tests/conformance/shapes.rules");
  // 28 conditions; bytecode keeps the 4 that call functions (lower, date), compute on an event
  // field (amount * 2) or test a bare bool field (`and opened`).
  CHECK(compareEvaluations(rulesPath, rules, sourcePath("tests/conformance/rekindle.yaml")).conditions == 24);
}

TEST_CASE("customer conditions tested up front agree with bytecode on every shape and null", "[vm]") {
  // 150 customers (three words of answers, the last part full), every field null for some, and
  // strings of the data and not.
  const std::string dir = tempDir("customers");
  std::string config = readText(sourcePath("tests/conformance/rekindle.yaml"));
  config.replace(config.find("data/customers.csv"), 18, dir + "/customers.csv");
  config.replace(config.find("data/events.csv"), 15, dir + "/events.csv");
  std::string customers = "customer_id,signup_at,email,phone,birthday,account_type,consent_email,consent_sms,"
                          "consent_push,app_token,score,balance,tier,email_bounced,last_login\n";
  const char* tiers[] = {"", "gold", "silver", "bronze"};
  const char* bools[] = {"", "true", "false"};
  uint64_t seed = 7;
  auto next = [&](uint64_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % n;
  };
  for (int k = 0; k < 150; ++k)
    customers += fmt::format("K{},2024-0{}-15T00:00:00+08:00,,,{},b2c,true,false,{},{},{},{},{},{},{}\n", k,
                             1 + next(9), next(4) == 0 ? "" : fmt::format("1990-{:02}-{:02}", 11 + next(2), 1 + next(28)),
                             bools[next(3)], next(2) ? "tok" : "", next(4) == 0 ? "" : std::to_string(next(100)),
                             next(4) == 0 ? "" : fmt::format("{}.5", static_cast<int>(next(20)) - 5), tiers[next(4)],
                             bools[next(3)], next(3) == 0 ? "" : fmt::format("2026-{:02}-20T08:00:00Z", 8 + next(4)));
  std::ofstream(dir + "/rekindle.yaml") << config;
  std::ofstream(dir + "/customers.csv") << customers;
  std::ofstream(dir + "/events.csv") << "customer_id,at,kind,amount,channel,opened,qty\n";
  const std::string rules = R"(rules customer_shapes version 1
param high = 50
segment c01 when score > high
segment c02 when score >= 50 and tier == "gold"
segment c03 when not (email_bounced ?? false)
segment c04 when email_bounced
segment c05 when not email_bounced
segment c06 when email_bounced or score > 90
segment c07 when email_bounced and score > 10
segment c08 when tier != "gold"
segment c09 when tier == "never in the data"
segment c10 when tier != "never in the data"
segment c11 when tier in ["gold", "silver"]
segment c12 when tier not in ["gold"]
segment c13 when app_token is null
segment c14 when app_token is not null and consent_push
segment c15 when balance > 0.0
segment c16 when balance * 2 > 10
segment c17 when now - last_login <= 60d
segment c18 when birthday - today <= 14d and birthday >= today
segment c19 when score + 1 == 51 or score - 1 < 10
segment c20 when (score ?? 0) > 10
segment c21 when score / 0 is null
segment c22 when 50 < score
segment c23 when signup_at < now - 600d
segment c24 when consent_push ?? true
segment c25 when last_login > signup_at
segment c26 when score / 7 >= 3.5 or not (balance < 1.0)
# Values compared with a constant, the operator chosen once per block: each at its boundary, and
# an int with a float (compare()'s mixed kinds).
segment c29 when score % 10 <= 5 and score % 10 >= 5
segment c30 when score % 10 < 5 or score % 10 > 5
segment c31 when score % 10 != 5
segment c32 when balance >= 2.5 and balance <= 2.5
segment c33 when balance < 2.5 or balance > 2.5
segment c34 when score % 10 > 4.5
# Bytecode: a native, a negation.
segment c27 when lower(tier) == "gold"
segment c28 when -score > -50
stage
  active when score > 70
  dormant when c06
  new otherwise
end
)";
  Compiled c = compareEvaluations(dir + "/customer_shapes.rules", rules, dir + "/rekindle.yaml");
  CHECK(c.customers == 34);  // every segment but c27 and c28, and the stage's first rows (one reads c06)
  compareEvaluations(dir + "/customer_shapes.rules", rules, dir + "/rekindle.yaml", 2);
}

TEST_CASE("chunks that start with an operator agree with bytecode however their `and` ends", "[vm]") {
  // `x op y and ...` ends on a false without entering the dispatch loop only when the `and`'s
  // jump reaches the chunk's Return: not under a `not`, a comparison or an `or`.
  const std::string rules = R"(rules guards version 1
let n = count(events)
segment g1 when n > 2 and n < 10
segment g2 when not (n > 2 and n < 10)
segment g3 when (n > 2 and n < 10) == false
segment g4 when n > 2 and n < 10 and tier == "web"
segment g5 when (n > 2 and tier == "web") or n == 0
segment g6 when (n > 2 and tier == "web") ?? true
stage
  active when n >= 1 and g1
  dormant when n > 1 and not g2 and g3
  new otherwise
end
)";
  compareEvaluations(sourcePath("tests/conformance/guards.rules"), rules, sourcePath("tests/conformance/rekindle.yaml"));
}

TEST_CASE("event scans agree with bytecode on long histories", "[vm][where]") {
  // Customers with 0, 1, 63, 64, 65, 129 and 300 events: scans keep their bits in words of 64, and
  // the selections made up front start a customer's bits anywhere in a word.
  const std::string dir = tempDir("scans");
  const std::string config = writeHistories(dir, {0, 1, 63, 64, 65, 129, 300});
  const std::string rules = R"(rules scans version 1
param window = 400d
let purchases = events where kind == "purchase"
let recent = purchases where at >= now - window
let recent_channels = (events where at >= now - 200d).channel
let last_visit = max((events where kind == "visit").at)
let n01 = count(recent)
let n02 = sum(recent.amount)
let n03 = max(purchases.at)
let n04 = min((purchases where amount > 50).qty)
let n05 = count(purchases where channel in recent_channels)
let n06 = exists(events where kind == "visit" and at >= last_visit)
let n07 = first((purchases where qty > 1).amount)
let n08 = last(recent.channel)
let n09 = (purchases where channel in recent_channels).amount
let n10 = count(events)
let n11 = sum((events where kind != "visit").qty)
let n12 = count(recent where channel in recent_channels and amount > 10)
let n13 = exists(purchases where amount > 150)
let n14 = count(events where at >= last_visit)
# A condition that runs scans of its own, for every event the outer scan keeps.
let n15 = count(purchases where channel in (events where at >= now - 200d).channel)
let n16 = count(recent where at >= max((events where kind == "visit").at))
stage
  active when n01 + n04 ?? 0 + n05 + n10 + n11 + n12 + n14 + n15 + n16 > 0 and n06 and n13
  dormant when n02 > 0 and n03 is not null and n07 is not null and n08 is not null and count(n09) > 0
  new otherwise
end
)";
  Compiled c = compareEvaluations(dir + "/scans.rules", rules, config);
  CHECK(c.scans == 22);
  // Ten conditions read the events alone: kind == "purchase", at >= now - window, amount > 50,
  // qty > 1, kind != "visit", amount > 150, and at >= now - 200d and kind == "visit" twice each
  // (n15 and n16 write their own); the five that read a let are tested per customer.
  CHECK(c.selected == 10);
  // Ten are quick: n01, n02, n03, n07, n08, n10, n11, n13, last_visit and n16's inner max.
  CHECK(c.quick == 10);
}

TEST_CASE("customer conditions on lets and scans tested up front agree with bytecode on long histories", "[vm]") {
  // Customers with 0 to 300 events (scans of more than 64 events read several words), lets read by
  // several conditions (one step each), a native in a let, `and`/`or` whose right side is worked
  // out only where the left does not decide, and stage rows asked only for the customers the rows
  // before them leave undecided.
  const std::string dir = tempDir("customer_lets");
  const std::string config = writeHistories(dir, {0, 1, 2, 5, 17, 63, 64, 65, 129, 300, 3, 0, 8});
  const std::string rules = R"(rules lets_up_front version 1
let purchases = events where kind == "purchase"
let orders = count(purchases)
let last_order = max(purchases.at)
let idle = now - last_order
let spend = sum(purchases.amount)
let first_visit = min((events where kind == "visit").at)
let opens = exists(events where kind == "email_open" and at >= now - 300d)
let seen = max(max(events.at) ?? signup_at, signup_at)
let quiet = now - seen
let big = spend > 300.0
let average = spend / orders
let all_events = count(events)
let refunds = count(events where kind == "refund" and qty >= 2)
segment u01 when orders == 0
segment u02 when orders >= 2 and idle < 120d
segment u03 when big
segment u04 when not big or orders > 10
segment u05 when quiet >= 200d
segment u06 when average > 40.0
segment u07 when opens and now - first_visit > 300d
segment u08 when idle is null
segment u09 when (idle ?? 0s) > 30d
segment u10 when all_events > 64 or refunds == 0
# Bytecode: a native the condition calls itself.
segment u11 when abs(quiet - 100d) < 50d
# A segment read as a value. Right sides of `and`/`or` that are not tested up front (a scan whose
# condition reads a let): in bytecode for the customers whom the left side does not decide.
segment u12 when u03 and orders > 2
segment u13 when orders >= 1 and exists(purchases where at >= last_order - 30d)
segment u14 when orders == 0 or count(events where amount > spend / 10.0) > 2
segment u15 when not (idle < 60d and exists(events where at > last_order))
stage
  dormant when quiet >= 365d
  new when orders == 0
  first_purchase when orders == 1 and idle < 90d
  active when orders >= 2 and idle < 90d
  at_risk otherwise
end
)";
  Compiled c = compareEvaluations(dir + "/lets.rules", rules, config);
  CHECK(c.customers == 18);  // every segment but u11, and the stage's four rows
  compareEvaluations(dir + "/lets.rules", rules, config, 2);
}

TEST_CASE("event selections of every comparison agree with bytecode in whole blocks of 64 events", "[vm][where]") {
  // Selections made up front test 64 events at a time (with AVX2 where the machine has it): every
  // comparison, both ways round, and string lists of one, two and more than eight strings that
  // the data holds ("H0", "web", "b2c", "a@b.c" are other columns' strings, interned too).
  const std::string dir = tempDir("blocks");
  const std::string config = writeHistories(dir, {64, 200, 300, 17});
  const std::string rules = R"(rules blocks version 1
let b01 = count(events where amount < 100)
let b02 = count(events where amount <= 100)
let b03 = count(events where amount > 100)
let b04 = count(events where amount >= 100)
let b05 = count(events where amount == 100)
let b06 = count(events where amount != 100)
let b07 = count(events where 100 < amount)
let b08 = count(events where 100 >= amount)
let b09 = count(events where at < now - 300d)
let b10 = count(events where at >= now - 300d)
let b11 = count(events where kind in ["visit"])
let b12 = count(events where kind in ["purchase", "refund"])
let b13 = count(events where kind not in ["purchase", "visit", "refund"])
let b14 = count(events where kind in ["H0", "web", "store", "app", "b2c", "a@b.c", "purchase", "visit", "refund", "nowhere"])
let b15 = count(events where kind not in ["H0", "web", "store", "app", "b2c", "a@b.c", "purchase", "visit", "cart_add"])
let b16 = count(events where channel != "web")
let b17 = count(events where qty == 2 or qty > 2)
stage
  active when b01 + b02 + b03 + b04 + b05 + b06 + b07 + b08 + b09 > 0
  dormant when b10 + b11 + b12 + b13 + b14 + b15 + b16 + b17 > 0
  new otherwise
end
)";
  Compiled c = compareEvaluations(dir + "/blocks.rules", rules, config);
  CHECK(c.selected == 17);
}

TEST_CASE("event selections made up front on two threads agree with bytecode", "[vm][where][threads]") {
  // 3,000 customers, about 80,000 events: two parts of whole words, the second starting inside a
  // customer's history.
  const std::string dir = tempDir("selections");
  std::vector<int> counts;
  for (int k = 0; k < 3000; ++k) counts.push_back((k * 7919) % 54);
  const std::string config = writeHistories(dir, counts);
  const std::string rules = R"(rules selections version 1
let purchases = events where kind == "purchase"
let n01 = count(purchases where at >= now - 300d)
let n02 = sum((events where kind in ["visit", "cart_add"] and channel != "web").qty)
let n03 = max((purchases where amount > 100 or qty is null).at)
let n04 = exists(events where not (kind == "refund") and amount <= 3)
stage
  active when n01 > 2 and n04
  dormant when (n02 ?? 0) > 10 or n03 is null
  new otherwise
end
)";
  Compiled c = compareEvaluations(dir + "/selections.rules", rules, config, 2);
  CHECK(c.selected == 5);
}
