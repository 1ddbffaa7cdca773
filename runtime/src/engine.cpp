// The passes of a run. Every pass works on blocks of customers; a block's results depend only
// on its customers, and blocks are combined in input order, so the output does not depend on
// the thread count.
#include "rekindle/runtime/engine.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "rekindle/core/hash.h"
#include "rekindle/runtime/caps.h"
#include "customer_conditions.h"
#include "event_scan.h"

namespace rekindle {

namespace {
constexpr size_t kBlock = 2048;  // customers per block
}  // namespace

const std::string& outcomeLabel(const Executable& exe, TableKind k, const Value& v) {
  static const std::string kNull;
  return v.isNull() ? kNull : exe.outcomeName(k, v.i);
}

void RunSummary::merge(const RunSummary& o) {
  customers += o.customers;
  sends += o.sends;
  suppressed += o.suppressed;
  holdout += o.holdout;
  for (const auto& [k, n] : o.stageChannel) stageChannel[k] += n;
  for (const auto& [k, n] : o.offers) offers[k] += n;
  for (const auto& [k, x] : o.offerCosts) offerCosts[k] += x;
  for (const auto& [k, n] : o.segments) segments[k] += n;
  for (const auto& [k, n] : o.suppressedBy) suppressedBy[k] += n;
  for (const auto& [k, n] : o.transitions) transitions[k] += n;
  offerCost += o.offerCost;
}

struct DecisionRun::Worker {
  std::unique_ptr<Evaluator> ev;
  std::vector<int> rows;                              // scratch for the allocation passes
  Decision probe;
  std::vector<int64_t> channelContacts;
};

namespace {

constexpr uint8_t kAllTables = (1u << kTableCount) - 1;

// Bit t of chunk c's entry: running c can read decision table t, directly or through the lets,
// segments and where-conditions it runs (not through the table's own rows). A chunk reached
// again on its own path (a cycle: forged bytecode, a fault when run) reads every table.
std::vector<uint8_t> tablesRead(const Program& p) {
  const size_t n = p.chunks.size();
  std::vector<uint8_t> reads(n, 0), state(n, 0);  // state: 0 unseen, 1 on the path, 2 done
  auto child = [&](uint32_t insn) -> int64_t {  // the chunk an instruction runs, -1 none, -2 bad
    const uint32_t a = insnA(insn);
    switch (insnOp(insn)) {
      case Opcode::LoadLet: return a < p.lets.size() ? p.lets[a].chunk : -2;
      case Opcode::LoadSegment: return a < p.segments.size() ? p.segments[a].chunk : -2;
      case Opcode::Filter:
      case Opcode::Streak: return a;
      default: return -1;
    }
  };
  std::vector<std::pair<size_t, size_t>> path;  // chunk, next instruction to look at
  for (size_t root = 0; root < n; ++root) {
    if (state[root]) continue;
    state[root] = 1;
    path.emplace_back(root, 0);
    while (!path.empty()) {
      auto& [c, pc] = path.back();
      const std::vector<uint32_t>& code = p.chunks[c].code;
      if (pc == code.size()) {
        state[c] = 2;
        const uint8_t r = reads[c];
        path.pop_back();
        if (!path.empty()) reads[path.back().first] |= r;
        continue;
      }
      const uint32_t insn = code[pc++];
      if (insnOp(insn) == Opcode::LoadDecision) {
        reads[c] |= insnA(insn) < kTableCount ? uint8_t(1u << insnA(insn)) : kAllTables;
        continue;
      }
      const int64_t k = child(insn);
      if (k == -1) continue;
      if (k < 0 || static_cast<size_t>(k) >= n || state[k] == 1) reads[c] |= kAllTables;
      else if (state[k] == 2) reads[c] |= reads[k];
      else {
        state[k] = 1;
        path.emplace_back(static_cast<size_t>(k), 0);
      }
    }
  }
  return reads;
}

}  // namespace

// What a pass over the customers settles for good, carried to the passes after it so that they
// do not compute it again. In the pass that allocates a table, the tables allocated before it are
// fixed. A table that is never allocated, or a segment, then has its final value in that pass
// when all it reads (through lets, segments and where-conditions) is fixed or final itself. The
// retail rules' offer pass computes the stage of nearly every customer, and the decision pass
// takes it from there instead of running the stage table, and its lets, a second time.
// Per customer: the row of each carried table, and two bit words for the first 64 segments (a
// null segment is not carried). The tracing paths (explain) do not use it.
class DecisionRun::Carry {
 public:
  explicit Carry(const Program& p) : program_(p), chunkReads_(tablesRead(p)) {
    for (int t = 0; t < kTableCount; ++t)
      for (const DecisionRow& row : p.tables[t].rows)
        tableReads_[t] |= row.condition < 0 ? 0 : chunkReads_[static_cast<size_t>(row.condition)];
  }

  // A new pass: `fixed` are the tables allocated so far, `allocated` every table the run allocates.
  void startPass(uint8_t fixed, uint8_t allocated, size_t customers) {
    settledTables_ = 0;
    for (bool grew = true; grew;) {
      grew = false;
      for (int t = 0; t < kTableCount; ++t) {
        const uint8_t bit = uint8_t(1u << t);
        if (!program_.tables[t].present || (allocated & bit) || (settledTables_ & bit)) continue;
        if (tableReads_[t] & ~(fixed | settledTables_)) continue;
        settledTables_ |= bit;
        grew = true;
      }
    }
    settledSegments_ = 0;
    for (size_t i = 0; i < program_.segments.size() && i < 64; ++i) {
      const int32_t chunk = program_.segments[i].chunk;
      if (chunk >= 0 && static_cast<size_t>(chunk) < chunkReads_.size() &&
          !(chunkReads_[static_cast<size_t>(chunk)] & ~(fixed | settledTables_)))
        settledSegments_ |= uint64_t(1) << i;
    }
    for (int t = 0; t < kTableCount; ++t)
      if ((settledTables_ >> t) & 1 && row_[t].empty()) row_[t].assign(customers, kUnknown);
    if (settledSegments_ && segKnown_.empty()) {
      segKnown_.assign(customers, 0);
      segTrue_.assign(customers, 0);
    }
  }

