// Sharded and grouped runs (docs/cli.md, "Sharding" and "Grouped exports"): three shards with
// their --phase stats summaries decide exactly what one run over the whole export decides, and
// reject exactly the same rows; --grouped streams sorted exports to the same bytes; the shard
// hash is the documented formula; merged distributions give the whole's breaks and ranks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "rekindle/core/hash.h"
#include "rekindle/runtime/population.h"
#include "test_support.h"

using namespace rekindle;
using namespace rekindle::test;

namespace {

const std::string kBin = REKINDLE_BINARY;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The rows of a rejects file without its header, sorted: shards write theirs in shard order.
std::vector<std::string> rejectRows(const std::string& text) {
  auto rows = lines(text);
  if (!rows.empty()) rows.erase(rows.begin());
  std::sort(rows.begin(), rows.end());
  return rows;
}

struct Example {
  std::string rules;
  std::string extra;  // --customers/--events overrides
};

// Runs every --phase stats step on N shards, then decides each shard with all the summaries.
// Returns the decided rows of every shard in the single run's order and the shards' rejects.
void runSharded(const Example& ex, const std::string& dir, int shards, const std::string& single,
                std::string& assembled, std::vector<std::string>& rejects, int& steps, const std::string& flags = "") {
  std::string out, stats;
  steps = 0;
  for (;;) {
    std::string next;
    bool more = true;
    for (int k = 0; k < shards && more; ++k) {
      std::string file = dir + "/s" + std::to_string(steps) + "." + std::to_string(k) + ".json";
      int status = runCommand(kBin + " run " + ex.rules + ex.extra + flags + " --shard " + std::to_string(k) + "/" +
                                  std::to_string(shards) + " --phase stats" + stats + " -o " + file + " --quiet",
                              out);
      if (status == 2 && out.find("decide now") != std::string::npos) {
        more = false;  // every step is complete
        break;
      }
      INFO(out);
      REQUIRE(status == 0);
      next += " --stats " + file;
    }
    if (!more) break;
    stats += next;
    ++steps;
    REQUIRE(steps < 10);
  }
  std::map<std::string, std::string> byId;  // customer id -> its output line
  std::string header;
  for (int k = 0; k < shards; ++k) {
    std::string file = dir + "/d" + std::to_string(k) + ".csv";
    INFO(out);
    REQUIRE(runCommand(kBin + " run " + ex.rules + ex.extra + flags + " --shard " + std::to_string(k) + "/" + std::to_string(shards) +
                           stats + " -o " + file + " --quiet",
                       out) == 0);
    auto rows = lines(readText(file));
    REQUIRE(!rows.empty());
    if (k == 0) header = rows[0];
    CHECK(rows[0] == header);
    for (size_t i = 1; i < rows.size(); ++i) {
      std::string id = parseCsv(rows[i] + "\n")[0][0];
      CHECK(byId.emplace(id, rows[i]).second);  // no customer decided by two shards
    }
    for (const auto& r : rejectRows(readText(dir + "/d" + std::to_string(k) + ".rejects.csv"))) rejects.push_back(r);
  }
  std::sort(rejects.begin(), rejects.end());
  // The shards' rows, in the order the single run writes them (its input order).
  assembled = header + "\n";
  auto singleRows = lines(single);
  for (size_t i = 1; i < singleRows.size(); ++i) {
    std::string id = parseCsv(singleRows[i] + "\n")[0][0];
    auto it = byId.find(id);
    if (it == byId.end()) continue;
    assembled += it->second + "\n";
    byId.erase(it);
  }
  CHECK(byId.empty());  // every shard row belongs to a customer of the single run
}

// A CSV export sorted by customer id (byte order, stable), as `--grouped` wants it.
void writeSorted(const std::string& from, const std::string& to, const std::string& idColumn) {
  auto rows = parseCsv(readText(from));
  REQUIRE(!rows.empty());
  size_t key = std::find(rows[0].begin(), rows[0].end(), idColumn) - rows[0].begin();
  REQUIRE(key < rows[0].size());
  std::stable_sort(rows.begin() + 1, rows.end(), [&](const auto& a, const auto& b) {
    return (key < a.size() ? a[key] : "") < (key < b.size() ? b[key] : "");
  });
  std::ofstream out(to, std::ios::binary);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string& f = row[i];
      if (i) out << ',';
      if (f.find_first_of(",\"\r\n") == std::string::npos) {
        out << f;
        continue;
      }
      out << '"';
      for (char c : f) out << (c == '"' ? "\"\"" : std::string(1, c));
      out << '"';
    }
    out << '\n';
  }
}

}  // namespace

