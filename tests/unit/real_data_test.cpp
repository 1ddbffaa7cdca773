// The real exports of examples/cdnow and examples/hillstrom read with zero rejects, and counts
// computed by the rules equal counts computed independently from the raw files (with Python's
// csv module and awk, recorded here) and the published figures of the Hillstrom test.
#include <catch2/catch.hpp>

#include "test_support.h"

using namespace rekindle;
using namespace rekindle::test;

TEST_CASE("CDNOW: whitespace-separated transactions, customers from the events", "[realdata]") {
  RunRequest r;
  r.configPath = sourcePath("examples/cdnow/rekindle.yaml");
  r.rulesPath = "cdnow_check.rules";
  r.rulesText =
      "let days = distinct_count(events.at)\n"
      "segment one_day when days == 1\n"
      "segment five_days when days >= 5\n"
      "segment thousand when sum(events.amount) >= 1000\n";
  RunOutcome out = runRules(r);
  INFO(out.error);
  REQUIRE(out.ok);
  CHECK(out.summary.customers == 23570);  // the cohort of the data's README
  CHECK(out.summary.segments["one_day"] == 12054);
  CHECK(out.summary.segments["five_days"] == 3835);
  CHECK(out.summary.segments["thousand"] == 200);
  // The example itself: every row used.
  std::string text;
  CHECK(runCommand(std::string(REKINDLE_BINARY) + " run examples/cdnow/cdnow.rules --out /dev/null", text) == 0);
  CHECK_THAT(text, Catch::Contains("events     read 69659 = used 69659 + rejected 0"));
}

TEST_CASE("Hillstrom: quoted commas, no id column, the test's published split", "[realdata]") {
  RunRequest r;
  r.configPath = sourcePath("examples/hillstrom/rekindle.yaml");
  r.rulesPath = "hillstrom_check.rules";
  r.rulesText =
      "segment mens_arm when test_group == \"Mens E-Mail\"\n"
      "segment womens_arm when test_group == \"Womens E-Mail\"\n"
      "segment control when test_group == \"No E-Mail\"\n"
      "segment mens_visit when mens and visit\n"
      "segment mens_arm_visit when test_group == \"Mens E-Mail\" and visit\n"
      "segment womens_arm_visit when test_group == \"Womens E-Mail\" and visit\n"
      "segment control_visit when test_group == \"No E-Mail\" and visit\n"
      "segment mens_arm_conv when test_group == \"Mens E-Mail\" and conversion\n"
      "segment top_band when history_segment == \"7) $1,000 +\"\n"
      "segment suburban when zip_code == \"Surburban\"\n";
  RunOutcome out = runRules(r);
  INFO(out.error);
  REQUIRE(out.ok);
  CHECK(out.summary.customers == 64000);
  CHECK(out.summary.segments["mens_arm"] == 21307);
  CHECK(out.summary.segments["womens_arm"] == 21387);
  CHECK(out.summary.segments["control"] == 21306);
  // Visit rates 18.28 %, 15.14 %, 10.62 %, as published.
  CHECK(out.summary.segments["mens_arm_visit"] == 3894);
  CHECK(out.summary.segments["womens_arm_visit"] == 3238);
  CHECK(out.summary.segments["control_visit"] == 2262);
  CHECK(out.summary.segments["mens_arm_conv"] == 267);
  CHECK(out.summary.segments["top_band"] > 0);  // "7) $1,000 +" holds a comma inside quotes
  CHECK(out.summary.segments["suburban"] > 0);
  std::string text;
  CHECK(runCommand(std::string(REKINDLE_BINARY) + " run examples/hillstrom/hillstrom.rules --out /dev/null", text) == 0);
  CHECK_THAT(text, Catch::Contains("customers  read 64000 = decided 64000 + rejected 0"));
}