  void apply(Evaluator& ev, uint32_t c) const {
    for (int t = 0; t < kTableCount; ++t)
      if (!row_[t].empty() && row_[t][c] != kUnknown) ev.fixRow(static_cast<TableKind>(t), row_[t][c]);
    if (segKnown_.empty()) return;
    for (uint64_t known = segKnown_[c]; known; known &= known - 1) {
      const int i = __builtin_ctzll(known);
      ev.fixSegment(static_cast<uint32_t>(i), Value::boolean((segTrue_[c] >> i) & 1));
    }
  }

  // After the customer's evaluation in the pass: what it computed of the settled values.
  void record(Evaluator& ev, uint32_t c) {
    for (int t = 0; t < kTableCount; ++t)
      if ((settledTables_ >> t) & 1 && ev.decisionComputed(static_cast<TableKind>(t)))
        row_[t][c] = ev.decidedRow(static_cast<TableKind>(t));
    if (!settledSegments_) return;
    for (uint64_t todo = settledSegments_ & ~segKnown_[c]; todo; todo &= todo - 1) {
      const int i = __builtin_ctzll(todo);
      if (!ev.segmentComputed(static_cast<uint32_t>(i))) continue;
      const Value v = ev.segment(static_cast<uint32_t>(i));
      if (v.tag != Kind::Bool) continue;
      segKnown_[c] |= uint64_t(1) << i;
      if (v.b) segTrue_[c] |= uint64_t(1) << i;
    }
  }

 private:
  static constexpr int32_t kUnknown = INT32_MIN;
  const Program& program_;
  std::vector<uint8_t> chunkReads_;
  uint8_t tableReads_[kTableCount] = {};
  uint8_t settledTables_ = 0;
  uint64_t settledSegments_ = 0;
  std::vector<int32_t> row_[kTableCount];
  std::vector<uint64_t> segKnown_, segTrue_;
};

DecisionRun::DecisionRun(const Executable& exe, const Dataset& data, const RunOptions& options)
    : exe_(exe), data_(data), options_(options) {
  context_.clock = RunClock::at(options.now, exe.config().zone);
  context_.previous = options.previous;
  if (options_.threads < 1) options_.threads = 1;
  allocated_.resize(kTableCount);
  fullRow_.resize(kTableCount);
  for (const TimeZone& zone : data_.zones) periods_.emplace_back(context_.clock.now, zone);
  periods_.emplace_back(context_.clock.now, exe_.config().zone);
  channelCaps_.resize(exe_.program().channels.size());
  for (const CapRule& r : exe_.program().caps) {
    capTexts_.emplace_back();
    for (const CapWindow& win : r.windows) capTexts_.back().push_back(suppressionText(r, win));
    if (r.channel < 0) anyCaps_.push_back(&r);
    else if (static_cast<size_t>(r.channel) < channelCaps_.size())
      (r.condition >= 0 ? channelCaps_[r.channel].conditional : channelCaps_[r.channel].unconditional).push_back(&r);
  }
}

DecisionRun::~DecisionRun() = default;

bool DecisionRun::isHoldout(uint32_t c) const { return !holdout_.empty() && holdout_[c]; }

template <class Fn>
bool DecisionRun::forEachBlock(size_t customers, Fn fn, std::string& error) {
  const size_t blocks = (customers + kBlock - 1) / kBlock;
  size_t threads = std::min<size_t>(static_cast<size_t>(options_.threads), std::max<size_t>(blocks, 1));
  workers_.clear();
  for (size_t t = 0; t < threads; ++t) {
    auto w = std::make_unique<Worker>();
    w->ev = std::make_unique<Evaluator>(exe_, data_, context_);
    workers_.push_back(std::move(w));
  }
  // A fault is reported for the first customer (in input order) that hit one.
  std::vector<std::string> faults(blocks);
  std::atomic<size_t> next{0};
  auto work = [&](Worker& w) {
    for (size_t b; (b = next.fetch_add(1)) < blocks;) {
      size_t begin = b * kBlock, end = std::min(customers, begin + kBlock);
      fn(w, b, begin, end);
      if (!w.ev->fault().empty()) faults[b] = w.ev->fault();
      if (!faults[b].empty()) w.ev = std::make_unique<Evaluator>(exe_, data_, context_);
    }
  };
  if (threads <= 1) {
    if (!workers_.empty()) work(*workers_[0]);
  } else {
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t) pool.emplace_back(work, std::ref(*workers_[t]));
    for (auto& t : pool) t.join();
  }
  for (const auto& f : faults)
    if (!f.empty()) {
      error = f;
      return false;
    }
  return true;
}

bool DecisionRun::prepare(std::string& error) { return prepareSteps(nullptr, error); }

bool DecisionRun::prepare(const MergedStats& merged, std::string& error) { return prepareSteps(&merged, error); }

void DecisionRun::testUpFront() {
  if (selections_) return;
  selections_ = std::make_unique<EventSelections>(exe_, context_.clock, data_, options_.threads);
  context_.selections = selections_.get();
  customerConditions_ = std::make_unique<CustomerConditions>(exe_, context_.clock, data_, selections_.get(), options_.threads);
  context_.customers = customerConditions_.get();
}

size_t DecisionRun::eventsSelected() const { return selections_ ? selections_->conditions() : 0; }

size_t DecisionRun::customerConditions() const { return customerConditions_ ? customerConditions_->conditions() : 0; }