TEST_CASE("the shard of a customer is the documented formula", "[shard]") {
  // Values from the Python formula in docs/runtime.md ("Sharding").
  CHECK(customerShard("R0001", 3) == 0);
  CHECK(customerShard("R0002", 3) == 1);
  CHECK(customerShard("R0003", 3) == 2);
  CHECK(customerShard("R0001", 7) == 2);
  CHECK(customerShard("00001", 1000) == 35);
  CHECK(customerShard("D0010", 7) == 6);
  CHECK(customerShard("anything", 1) == 0);
}

TEST_CASE("merged distributions give the whole population's breaks and ranks", "[shard][population]") {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> pick(0, 40);  // many ties, as recency and frequency have
  std::vector<double> all;
  Distribution merged;
  for (int part = 0; part < 5; ++part) {
    std::vector<double> values;
    for (int k = 0; k < 37 * (part + 1); ++k) values.push_back(pick(rng) * 0.5);
    all.insert(all.end(), values.begin(), values.end());
    merged.merge(Distribution(values));
  }
  Distribution whole(all);
  REQUIRE(merged.size() == all.size());
  CHECK(merged.values() == whole.values());
  QuintileBreaks a = QuintileBreaks::of(merged), b = QuintileBreaks::of(all);
  std::sort(all.begin(), all.end());
  for (int k = 0; k < 4; ++k) {
    CHECK(a.at[k] == b.at[k]);
    CHECK(a.at[k] == quantileType7(all, 0.2 * (k + 1)));  // the plain type-7 of the sorted values
  }
  for (double v : {-1.0, 0.0, 3.5, 7.25, 20.0, 99.0}) {
    auto [below, equal] = merged.rank(v);
    CHECK(below == static_cast<uint64_t>(std::lower_bound(all.begin(), all.end(), v) - all.begin()));
    CHECK(equal == static_cast<uint64_t>(std::upper_bound(all.begin(), all.end(), v) - std::lower_bound(all.begin(), all.end(), v)));
  }
  // Counts read back from a summary, in any order, merge the same way.
  Distribution counted = Distribution::fromCounts({{2.0, 3}, {1.0, 1}, {2.0, 2}, {0.5, 0}});
  CHECK(counted.size() == 6);
  CHECK(counted.values() == std::vector<double>{1.0, 2.0});
  CHECK(counted.at(0) == 1.0);
  CHECK(counted.at(5) == 2.0);
}

TEST_CASE("three shards decide exactly what one run decides", "[shard][cli][examples]") {
  // retail: two budget steps (sms capacity, then the WINBACK20 budget, which reads the channel);
  // dormant: std.rfm, then an offer budget whose eligibility reads the RFM segment;
  // cdnow: std.rfm and quantile_rank over 23,570 customers taken from the events, and std.clv;
  // b2b: two budget steps whose eligibility reads previous.* (every shard reads the same file).
  struct Case {
    Example ex;
    int steps;
  };
  std::vector<Case> cases{{{"examples/retail/retail.rules", ""}, 2},
                          {{"examples/dormant/dormant.rules", ""}, 2},
                          {{"examples/cdnow/cdnow.rules", ""}, 1},
                          {{"examples/b2b/b2b.rules", " --previous examples/b2b/previous.csv"}, 2}};
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.ex.rules) {
      std::string dir = tempDir("shard"), out;
      INFO(out);
      REQUIRE(runCommand(kBin + " run " + c.ex.rules + c.ex.extra + " -o " + dir + "/all.csv --quiet", out) == 0);
      std::string single = readText(dir + "/all.csv");
      std::string assembled;
      std::vector<std::string> rejects;
      int steps = 0;
      runSharded(c.ex, dir, 3, single, assembled, rejects, steps);
      CHECK(steps == c.steps);
      CHECK(assembled == single);
      CHECK(rejects == rejectRows(readText(dir + "/all.rejects.csv")));
      // The summaries hold distributions and competitors, not customers' rows.
      for (int s = 0; s < steps; ++s)
        for (int k = 0; k < 3; ++k) CHECK(readText(dir + "/s" + std::to_string(s) + "." + std::to_string(k) + ".json").size() < 200000);
      runCommand("rm -rf " + dir, out);
    }
  }
}

