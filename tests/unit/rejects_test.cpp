// Nothing lost: an export with 1 % deliberately broken rows of every kind (bad values, wrong
// field counts, unknown and duplicate ids, invalid UTF-8, empty ids, broken quoting) in
// customers, events and contacts. The run must reconcile exactly and the rejects file must
// name every broken row, and no other.
#include <catch2/catch.hpp>

#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <unistd.h>

#include "rekindle/runtime/config.h"
#include "rekindle/runtime/dataset.h"
#include "test_support.h"

using namespace rekindle::test;

namespace {
const char* kConfig = R"(timezone: UTC
as_of: 2026-11-23T12:00:00Z
customers:
  path: customers.csv
  id: id
  fields:
    signup_at: time
    score: int?
    email: string?
    consent_email: bool
events:
  path: events.csv
  customer: id
  time: at
  fields:
    kind: string
    amount: float?
contacts:
  path: contacts.csv
  customer: id
  time: at
  channel: channel
channels:
  email: { consent: consent_email, requires: email }
)";
}  // namespace

TEST_CASE("1 % broken rows of every kind: every one rejected, named, and counted", "[rejects]") {
  std::mt19937 rng(7);
  std::string dir = "/tmp/rekindle-rejects-" + std::to_string(::getpid());
  std::string out;
  runCommand("mkdir -p " + dir, out);
  std::ofstream(dir + "/rekindle.yaml") << kConfig;
  std::set<std::pair<std::string, uint64_t>> broken;  // (source, line)
  std::uniform_int_distribution<int> percent(0, 99), kind(0, 6);

  const int customers = 3000, events = 12000, contacts = 2000;
  {
    std::ofstream f(dir + "/customers.csv", std::ios::binary);
    f << "id,signup_at,score,email,consent_email\n";
    for (int i = 0; i < customers; ++i) {
      uint64_t line = i + 2;
      std::string id = "C" + std::to_string(i);
      if (percent(rng) == 0) {
        broken.insert({"customers", line});
        switch (kind(rng)) {
          case 0: f << id << ",not-a-time,1,a@x,true\n"; break;                   // unparseable time
          case 1: f << id << ",2026-01-01,1.5,a@x,true\n"; break;                 // not an int
          case 2: f << id << ",2026-01-01,1,a@x\n"; break;                        // a field missing
          case 3: f << "C0,2026-01-01,1,a@x,true\n"; break;                       // duplicate id
          case 4: f << id << ",2026-01-01,1,a\xff@x,true\n"; break;               // invalid UTF-8
          case 5: f << ",2026-01-01,1,a@x,true\n"; break;                         // empty id
          default: f << id << ",2026-01-01,1,\"a\"x@y,true\n"; break;             // broken quoting
        }
        continue;
      }
      f << id << ",2026-01-0" << (1 + i % 9) << "," << (i % 7 == 0 ? "" : std::to_string(i % 100)) << ",c" << i
        << "@x," << (i % 2 ? "true" : "false") << "\n";
    }
  }
  auto writeRows = [&](const std::string& name, const std::string& header, int n, auto good) {
    std::ofstream f(dir + "/" + name + ".csv", std::ios::binary);
    f << header << "\n";
    for (int i = 0; i < n; ++i) {
      uint64_t line = i + 2;
      std::string id = "C" + std::to_string(10 + (i * 7) % (customers - 20));
      if (percent(rng) == 0) {
        broken.insert({name, line});
        switch (kind(rng) % 5) {
          case 0: f << "NOBODY," << good(i).substr(good(i).find(',') + 1) << "\n"; break;  // unknown customer
          case 1: f << id << ",yesterday" << good(i).substr(good(i).find(',', good(i).find(',') + 1)) << "\n"; break;  // bad time
          case 2: f << id << "\n"; break;                                                   // fields missing
          case 3: f << id << "," << good(i).substr(good(i).find(',') + 1) << ",extra\n"; break;  // too many
          default: f << id << ",2026-11-01,\xc3\x28" << "\n"; break;                       // invalid UTF-8 + count
        }
        continue;
      }
      f << id << good(i).substr(good(i).find(',')) << "\n";
    }
  };
  // Events and contacts name customers whose rows are good (ids 10.. are never broken? they
  // may be: an event of a rejected customer is rejected too, as an unknown customer).
  writeRows("events", "id,at,kind,amount", events,
            [](int i) { return "X,2026-1" + std::to_string(i % 2) + "-0" + std::to_string(1 + i % 9) + ",purchase," + std::to_string(i % 50); });
  writeRows("contacts", "id,at,channel", contacts, [](int i) { return "X,2026-11-0" + std::to_string(1 + i % 9) + ",email"; });

  std::ofstream(dir + "/r.rules") << "channel\n  email otherwise\nend\n";
  REQUIRE(runCommand(std::string(REKINDLE_BINARY) + " run " + dir + "/r.rules --config " + dir + "/rekindle.yaml --out " +
                         dir + "/d.csv",
                     out) == 0);
  INFO(out);
  auto rejects = parseCsv(readText(dir + "/d.rejects.csv"));
  REQUIRE(!rejects.empty());
  REQUIRE(rejects[0] == std::vector<std::string>{"source", "file", "line", "column", "field", "reason", "raw"});
  std::set<std::pair<std::string, uint64_t>> named;
  for (size_t i = 1; i < rejects.size(); ++i) {
    CHECK_FALSE(rejects[i][5].empty());  // a reason
    named.insert({rejects[i][0], std::stoull(rejects[i][2])});
  }
  // Events and contacts of customers whose own row was rejected are rejected too (unknown
  // customer): everything the generator broke is named, plus those.
  for (const auto& b : broken) {
    INFO(b.first << " line " << b.second);
    CHECK(named.count(b));
  }
  for (const auto& n : named)
    if (!broken.count(n)) CHECK(n.first != "customers");  // every rejected customer row was broken on purpose
  // The summary reconciles, and its numbers agree with the rejects file.
  auto decisions = parseCsv(readText(dir + "/d.csv"));
  size_t rejectedCustomerRows = 0;
  for (const auto& n : named) rejectedCustomerRows += n.first == "customers";
  CHECK(decisions.size() - 1 + rejectedCustomerRows == static_cast<size_t>(customers));
  CHECK_THAT(out, Catch::Contains("customers  read " + std::to_string(customers) + " = decided " +
                                  std::to_string(decisions.size() - 1) + " + rejected " + std::to_string(rejectedCustomerRows)));
  CHECK_THAT(out, Catch::Contains("events     read " + std::to_string(events)));
  CHECK_THAT(out, Catch::Contains("contacts   read " + std::to_string(contacts)));
  CHECK(broken.size() > 100);
  runCommand("rm -rf " + dir, out);
}

