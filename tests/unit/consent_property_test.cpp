// Property: whatever the rules say, no customer is routed to a channel whose consent field is
// not true or whose required field is empty. Random channel tables (rows that try to route
// everyone everywhere, conditions on the consent fields themselves, budgets, caps) over random
// customers (consent true/false/null, addresses present/null/empty/blank), seeded so a failure
// reproduces.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <unistd.h>

#include "test_support.h"

using namespace rekindle;
using namespace rekindle::test;

namespace {

const char* kConfig = R"(timezone: UTC
as_of: 2026-11-23T12:00:00Z
customers:
  path: customers.csv
  id: id
  fields:
    email: string?
    phone: string?
    token: string?
    consent_email: bool?
    consent_sms: bool
    consent_push: bool?
    score: int?
contacts:
  path: contacts.csv
  customer: id
  time: at
  channel: channel
channels:
  email: { consent: consent_email, requires: email }
  sms: { consent: consent_sms, requires: phone }
  push: { consent: consent_push, requires: token }
offers:
  A: { cost: 1 }
)";

std::string pick(std::mt19937& rng, std::initializer_list<const char*> xs) {
  std::uniform_int_distribution<size_t> d(0, xs.size() - 1);
  return *(xs.begin() + d(rng));
}

std::string randomCondition(std::mt19937& rng) {
  return pick(rng, {"true", "false", "score > 50", "score is null", "consent_email == false", "not consent_sms",
                    "email is null", "phone == \"\"", "consent_push ?? true", "score > 10 or email is null",
                    "not (consent_email ?? false)", "token is not null and score < 30"});
}

std::string randomRules(std::mt19937& rng) {
  std::string rules = "channel\n";
  std::uniform_int_distribution<int> rows(1, 6), coin(0, 3), limit(0, 40);
  int n = rows(rng);
  for (int i = 0; i < n; ++i) {
    rules += "  " + pick(rng, {"email", "sms", "push", "none"}) + " when " + randomCondition(rng);
    if (coin(rng) == 0) rules += " limit " + std::to_string(limit(rng)) + (coin(rng) ? " rank by score" : "");
    rules += "\n";
  }
  if (coin(rng)) rules += "  " + pick(rng, {"email", "sms", "push", "none"}) + " otherwise\n";
  rules += "end\n";
  if (coin(rng) == 0) rules += "cap email: 1 per 7d\n";
  if (coin(rng) == 0) rules += "cap any: 2 per 30d\n";
  if (coin(rng) == 0) rules += "holdout 20%\n";
  return rules;
}

std::string field(std::mt19937& rng, bool allowBlank) {
  std::string v = pick(rng, {"", "x@y", "  ", "123", " x@y", "\t "});
  return allowBlank || (v != "  " && v != "\t ") ? v : "z";
}

}  // namespace

TEST_CASE("no rules route a customer to a channel without consent", "[consent][property]") {
  std::mt19937 rng(20261123);
  std::string dir = "/tmp/rekindle-consent-" + std::to_string(::getpid());
  std::string out;
  runCommand("mkdir -p " + dir, out);
  std::ofstream(dir + "/rekindle.yaml") << kConfig;
  int programs = 0, decisions = 0, routed = 0;
  for (int round = 0; round < 300; ++round) {
    // Fresh customers every 30 programs.
    if (round % 30 == 0) {
      std::ofstream c(dir + "/customers.csv");
      std::ofstream h(dir + "/contacts.csv");
      c << "id,email,phone,token,consent_email,consent_sms,consent_push,score\n";
      h << "id,at,channel\n";
      for (int i = 0; i < 120; ++i) {
        c << "C" << i << "," << field(rng, true) << "," << field(rng, true) << "," << field(rng, true) << ","
          << pick(rng, {"true", "false", ""}) << "," << pick(rng, {"true", "false"}) << "," << pick(rng, {"true", "false", ""})
          << "," << pick(rng, {"", "0", "20", "55", "99"}) << "\n";
        if (i % 3 == 0) h << "C" << i << ",2026-11-20T00:00:00Z," << pick(rng, {"email", "sms", "push"}) << "\n";
      }
    }
    RunRequest r;
    r.configPath = dir + "/rekindle.yaml";
    r.rulesPath = "random.rules";
    r.rulesText = randomRules(rng);
    RunOutcome got = runRules(r);
    INFO(r.rulesText << got.error);
    REQUIRE(got.ok);
    ++programs;
    auto rows = parseCsv(got.output);
    auto customers = parseCsv(readText(dir + "/customers.csv"));
    for (size_t i = 1; i < rows.size(); ++i) {
      ++decisions;
      const std::string& channel = rows[i][3];
      if (channel.empty() || channel == "none") continue;
      ++routed;
      const auto& cust = customers[i];  // same order as the input
      REQUIRE(cust[0] == rows[i][0]);
      int consent = channel == "email" ? 4 : channel == "sms" ? 5 : 6;
      int address = channel == "email" ? 1 : channel == "sms" ? 2 : 3;
      INFO("customer " << cust[0] << " routed to " << channel);
      CHECK(cust[consent] == "true");
      CHECK(cust[address].find_first_not_of(" \t") != std::string::npos);
    }
  }
  CHECK(programs == 300);
  CHECK(routed > 1000);  // the property was exercised, not vacuous
  INFO(decisions);
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("a blank contact detail is missing, and one with blanks around it is not", "[consent]") {
  const std::string dir = "/tmp/rekindle-blank-" + std::to_string(::getpid());
  std::string out;
  runCommand("mkdir -p " + dir, out);
  std::ofstream(dir + "/rekindle.yaml") << kConfig;
  std::ofstream(dir + "/contacts.csv") << "id,at,channel\n";
  // Every customer agrees to email; only the address differs.
  std::ofstream(dir + "/customers.csv") << "id,email,phone,token,consent_email,consent_sms,consent_push,score\n"
                                        << "B1,x@y,,,true,false,,\n"
                                        << "B2,\"  \",,,true,false,,\n"
                                        << "B3,\"\t\",,,true,false,,\n"
                                        << "B4,\" x@y\",,,true,false,,\n"
                                        << "B5,\"\tx@y \",,,true,false,,\n"
                                        << "B6,,,,true,false,,\n";
  RunRequest r;
  r.configPath = dir + "/rekindle.yaml";
  r.rulesPath = "blank.rules";
  r.rulesText = "rules blank version 1\nchannel\n  email when true\n  none otherwise\nend\n";
  RunOutcome got = runRules(r);
  INFO(got.error);
  REQUIRE(got.ok);
  auto rows = parseCsv(got.output);
  REQUIRE(rows.size() == 7);
  const char* want[] = {"email", "none", "none", "email", "email", "none"};
  for (size_t i = 1; i < rows.size(); ++i) {
    INFO(rows[i][0]);
    CHECK(rows[i][3] == want[i - 1]);
  }
  runCommand("rm -rf " + dir, out);
}
