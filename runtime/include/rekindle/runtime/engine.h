// The decision engine (SPEC §5): population statistics in a first pass when the rules use
// them, one allocation pass per table with budgets (`limit N rank by ...`), then the decision
// pass: stage, segments, channel (consent), caps, quiet hours, offer, holdout, transition.
// Customers are processed in blocks on worker threads; output is written in input order, so the
// bytes are the same whatever the thread count.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rekindle/runtime/caps.h"
#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/population.h"
#include "rekindle/runtime/previous.h"
#include "rekindle/runtime/stats.h"
#include "rekindle/runtime/vm.h"

namespace rekindle {

// One output row (SPEC §5.7).
struct Decision {
  uint32_t customer = 0;
  Value stage, channel, offer;          // null when no row matched
  std::vector<uint8_t> segments;        // per program segment: 1 when true
  bool send = false;
  std::optional<int64_t> sendAt;
  std::string suppressedBy;             // "cap email 2 per 7d"
  std::optional<int64_t> nextEligibleAt;
  bool holdout = false;
  std::string transition;               // "at_risk->dormant"; "->new" for a customer new since the previous run
  int row[kTableCount] = {-1, -1, -1};  // the row that decided each table
  int fullRow[kTableCount] = {-1, -1, -1};  // a limited row the customer qualified for but whose budget was full

  // Empty again, for the next customer, keeping the buffers of the segments and strings (every
  // segment is written again). A new field is reset here too.
  void reset(uint32_t c) {
    customer = c;
    stage = channel = offer = Value::null();
    send = false;
    sendAt.reset();
    suppressedBy.clear();
    nextEligibleAt.reset();
    holdout = false;
    transition.clear();
    for (int t = 0; t < kTableCount; ++t) row[t] = fullRow[t] = -1;
  }
};

// Receives decisions in input order. A sink that formats rows itself may do so on the worker
// threads: format() must then be safe to call concurrently.
class DecisionSink {
 public:
  virtual ~DecisionSink() = default;
  virtual void write(const Decision& d) = 0;
  virtual bool formatsConcurrently() const { return false; }
  virtual void format(const Decision&, std::string&) const {}
  virtual void writeFormatted(const std::string&) {}
};

struct RunOptions {
  int64_t now = 0;
  int threads = 1;
  const PreviousDecisions* previous = nullptr;
  // std.clv's fitted parameters, read by the first run that needs them and reused by later ones
  // (the batches of a grouped run) instead of reading the file again.
  std::optional<ClvModel>* clvCache = nullptr;
};

// Counts for the run summary and the report.
struct RunSummary {
  uint64_t customers = 0;
  uint64_t sends = 0;
  uint64_t suppressed = 0;
  uint64_t holdout = 0;
  std::map<std::pair<std::string, std::string>, uint64_t> stageChannel;  // (stage, channel)
  std::map<std::string, uint64_t> offers;
  std::map<std::string, double> offerCosts;  // what each offer costs, control group excluded
  std::map<std::string, uint64_t> segments;
  std::map<std::string, uint64_t> suppressedBy;
  std::map<std::string, uint64_t> transitions;
  std::vector<BudgetUse> budgets;
  double offerCost = 0;
  void merge(const RunSummary& other);
};

// How one cap window stood for a customer (rekindle explain).
struct CapWindowReport {
  std::string cap;     // "cap email"
  std::string window;  // "2 per 7d"
  int64_t count = 0;
  int64_t limit = 0;
  bool full = false;
  int64_t eligibleAt = 0;
  std::vector<int64_t> counted;  // the contacts in the window
};

class DecisionRun {
 public:
  DecisionRun(const Executable& exe, const Dataset& data, const RunOptions& options);
  ~DecisionRun();