TEST_CASE("an event row with several faults is rejected for the first: its customer, then its fields in order",
          "[rejects]") {
  std::string dir = tempDir("reject-order");
  std::ofstream(dir + "/rekindle.yaml") << kConfig;
  std::ofstream(dir + "/customers.csv") << "id,signup_at,score,email,consent_email\nC1,2026-01-01,1,a@x,true\n";
  std::ofstream(dir + "/events.csv") << "id,at,kind,amount\n"
                                        "NOBODY,yesterday,purchase,lots\n"  // unknown customer, bad time, bad amount
                                        "C1,yesterday,purchase,lots\n"      // bad time, bad amount
                                        "C1,2026-11-01,purchase,lots\n"     // bad amount
                                        "C1,2026-11-01,purchase,5\n";       // good
  std::ofstream(dir + "/contacts.csv") << "id,at,channel\n";
  std::vector<rekindle::Diagnostic> diags;
  auto config = rekindle::loadConfig(dir + "/rekindle.yaml", diags);
  REQUIRE(config);
  std::string fatal;
  auto data = rekindle::loadDataset(*config, rekindle::LoadOptions{}, fatal);
  REQUIRE(data);
  REQUIRE(data->rejects.size() == 3);
  CHECK(data->rejects[0].line == 2);
  CHECK(data->rejects[0].column == 1);
  CHECK_THAT(data->rejects[0].reason, Catch::StartsWith("unknown customer id 'NOBODY'"));
  CHECK(data->rejects[1].line == 3);
  CHECK(data->rejects[1].field == "at");
  CHECK(data->rejects[1].column == 2);
  CHECK(data->rejects[2].line == 4);
  CHECK(data->rejects[2].field == "amount");
  CHECK(data->rejects[2].column == 4);
  CHECK(data->eventCount(0) == 1);
  CHECK(data->eventCounts.reconciles());
}