bool DecisionRun::prepareSteps(const MergedStats* merged, std::string& error) {
  testUpFront();
  const Program& p = exe_.program();
  const size_t n = data_.customerCount;
  plan_ = statsPlan(exe_);
  nextStep_ = 0;
  carry_.reset();
  if (std::any_of(plan_.begin(), plan_.end(), [](const StatsStep& s) { return s.kind == StatsStep::Kind::Allocation; }))
    carry_ = std::make_unique<Carry>(p);
  if (p.holdout.present) {
    holdout_.resize(n);
    const uint64_t seed = bucketSeed(p.holdout.salt);
    for (uint32_t c = 0; c < n; ++c) holdout_[c] = customerBucket(data_.customerId(c), seed) < p.holdout.fraction;
  }
  // std.clv alone needs a pass over the customers but nothing from the rest of the population.
  const bool populationStep = p.features & (kUsesRfm | kUsesQuantile);
  if (p.features & (kUsesRfm | kUsesQuantile | kUsesClv)) {
    if (populationStep && merged && merged->steps <= nextStep_) return true;
    if (!populationPass(populationStep ? merged : nullptr, nullptr, error)) return false;
    if (populationStep) ++nextStep_;
  }
  while (nextStep_ < plan_.size()) {
    if (merged && merged->steps <= nextStep_) return true;
    TableKind t = plan_[nextStep_].table;
    if (!allocate(t, merged ? &merged->allocations[static_cast<int>(t)] : nullptr, nullptr, error)) return false;
    ++nextStep_;
  }
  return true;
}

bool DecisionRun::contribute(StepStats& out, std::string& error) {
  if (nextStep_ >= plan_.size()) {
    error = "every whole-population step of these rules is already complete";
    return false;
  }
  out = StepStats();
  out.step = plan_[nextStep_];
  out.customers = data_.customerCount;
  if (out.step.kind == StatsStep::Kind::Population) return populationPass(nullptr, &out, error);
  return allocate(out.step.table, nullptr, &out, error);
}

namespace {

int64_t rowLimit(const Executable& exe, const DecisionRow& row) {
  return row.limitParam >= 0 ? exe.params()[row.limitParam].i : row.limit;
}

}  // namespace

std::vector<StatsStep> statsPlan(const Executable& exe) {
  const Program& p = exe.program();
  std::vector<StatsStep> plan;
  if (p.features & (kUsesRfm | kUsesQuantile)) plan.push_back(StatsStep{StatsStep::Kind::Population, TableKind::Offer});
  for (uint8_t t : p.decisionOrder) {
    const DecisionTable& table = p.tables[t];
    if (std::any_of(table.rows.begin(), table.rows.end(), [&](const DecisionRow& r) { return rowLimit(exe, r) >= 0; }))
      plan.push_back(StatsStep{StatsStep::Kind::Allocation, static_cast<TableKind>(t)});
  }
  return plan;
}

namespace {

// std.clv's parameters: the config's clv.fitted, as `rekindle fit` wrote it for this config.
std::optional<ClvModel> loadFittedClv(const Executable& exe, std::string& error) {
  const Config& cfg = exe.config();
  const Program& p = exe.program();
  std::string refit = "rekindle fit --config " + cfg.path + " -o " + (cfg.clv.fitted.empty() ? "clv.yaml" : cfg.clv.fitted);
  if (cfg.clv.fitted.empty()) {
    error = "the rules use std.clv, and the config names no fitted parameters: run `" + refit +
            "` and set `clv: { fitted: clv.yaml }` in " + cfg.path;
    return std::nullopt;
  }
  auto m = loadClvModel(cfg.clv.fitted, error);
  if (!m) {
    error = "std.clv: " + error + " (write it with `" + refit + "`)";
    return std::nullopt;
  }
  if (m->unit != cfg.clv.unit) {
    error = "std.clv: " + cfg.clv.fitted + " was fitted in " + m->unit + " and the config's clv.unit is " +
            cfg.clv.unit + "; refit: `" + refit + "`";
    return std::nullopt;
  }
  if (m->purchase != p.clvPurchase || m->amount != p.clvAmount) {
    error = "std.clv: " + cfg.clv.fitted + " was fitted with clv.purchase '" + m->purchase + "' and clv.amount '" +
            m->amount + "', and the rules were compiled with '" + p.clvPurchase + "' and '" + p.clvAmount +
            "'; refit: `" + refit + "`";
    return std::nullopt;
  }
  return m;
}

}  // namespace

bool DecisionRun::populationPass(const MergedStats* merged, StepStats* part, std::string& error) {
  const Program& p = exe_.program();
  const size_t n = data_.customerCount;
  bool rfm = p.features & kUsesRfm;
  std::vector<std::optional<std::array<double, 3>>> rfmValues(rfm ? n : 0);
  const size_t blocks = (n + kBlock - 1) / kBlock;
  // std.clv: the fitted parameters (read now, so refitting needs no recompilation) and each
  // customer's summary as of today.
  bool clv = p.features & kUsesClv;
  std::optional<ClvModel> clvModel;
  if (clv && options_.clvCache && *options_.clvCache) clvModel = **options_.clvCache;  // a grouped run's batches
  else if (clv && !(clvModel = loadFittedClv(exe_, error))) return false;
  if (clv && options_.clvCache) *options_.clvCache = clvModel;
  std::vector<std::optional<ClvSummary>> clvValues(clv ? n : 0);
  std::vector<std::string> clvFaults(clv ? blocks : 0);
  const double unitDays = clv ? clvUnitDays(clvModel->unit) : 1;
  std::vector<std::vector<std::vector<double>>> quantileParts(blocks, std::vector<std::vector<double>>(p.quantiles.size()));
  bool ok = forEachBlock(n, [&](Worker& w, size_t b, size_t begin, size_t end) {
    for (size_t c = begin; c < end; ++c) {
      w.ev->begin(static_cast<uint32_t>(c));
      if (rfm) {
        Value recency = w.ev->runChunk(p.rfmChunks[0]);
        Value frequency = w.ev->runChunk(p.rfmChunks[1]);
        Value monetary = w.ev->runChunk(p.rfmChunks[2]);
        if (!recency.isNull() && !frequency.isNull() && frequency.asNumber() >= 1)
          rfmValues[c] = std::array<double, 3>{recency.asNumber(), frequency.asNumber(), monetary.isNull() ? 0.0 : monetary.asNumber()};
      }
      for (size_t q = 0; q < p.quantiles.size(); ++q) {
        Value v = w.ev->runChunk(p.quantiles[q]);
        if (v.tag == Kind::Int || v.tag == Kind::Float) quantileParts[b][q].push_back(v.asNumber());
      }
      if (clv && clvFaults[b].empty()) {
        std::vector<ClvPurchase> purchases;
        if (readClvPurchases(*w.ev, p, context_.clock.zone, purchases, clvFaults[b]))
          clvValues[c] = summarizePurchases(std::move(purchases), context_.clock.today, unitDays);
      }
    }
  }, error);
  if (!ok) return false;
  for (const auto& f : clvFaults)
    if (!f.empty()) {
      error = f;
      return false;
    }
  // The breaks and ranks come from the merged population when this is one part of it.
  if (rfm) {
    if (part || !merged) {
      std::vector<double> cols[3];
      for (const auto& v : rfmValues)
        if (v)
          for (int k = 0; k < 3; ++k) cols[k].push_back((*v)[k]);
      std::array<Distribution, 3> mine{Distribution(std::move(cols[0])), Distribution(std::move(cols[1])), Distribution(std::move(cols[2]))};
      if (part) {
        part->rfm = true;
        part->rfmValues = mine;
      }
      population_.setRfm(rfmValues, merged ? merged->rfm : mine);
    } else {
      population_.setRfm(rfmValues, merged->rfm);
    }
  }
  if (clv) population_.setClv(*clvModel, std::move(clvValues));
  for (size_t q = 0; q < p.quantiles.size(); ++q) {
    std::vector<double> all;
    for (const auto& block : quantileParts) all.insert(all.end(), block[q].begin(), block[q].end());
    Distribution mine(std::move(all));
    if (part) part->quantiles.push_back(mine);
    if (merged) population_.setQuantile(q, merged->quantiles[q]);
    else population_.setQuantile(q, std::move(mine));
  }
  context_.population = &population_;
  return true;
}

