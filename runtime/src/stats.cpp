// Whole-population steps in parts: rank keys, merging parts, and the shards' summary files.
#include "rekindle/runtime/stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rekindle/core/hash.h"

namespace rekindle {

using nlohmann::json;

std::string StatsStep::name() const {
  return kind == Kind::Population ? "population" : std::string("allocation ") + tableName(table);
}

RankKey RankKey::of(const Value& v) {
  RankKey k;
  if (v.isNull()) return k;
  if (v.tag == Kind::String) {
    k.kind = 2;
    k.text = *v.s;
  } else {
    k.kind = 1;
    k.number = v.tag == Kind::Float ? v.f : static_cast<double>(v.i);
  }
  return k;
}

int RankKey::compare(const RankKey& a, const RankKey& b, bool descending) {
  if (a.kind == 0 || b.kind == 0) return a.kind == b.kind ? 0 : (a.kind == 0 ? 1 : -1);
  int c = a.kind == 2 ? a.text.compare(b.text) : (a.number < b.number ? -1 : a.number > b.number ? 1 : 0);
  c = c < 0 ? -1 : c > 0 ? 1 : 0;
  return descending ? -c : c;
}

void StepStats::absorb(StepStats&& o) {
  customers += o.customers;
  if (o.rfm) {
    for (int k = 0; k < 3; ++k) rfmValues[k].merge(o.rfmValues[k]);
    rfm = true;
  }
  if (quantiles.size() < o.quantiles.size()) quantiles.resize(o.quantiles.size());
  for (size_t q = 0; q < o.quantiles.size(); ++q) quantiles[q].merge(o.quantiles[q]);
  if (entries.empty()) entries = std::move(o.entries);
  else
    for (auto& e : o.entries) entries.push_back(std::move(e));
}

namespace {

std::string hex(uint64_t h) { return fmt::format("{:016x}", h); }

// Numbers exactly (the shortest text that reads back to the same double); the values JSON has
// no numbers for as {"float": "inf"}.
json number(double v) {
  if (std::isfinite(v)) return json(v);
  return json{{"float", std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"}};
}

bool readNumber(const json& j, double& v) {
  if (j.is_number()) {
    v = j.get<double>();
    return true;
  }
  if (j.is_object() && j.size() == 1 && j.contains("float") && j["float"].is_string()) {
    std::string s = j["float"].get<std::string>();
    if (s == "inf") v = HUGE_VAL;
    else if (s == "-inf") v = -HUGE_VAL;
    else if (s == "nan") v = std::nan("");
    else return false;
    return true;
  }
  return false;
}

json distribution(const Distribution& d) {
  json a = json::array();
  for (size_t i = 0; i < d.values().size(); ++i) a.push_back(json::array({number(d.values()[i]), d.count(i)}));
  return a;
}

bool readDistribution(const json& j, Distribution& out) {
  if (!j.is_array()) return false;
  std::vector<std::pair<double, uint64_t>> counts;
  for (const json& p : j) {
    double v;
    if (!p.is_array() || p.size() != 2 || !readNumber(p[0], v) || !p[1].is_number_unsigned()) return false;
    counts.emplace_back(v, p[1].get<uint64_t>());
  }
  out = Distribution::fromCounts(std::move(counts));
  return true;
}

json rankKey(const RankKey& k) {
  if (k.kind == 0) return nullptr;
  if (k.kind == 2) return k.text;
  return number(k.number);
}

bool readRankKey(const json& j, RankKey& k) {
  k = RankKey();
  if (j.is_null()) return true;
  if (j.is_string()) {
    k.kind = 2;
    k.text = j.get<std::string>();
    return true;
  }
  k.kind = 1;
  return readNumber(j, k.number);
}

}  // namespace

std::string runKey(const std::string& programBytes, const std::string& configText, int64_t now,
                   const std::vector<std::pair<std::string, std::string>>& params, uint32_t shards) {
  const std::string_view sep("\0", 1);
  uint64_t h = fnv1a64(programBytes);
  h = fnv1a64(sep, h);
  h = fnv1a64(configText, h);
  h = fnv1a64(sep, h);
  h = fnv1a64(std::to_string(now), h);
  for (const auto& [k, v] : params) {
    h = fnv1a64(sep, h);
    h = fnv1a64(k + "=" + v, h);
  }
  h = fnv1a64(sep, h);
  h = fnv1a64(std::to_string(shards), h);
  return hex(mix64(h));
}

std::string basisFor(const std::string& run, const std::vector<StatsFile>& earlier) {
  std::vector<const StatsFile*> order;
  for (const auto& f : earlier) order.push_back(&f);
  std::sort(order.begin(), order.end(), [](const StatsFile* a, const StatsFile* b) {
    return a->step != b->step ? a->step < b->step : a->shard < b->shard;
  });
  uint64_t h = fnv1a64(run);
  for (const StatsFile* f : order) h = fnv1a64(hex(f->digest), h);
  return hex(mix64(h));
}

namespace {

json toJson(const StatsFile& f) {
  json j;
  j["format"] = "rekindle-shard-stats";
  j["version"] = 1;
  j["rules"] = f.rules;
  j["run"] = f.run;
  j["basis"] = f.basis;
  j["shard"] = f.shard;
  j["shards"] = f.shards;
  j["step"] = f.step;
  j["plan"] = f.plan;
  j["customers"] = f.stats.customers;
  const StepStats& s = f.stats;
  if (s.step.kind == StatsStep::Kind::Population) {
    json pop = json::object();
    if (s.rfm) pop["rfm"] = {{"r", distribution(s.rfmValues[0])}, {"f", distribution(s.rfmValues[1])}, {"m", distribution(s.rfmValues[2])}};
    json qs = json::array();
    for (const auto& q : s.quantiles) qs.push_back(distribution(q));
    pop["quantile_rank"] = qs;
    j["population"] = pop;
  } else {
    json cands = json::array();
    for (const auto& e : s.entries) {
      json rows = json::array();
      for (const auto& c : e.rows) {
        if (c.limited) rows.push_back(json::array({c.row, c.consumes ? 1 : 0, rankKey(c.key)}));
        else rows.push_back(json::array({c.row}));
      }
      cands.push_back(json::array({e.id, rows}));
    }
    j["allocation"] = {{"table", tableName(s.step.table)}, {"candidates", cands}};
  }
  return j;
}

}  // namespace

std::string writeStatsFile(StatsFile& f) {
  std::string text = toJson(f).dump(-1, ' ', false, json::error_handler_t::replace);
  f.digest = fnv1a64(text);
  return text + "\n";
}

bool readStatsFile(const std::string& path, const std::vector<StatsStep>& plan, StatsFile& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "--stats: cannot read " + path;
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  json j;
  try {
    j = json::parse(ss.str());
  } catch (const std::exception& e) {
    error = "--stats: " + path + " is not JSON (" + e.what() + ")";
    return false;
  }
  auto bad = [&](const std::string& what) {
    error = "--stats: " + path + ": " + what;
    return false;
  };
  if (!j.is_object() || j.value("format", json()) != "rekindle-shard-stats") return bad("not a summary written by `rekindle run --phase stats`");
  if (j.value("version", json()) != 1) return bad("summary format version " + j.value("version", json()).dump() + ", this build reads 1");
  try {
    out = StatsFile();
    out.path = path;
    out.rules = j.at("rules").get<std::string>();
    out.run = j.at("run").get<std::string>();
    out.basis = j.at("basis").get<std::string>();
    out.shard = j.at("shard").get<uint32_t>();
    out.shards = j.at("shards").get<uint32_t>();
    out.step = j.at("step").get<size_t>();
    out.plan = j.at("plan").get<std::vector<std::string>>();
    out.stats.customers = j.at("customers").get<uint64_t>();
  } catch (const std::exception&) {
    return bad("a header field (rules, run, basis, shard, shards, step, plan, customers) is missing or has the wrong type");
  }
  std::vector<std::string> names;
  for (const auto& s : plan) names.push_back(s.name());
  if (out.plan != names) {
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
      return s.empty() ? std::string("none") : s;
    };
    return bad("written for rules whose whole-population steps are [" + list(out.plan) + "]; these rules' are [" + list(names) + "]");
  }
  if (out.shards == 0 || out.shard >= out.shards) return bad(fmt::format("shard {} of {} does not exist", out.shard, out.shards));
  if (out.step >= plan.size()) return bad(fmt::format("step {} does not exist", out.step));
  StepStats& s = out.stats;
  s.step = plan[out.step];
  if (s.step.kind == StatsStep::Kind::Population) {
    const json pop = j.value("population", json());
    if (!pop.is_object()) return bad("no \"population\" object");
    if (pop.contains("rfm")) {
      const json& r = pop["rfm"];
      if (!r.is_object()) return bad("\"rfm\" is not an object");
      const char* names3[3] = {"r", "f", "m"};
      for (int k = 0; k < 3; ++k)
        if (!r.contains(names3[k]) || !readDistribution(r[names3[k]], s.rfmValues[k]))
          return bad(std::string("rfm.") + names3[k] + " is not a list of [value, count] pairs");
      s.rfm = true;
    }
    const json q = pop.value("quantile_rank", json::array());
    if (!q.is_array()) return bad("\"quantile_rank\" is not a list");
    for (const json& d : q) {
      s.quantiles.emplace_back();
      if (!readDistribution(d, s.quantiles.back())) return bad("a quantile_rank distribution is not a list of [value, count] pairs");
    }
  } else {
    const json a = j.value("allocation", json());
    if (!a.is_object() || a.value("table", json()) != tableName(s.step.table) || !a.contains("candidates") || !a["candidates"].is_array())
      return bad(std::string("no \"allocation\" of table ") + tableName(s.step.table));
    for (const json& c : a["candidates"]) {
      if (!c.is_array() || c.size() != 2 || !c[0].is_string() || !c[1].is_array() || c[1].empty())
        return bad("a candidate is not [\"id\", [rows...]]");
      AllocationEntry e;
      e.id = c[0].get<std::string>();
      for (const json& r : c[1]) {
        AllocationChoice ch;
        if (!r.is_array() || (r.size() != 1 && r.size() != 3) || !r[0].is_number_integer()) return bad("candidate '" + e.id + "': a row is not [row] or [row, consumes, key]");
        ch.row = r[0].get<int32_t>();
        ch.limited = r.size() == 3;
        if (ch.limited) {
          if (!r[1].is_number_integer() || !readRankKey(r[2], ch.key)) return bad("candidate '" + e.id + "': a bad [row, consumes, key]");
          ch.consumes = r[1].get<int>() != 0;
        }
        e.rows.push_back(std::move(ch));
      }
      s.entries.push_back(std::move(e));
    }
  }
  out.digest = fnv1a64(j.dump(-1, ' ', false, json::error_handler_t::replace));
  return true;
}

bool assembleStats(std::vector<StatsFile>& files, const std::string& run, uint32_t shards,
                   const std::vector<StatsStep>& plan, std::vector<StepStats>& parts,
                   std::string& nextBasis, std::string& error) {
  std::map<size_t, std::map<uint32_t, StatsFile*>> byStep;
  for (auto& f : files) {
    if (f.shards != shards) {
      error = fmt::format("--stats: {} is from a run in {} shards; this one has {}", f.path, f.shards, shards);
      return false;
    }
    if (f.run != run) {
      error = "--stats: " + f.path + " belongs to another run: the rules, the config, --as-of or --param differ from this one's";
      return false;
    }
    auto [it, fresh] = byStep[f.step].emplace(f.shard, &f);
    if (!fresh) {
      error = fmt::format("--stats: {} and {} are both shard {}'s step {} ({})", it->second->path, f.path, f.shard, f.step, plan[f.step].name());
      return false;
    }
  }
  size_t complete = 0;
  while (complete < plan.size() && byStep.count(complete)) {
    std::string missing;
    for (uint32_t k = 0; k < shards; ++k)
      if (!byStep[complete].count(k)) missing += (missing.empty() ? "" : ", ") + std::to_string(k);
    if (!missing.empty()) {
      error = fmt::format("--stats: step {} ({}) lacks the summary of shard(s) {}", complete, plan[complete].name(), missing);
      return false;
    }
    ++complete;
  }
  for (const auto& [step, shardsOf] : byStep)
    if (step >= complete) {
      error = fmt::format("--stats: {} is step {} ({}), but step {} ({}) has no summaries: give every earlier step's too",
                          shardsOf.begin()->second->path, step, plan[step].name(), complete, plan[complete].name());
      return false;
    }
  // Each step's files must have been computed from exactly the earlier steps' files given here.
  std::vector<StatsFile> earlier;
  parts.clear();
  for (size_t step = 0; step < complete; ++step) {
    std::string basis = basisFor(run, earlier);
    for (auto& [shard, f] : byStep[step])
      if (f->basis != basis) {
        error = "--stats: " + f->path + " was computed from other summaries of the earlier steps than the ones given";
        return false;
      }
    StepStats merged;
    merged.step = plan[step];
    for (auto& [shard, f] : byStep[step]) {
      StatsFile header = *f;
      header.stats = StepStats();
      earlier.push_back(std::move(header));
      merged.absorb(std::move(f->stats));
    }
    merged.step = plan[step];
    parts.push_back(std::move(merged));
  }
  nextBasis = basisFor(run, earlier);
  return true;
}

}  // namespace rekindle