  // The population and allocation passes. False with `error` on a bytecode fault.
  bool prepare(std::string& error);
  // The same for one part of the population (a shard, or a batch of a grouped run): the steps
  // `merged` completes take their statistics and allocations from it; the run stops before the
  // first step it lacks, for contribute() to compute this part's share of it.
  bool prepare(const MergedStats& merged, std::string& error);
  // This part's share of the next step of the plan, after prepare(merged) stopped before it.
  bool contribute(StepStats& out, std::string& error);
  // The whole-population steps of these rules, in order; how many are prepared.
  const std::vector<StatsStep>& plan() const { return plan_; }
  size_t preparedSteps() const { return nextStep_; }
  // The decision pass, written to `sink` in input order.
  bool decide(DecisionSink& sink, RunSummary& summary, std::string& error);
  // One customer's decision, traced (rekindle explain). After prepare().
  bool decideOne(uint32_t customer, EvalTracer* tracer, Decision& out, std::string& error);
  // Every cap window that applies to the customer on that channel, full or not.
  std::vector<CapWindowReport> capReport(uint32_t customer, int32_t programChannel);
  // Every row of a table whose condition holds, traced, as the allocator saw them.
  std::vector<int> eligibleRows(uint32_t customer, TableKind table, EvalTracer* tracer);
  // A customer's `rank by` value for a limited row, described; "" without `rank by`.
  std::string rankValue(uint32_t customer, TableKind table, int row);
  // The limit of a row (its literal, or its param's value in this run); -1 without one.
  int64_t limitOf(const DecisionRow& row) const;
  const std::vector<BudgetUse>& budgets() const { return budgets_; }

  const RunContext& context() const { return context_; }
  // How many where-conditions were tested up front for every event (EventSelections).
  size_t eventsSelected() const;
  // How many rows', segments' and cap lines' conditions were tested up front for every customer
  // (CustomerConditions).
  size_t customerConditions() const;
  const Population& population() const { return population_; }
  bool isHoldout(uint32_t customer) const;

 private:
  struct Worker;
  class Carry;
  // Starts customer c on an evaluator: the tables allocated so far fixed to their rows and, with
  // `carried`, what earlier passes settled for the customer (Carry).
  void startCustomer(Evaluator& ev, uint32_t c, bool carried);
  // Tests, once: the scans' conditions on events alone for every event (EventSelections), and the
  // conditions on the customer's own fields for every customer (CustomerConditions).
  void testUpFront();
  bool prepareSteps(const MergedStats* merged, std::string& error);
  bool populationPass(const MergedStats* merged, StepStats* part, std::string& error);
  bool allocate(TableKind table, const MergedStats::Allocation* merged, StepStats* part, std::string& error);
  void decideCustomer(Worker& w, uint32_t c, Decision& d, bool carried);
  void checkCaps(Worker& w, uint32_t c, int32_t programChannel, Decision& d,
                 std::vector<CapWindowReport>* report = nullptr);
  bool capsAllow(Worker& w, uint32_t c, int32_t programChannel);
  template <class Fn>
  bool forEachBlock(size_t customers, Fn fn, std::string& error);

  const Executable& exe_;
  const Dataset& data_;
  RunOptions options_;
  RunContext context_;
  Population population_;
  std::vector<uint8_t> holdout_;
  std::vector<std::vector<int32_t>> allocated_;  // per table: the allocated row per customer
  std::vector<std::vector<int32_t>> fullRow_;    // per table: the first full row per customer
  std::vector<BudgetUse> budgets_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Carry> carry_;
  std::unique_ptr<EventSelections> selections_;
  std::unique_ptr<CustomerConditions> customerConditions_;
  // The caps' calendar periods at the run's time, per time zone of the dataset (the config's zone
  // last), and each cap window's suppressed_by text ("cap email 2 per 7d"), per cap and window.
  std::vector<CalendarPeriods> periods_;
  std::vector<std::vector<std::string>> capTexts_;
  // The caps by program channel, in program order: its lines with a condition, its lines
  // without; and the `cap any` lines.
  struct ChannelCaps {
    std::vector<const CapRule*> conditional, unconditional;
  };
  std::vector<ChannelCaps> channelCaps_;
  std::vector<const CapRule*> anyCaps_;
  std::vector<StatsStep> plan_;
  size_t nextStep_ = 0;
};

// The whole-population steps a program needs: the population statistics (std.rfm,
// quantile_rank), then one allocation per table with a limited row, in decision order.
std::vector<StatsStep> statsPlan(const Executable& exe);

// Completes the next step of `merged` from every part's share of it (see StepStats): the
// merged distributions, or the allocation over all competitors. False with `error` when the
// parts do not fit together (a customer in two parts).
bool mergeStep(const Executable& exe, StepStats&& parts, MergedStats& merged, std::string& error);

// Label of an outcome for output and summaries: the name, "none", or "" for null.
const std::string& outcomeLabel(const Executable& exe, TableKind k, const Value& v);

}  // namespace rekindle