namespace {

// Everything a load gives, as text: the customers' event columns in order, the counts, and
// every rejected row with its file, line, column, field, reason and raw text.
std::string describeLoad(const rekindle::Dataset& d) {
  std::string out;
  for (uint32_t c = 0; c < d.customerCount; ++c) {
    out += d.customerId(c) + ":";
    for (uint32_t e = d.eventBegin[c]; e < d.eventBegin[c + 1]; ++e) {
      out += " (";
      for (const auto& column : d.events) {
        rekindle::Value v = column.get(e);
        out += v.isNull() ? "null" : v.tag == rekindle::Kind::String ? *v.s : std::to_string(v.i);
        out += ",";
      }
      out += ")";
    }
    out += "\n";
  }
  auto counts = [](const rekindle::SourceCounts& s) {
    return std::to_string(s.read) + "/" + std::to_string(s.accepted) + "/" + std::to_string(s.rejected) + "/" +
           std::to_string(s.otherShards) + "\n";
  };
  out += counts(d.customerCounts) + counts(d.eventCounts) + counts(d.contactCounts);
  for (const auto& r : d.rejects)
    out += r.file + ":" + std::to_string(r.line) + ":" + std::to_string(r.column) + " " + r.field + ": " + r.reason +
           " [" + r.raw + "]\n";
  return out;
}

// An export for comparing loads on several threads: the config, customers C0 to C{n-1} and one
// contact, in a fresh directory; each test writes its own events file there.
struct ThreadsExport {
  std::string dir;
  std::optional<rekindle::Config> config;

  ThreadsExport(const std::string& name, int customers) : dir(tempDir(name)) {
    std::ofstream(dir + "/rekindle.yaml") << kConfig;
    std::ofstream f(dir + "/customers.csv");
    f << "id,signup_at,score,email,consent_email\n";
    for (int i = 0; i < customers; ++i) f << "C" << i << ",2026-01-01,1,c" << i << "@x,true\n";
    std::ofstream(dir + "/contacts.csv") << "id,at,channel\nC1,2026-11-01,email\n";
    std::vector<rekindle::Diagnostic> diags;
    config = rekindle::loadConfig(dir + "/rekindle.yaml", diags);
    REQUIRE(config);
  }
  // Everything a load gives (describeLoad), or "fatal: " and why it stopped.
  std::string load(const rekindle::LoadOptions& options) const {
    std::string fatal;
    auto d = rekindle::loadDataset(*config, options, fatal);
    return d ? describeLoad(*d) : std::string("fatal: ") + fatal;
  }
  std::string load(int threads) const {
    rekindle::LoadOptions options;
    options.threads = threads;
    return load(options);
  }
};

}  // namespace

