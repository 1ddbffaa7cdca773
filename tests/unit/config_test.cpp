// rekindle.yaml: the schema, catalogs and their validation, each problem a located diagnostic.
#include <catch2/catch.hpp>

#include "rekindle/runtime/config.h"

using namespace rekindle;

namespace {

const char* kGood = R"(timezone: Asia/Shanghai
as_of: 2026-11-23T09:00:00+08:00
customers:
  path: data/customers.csv
  id: customer_id
  fields:
    signup_at: time
    email: string?
    consent_email: bool
    cdnow_date: { type: date, column: "date", format: "%Y%m%d" }
events:
  path: data/events.csv
  customer: customer_id
  time: at
  fields:
    kind: string
    amount: float?
channels:
  email: { consent: consent_email, requires: email, quiet: "21:00-08:00" }
offers:
  WINBACK20: { description: "20% off", cost: 4.0 }
calendar:
  mid_autumn: [2026-09-25, 2025-10-06]
params:
  dormant_after: 365d
)";

std::optional<Config> parse(const std::string& text, std::vector<Diagnostic>& diags) {
  return parseConfig("/tmp/x/rekindle.yaml", text, diags);
}

std::string firstError(const std::string& text) {
  std::vector<Diagnostic> diags;
  auto cfg = parse(text, diags);
  REQUIRE_FALSE(cfg);
  REQUIRE(!diags.empty());
  return diags[0].code + " " + std::to_string(diags[0].range.begin.line) + ": " + diags[0].message +
         (diags[0].suggestion.empty() ? "" : " | " + diags[0].suggestion);
}

std::string edit(std::string text, const std::string& from, const std::string& to) {
  size_t p = text.find(from);
  REQUIRE(p != std::string::npos);
  return text.replace(p, from.size(), to);
}

}  // namespace

TEST_CASE("a good config gives the schema rules see", "[config]") {
  std::vector<Diagnostic> diags;
  auto cfg = parse(kGood, diags);
  REQUIRE(cfg);
  CHECK(diags.empty());
  CHECK(cfg->timezoneName == "Asia/Shanghai");
  CHECK(cfg->customers.source.path == "/tmp/x/data/customers.csv");  // relative to the config
  const Schema& s = cfg->schema;
  REQUIRE(s.customerFields.size() == 5);
  CHECK(s.customerFields[0].name == "customer_id");  // the id is field 0
  CHECK(s.customerFields[2].type.str() == "string?");
  CHECK(s.customerFields[4].column == "date");
  CHECK(s.customerFields[4].format == "%Y%m%d");
  REQUIRE(s.eventFields.size() == 3);
  CHECK(s.eventFields[0].name == "at");  // the event time is field 0
  CHECK(cfg->channels[0].consentField == 3);
  CHECK(cfg->channels[0].requiresField == 2);
  CHECK(cfg->channels[0].quiet->startMinute == 21 * 60);
  CHECK(cfg->channels[0].quiet->endMinute == 8 * 60);
  CHECK(cfg->offer("WINBACK20")->cost == 4.0);
  CHECK(cfg->calendar.at("mid_autumn").front() < cfg->calendar.at("mid_autumn").back());  // sorted
  CHECK(cfg->params.at(0).text == "365d");
  CHECK(cfg->params.at(0).line == 25);
  CHECK(cfg->asOf.has_value());
}

TEST_CASE("the schema fingerprint changes with fields, not with paths", "[config]") {
  std::vector<Diagnostic> diags;
  auto a = parse(kGood, diags);
  auto b = parse(edit(kGood, "path: data/events.csv", "path: elsewhere.csv"), diags);
  auto c = parse(edit(kGood, "amount: float?", "amount: int?"), diags);
  REQUIRE((a && b && c));
  CHECK(a->schema.fingerprint() == b->schema.fingerprint());
  CHECK(a->schema.fingerprint() != c->schema.fingerprint());
}

TEST_CASE("config mistakes are located diagnostics", "[config]") {
  CHECK(firstError(edit(kGood, "fields:\n    signup_at", "fiels:\n    signup_at")) ==
        "E050 6: unknown key 'fiels' in customers | did you mean 'fields'?");
  CHECK_THAT(firstError(edit(kGood, "timezone: Asia/Shanghai", "timezone: Asia/Shanghia")),
             Catch::StartsWith("E050 1: unknown time zone 'Asia/Shanghia'"));
  CHECK_THAT(firstError(edit(kGood, "signup_at: time", "signup_at: timestamp")),
             Catch::StartsWith("E050 7: unknown type 'timestamp' for field 'signup_at'"));
  CHECK_THAT(firstError(edit(kGood, "consent: consent_email,", "consent: consent_mail,")),
             Catch::StartsWith("E051 19: consent field 'consent_mail' of channel 'email' is not a customer field"));
  CHECK_THAT(firstError(edit(kGood, "consent: consent_email,", "consent: email,")),
             Catch::StartsWith("E051 19: consent field 'email' must be a bool"));
  CHECK_THAT(firstError(edit(kGood, "quiet: \"21:00-08:00\"", "quiet: \"9pm-8am\"")),
             Catch::Contains("quiet hours must look like"));
  CHECK_THAT(firstError(edit(kGood, "cost: 4.0", "cost: cheap")), Catch::Contains("non-negative number"));
  CHECK_THAT(firstError(edit(kGood, "mid_autumn: [2026-09-25", "mid_autumn: [2026-09-31")), Catch::Contains("is not a date"));
  CHECK_THAT(firstError(edit(kGood, "  email: { consent", "  any: { consent")), Catch::Contains("cannot be a channel name"));
  CHECK_THAT(firstError(edit(kGood, "    email: string?", "    email: string?\n    email: string")), Catch::Contains("declared twice"));
  CHECK_THAT(firstError("customers: [1, 2"), Catch::StartsWith("E050"));
  CHECK_THAT(firstError("timezone: UTC\n"), Catch::Contains("needs a `customers:` section"));
}

TEST_CASE("quiet hours, including windows across midnight", "[config]") {
  auto q = parseQuietHours("21:00-08:00");
  REQUIRE(q);
  CHECK(q->startMinute > q->endMinute);  // crosses midnight
  CHECK(parseQuietHours("12:30-13:15")->endMinute == 13 * 60 + 15);
  CHECK_FALSE(parseQuietHours("08:00-08:00"));
  CHECK_FALSE(parseQuietHours("25:00-08:00"));
  CHECK_FALSE(parseQuietHours("21:00"));
}