TEST_CASE("a shard's summary reconciles rows of other shards", "[shard][cli]") {
  std::string dir = tempDir("shard"), out;
  // Rules without a population step: each shard decides alone, no summaries needed.
  std::ofstream(dir + "/plain.rules") << "rules plain version 1\nstage\n  buyer when count(events where kind == \"purchase\") > 0\n  other otherwise\nend\n";
  REQUIRE(runCommand(kBin + " run " + dir + "/plain.rules --config examples/dormant/rekindle.yaml --shard 1/3 -o " + dir + "/p.csv", out) == 0);
  CHECK_THAT(out, Catch::Contains("(shard 1/3)"));
  CHECK_THAT(out, Catch::Matches("(.|\n)*customers  read \\d+ = decided \\d+ \\+ rejected \\d+ \\+ other shards \\d+\n(.|\n)*"));
  CHECK(out.find("DOES NOT RECONCILE") == std::string::npos);
  // Every shard's decided + rejected + other shards adds up to the single run's read.
  REQUIRE(runCommand(kBin + " run " + dir + "/plain.rules --config examples/dormant/rekindle.yaml -o " + dir + "/all.csv", out) == 0);
  size_t all = lines(readText(dir + "/all.csv")).size() - 1, sum = 0;
  for (int k = 0; k < 3; ++k) {
    REQUIRE(runCommand(kBin + " run " + dir + "/plain.rules --config examples/dormant/rekindle.yaml --shard " + std::to_string(k) +
                           "/3 -o " + dir + "/p" + std::to_string(k) + ".csv --quiet", out) == 0);
    sum += lines(readText(dir + "/p" + std::to_string(k) + ".csv")).size() - 1;
  }
  CHECK(sum == all);
  // --phase stats has nothing to do for these rules.
  CHECK(runCommand(kBin + " run " + dir + "/plain.rules --config examples/dormant/rekindle.yaml --shard 0/3 --phase stats -o " + dir + "/x.json", out) == 2);
  CHECK_THAT(out, Catch::Contains("no population statistic and no budget"));
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("sharding refuses what would not give the single run's decisions", "[shard][cli]") {
  std::string dir = tempDir("shard"), out;
  const std::string run = kBin + " run examples/dormant/dormant.rules ";
  CHECK(runCommand(run + "--shard 3/3", out) == 2);
  CHECK_THAT(out, Catch::Contains("0 <= K < N"));
  CHECK(runCommand(run + "--shard 1of3", out) == 2);
  // Population statistics and budgets: a shard alone cannot decide.
  CHECK(runCommand(run + "--shard 0/3 -o " + dir + "/d.csv", out) == 2);
  CHECK_THAT(out, Catch::Contains("a shard cannot decide alone"));
  CHECK_FALSE(fileExists(dir + "/d.csv"));
  for (int k = 0; k < 3; ++k)
    REQUIRE(runCommand(run + "--shard " + std::to_string(k) + "/3 --phase stats -o " + dir + "/s" + std::to_string(k) + ".json --quiet", out) == 0);
  // A missing shard's summary.
  CHECK(runCommand(run + "--shard 0/3 --stats " + dir + "/s0.json --stats " + dir + "/s1.json -o " + dir + "/d.csv", out) == 1);
  CHECK_THAT(out, Catch::Contains("lacks the summary of shard(s) 2"));
  // The same shard twice.
  CHECK(runCommand(run + "--shard 0/3 --stats " + dir + "/s0.json --stats " + dir + "/s0.json --stats " + dir + "/s1.json -o " + dir + "/d.csv", out) == 1);
  CHECK_THAT(out, Catch::Contains("are both shard 0's step 0"));
  // Only the first step: the budget step is still missing.
  std::string all = " --stats " + dir + "/s0.json --stats " + dir + "/s1.json --stats " + dir + "/s2.json";
  CHECK(runCommand(run + "--shard 0/3" + all + " -o " + dir + "/d.csv", out) == 2);
  CHECK_THAT(out, Catch::Contains("the next, 'allocation offer', is missing"));
  // Summaries of another run (another as-of time) are refused.
  CHECK(runCommand(run + "--shard 0/3 --phase stats --as-of 2026-11-01" + all + " -o " + dir + "/x.json", out) == 1);
  CHECK_THAT(out, Catch::Contains("belongs to another run"));
  // A damaged summary.
  std::ofstream(dir + "/bad.json") << "{\"format\": \"rekindle-shard-stats\", \"version\": 1, \"rules\": 3}";
  CHECK(runCommand(run + "--shard 0/3 --stats " + dir + "/bad.json -o " + dir + "/d.csv", out) == 1);
  CHECK_THAT(out, Catch::Contains("bad.json: a header field"));
  std::ofstream(dir + "/junk.json") << "not json";
  CHECK(runCommand(run + "--shard 0/3 --stats " + dir + "/junk.json -o " + dir + "/d.csv", out) == 1);
  CHECK_THAT(out, Catch::Contains("junk.json is not JSON"));
  CHECK_FALSE(fileExists(dir + "/d.csv"));
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("a grouped run streams sorted exports to the same bytes", "[shard][grouped][cli]") {
  std::string dir = tempDir("shard"), out;
  writeSorted(sourcePath("examples/retail/data/customers.csv"), dir + "/rc.csv", "customer_id");
  writeSorted(sourcePath("examples/retail/data/events.csv"), dir + "/re.csv", "customer_id");
  writeSorted(sourcePath("examples/dormant/data/customers.csv"), dir + "/dc.csv", "customer_id");
  writeSorted(sourcePath("examples/dormant/data/events.csv"), dir + "/de.csv", "customer_id");
  std::vector<Example> examples{{"examples/retail/retail.rules", " --customers " + dir + "/rc.csv --events " + dir + "/re.csv"},
                                {"examples/dormant/dormant.rules", " --customers " + dir + "/dc.csv --events " + dir + "/de.csv"},
                                {"examples/cdnow/cdnow.rules", ""}};  // CDNOW's file is sorted by its zero-padded ids
  for (const auto& ex : examples) {
    DYNAMIC_SECTION(ex.rules) {
      INFO(out);
      REQUIRE(runCommand(kBin + " run " + ex.rules + ex.extra + " -o " + dir + "/whole.csv --quiet", out) == 0);
      std::string whole = readText(dir + "/whole.csv"), rejects = readText(dir + "/whole.rejects.csv");
      // One customer at a time, a few, the default; on one thread and several.
      for (const char* flags : {" --batch 1", " --batch 7 --threads 3", " --threads 2", " --format jsonl"}) {
        INFO(flags);
        std::string f = flags;
        // CDNOW's 23,570 customers one at a time cost a setup each: a few at a time there.
        if (f == " --batch 1" && ex.rules.find("cdnow") != std::string::npos) f = " --batch 61";
        std::string suffix = f.find("jsonl") != std::string::npos ? ".jsonl" : ".csv";
        if (suffix == ".jsonl") {
          REQUIRE(runCommand(kBin + " run " + ex.rules + ex.extra + " -o " + dir + "/whole.jsonl --quiet", out) == 0);
          whole = readText(dir + "/whole.jsonl");
        }
        REQUIRE(runCommand(kBin + " run " + ex.rules + ex.extra + " --grouped" + f + " -o " + dir + "/g" + suffix + " --quiet", out) == 0);
        CHECK(readText(dir + "/g" + suffix) == whole);
        CHECK(readText(dir + "/g.rejects.csv") == rejects);
      }
      // Grouped and sharded together, with the summaries.
      std::string assembled;
      std::vector<std::string> shardRejects;
      int steps = 0;
      std::string single = readText(dir + "/whole.csv");
      runSharded(ex, dir, 3, single, assembled, shardRejects, steps, " --grouped --batch 5");
      CHECK(steps >= 1);
      CHECK(assembled == single);
      CHECK(shardRejects == rejectRows(rejects));
    }
  }
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("a grouped run stops at an export out of order, naming the file and line", "[shard][grouped][cli]") {
  std::string dir = tempDir("shard"), out;
  writeSorted(sourcePath("examples/dormant/data/customers.csv"), dir + "/dc.csv", "customer_id");
  // The events as shipped are not sorted by customer.
  CHECK(runCommand(kBin + " run examples/dormant/dormant.rules --customers " + dir + "/dc.csv --grouped -o " + dir + "/d.csv", out) == 1);
  CHECK_THAT(out, Catch::Matches("(.|\n)*error: .*events.csv:4: customer id 'D0137' comes after 'D0247' \\(line 3\\)(.|\n)*"));
  CHECK_FALSE(fileExists(dir + "/d.csv"));
  CHECK_FALSE(fileExists(dir + "/d.rejects.csv"));
  // An id that reappears after another in the customers export.
  std::string customers = readText(dir + "/dc.csv");
  auto rows = lines(customers);
  std::ofstream(dir + "/twice.csv") << customers << rows[1] << "\n";
  writeSorted(sourcePath("examples/dormant/data/events.csv"), dir + "/de.csv", "customer_id");
  CHECK(runCommand(kBin + " run examples/dormant/dormant.rules --customers " + dir + "/twice.csv --events " + dir +
                       "/de.csv --grouped -o " + dir + "/d.csv",
                   out) == 1);
  CHECK_THAT(out, Catch::Contains("twice.csv:" + std::to_string(rows.size() + 1) + ": customer id '" +
                                  parseCsv(rows[1] + "\n")[0][0] + "' comes after"));
  CHECK_FALSE(fileExists(dir + "/d.csv"));
  // --batch without --grouped, --previous with it.
  CHECK(runCommand(kBin + " run examples/dormant/dormant.rules --batch 10", out) == 2);
  CHECK(runCommand(kBin + " run examples/b2b/b2b.rules --grouped --previous examples/b2b/previous.csv", out) == 2);
  CHECK_THAT(out, Catch::Contains("--grouped does not support --previous"));
  runCommand("rm -rf " + dir, out);
}