TEST_CASE("events read in parts on several threads, or on a reading thread, give the same rows, rejects and order as on one",
          "[rejects][threads]") {
  const ThreadsExport ex("events-aside", 500);
  const std::string& dir = ex.dir;
  {
    // 30,000 rows: several batches of the reading thread, with a broken row of every kind now
    // and then, and a quoted field with a line break inside.
    std::ofstream f(dir + "/events.csv", std::ios::binary);
    f << "id,at,kind,amount\n";
    std::mt19937 rng(11);
    for (int i = 0; i < 30000; ++i) {
      std::string id = "C" + std::to_string(rng() % 520);  // 20 unknown ids
      switch (rng() % 50) {
        case 0: f << id << ",yesterday,purchase,5\n"; break;
        case 1: f << id << ",2026-11-01,purchase,lots\n"; break;
        case 2: f << id << ",2026-11-01\n"; break;
        case 3: f << id << ",2026-11-01,\"multi\nline\",1\n"; break;
        case 4: f << ",2026-11-01,visit,\n"; break;
        case 5: f << id << ",2026-11-01,\"bad\"quote,1\n"; break;
        default: f << id << ",2026-1" << (rng() % 2) << "-0" << (1 + rng() % 9) << ",k" << (rng() % 70) << "," << (rng() % 100) << "\n";
      }
    }
  }
  // Compressed, the file cannot be split: a reading thread types it while this one stores.
  std::string out;
  REQUIRE(runCommand("gzip -kf " + dir + "/events.csv", out) == 0);
  auto load = [&](int threads, int64_t maxErrors, uint32_t shard, uint32_t shards, const std::string& events = "") {
    rekindle::LoadOptions options;
    options.eventsPath = events;
    options.threads = threads;
    options.maxErrors = maxErrors;
    options.shard = shard;
    options.shards = shards;
    return ex.load(options);
  };

  std::string one = load(1, -1, 0, 1);
  CHECK(one.find("unknown customer id") != std::string::npos);
  CHECK(one.find("multi\nline") != std::string::npos);
  CHECK(load(2, -1, 0, 1) == one);
  CHECK(load(3, -1, 0, 1) == one);
  CHECK(load(5, -1, 0, 1) == one);
  const std::string gz = dir + "/events.csv.gz";
  std::string oneGz = load(2, -1, 0, 1, gz);
  for (size_t at; (at = oneGz.find("events.csv.gz:")) != std::string::npos;) oneGz.replace(at, 14, "events.csv:");
  CHECK(oneGz == one);
  // Stopping at the error limit: the same row stops every way, with the same message; early in
  // the file (the first part), and late (a later part).
  for (int64_t limit : {100, 2500, 4000}) {
    std::string stopped = load(1, limit, 0, 1);
    CHECK_THAT(stopped, Catch::StartsWith("fatal: stopped: " + std::to_string(limit + 1) + " rows rejected"));
    CHECK(load(2, limit, 0, 1) == stopped);
    CHECK(load(3, limit, 0, 1) == stopped);
    CHECK(load(2, limit, 0, 1, gz) == load(1, limit, 0, 1, gz));
  }
  // A shard.
  std::string shard = load(1, -1, 1, 3);
  CHECK(shard != one);
  CHECK(load(2, -1, 1, 3) == shard);
  CHECK(load(3, -1, 1, 3) == shard);
}

