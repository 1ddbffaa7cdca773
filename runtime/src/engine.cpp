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

namespace rekindle {

namespace {
constexpr size_t kBlock = 2048;  // customers per block
}  // namespace

std::string outcomeLabel(const Executable& exe, TableKind k, const Value& v) {
  if (v.isNull()) return "";
  return exe.outcomeName(k, v.i);
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
  std::vector<int64_t> channelContacts, allContacts;  // scratch for caps
};

DecisionRun::DecisionRun(const Executable& exe, const Dataset& data, const RunOptions& options)
    : exe_(exe), data_(data), options_(options) {
  context_.clock = RunClock::at(options.now, exe.config().zone);
  context_.previous = options.previous;
  if (options_.threads < 1) options_.threads = 1;
  allocated_.resize(kTableCount);
  fullRow_.resize(kTableCount);
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

bool DecisionRun::prepare(std::string& error) {
  const Program& p = exe_.program();
  const size_t n = data_.customerCount;
  if (p.holdout.present) {
    holdout_.resize(n);
    for (uint32_t c = 0; c < n; ++c)
      holdout_[c] = customerBucket(data_.customerId(c), p.holdout.salt) < p.holdout.fraction;
  }
  if ((p.features & (kUsesRfm | kUsesQuantile)) && !populationPass(error)) return false;
  for (uint8_t t : p.decisionOrder) {
    const DecisionTable& table = p.tables[t];
    bool limited = std::any_of(table.rows.begin(), table.rows.end(), [&](const DecisionRow& r) { return limitOf(r) >= 0; });
    if (limited && !allocate(static_cast<TableKind>(t), error)) return false;
  }
  return true;
}

bool DecisionRun::populationPass(std::string& error) {
  const Program& p = exe_.program();
  const size_t n = data_.customerCount;
  bool rfm = p.features & kUsesRfm;
  std::vector<std::optional<std::array<double, 3>>> rfmValues(rfm ? n : 0);
  const size_t blocks = (n + kBlock - 1) / kBlock;
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
    }
  }, error);
  if (!ok) return false;
  if (rfm) population_.setRfm(rfmValues);
  for (size_t q = 0; q < p.quantiles.size(); ++q) {
    std::vector<double> all;
    for (const auto& part : quantileParts) all.insert(all.end(), part[q].begin(), part[q].end());
    population_.setQuantile(q, std::move(all));
  }
  context_.population = &population_;
  return true;
}