namespace {

struct Candidate {
  int32_t row = 0;
  bool consumes = true;  // counts against the row's limit if it gets it
  RankKey key;
};

// The customers competing for one table's budgets: this run's, or every part's competitors.
struct Contest {
  std::vector<const std::string*> ids;
  std::vector<uint8_t> holdout;  // empty: nobody held out
  std::vector<uint32_t> rowBegin, candBegin;  // size + 1 offsets
  std::vector<int32_t> rows;      // eligible rows in table order
  std::vector<Candidate> cands;   // one per eligible limited row
  size_t size() const { return ids.size(); }
};

// Rows in table order: the customers whose first remaining eligible row is this one compete;
// the top `limit` get it, the rest fall through to their next eligible row (SPEC §5.4).
void runContest(const Executable& exe, TableKind table, const Contest& c, std::vector<int32_t>& allocated,
                std::vector<int32_t>& full, std::vector<BudgetUse>& budgets) {
  const DecisionTable& t = exe.program().table(table);
  const size_t n = c.size();
  allocated.assign(n, -1);
  full.assign(n, -1);
  std::vector<uint32_t> position(n, 0);
  std::vector<std::vector<uint32_t>> waiting(t.rows.size());
  for (uint32_t k = 0; k < n; ++k) {
    if (c.rowBegin[k] == c.rowBegin[k + 1]) continue;  // no eligible row: null
    int32_t first = c.rows[c.rowBegin[k]];
    if (!c.holdout.empty() && c.holdout[k]) allocated[k] = first;  // the control group uses no budget
    else waiting[first].push_back(k);
  }
  auto candidateOf = [&](uint32_t k, int32_t r) -> const Candidate& {
    for (uint32_t i = c.candBegin[k]; i < c.candBegin[k + 1]; ++i)
      if (c.cands[i].row == r) return c.cands[i];
    return c.cands[c.candBegin[k]];  // unreachable: every eligible limited row has an entry
  };
  for (size_t r = 0; r < t.rows.size(); ++r) {
    std::vector<uint32_t>& here = waiting[r];
    const DecisionRow& row = t.rows[r];
    const int64_t limit = rowLimit(exe, row);
    if (limit < 0) {
      for (uint32_t k : here) allocated[k] = static_cast<int32_t>(r);
      continue;
    }
    const std::string& outcome = exe.outcomeName(table, row.outcome);
    const uint64_t seed = bucketSeed(outcome);
    struct Contender {
      uint32_t customer;
      const Candidate* cand;
      double bucket;
    };
    std::vector<Contender> contenders;
    for (uint32_t k : here) {
      const Candidate& cand = candidateOf(k, static_cast<int32_t>(r));
      if (cand.consumes) contenders.push_back({k, &cand, customerBucket(*c.ids[k], seed)});
      else allocated[k] = static_cast<int32_t>(r);
    }
    // Ties go to the customer with the lower bucket of the row's outcome name, then the lower id:
    // independent of input order, thread count and sharding. Only the winners and the first one
    // turned away (the cutoff's tie) need their places: the others fall through to their next
    // row, whose own contest orders them again.
    size_t given = std::min<size_t>(contenders.size(), static_cast<size_t>(limit));
    std::partial_sort(contenders.begin(), contenders.begin() + std::min(contenders.size(), given + 1), contenders.end(),
                      [&](const Contender& a, const Contender& b) {
                        int cmp = RankKey::compare(a.cand->key, b.cand->key, row.descending);
                        if (cmp != 0) return cmp < 0;
                        if (a.bucket != b.bucket) return a.bucket < b.bucket;
                        return *c.ids[a.customer] < *c.ids[b.customer];
                      });
    BudgetUse use;
    use.table = table;
    use.row = static_cast<int>(r);
    use.outcome = outcome;
    use.limit = limit;
    use.given = given;
    use.turnedAway = contenders.size() - given;
    if (given > 0 && row.rankBy >= 0) {
      const RankKey& last = contenders[given - 1].cand->key;
      use.cutoff = last.kind == 0 ? "null" : last.kind == 2 ? "\"" + last.text + "\"" : fmt::format("{}", last.number);
      use.tieAtCutoff = given < contenders.size() && RankKey::compare(last, contenders[given].cand->key, row.descending) == 0;
    } else if (given > 0 && given < contenders.size()) {
      use.tieAtCutoff = true;  // no `rank by`: the bucket alone decides
    }
    budgets.push_back(use);
    for (size_t i = 0; i < contenders.size(); ++i) {
      uint32_t k = contenders[i].customer;
      if (i < given) {
        allocated[k] = static_cast<int32_t>(r);
        continue;
      }
      if (full[k] < 0) full[k] = static_cast<int32_t>(r);
      // Fall through to the next eligible row.
      uint32_t pos = ++position[k];
      while (c.rowBegin[k] + pos < c.rowBegin[k + 1] && c.rows[c.rowBegin[k] + pos] <= static_cast<int32_t>(r)) pos = ++position[k];
      if (c.rowBegin[k] + pos < c.rowBegin[k + 1]) waiting[c.rows[c.rowBegin[k] + pos]].push_back(k);
    }
    here.clear();
    here.shrink_to_fit();
  }
}

const Candidate* candidateIn(const Contest& c, uint32_t k, int32_t r) {
  for (uint32_t i = c.candBegin[k]; i < c.candBegin[k + 1]; ++i)
    if (c.cands[i].row == r) return &c.cands[i];
  return nullptr;
}

// Does the customer compete (rather than simply take their first eligible row)?
bool competes(const Contest& c, uint32_t k) {
  if (c.rowBegin[k] == c.rowBegin[k + 1] || (!c.holdout.empty() && c.holdout[k])) return false;
  const Candidate* first = candidateIn(c, k, c.rows[c.rowBegin[k]]);
  return first && first->consumes;
}

}  // namespace