TEST_CASE("customers read on a reading thread give the same rows, rejects and order as on one", "[rejects][threads]") {
  const ThreadsExport ex("customers-aside", 0);
  {
    // 30,000 rows: several batches, with a broken row of every kind now and then.
    std::ofstream f(ex.dir + "/customers.csv", std::ios::binary);
    f << "id,signup_at,score,email,consent_email\n";
    std::mt19937 rng(13);
    for (int i = 0; i < 30000; ++i) {
      const std::string id = "C" + std::to_string(rng() % 28000);  // duplicates
      switch (rng() % 40) {
        case 0: f << id << ",yesterday,1,a@x,true\n"; break;
        case 1: f << id << ",2026-01-01,lots,a@x,true\n"; break;
        case 2: f << id << ",2026-01-01,1\n"; break;
        case 3: f << ",2026-01-01,1,a@x,true\n"; break;
        case 4: f << id << ",2026-01-01,1,\"bad\"quote,true\n"; break;
        case 5: f << id << ",2026-01-01,1,\"two\nlines\",maybe\n"; break;
        default: f << id << ",2026-0" << (1 + rng() % 9) << "-01," << (rng() % 3 ? std::to_string(rng() % 100) : "") << ",e" << i << "@x,"
                   << (rng() % 2 ? "true" : "false") << "\n";
      }
    }
    std::ofstream(ex.dir + "/events.csv") << "id,at,kind,amount\nC1,2026-11-01,visit,\nC9999999,2026-11-01,visit,\n";
  }
  auto load = [&](int threads, int64_t maxErrors, uint32_t shard, uint32_t shards) {
    rekindle::LoadOptions options;
    options.threads = threads;
    options.maxErrors = maxErrors;
    options.shard = shard;
    options.shards = shards;
    std::string fatal;
    auto d = rekindle::loadDataset(*ex.config, options, fatal);
    if (!d) return "fatal: " + fatal;
    std::string out = describeLoad(*d);
    for (const auto& column : d->customers)  // every field of every customer kept
      for (uint32_t c = 0; c < d->customerCount; ++c) {
        rekindle::Value v = column.get(c);
        out += v.isNull() ? "null" : v.tag == rekindle::Kind::String ? *v.s : std::to_string(v.i);
        out += c + 1 < d->customerCount ? "," : "\n";
      }
    return out;
  };
  const std::string one = load(1, -1, 0, 1);
  CHECK(one.find("duplicate customer id") != std::string::npos);
  CHECK(one.find("empty value for 'id'") != std::string::npos);
  CHECK(one.find("unknown customer id 'C9999999'") != std::string::npos);
  CHECK(one.find("two\nlines") != std::string::npos);
  CHECK(one.find("e29999@x") != std::string::npos);
  CHECK(load(2, -1, 0, 1) == one);
  for (int64_t limit : {10, 1500}) {
    const std::string stopped = load(1, limit, 0, 1);
    CHECK_THAT(stopped, Catch::StartsWith("fatal: stopped: " + std::to_string(limit + 1) + " rows rejected"));
    CHECK(load(2, limit, 0, 1) == stopped);
  }
  const std::string shard = load(1, -1, 2, 3);
  CHECK(shard != one);
  CHECK(load(2, -1, 2, 3) == shard);
}