namespace {

// How a customer ranks for one limited row: the `rank by` value, nulls last.
struct RankKey {
  int kind = 0;  // 0 null, 1 number, 2 string
  double number = 0;
  std::string text;
  static RankKey of(const Value& v) {
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
  // -1 when a ranks before b.
  static int compare(const RankKey& a, const RankKey& b, bool descending) {
    if (a.kind == 0 || b.kind == 0) return a.kind == b.kind ? 0 : (a.kind == 0 ? 1 : -1);
    int c = a.kind == 2 ? a.text.compare(b.text) : (a.number < b.number ? -1 : a.number > b.number ? 1 : 0);
    c = c < 0 ? -1 : c > 0 ? 1 : 0;
    return descending ? -c : c;
  }
};

struct Candidate {
  int32_t row = 0;
  bool consumes = true;  // counts against the row's limit if it gets it
  RankKey key;
};

}  // namespace

int64_t DecisionRun::limitOf(const DecisionRow& row) const {
  return row.limitParam >= 0 ? exe_.params()[row.limitParam].i : row.limit;
}

bool DecisionRun::allocate(TableKind table, std::string& error) {
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
  bool ok = forEachBlock(n, [&](Worker& w, size_t b, size_t begin, size_t end) {
    BlockRows& out = parts[b];
    out.offset.push_back(0);
    out.candOffset.push_back(0);
    for (size_t c = begin; c < end; ++c) {
      Evaluator& ev = *w.ev;
      ev.begin(static_cast<uint32_t>(c));
      for (int k = 0; k < kTableCount; ++k)
        if (!allocated_[k].empty()) ev.fixRow(static_cast<TableKind>(k), allocated_[k][c]);
      std::vector<int> rows = ev.eligibleRows(table);
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
      out.offset.push_back(static_cast<uint32_t>(out.rows.size()));
      out.candOffset.push_back(static_cast<uint32_t>(out.cands.size()));
    }
  }, error);
  if (!ok) return false;

  // Flatten in input order.
  std::vector<uint32_t> rowBegin(n + 1, 0), candBegin(n + 1, 0);
  std::vector<int32_t> rows;
  std::vector<Candidate> cands;
  size_t c = 0;
  for (auto& part : parts) {
    for (size_t k = 0; k + 1 < part.offset.size(); ++k, ++c) {
      rowBegin[c] = static_cast<uint32_t>(rows.size() + part.offset[k]);
      candBegin[c] = static_cast<uint32_t>(cands.size() + part.candOffset[k]);
    }
    rows.insert(rows.end(), part.rows.begin(), part.rows.end());
    for (auto& cand : part.cands) cands.push_back(std::move(cand));
  }
  rowBegin[n] = static_cast<uint32_t>(rows.size());
  candBegin[n] = static_cast<uint32_t>(cands.size());
  parts.clear();

  // Rows in table order: the customers whose first remaining eligible row is this one compete;
  // the top `limit` get it, the rest fall through to their next eligible row (SPEC §5.4).
  std::vector<int32_t>& allocated = allocated_[static_cast<int>(table)];
  std::vector<int32_t>& full = fullRow_[static_cast<int>(table)];
  allocated.assign(n, -1);
  full.assign(n, -1);
  std::vector<uint32_t> position(n, 0);
  std::vector<std::vector<uint32_t>> waiting(t.rows.size());
  for (uint32_t k = 0; k < n; ++k) {
    if (rowBegin[k] == rowBegin[k + 1]) continue;  // no eligible row: null
    int32_t first = rows[rowBegin[k]];
    if (isHoldout(k)) allocated[k] = first;  // the control group uses no budget
    else waiting[first].push_back(k);
  }
  auto candidateOf = [&](uint32_t k, int32_t r) -> const Candidate& {
    for (uint32_t i = candBegin[k]; i < candBegin[k + 1]; ++i)
      if (cands[i].row == r) return cands[i];
    return cands[candBegin[k]];  // unreachable: every eligible limited row has an entry
  };
  for (size_t r = 0; r < t.rows.size(); ++r) {
    std::vector<uint32_t>& here = waiting[r];
    const DecisionRow& row = t.rows[r];
    const int64_t limit = limitOf(row);
    if (limit < 0) {
      for (uint32_t k : here) allocated[k] = static_cast<int32_t>(r);
      continue;
    }
    const std::string& outcome = exe_.outcomeName(table, row.outcome);
    struct Contender {
      uint32_t customer;
      const Candidate* cand;
      double bucket;
    };
    std::vector<Contender> contenders;
    for (uint32_t k : here) {
      const Candidate& cand = candidateOf(k, static_cast<int32_t>(r));
      if (cand.consumes) contenders.push_back({k, &cand, customerBucket(data_.customerId(k), outcome)});
      else allocated[k] = static_cast<int32_t>(r);
    }
    // Ties go to the customer with the lower bucket of the row's outcome name, then the lower id:
    // independent of input order, thread count and sharding.
    std::sort(contenders.begin(), contenders.end(), [&](const Contender& a, const Contender& b) {
      int cmp = RankKey::compare(a.cand->key, b.cand->key, row.descending);
      if (cmp != 0) return cmp < 0;
      if (a.bucket != b.bucket) return a.bucket < b.bucket;
      return data_.customerId(a.customer) < data_.customerId(b.customer);
    });
    std::vector<uint32_t> competing;
    for (const Contender& c : contenders) competing.push_back(c.customer);
    size_t given = std::min<size_t>(competing.size(), static_cast<size_t>(limit));
    BudgetUse use;
    use.table = table;
    use.row = static_cast<int>(r);
    use.outcome = outcome;
    use.limit = limit;
    use.given = given;
    use.turnedAway = competing.size() - given;
    if (given > 0 && row.rankBy >= 0) {
      const RankKey& last = contenders[given - 1].cand->key;
      use.cutoff = last.kind == 0 ? "null" : last.kind == 2 ? "\"" + last.text + "\"" : fmt::format("{}", last.number);
      use.tieAtCutoff = given < contenders.size() && RankKey::compare(last, contenders[given].cand->key, row.descending) == 0;
    } else if (given > 0 && given < contenders.size()) {
      use.tieAtCutoff = true;  // no `rank by`: the bucket alone decides
    }
    budgets_.push_back(use);
    for (size_t i = 0; i < competing.size(); ++i) {
      uint32_t k = competing[i];
      if (i < given) {
        allocated[k] = static_cast<int32_t>(r);
        continue;
      }
      if (full[k] < 0) full[k] = static_cast<int32_t>(r);
      // Fall through to the next eligible row.
      uint32_t pos = ++position[k];
      while (rowBegin[k] + pos < rowBegin[k + 1] && rows[rowBegin[k] + pos] <= static_cast<int32_t>(r)) pos = ++position[k];
      if (rowBegin[k] + pos < rowBegin[k + 1]) waiting[rows[rowBegin[k] + pos]].push_back(k);
    }
    here.clear();
    here.shrink_to_fit();
  }
  return true;
}

bool DecisionRun::capsAllow(Worker& w, uint32_t c, int32_t programChannel) {
  Decision probe;
  checkCaps(w, c, programChannel, probe);
  return probe.suppressedBy.empty();
}

void DecisionRun::checkCaps(Worker& w, uint32_t c, int32_t ch, Decision& d, std::vector<CapWindowReport>* report) {
  const Program& p = exe_.program();
  if (p.caps.empty() || ch < 0) return;
  Evaluator& ev = *w.ev;
  // The channel's first conditional cap whose condition holds, else its unconditional caps;
  // and every `cap any` line whose condition holds (SPEC §5.3).
  std::vector<const CapRule*> rules;
  for (const CapRule& r : p.caps)
    if (r.channel == ch && r.condition >= 0 && ev.runChunk(r.condition).isTrue()) {
      rules.push_back(&r);
      break;
    }
  if (rules.empty())
    for (const CapRule& r : p.caps)
      if (r.channel == ch && r.condition < 0) rules.push_back(&r);
  for (const CapRule& r : p.caps)
    if (r.channel == -1 && (r.condition < 0 || ev.runChunk(r.condition).isTrue())) rules.push_back(&r);
  if (rules.empty()) return;

  int configChannel = exe_.configChannel(ch);
  w.channelContacts.clear();
  w.allContacts.clear();
  for (uint32_t k = data_.contactBegin[c]; k < data_.contactBegin[c + 1]; ++k) {
    w.allContacts.push_back(data_.contactTime[k]);
    if (data_.contactChannel[k] == configChannel) w.channelContacts.push_back(data_.contactTime[k]);
  }
  const TimeZone& zone = data_.zoneOf(c, exe_.config().zone);
  const int64_t now = context_.clock.now;
  // The binding cap is the full window that stays full longest: it decides next_eligible_at.
  int64_t eligible = now;
  for (const CapRule* r : rules) {
    const std::vector<int64_t>& contacts = r->channel == -1 ? w.allContacts : w.channelContacts;
    for (const CapWindow& win : r->windows) {
      WindowCheck check = checkWindow(win, contacts, now, zone);
      if (report) {
        CapWindowReport line{r->text, windowText(win), check.count, win.count, check.full, check.eligibleAt, {}};
        for (int64_t t : contacts)
          if (countsInWindow(win, t, now, zone)) line.counted.push_back(t);
        report->push_back(std::move(line));
      }
      if (!check.full) continue;
      if (d.suppressedBy.empty() || check.eligibleAt > eligible) {
        eligible = check.eligibleAt;
        d.suppressedBy = r->text + " " + windowText(win);
      }
    }
  }
  if (!d.suppressedBy.empty()) d.nextEligibleAt = eligible;
}

void DecisionRun::decideCustomer(Worker& w, uint32_t c, Decision& d) {
  const Program& p = exe_.program();
  Evaluator& ev = *w.ev;
  ev.begin(c);
  d = Decision();
  d.customer = c;
  for (int k = 0; k < kTableCount; ++k)
    if (!allocated_[k].empty()) ev.fixRow(static_cast<TableKind>(k), allocated_[k][c]);
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

void count(const Executable& exe, const Program& p, const Decision& d, RunSummary& s) {
  ++s.customers;
  if (d.send) ++s.sends;
  if (!d.suppressedBy.empty()) {
    ++s.suppressed;
    ++s.suppressedBy[d.suppressedBy];
  }
  if (d.holdout) ++s.holdout;
  ++s.stageChannel[{outcomeLabel(exe, TableKind::Stage, d.stage), outcomeLabel(exe, TableKind::Channel, d.channel)}];
  if (p.tables[2].present) ++s.offers[outcomeLabel(exe, TableKind::Offer, d.offer)];
  // An offer costs when it goes out: not to the control group, not when the message is held back.
  if (!d.offer.isNull() && d.offer.i != kNoOutcome && !d.holdout) {
    double cost = exe.config().offers[exe.configOffer(static_cast<int32_t>(d.offer.i))].cost;
    s.offerCost += cost;
    s.offerCosts[exe.outcomeName(TableKind::Offer, d.offer.i)] += cost;
  }
  for (uint32_t k = 0; k < p.segments.size(); ++k)
    if (d.segments[k]) ++s.segments[p.segments[k].name];
  if (!d.transition.empty()) ++s.transitions[d.transition];
}

}  // namespace

bool DecisionRun::decide(DecisionSink& sink, RunSummary& summary, std::string& error) {
  const Program& p = exe_.program();
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
    std::vector<RunSummary> sums(last - first);
    // Blocks of this wave: forEachBlock counts them from the wave's first customer.
    bool ok = forEachBlock(end - begin, [&](Worker& w, size_t b, size_t from, size_t to) {
      Decision d;
      for (size_t k = from; k < to; ++k) {
        decideCustomer(w, static_cast<uint32_t>(begin + k), d);
        if (!w.ev->fault().empty()) return;
        count(exe_, p, d, sums[b]);
        if (concurrent) sink.format(d, text[b]);
        else rows[b].push_back(d);
      }
    }, error);
    if (!ok) return false;
    for (size_t b = 0; b < last - first; ++b) {
      if (concurrent) sink.writeFormatted(text[b]);
      else
        for (const Decision& d : rows[b]) sink.write(d);
      summary.merge(sums[b]);
    }
  }
  summary.budgets = budgets_;
  return true;
}

std::vector<CapWindowReport> DecisionRun::capReport(uint32_t customer, int32_t programChannel) {
  Worker w;
  w.ev = std::make_unique<Evaluator>(exe_, data_, context_);
  w.ev->begin(customer);
  for (int k = 0; k < kTableCount; ++k)
    if (!allocated_[k].empty()) w.ev->fixRow(static_cast<TableKind>(k), allocated_[k][customer]);
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
  return ev.eligibleRows(table);
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
  decideCustomer(w, customer, out);
  if (!w.ev->fault().empty()) {
    error = w.ev->fault();
    return false;
  }
  return true;
}

}  // namespace rekindle