bool mergeStep(const Executable& exe, StepStats&& parts, MergedStats& merged, std::string& error) {
  const Program& p = exe.program();
  std::vector<StatsStep> plan = statsPlan(exe);
  if (merged.steps >= plan.size() || !(plan[merged.steps] == parts.step)) {
    error = "the summaries are of step '" + parts.step.name() + "', and the next step of these rules is " +
            (merged.steps < plan.size() ? "'" + plan[merged.steps].name() + "'" : std::string("none"));
    return false;
  }
  if (parts.step.kind == StatsStep::Kind::Population) {
    if (parts.rfm != bool(p.features & kUsesRfm) || parts.quantiles.size() != p.quantiles.size()) {
      error = fmt::format("the population summaries hold {} and {} quantile_rank distributions; these rules use {} and {}",
                          parts.rfm ? "RFM values" : "no RFM values", parts.quantiles.size(),
                          (p.features & kUsesRfm) ? "RFM" : "no RFM", p.quantiles.size());
      return false;
    }
    merged.rfm = std::move(parts.rfmValues);
    merged.quantiles.clear();
    for (auto& q : parts.quantiles) merged.quantiles.push_back(std::make_shared<const Distribution>(std::move(q)));
    merged.population = true;
    ++merged.steps;
    return true;
  }
  const TableKind table = parts.step.table;
  const DecisionTable& t = p.table(table);
  Contest c;
  c.rowBegin.push_back(0);
  c.candBegin.push_back(0);
  std::unordered_map<std::string_view, uint32_t> seen;
  for (const AllocationEntry& e : parts.entries) {
    if (!seen.emplace(e.id, static_cast<uint32_t>(c.ids.size())).second) {
      error = "customer '" + e.id + "' competes in two parts of the " + parts.step.name() + " step: the shards overlap";
      return false;
    }
    int32_t previous = -1;
    for (const AllocationChoice& ch : e.rows) {
      bool limited = ch.row >= 0 && static_cast<size_t>(ch.row) < t.rows.size() && rowLimit(exe, t.rows[ch.row]) >= 0;
      if (ch.row <= previous || static_cast<size_t>(ch.row) >= t.rows.size() || limited != ch.limited) {
        error = fmt::format("customer '{}' is summarised with row {} of the {} table, which does not fit these rules", e.id, ch.row, tableName(table));
        return false;
      }
      previous = ch.row;
      c.rows.push_back(ch.row);
      if (ch.limited) c.cands.push_back(Candidate{ch.row, ch.consumes, ch.key});
    }
    c.ids.push_back(&e.id);
    c.rowBegin.push_back(static_cast<uint32_t>(c.rows.size()));
    c.candBegin.push_back(static_cast<uint32_t>(c.cands.size()));
  }
  std::vector<int32_t> allocated, full;
  MergedStats::Allocation& out = merged.allocations[static_cast<int>(table)];
  out = MergedStats::Allocation();
  runContest(exe, table, c, allocated, full, out.budgets);
  for (size_t k = 0; k < c.size(); ++k) out.rows.emplace(*c.ids[k], std::make_pair(allocated[k], full[k]));
  out.present = true;
  ++merged.steps;
  return true;
}

int64_t DecisionRun::limitOf(const DecisionRow& row) const { return rowLimit(exe_, row); }