TEST_CASE("events and contacts are grouped by customer, then time, equal times in file order, on any number of threads",
          "[rejects][threads]") {
  const ThreadsExport ex("events-grouping", 60);
  // Rows in no order, many at equal times; each event's amount is its line, each contact's
  // channel its line's parity, so the order of equal times shows.
  struct Row {
    int customer;
    int day;
    int line;
  };
  std::vector<Row> events, contacts;
  std::mt19937 rng(3);
  {
    std::ofstream f(ex.dir + "/events.csv", std::ios::binary);
    f << "id,at,kind,amount\n";
    for (int line = 2; line < 12002; ++line) {  // about 300 KB: several parts
      Row r{static_cast<int>(rng() % 60), static_cast<int>(1 + rng() % 5), line};
      f << "C" << r.customer << ",2026-11-0" << r.day << ",visit," << r.line << "\n";
      events.push_back(r);
    }
    std::ofstream c(ex.dir + "/contacts.csv", std::ios::binary);
    c << "id,at,channel\n";
    for (int line = 2; line < 2002; ++line) {
      Row r{static_cast<int>(rng() % 60), static_cast<int>(1 + rng() % 5), line};
      c << "C" << r.customer << ",2026-11-0" << r.day << "," << (line % 2 ? "email" : "fax") << "\n";
      contacts.push_back(r);
    }
  }
  auto byCustomerThenDay = [](const Row& a, const Row& b) {
    return a.customer != b.customer ? a.customer < b.customer : a.day < b.day;
  };
  std::stable_sort(events.begin(), events.end(), byCustomerThenDay);
  std::stable_sort(contacts.begin(), contacts.end(), byCustomerThenDay);
  REQUIRE(rekindle::plainFileBytes(ex.dir + "/events.csv") > 4 * 65536);
  const int64_t kNov1 = 1793491200;  // 2026-11-01T00:00:00Z

  for (int threads : {1, 2, 3}) {
    INFO(threads << " threads");
    rekindle::LoadOptions options;
    options.threads = threads;
    std::string fatal;
    auto d = rekindle::loadDataset(*ex.config, options, fatal);
    REQUIRE(d);
    REQUIRE(d->eventBegin.size() == 61);
    REQUIRE(d->events.size() == 3);
    REQUIRE(d->events[0].size() == events.size());
    size_t at = 0;
    for (uint32_t c = 0; c < 60; ++c) {
      for (uint32_t e = d->eventBegin[c]; e < d->eventBegin[c + 1]; ++e, ++at) {
        REQUIRE(events[at].customer == static_cast<int>(c));
        REQUIRE(d->events[0].get(e).i == kNov1 + (events[at].day - 1) * 86400);
        REQUIRE(d->events[2].get(e).f == events[at].line);
      }
    }
    REQUIRE(at == events.size());
    at = 0;
    for (uint32_t c = 0; c < 60; ++c) {
      for (uint32_t k = d->contactBegin[c]; k < d->contactBegin[c + 1]; ++k, ++at) {
        REQUIRE(contacts[at].customer == static_cast<int>(c));
        REQUIRE(d->contactTime[k] == kNov1 + (contacts[at].day - 1) * 86400);
        REQUIRE(d->contactChannel[k] == (contacts[at].line % 2 ? 0 : -1));
      }
    }
    REQUIRE(at == contacts.size());
  }
}

TEST_CASE("a file split inside a quoted field is read by the part before it, as by one reader", "[rejects][threads]") {
  const ThreadsExport ex("events-parts", 50);
  // First rows whose kind is a quoted text of many lines, each line looking like a row of its
  // own: nearly every line start there is inside quotes, so a split guess there is wrong. Then
  // as many bytes of plain rows, where the guesses hold.
  const std::string path = ex.dir + "/events.csv";
  std::set<uint64_t> recordStarts;
  {
    std::ofstream f(path, std::ios::binary);
    f << "id,at,kind,amount\n";
    std::mt19937 rng(5);
    for (int i = 0; i < 3000; ++i) {
      recordStarts.insert(static_cast<uint64_t>(f.tellp()));
      f << "C" << rng() % 55 << ",2026-11-0" << 1 + rng() % 9 << ",\"note " << i;
      for (int k = 0; k < 20; ++k) f << "\nC1,2026-11-01,visit," << k;
      f << "\"," << (i % 7 == 0 ? std::string() : std::to_string(rng() % 100)) << "\n";
    }
    const auto quoted = static_cast<uint64_t>(f.tellp());
    while (static_cast<uint64_t>(f.tellp()) < 2 * quoted) {
      recordStarts.insert(static_cast<uint64_t>(f.tellp()));
      f << "C" << rng() % 55 << ",2026-11-0" << 1 + rng() % 9 << ",visit," << rng() % 100 << "\n";
    }
  }
  const uint64_t size = rekindle::plainFileBytes(path);
  REQUIRE(size > 4 * 65536);
  // 2 threads split in the plain rows; 3 and 4 first inside quotes, then in the plain rows.
  CHECK(recordStarts.count(rekindle::lineStartFrom(path, size / 2)) == 1);
  CHECK(recordStarts.count(rekindle::lineStartFrom(path, size / 3)) == 0);
  CHECK(recordStarts.count(rekindle::lineStartFrom(path, size / 3 * 2)) == 1);
  CHECK(recordStarts.count(rekindle::lineStartFrom(path, size / 4)) == 0);

  auto load = [&](int threads) { return ex.load(threads); };
  std::string one = load(1);
  CHECK(one.find("unknown customer id") != std::string::npos);
  CHECK(one.find("note 2999\nC1,2026-11-01,visit,0\n") != std::string::npos);
  CHECK(load(2) == one);
  CHECK(load(3) == one);
  CHECK(load(4) == one);
}