bool DecisionRun::allocate(TableKind table, const MergedStats::Allocation* merged, StepStats* part, std::string& error) {
  const Program& p = exe_.program();
  // An offer counts against its budget only when it reaches the customer: when the channel is
  // decided first, a customer without a channel, or whom the caps stop, takes it for free.
  bool offerFollowsChannel = false;
  if (table == TableKind::Offer && p.table(TableKind::Channel).present)
    for (uint8_t t : p.decisionOrder) {
      if (t == static_cast<uint8_t>(TableKind::Channel)) {
        offerFollowsChannel = true;
        break;
      }
      if (t == static_cast<uint8_t>(TableKind::Offer)) break;
    }
  const DecisionTable& t = p.table(table);
  const size_t n = data_.customerCount;
  const size_t blocks = (n + kBlock - 1) / kBlock;
  // Per block: every customer's eligible rows, and a candidate entry for each limited one.
  struct BlockRows {
    std::vector<uint32_t> offset;  // per customer of the block, into rows (size + 1)
    std::vector<int32_t> rows;
    std::vector<uint32_t> candOffset;
    std::vector<Candidate> cands;
  };
  std::vector<BlockRows> parts(blocks);
  // A customer who reaches an unlimited row takes it: the contest never looks past it.
  std::vector<bool> unlimited(t.rows.size());
  for (size_t r = 0; r < t.rows.size(); ++r) unlimited[r] = limitOf(t.rows[r]) < 0;
  uint8_t fixed = 0, allocating = 0;
  for (int k = 0; k < kTableCount; ++k)
    if (!allocated_[k].empty()) fixed |= uint8_t(1u << k);
  for (const StatsStep& s : plan_)
    if (s.kind == StatsStep::Kind::Allocation) allocating |= uint8_t(1u << static_cast<int>(s.table));
  if (carry_) carry_->startPass(fixed, allocating, n);
  bool ok = forEachBlock(n, [&](Worker& w, size_t b, size_t begin, size_t end) {
    BlockRows& out = parts[b];
    out.offset.push_back(0);
    out.candOffset.push_back(0);
    for (size_t c = begin; c < end; ++c) {
      Evaluator& ev = *w.ev;
      startCustomer(ev, static_cast<uint32_t>(c), true);
      std::vector<int>& rows = w.rows;
      ev.eligibleRows(table, rows, &unlimited);
      std::optional<bool> delivered;  // for offers: does a message go out?
      for (int r : rows) {
        out.rows.push_back(r);
        const DecisionRow& row = t.rows[r];
        if (limitOf(row) < 0) continue;
        Candidate cand;
        cand.row = r;
        if (row.rankBy >= 0) cand.key = RankKey::of(ev.runChunk(row.rankBy));
        // A customer the caps would stop is not called: they do not use the channel's capacity.
        if (table == TableKind::Channel && row.outcome != kNoOutcome && !p.caps.empty())
          cand.consumes = capsAllow(w, static_cast<uint32_t>(c), row.outcome);
        if (offerFollowsChannel) {
          if (!delivered) {
            Value ch = ev.decision(TableKind::Channel);
            bool real = !ch.isNull() && ch.i != kNoOutcome;
            delivered = real && (p.caps.empty() || capsAllow(w, static_cast<uint32_t>(c), static_cast<int32_t>(ch.i)));
          }
          cand.consumes = *delivered;
        }
        out.cands.push_back(std::move(cand));
      }
      if (carry_) carry_->record(ev, static_cast<uint32_t>(c));
      out.offset.push_back(static_cast<uint32_t>(out.rows.size()));
      out.candOffset.push_back(static_cast<uint32_t>(out.cands.size()));
    }
  }, error);
  if (!ok) return false;

  // Flatten in input order.
  Contest contest;
  contest.ids.resize(n);
  for (uint32_t k = 0; k < n; ++k) contest.ids[k] = &data_.customerId(k);
  contest.holdout = holdout_;
  contest.rowBegin.assign(n + 1, 0);
  contest.candBegin.assign(n + 1, 0);
  size_t c = 0;
  for (auto& block : parts) {
    for (size_t k = 0; k + 1 < block.offset.size(); ++k, ++c) {
      contest.rowBegin[c] = static_cast<uint32_t>(contest.rows.size() + block.offset[k]);
      contest.candBegin[c] = static_cast<uint32_t>(contest.cands.size() + block.candOffset[k]);
    }
    contest.rows.insert(contest.rows.end(), block.rows.begin(), block.rows.end());
    for (auto& cand : block.cands) contest.cands.push_back(std::move(cand));
  }
  contest.rowBegin[n] = static_cast<uint32_t>(contest.rows.size());
  contest.candBegin[n] = static_cast<uint32_t>(contest.cands.size());
  parts.clear();

  std::vector<int32_t>& allocated = allocated_[static_cast<int>(table)];
  std::vector<int32_t>& full = fullRow_[static_cast<int>(table)];
  if (part) {
    // This part's competitors, with their rows up to the first they take without competing.
    for (uint32_t k = 0; k < n; ++k) {
      if (!competes(contest, k)) continue;
      AllocationEntry e;
      e.id = data_.customerId(k);
      for (uint32_t i = contest.rowBegin[k]; i < contest.rowBegin[k + 1]; ++i) {
        const Candidate* cand = candidateIn(contest, k, contest.rows[i]);
        AllocationChoice ch;
        ch.row = contest.rows[i];
        if (cand) {
          ch.limited = true;
          ch.consumes = cand->consumes;
          ch.key = cand->key;
        }
        e.rows.push_back(std::move(ch));
        if (!cand || !cand->consumes) break;
      }
      part->entries.push_back(std::move(e));
    }
    return true;
  }
  if (merged) {
    // The allocation over every part: competitors get what it gave them, everyone else their
    // first eligible row, exactly as the contest over the whole population would.
    allocated.assign(n, -1);
    full.assign(n, -1);
    for (uint32_t k = 0; k < n; ++k) {
      if (contest.rowBegin[k] == contest.rowBegin[k + 1]) continue;
      bool competing = competes(contest, k);
      auto it = merged->rows.find(data_.customerId(k));
      if (competing != (it != merged->rows.end())) {
        error = fmt::format("the summaries of the allocation {} step {} customer '{}', who {} for a budget in this run: "
                            "were they computed from the same exports?", tableName(table),
                            competing ? "do not include" : "include", data_.customerId(k), competing ? "competes" : "does not compete");
        return false;
      }
      if (competing) {
        allocated[k] = it->second.first;
        full[k] = it->second.second;
      } else {
        allocated[k] = contest.rows[contest.rowBegin[k]];
      }
    }
    budgets_.insert(budgets_.end(), merged->budgets.begin(), merged->budgets.end());
    return true;
  }
  runContest(exe_, table, contest, allocated, full, budgets_);
  return true;
}

bool DecisionRun::capsAllow(Worker& w, uint32_t c, int32_t programChannel) {
  w.probe.suppressedBy.clear();
  checkCaps(w, c, programChannel, w.probe);
  return w.probe.suppressedBy.empty();
}

void DecisionRun::checkCaps(Worker& w, uint32_t c, int32_t ch, Decision& d, std::vector<CapWindowReport>* report) {
  const Program& p = exe_.program();
  if (p.caps.empty() || ch < 0) return;
  Evaluator& ev = *w.ev;
  // The channel's first conditional cap whose condition holds, else its unconditional caps;
  // and every `cap any` line whose condition holds (SPEC §5.3).
  static const ChannelCaps kNoCaps;  // a channel the program does not name (forged bytecode)
  const ChannelCaps& own = static_cast<size_t>(ch) < channelCaps_.size() ? channelCaps_[static_cast<size_t>(ch)] : kNoCaps;
  const CapRule* const* ownBegin = own.unconditional.data();
  const CapRule* const* ownEnd = ownBegin + own.unconditional.size();
  for (const CapRule* const& r : own.conditional)
    if (ev.runChunk(r->condition).isTrue()) {
      ownBegin = &r;
      ownEnd = &r + 1;
      break;
    }
  if (ownBegin == ownEnd && anyCaps_.empty()) return;

  // The customer's contacts, oldest first; the chosen channel's are copied out only when one of
  // its caps applies.
  const int64_t* all = data_.contactTime.data() + data_.contactBegin[c];
  const int64_t* allEnd = data_.contactTime.data() + data_.contactBegin[c + 1];
  const int64_t* channelFirst = nullptr;
  const int64_t* channelLast = nullptr;
  if (ownBegin != ownEnd) {
    const int configChannel = exe_.configChannel(ch);
    const uint32_t from = data_.contactBegin[c], to = data_.contactBegin[c + 1];
    if (w.channelContacts.size() < to - from) w.channelContacts.resize(to - from);  // only grows
    int64_t* out = w.channelContacts.data();
    for (uint32_t k = from; k < to; ++k)
      if (data_.contactChannel[k] == configChannel) *out++ = data_.contactTime[k];
    channelFirst = w.channelContacts.data();
    channelLast = out;
  }
  const int32_t zone = data_.zoneIndex(c);
  const CalendarPeriods& periods = periods_[zone < 0 ? data_.zones.size() : static_cast<size_t>(zone)];
  const int64_t now = context_.clock.now;
  // The binding cap is the full window that stays full longest: it decides next_eligible_at.
  int64_t eligible = now;
  auto checkRule = [&](const CapRule* r, const int64_t* first, const int64_t* last) {
    for (size_t k = 0; k < r->windows.size(); ++k) {
      const CapWindow& win = r->windows[k];
      WindowCheck check = checkWindow(win, first, last, now, periods);
      if (report) {
        CapWindowReport line{r->text, windowText(win), check.count, win.count, check.full, check.eligibleAt, {}};
        for (const int64_t* t = first; t != last; ++t)
          if (countsInWindow(win, *t, now, periods)) line.counted.push_back(*t);
        report->push_back(std::move(line));
      }
      if (!check.full) continue;
      if (d.suppressedBy.empty() || check.eligibleAt > eligible) {
        eligible = check.eligibleAt;
        d.suppressedBy = capTexts_[r - p.caps.data()][k];
      }
    }
  };
  for (const CapRule* const* r = ownBegin; r != ownEnd; ++r) checkRule(*r, channelFirst, channelLast);
  for (const CapRule* r : anyCaps_)
    if (r->condition < 0 || ev.runChunk(r->condition).isTrue()) checkRule(r, all, allEnd);
  if (!d.suppressedBy.empty()) d.nextEligibleAt = eligible;
}

void DecisionRun::startCustomer(Evaluator& ev, uint32_t c, bool carried) {
  ev.begin(c);
  for (int k = 0; k < kTableCount; ++k)
    if (!allocated_[k].empty()) ev.fixRow(static_cast<TableKind>(k), allocated_[k][c]);
  if (carried && carry_) carry_->apply(ev, c);
}

void DecisionRun::decideCustomer(Worker& w, uint32_t c, Decision& d, bool carried) {
  const Program& p = exe_.program();
  Evaluator& ev = *w.ev;
  startCustomer(ev, c, carried);
  d.reset(c);
  for (uint8_t t : p.decisionOrder) ev.decision(static_cast<TableKind>(t));
  for (int t = 0; t < kTableCount; ++t) {
    if (!p.tables[t].present) continue;
    Value v = ev.decision(static_cast<TableKind>(t));
    d.row[t] = ev.decidedRow(static_cast<TableKind>(t));
    if (!fullRow_[t].empty()) d.fullRow[t] = fullRow_[t][c];
    if (t == 0) d.stage = v;
    if (t == 1) d.channel = v;
    if (t == 2) d.offer = v;
  }
  d.segments.resize(p.segments.size());
  for (uint32_t s = 0; s < p.segments.size(); ++s) d.segments[s] = ev.segment(s).isTrue();
  d.holdout = isHoldout(c);
  bool reachable = !d.channel.isNull() && d.channel.i != kNoOutcome;
  if (reachable) checkCaps(w, c, static_cast<int32_t>(d.channel.i), d);
  d.send = reachable && d.suppressedBy.empty() && !d.holdout;
  if (d.send) {
    int64_t at = context_.clock.now;
    const ChannelSpec& spec = exe_.config().channels[exe_.configChannel(static_cast<int32_t>(d.channel.i))];
    if (spec.quiet) at = sendTimeAfterQuietHours(at, *spec.quiet, data_.zoneOf(c, exe_.config().zone));
    d.sendAt = at;
  }
  if (const PreviousDecisions* prev = context_.previous) {
    std::string now = outcomeLabel(exe_, TableKind::Stage, d.stage);
    if (!prev->present[c]) d.transition = "->" + now;
    else if (prev->stageName[c] != now) d.transition = prev->stageName[c] + "->" + now;
  }
}

namespace {

// One block's summary, counted by outcome, segment and offer index: the names are looked up
// once per block, when the tally becomes a RunSummary, instead of once per customer.
class Tally {
 public:
  explicit Tally(const Executable& exe) : exe_(exe), p_(exe.program()) {
    channels_ = p_.channels.size() + 2;
    stageChannel_.assign((p_.stages.size() + 2) * channels_, 0);
    offers_.assign(p_.offers.size() + 2, 0);
    offerCosts_.assign(p_.offers.size(), 0);
    offerCosted_.assign(p_.offers.size(), false);
    segments_.assign(p_.segments.size(), 0);
  }