TEST_CASE("a JSON Lines events file read in parts gives the same rows, rejects and order as one reader", "[rejects][threads]") {
  const ThreadsExport ex("events-jsonl-parts", 300);
  const std::string path = ex.dir + "/events.jsonl";
  {
    std::ofstream f(path, std::ios::binary);
    std::mt19937 rng(3);
    for (int i = 0; i < 20000; ++i) {
      std::string id = "C" + std::to_string(rng() % 310);
      switch (rng() % 40) {
        case 0: f << "{\"id\": \"" << id << "\", \"at\": \"soon\", \"kind\": \"visit\"}\n"; break;
        case 1: f << "{\"id\": \"" << id << "\", \"at\": \n"; break;
        case 2: f << "\n"; break;
        case 3: f << "[1, 2]\n"; break;
        default:
          f << "{\"id\": \"" << id << "\", \"at\": \"2026-11-0" << 1 + rng() % 9 << "\", \"kind\": \"k" << rng() % 30
            << "\", \"amount\": " << (rng() % 5 == 0 ? std::string("null") : std::to_string(rng() % 100)) << "}\n";
      }
    }
  }
  auto load = [&](int threads, int64_t maxErrors) {
    rekindle::LoadOptions options;
    options.eventsPath = path;
    options.threads = threads;
    options.maxErrors = maxErrors;
    return ex.load(options);
  };
  std::string one = load(1, -1);
  CHECK(one.find("unknown customer id") != std::string::npos);
  CHECK(load(2, -1) == one);
  CHECK(load(3, -1) == one);
  std::string stopped = load(1, 1200);
  CHECK_THAT(stopped, Catch::StartsWith("fatal: stopped: 1201 rows rejected"));
  CHECK(load(2, 1200) == stopped);
}

TEST_CASE("random CSV with quotes, line breaks and blank lines everywhere reads the same in parts as by one reader",
          "[rejects][threads]") {
  const ThreadsExport ex("events-parts-random", 40);
  const std::string path = ex.dir + "/events.csv";
  for (unsigned seed = 1; seed <= 12; ++seed) {
    std::mt19937 rng(seed);
    {
      // Fields made of pieces that move a reader's idea of where records start: quotes, doubled
      // quotes, line breaks (LF and CRLF) inside and outside quotes, blank lines, stray quotes.
      std::ofstream f(path, std::ios::binary);
      f << "id,at,kind,amount\n";
      const char* pieces[] = {"a", "visit", ",", "\n", "\r\n", "\"", "\"\"", "2026-11-01", "C1,2026-11-02,x,1\n", " "};
      while (f.tellp() < 200000) {
        const std::string eol = rng() % 4 == 0 ? "\r\n" : "\n";
        f << "C" << rng() % 45 << ",2026-11-0" << 1 + rng() % 9 << ",";
        if (rng() % 3 == 0) {
          f << '"';
          for (int k = rng() % 12; k > 0; --k) f << pieces[rng() % 10];
          if (rng() % 50 != 0) f << '"';  // now and then a quote left open
        } else {
          f << "k" << rng() % 9;
        }
        f << "," << rng() % 100 << eol;
        if (rng() % 20 == 0) f << eol;  // a blank line
      }
    }
    auto load = [&](int threads) { return ex.load(threads); };
    INFO("seed " << seed);
    const std::string one = load(1);
    CHECK(load(2) == one);
    CHECK(load(3) == one);
  }
}