  void count(const Decision& d) {
    RunSummary& s = rest_;
    ++s.customers;
    if (d.send) ++s.sends;
    if (!d.suppressedBy.empty()) {
      ++s.suppressed;
      ++s.suppressedBy[d.suppressedBy];
    }
    if (d.holdout) ++s.holdout;
    ++stageChannel_[slot(d.stage) * channels_ + slot(d.channel)];
    if (p_.tables[2].present) ++offers_[slot(d.offer)];
    // An offer costs when it goes out: not to the control group, not when the message is held back.
    if (!d.offer.isNull() && d.offer.i != kNoOutcome && !d.holdout) {
      double cost = exe_.config().offers[exe_.configOffer(static_cast<int32_t>(d.offer.i))].cost;
      s.offerCost += cost;
      offerCosts_[d.offer.i] += cost;
      offerCosted_[d.offer.i] = true;
    }
    for (uint32_t k = 0; k < p_.segments.size(); ++k) segments_[k] += d.segments[k];
    if (!d.transition.empty()) ++s.transitions[d.transition];
  }

  RunSummary summary() const {
    RunSummary s = rest_;
    for (size_t k = 0; k < stageChannel_.size(); ++k)
      if (stageChannel_[k])
        s.stageChannel[{label(TableKind::Stage, k / channels_), label(TableKind::Channel, k % channels_)}] = stageChannel_[k];
    for (size_t k = 0; k < offers_.size(); ++k)
      if (offers_[k]) s.offers[label(TableKind::Offer, k)] = offers_[k];
    for (size_t k = 0; k < offerCosts_.size(); ++k)
      if (offerCosted_[k]) s.offerCosts[exe_.outcomeName(TableKind::Offer, static_cast<int64_t>(k))] = offerCosts_[k];
    for (size_t k = 0; k < segments_.size(); ++k)
      if (segments_[k]) s.segments[p_.segments[k].name] = segments_[k];
    return s;
  }

 private:
  // An outcome's place: 0 null, 1 none, then the outcomes in program order.
  static size_t slot(const Value& v) { return v.isNull() ? 0 : static_cast<size_t>(v.i - kNoOutcome + 1); }
  std::string label(TableKind k, size_t slot) const {
    return slot == 0 ? std::string() : exe_.outcomeName(k, static_cast<int64_t>(slot) + kNoOutcome - 1);
  }

  const Executable& exe_;
  const Program& p_;
  size_t channels_ = 0;
  RunSummary rest_;  // what is counted by name: suppressions, transitions; and the totals
  std::vector<uint64_t> stageChannel_, offers_, segments_;
  std::vector<double> offerCosts_;
  std::vector<bool> offerCosted_;
};

}  // namespace

bool DecisionRun::decide(DecisionSink& sink, RunSummary& summary, std::string& error) {
  testUpFront();
  if (nextStep_ < plan_.size()) {
    error = "the whole-population step '" + plan_[nextStep_].name() + "' has not been computed";
    return false;
  }
  const size_t n = data_.customerCount;
  const size_t blocks = (n + kBlock - 1) / kBlock;
  // Waves of blocks bound the memory held before writing, whatever the export's size.
  const size_t wave = static_cast<size_t>(options_.threads) * 8;
  bool concurrent = sink.formatsConcurrently();
  for (size_t first = 0; first < blocks; first += wave) {
    size_t last = std::min(blocks, first + wave);
    size_t begin = first * kBlock, end = std::min(n, last * kBlock);
    std::vector<std::string> text(last - first);
    std::vector<std::vector<Decision>> rows(last - first);
    std::vector<Tally> sums(last - first, Tally(exe_));
    // Blocks of this wave: forEachBlock counts them from the wave's first customer.
    bool ok = forEachBlock(end - begin, [&](Worker& w, size_t b, size_t from, size_t to) {
      Decision d;
      for (size_t k = from; k < to; ++k) {
        decideCustomer(w, static_cast<uint32_t>(begin + k), d, true);
        if (!w.ev->fault().empty()) return;
        sums[b].count(d);
        if (concurrent) sink.format(d, text[b]);
        else rows[b].push_back(d);
      }
    }, error);
    if (!ok) return false;
    for (size_t b = 0; b < last - first; ++b) {
      if (concurrent) sink.writeFormatted(text[b]);
      else
        for (const Decision& d : rows[b]) sink.write(d);
      summary.merge(sums[b].summary());
    }
  }
  summary.budgets = budgets_;
  return true;
}

std::vector<CapWindowReport> DecisionRun::capReport(uint32_t customer, int32_t programChannel) {
  Worker w;
  w.ev = std::make_unique<Evaluator>(exe_, data_, context_);
  startCustomer(*w.ev, customer, false);
  Decision d;
  std::vector<CapWindowReport> report;
  checkCaps(w, customer, programChannel, d, &report);
  return report;
}

std::vector<int> DecisionRun::eligibleRows(uint32_t customer, TableKind table, EvalTracer* tracer) {
  Evaluator ev(exe_, data_, context_);
  ev.setTracer(tracer);
  ev.begin(customer);
  for (int k = 0; k < kTableCount; ++k)
    if (k != static_cast<int>(table) && !allocated_[k].empty()) ev.fixRow(static_cast<TableKind>(k), allocated_[k][customer]);
  std::vector<int> rows;
  ev.eligibleRows(table, rows);
  return rows;
}

std::string DecisionRun::rankValue(uint32_t customer, TableKind table, int row) {
  const DecisionRow& r = exe_.program().table(table).rows[row];
  if (r.rankBy < 0) return "";
  Evaluator ev(exe_, data_, context_);
  ev.begin(customer);
  for (int k = 0; k < kTableCount; ++k)
    if (k != static_cast<int>(table) && !allocated_[k].empty()) ev.fixRow(static_cast<TableKind>(k), allocated_[k][customer]);
  Value v = ev.runChunk(r.rankBy);
  if (v.isNull()) return "null";
  if (v.tag == Kind::String) return "\"" + *v.s + "\"";
  return fmt::format("{}", v.tag == Kind::Float ? v.f : static_cast<double>(v.i));
}

bool DecisionRun::decideOne(uint32_t customer, EvalTracer* tracer, Decision& out, std::string& error) {
  Worker w;
  w.ev = std::make_unique<Evaluator>(exe_, data_, context_);
  w.ev->setTracer(tracer);
  decideCustomer(w, customer, out, false);
  if (!w.ev->fault().empty()) {
    error = w.ev->fault();
    return false;
  }
  return true;
}

}  // namespace rekindle
