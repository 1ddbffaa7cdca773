// `rekindle run`: decide stage, segments, channel, send and offer for every customer of an
// export and write one row each, plus the rejects file and a summary on stderr.
#include <fmt/format.h>

#include <csignal>
#include <ctime>
#include <map>
#include <set>

#include "common.h"
#include "report_data.h"
#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/engine.h"
#include "rekindle/runtime/vm.h"
#include "rekindle/runtime/previous.h"
#include "rekindle/runtime/rkb.h"
#include "rekindle/runtime/stats.h"
#include "rekindle/runtime/writer.h"

#include <thread>

namespace rekindle::cli {
namespace {

struct RunArgs {
  std::string rules, config, customers, events, contacts, asOf, previous, out = "-", format, rejects;
  std::vector<std::string> params;
  std::string phase;               // --phase stats|decide (docs/cli.md, "Sharding")
  std::vector<std::string> stats;  // --stats FILE...: the shards' summaries of earlier steps
  bool grouped = false;            // --grouped: the exports are sorted by customer id; stream them
  size_t batch = 0;                // --batch N: customers per batch with --grouped
  bool explain = false;
  bool quiet = false;
  int threads = 0;
  std::string shard;
  int64_t maxErrors = -1;
  std::string report;  // --report FILE: the HTML report of this run (docs/report.md)
};

extern "C" void onSignal(int sig) {
  removeOpenTemporaries();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

std::string rejectsPathFor(const std::string& out, const std::string& explicitPath) {
  if (!explicitPath.empty()) return explicitPath;
  if (out == "-" || isDeviceOrPipe(out)) return "";  // rejected rows are listed on stderr
  std::string base = out;
  size_t slash = base.rfind('/');
  size_t dot = base.rfind('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) base = base.substr(0, dot);
  return base + ".rejects.csv";
}

// Opens the decisions output (atomically) and arms the signal handlers that remove its
// temporary if the run is interrupted.
bool openDecisions(const RunArgs& a, AtomicFile& out, OutputFormat& format) {
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  format = a.format.empty() ? formatForPath(a.out) : a.format == "jsonl" ? OutputFormat::Jsonl : OutputFormat::Csv;
  std::string error;
  if (out.open(a.out, error)) return true;
  printError(error);
  return false;
}

// Writes the rejected rows to the rejects file (opened atomically, committed with the output),
// or, with no rejects file (decisions on standard output or a device), lists them on stderr
// rather than dropping them into the working directory.
bool openRejects(const std::string& path, const std::vector<RejectedRow>& rows, AtomicFile& file) {
  if (path.empty()) {
    for (const auto& rj : rows)
      fmt::print(stderr, "rejected: {}:{}: {}{}\n", rj.file, rj.line, rj.field.empty() ? "" : rj.field + ": ", rj.reason);
    return true;
  }
  std::string error;
  if (!file.open(path, error)) {
    printError(error);
    return false;
  }
  writeRejects(file.stream(), formatForPath(path), rows);
  return true;
}

// What was read, for the summary: a whole dataset's counts, or a grouped run's totals.
struct InputCounts {
  SourceCounts customerCounts, eventCounts, contactCounts;
  uint64_t contactsFromEvents = 0;
  size_t rejects = 0;
  uint32_t shard = 0, shards = 1;
  static InputCounts of(const Dataset& d, uint32_t shard, uint32_t shards) {
    return {d.customerCounts, d.eventCounts, d.contactCounts, d.contactTime.size(), d.rejects.size(), shard, shards};
  }
  bool reconciles(uint64_t decided) const {
    const SourceCounts& c = customerCounts;
    return c.read == decided + c.rejected + c.otherShards && eventCounts.reconciles() && contactCounts.reconciles();
  }
};

void printSummary(const Executable& exe, const InputCounts& data, const RunSummary& s, const RunClock& clock,
                  const std::string& outPath, const std::string& rejectsPath) {
  const Program& p = exe.program();
  std::string name = p.rulesName + (p.rulesVersion.empty() ? "" : " v" + p.rulesVersion);
  std::string shard = data.shards > 1 ? fmt::format(" (shard {}/{})", data.shard, data.shards) : "";
  fmt::print(stderr, "rekindle: {}: {} customers decided as of {}{}\n", name, s.customers, formatTime(clock.now, clock.zone), shard);
  auto line = [&](const char* what, const SourceCounts& c, bool present) {
    if (!present) return;
    // A shard reads every row and leaves other shards' customers to them: they are counted.
    std::string others = data.shards > 1 ? fmt::format(" + other shards {}", c.otherShards) : "";
    fmt::print(stderr, "  {:<10} read {} = {} {} + rejected {}{}{}\n", what, c.read, what == std::string("customers") ? "decided" : "used",
               c.accepted, c.rejected, others, c.reconciles() ? "" : "  (DOES NOT RECONCILE)");
  };
  line("customers", data.customerCounts, true);
  line("events", data.eventCounts, exe.config().events.present);
  line("contacts", data.contactCounts, exe.config().contacts.present && exe.config().contacts.fromEventsField.empty());
  if (exe.config().contacts.present && !exe.config().contacts.fromEventsField.empty())
    fmt::print(stderr, "  {:<10} {} taken from the events ({} in {})\n", "contacts", data.contactsFromEvents,
               exe.config().contacts.fromEventsField, [&] {
                 std::string v;
                 for (const auto& x : exe.config().contacts.fromEventsValues) v += (v.empty() ? "" : ", ") + x;
                 return v;
               }());

  // customers per stage x channel, stages in table order
  std::vector<std::string> stages = p.stages;
  std::vector<std::string> channels;
  for (const auto& c : p.channels) channels.push_back(c);
  channels.push_back("none");
  std::set<std::string> seenStages, seenChannels;
  for (const auto& [key, n] : s.stageChannel) {
    seenStages.insert(key.first);
    seenChannels.insert(key.second);
  }
  if (seenStages.count("")) stages.push_back("");
  std::vector<std::string> cols;
  for (const auto& c : channels)
    if (seenChannels.count(c)) cols.push_back(c);
  if (seenChannels.count("") && p.tables[1].present) cols.push_back("");  // no channel table: totals only
  // The first column fits its longest label; the numbers fit the longest channel name.
  size_t w = 14;
  for (const auto& st : stages) w = std::max(w, st.size() + 2);
  for (const auto& o : p.offers) w = std::max(w, o.size() + 2);
  for (const auto& seg : p.segments) w = std::max(w, seg.name.size() + 2);
  for (const auto& [cap, n] : s.suppressedBy) w = std::max(w, cap.size() + 2);
  for (const auto& [t, n] : s.transitions) w = std::max(w, t.size() + 2);
  for (const auto& b : s.budgets) w = std::max(w, b.outcome.size() + 10);
  if (data.shards > 1 && !s.budgets.empty()) w = std::max<size_t>(w, 18);
  size_t cw = 9;
  for (const auto& c : cols) cw = std::max(cw, c.size() + 2);
  fmt::print(stderr, "\n  {:<{}}", p.tables[1].present ? "stage \\ channel" : "stage", w + 2);
  for (const auto& c : cols) fmt::print(stderr, "{:>{}}", c.empty() ? "(no row)" : c, cw);
  fmt::print(stderr, "{:>{}}\n", "total", cw);
  for (const auto& st : stages) {
    uint64_t total = 0;
    for (const auto& [key, n] : s.stageChannel)
      if (key.first == st) total += n;
    std::string row;
    for (const auto& c : cols) {
      auto it = s.stageChannel.find({st, c});
      row += fmt::format("{:>{}}", it == s.stageChannel.end() ? 0 : it->second, cw);
    }
    fmt::print(stderr, "  {:<{}}{}{:>{}}\n", st.empty() ? "(no stage)" : st, w + 2, row, total, cw);
  }
  if (!s.offers.empty()) {
    fmt::print(stderr, "\n  {:<{}}{:>9}{:>12}\n", "offer", w + 2, "count", "cost");
    for (const auto& o : p.offers) {
      auto it = s.offers.find(o);
      if (it == s.offers.end()) continue;
      auto cost = s.offerCosts.find(o);  // the control group's offers cost nothing
      fmt::print(stderr, "  {:<{}}{:>9}{:>12.2f}\n", o, w + 2, it->second, cost == s.offerCosts.end() ? 0.0 : cost->second);
    }
    for (const char* o : {"none", ""}) {
      auto it = s.offers.find(o);
      if (it != s.offers.end()) fmt::print(stderr, "  {:<{}}{:>9}\n", *o ? o : "(no row)", w + 2, it->second);
    }
    fmt::print(stderr, "  {:<{}}{:>21.2f}\n", "total offer cost", w + 2, s.offerCost);
  }
  if (!s.segments.empty()) {
    fmt::print(stderr, "\n  {:<{}}{:>9}\n", "segment", w + 2, "count");
    for (const auto& seg : p.segments) {
      auto it = s.segments.find(seg.name);
      fmt::print(stderr, "  {:<{}}{:>9}\n", seg.name, w + 2, it == s.segments.end() ? 0 : it->second);
    }
  }
  if (!s.budgets.empty()) {
    // A shard's budgets are allocated over every shard: the figures are the whole run's.
    fmt::print(stderr, "\n  {:<{}}{:>9}{:>9}{:>12}\n", data.shards > 1 ? "budget (all shards)" : "budget", w + 2, "limit", "given", "turned away");
    for (const auto& b : s.budgets)
      fmt::print(stderr, "  {:<{}}{:>9}{:>9}{:>12}\n", std::string(tableName(b.table)) + " " + b.outcome, w + 2, b.limit, b.given, b.turnedAway);
  }
  if (!s.suppressedBy.empty()) {
    fmt::print(stderr, "\n  {:<{}}{:>9}\n", "suppressed by", w + 2, "count");
    for (const auto& [cap, n] : s.suppressedBy) fmt::print(stderr, "  {:<{}}{:>9}\n", cap, w + 2, n);
  }
  if (!s.transitions.empty()) {
    fmt::print(stderr, "\n  {:<{}}{:>9}\n", "transition", w + 2, "count");
    for (const auto& [t, n] : s.transitions) fmt::print(stderr, "  {:<{}}{:>9}\n", t, w + 2, n);
  }
  fmt::print(stderr, "\n  sends: {} of {}", s.sends, s.customers);
  if (s.suppressed) fmt::print(stderr, " ({} suppressed by caps)", s.suppressed);
  if (s.holdout) fmt::print(stderr, "; holdout: {} ({:.1f}%)", s.holdout, 100.0 * double(s.holdout) / double(std::max<uint64_t>(1, s.customers)));
  fmt::print(stderr, "\n");
  if (outPath != "-") fmt::print(stderr, "  decisions: {}\n", outPath);
  if (!rejectsPath.empty()) fmt::print(stderr, "  rejects:   {} ({} rows)\n", rejectsPath, data.rejects);
}

// --shard K/N, K from 0: the shards of a run are 0/N .. N-1/N.
bool parseShard(const std::string& text, uint32_t& shard, uint32_t& shards) {
  size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) return false;
  auto number = [](const std::string& t, uint32_t& v) {
    if (t.empty() || t.size() > 6 || t.find_first_not_of("0123456789") != std::string::npos) return false;
    v = static_cast<uint32_t>(std::stoul(t));
    return true;
  };
  return number(text.substr(0, slash), shard) && number(text.substr(slash + 1), shards) && shards >= 1 && shard < shards;
}

std::string stepList(const std::vector<StatsStep>& plan) {
  std::string s;
  for (const auto& step : plan) s += (s.empty() ? "" : ", ") + step.name();
  return s;
}

// What a run is and where it writes, shared by the whole-file and the grouped paths.
struct RunSetup {
  const RunArgs* args = nullptr;
  const Config* config = nullptr;
  const Program* program = nullptr;
  std::string configPath;
  RunClock clock;
  std::vector<std::pair<std::string, std::string>> params;
  LoadOptions load;
  int threads = 1;
  std::string runKey;
  std::vector<std::string> statsPaths;
};

// Reads the --stats summaries and completes the steps they hold. Usage problems (a missing
// shard, another run's file) are errors of the data: status 1.
bool mergeSummaries(const RunSetup& r, const Executable& exe, MergedStats& merged, std::string& nextBasis,
                    std::string& error) {
  std::vector<StatsStep> plan = statsPlan(exe);
  std::vector<StatsFile> files(r.statsPaths.size());
  for (size_t k = 0; k < files.size(); ++k)
    if (!readStatsFile(r.statsPaths[k], plan, files[k], error)) return false;
  std::vector<StepStats> parts;
  if (!assembleStats(files, r.runKey, r.load.shards, plan, parts, nextBasis, error)) return false;
  files.clear();
  for (auto& part : parts)
    if (!mergeStep(exe, std::move(part), merged, error)) {
      error = "--stats: " + error;
      return false;
    }
  return true;
}

// The decision phase needs every step; a shard cannot compute one alone.
bool checkComplete(const RunSetup& r, const std::vector<StatsStep>& plan, const MergedStats& merged, bool canComputeRest) {
  if (merged.steps >= plan.size() || (canComputeRest && r.statsPaths.empty())) return true;
  if (r.statsPaths.empty())
    printError(fmt::format("these rules need the whole population ({}): a shard cannot decide alone. Run every shard "
                           "with --phase stats first, then decide with their summaries as --stats (docs/cli.md, \"Sharding\")",
                           stepList(plan)));
  else
    printError(fmt::format("the --stats summaries complete {} of the {} whole-population steps ({}); the next, '{}', is "
                           "missing: run every shard with --phase stats and these summaries",
                           merged.steps, plan.size(), stepList(plan), plan[merged.steps].name()));
  return false;
}

// --phase stats computes the next step: there must be one.
bool checkNextStep(const std::vector<StatsStep>& plan, const MergedStats& merged) {
  if (plan.empty())
    printError("these rules use no population statistic and no budget: every shard decides alone; run them without --phase stats");
  else if (merged.steps >= plan.size())
    printError(fmt::format("the --stats summaries complete all {} whole-population steps ({}): decide now, without --phase stats",
                           plan.size(), stepList(plan)));
  return !plan.empty() && merged.steps < plan.size();
}

// Writes this part's share of the next step (--phase stats).
int writeSummary(const RunSetup& r, StepStats&& part, size_t step, const std::vector<StatsStep>& plan,
                 const std::string& basis) {
  const RunArgs& a = *r.args;
  StatsFile f;
  f.rules = r.program->rulesName;
  f.run = r.runKey;
  f.basis = basis;
  f.shard = r.load.shard;
  f.shards = r.load.shards;
  f.step = step;
  for (const auto& s : plan) f.plan.push_back(s.name());
  size_t competitors = part.entries.size();
  uint64_t customers = part.customers;
  f.stats = std::move(part);
  std::string text = writeStatsFile(f);
  std::string error;
  if (!writeFileAtomically(a.out, text, error)) {
    printError(error);
    return kExitErrors;
  }
  if (!a.quiet) {
    fmt::print(stderr, "rekindle: {}: shard {}/{}, step {} of {} ({}): {} customers{}, {} bytes{}\n", r.program->rulesName,
               r.load.shard, r.load.shards, step + 1, plan.size(), plan[step].name(), customers,
               plan[step].kind == StatsStep::Kind::Allocation ? fmt::format(", {} competing", competitors) : "", text.size(),
               a.out == "-" ? "" : " -> " + a.out);
    if (step + 1 < plan.size())
      fmt::print(stderr, "  next: step {} ({}): every shard again with --phase stats and every summary so far as --stats\n",
                 step + 2, plan[step + 1].name());
    else
      fmt::print(stderr, "  next: decide: every shard without --phase, with every step's summaries as --stats\n");
  }
  return kExitOk;
}

int runWhole(const RunSetup& r) {
  const RunArgs& a = *r.args;
  const Config& cfg = *r.config;
  std::string fatal;
  auto data = loadDataset(cfg, r.load, fatal);
  if (!data) {
    printError(fatal);
    return kExitErrors;
  }
  std::string error;
  auto exe = Executable::bind(*r.program, cfg, data->strings, r.params, error);
  if (!exe) {
    printError(error);
    return kExitErrors;
  }
  std::vector<StatsStep> plan = statsPlan(*exe);
  MergedStats merged;
  std::string nextBasis = basisFor(r.runKey, {});  // step 0: built on no earlier summary
  if (!r.statsPaths.empty() && !mergeSummaries(r, *exe, merged, nextBasis, error)) {
    printError(error);
    return kExitErrors;
  }
  const bool phased = !r.statsPaths.empty() || a.phase == "stats";
  std::optional<PreviousDecisions> previous;
  if (a.previous.empty() && (r.program->features & kUsesPrevious) && a.phase != "stats")
    fmt::print(stderr, "warning: the rules read previous.*, but no --previous file was given: it is null for everyone\n");
  if (!a.previous.empty()) {
    previous = loadPrevious(a.previous, *r.program, *data, cfg.zone, error);
    if (!previous) {
      printError(error);
      return kExitErrors;
    }
  }
  RunOptions options;
  options.now = r.clock.now;
  options.threads = r.threads;
  options.previous = previous ? &*previous : nullptr;
  DecisionRun run(*exe, *data, options);
  if (a.phase == "stats") {
    if (!checkNextStep(plan, merged)) return kExitUsage;
    StepStats part;
    if (!run.prepare(merged, error) || !run.contribute(part, error)) {
      printError(error + "; no summary was written");
      return kExitErrors;
    }
    return writeSummary(r, std::move(part), merged.steps, plan, nextBasis);
  }
  if (!checkComplete(r, plan, merged, r.load.shards == 1)) return kExitUsage;
  if (!(phased ? run.prepare(merged, error) : run.prepare(error))) {
    printError(error + "; no output was written");
    return kExitErrors;
  }

  AtomicFile out;
  OutputFormat format;
  if (!openDecisions(a, out, format)) return kExitErrors;
  std::string rejectsPath = rejectsPathFor(a.out, a.rejects);
  RunSummary summary;
  std::optional<report::RunCollector> collector;
  {
    DecisionWriter writer(out.stream(), format, *exe, *data, r.clock, a.explain);
    DecisionSink* sink = &writer;
    if (!a.report.empty()) sink = &collector.emplace(writer, *exe);  // counts the rows for the report
    if (!run.decide(*sink, summary, error)) {
      out.abandon();
      printError(error + "; no output was written");
      return kExitErrors;
    }
  }
  InputCounts counts = InputCounts::of(*data, r.load.shard, r.load.shards);
  if (!counts.reconciles(summary.customers)) {
    out.abandon();
    printError("the counts do not reconcile (read != decided + rejected + other shards); no output was written");
    return kExitErrors;
  }
  AtomicFile rejects;
  if (!openRejects(rejectsPath, data->rejects, rejects)) return kExitErrors;
  AtomicFile reportFile;
  if (!a.report.empty()) {
    report::RunReportInputs ri;
    ri.rulesPath = a.rules;
    ri.configPath = r.configPath;
    ri.customersPath = a.customers.empty() ? cfg.customers.source.path : a.customers;
    ri.eventsPath = a.events.empty() ? cfg.events.source.path : a.events;
    ri.contactsPath = a.contacts.empty() ? cfg.contacts.source.path : a.contacts;
    ri.outPath = a.out;
    ri.rejectsPath = rejectsPath;
    ri.previousPath = a.previous;
    ri.previous = previous ? &*previous : nullptr;
    ri.asOf = formatTime(r.clock.now, r.clock.zone);
    ri.threads = options.threads;
    std::string html = report::renderHtml(report::reportFromRun(*collector, *exe, *data, run, summary, ri));
    if (!reportFile.open(a.report, error)) {
      printError(error);
      return kExitErrors;
    }
    std::fwrite(html.data(), 1, html.size(), reportFile.stream());
  }
  if (!out.commit(error) || (!rejectsPath.empty() && !rejects.commit(error)) || (!a.report.empty() && !reportFile.commit(error))) {
    printError(error);
    return kExitErrors;
  }
  if (!a.quiet) printSummary(*exe, counts, summary, r.clock, a.out, rejectsPath);
  if (!a.quiet && !a.report.empty()) fmt::print(stderr, "  report:    {}\n", a.report);
  if (a.maxErrors >= 0 && static_cast<int64_t>(data->rejects.size()) > a.maxErrors) return kExitErrors;
  return kExitOk;
}

// --grouped: every pass streams the exports a batch of customers at a time. The steps that
// need the whole population take one pass each (their results kept compactly: distributions
// and the budgets' competitors), then the decision pass writes each batch as it goes.
class GroupedPasses {
 public:
  explicit GroupedPasses(const RunSetup& r)
      : r_(r), batchSize_(r.args->batch ? r.args->batch : 4096 * static_cast<size_t>(std::max(1, r.threads))) {}

  // One pass over every batch: fn(exe, batch, run) after prepare(merged).
  template <class Fn>
  bool pass(const MergedStats& merged, Fn fn, std::string& error) {
    auto reader = GroupedReader::open(*r_.config, r_.load, error);
    if (!reader) return false;
    Dataset batch;
    RunOptions options;
    options.now = r_.clock.now;
    options.threads = r_.threads;
    options.clvCache = &clv_;
    size_t index = 0;
    while (reader->next(batch, batchSize_, error)) {
      // Each batch has its own string pool: the program is bound to it, batch by batch.
      auto exe = Executable::bind(*r_.program, *r_.config, batch.strings, r_.params, error);
      if (!exe) return false;
      DecisionRun run(*exe, batch, options);
      if (!run.prepare(merged, error) || !fn(*exe, batch, run, index++, error)) return false;
    }
    if (!error.empty()) return false;
    reader_ = std::move(reader);
    return true;
  }
  GroupedReader& lastReader() { return *reader_; }

 private:
  const RunSetup& r_;
  size_t batchSize_;
  std::unique_ptr<GroupedReader> reader_;
  std::optional<ClvModel> clv_;
};

int runGrouped(const RunSetup& r) {
  const RunArgs& a = *r.args;
  std::string error;
  // The program bound once outside the batches, for the plan and the merged allocations
  // (they read only names, limits and params).
  StringPool pool;
  auto exe = Executable::bind(*r.program, *r.config, pool, r.params, error);
  if (!exe) {
    printError(error);
    return kExitErrors;
  }
  std::vector<StatsStep> plan = statsPlan(*exe);
  MergedStats merged;
  std::string nextBasis = basisFor(r.runKey, {});  // step 0: built on no earlier summary
  if (!r.statsPaths.empty() && !mergeSummaries(r, *exe, merged, nextBasis, error)) {
    printError(error);
    return kExitErrors;
  }
  GroupedPasses passes(r);
  // One streaming pass computes this part's share of a step.
  auto share = [&](StepStats& total) {
    total = StepStats();
    total.step = plan[merged.steps];
    return passes.pass(merged, [&](const Executable&, const Dataset&, DecisionRun& run, size_t, std::string& err) {
      StepStats part;
      if (!run.contribute(part, err)) return false;
      total.absorb(std::move(part));
      return true;
    }, error);
  };
  if (a.phase == "stats") {
    if (!checkNextStep(plan, merged)) return kExitUsage;
    StepStats total;
    if (!share(total)) {
      printError(error + "; no summary was written");
      return kExitErrors;
    }
    return writeSummary(r, std::move(total), merged.steps, plan, nextBasis);
  }
  if (!checkComplete(r, plan, merged, r.load.shards == 1)) return kExitUsage;
  while (merged.steps < plan.size()) {
    StepStats total;
    if (!share(total) || !mergeStep(*exe, std::move(total), merged, error)) {
      printError(error + "; no output was written");
      return kExitErrors;
    }
  }

  AtomicFile out;
  OutputFormat format;
  if (!openDecisions(a, out, format)) return kExitErrors;
  RunSummary summary;
  bool ok = passes.pass(merged, [&](const Executable& bexe, const Dataset& batch, DecisionRun& run, size_t index, std::string& err) {
    DecisionWriter writer(out.stream(), format, bexe, batch, r.clock, a.explain, index == 0);
    RunSummary part;
    if (!run.decide(writer, part, err)) return false;
    summary.merge(part);
    summary.budgets = part.budgets;  // the same in every batch: allocated over all of them
    return true;
  }, error);
  if (!ok) {
    out.abandon();
    printError(error + (error.find("no output was written") == std::string::npos ? "; no output was written" : ""));
    return kExitErrors;
  }
  GroupedReader& reader = passes.lastReader();
  InputCounts counts{reader.counts(DataSource::Customers), reader.counts(DataSource::Events), reader.counts(DataSource::Contacts),
                     reader.contactsFromEvents(), 0, r.load.shard, r.load.shards};
  std::vector<RejectedRow> rejected = reader.takeRejects();
  counts.rejects = rejected.size();
  if (!counts.reconciles(summary.customers)) {
    out.abandon();
    printError("the counts do not reconcile (read != decided + rejected + other shards); no output was written");
    return kExitErrors;
  }
  std::string rejectsPath = rejectsPathFor(a.out, a.rejects);
  AtomicFile rejects;
  if (!openRejects(rejectsPath, rejected, rejects)) return kExitErrors;
  if (!out.commit(error) || (!rejectsPath.empty() && !rejects.commit(error))) {
    printError(error);
    return kExitErrors;
  }
  if (!a.quiet) printSummary(*exe, counts, summary, r.clock, a.out, rejectsPath);
  if (a.maxErrors >= 0 && static_cast<int64_t>(rejected.size()) > a.maxErrors) return kExitErrors;
  return kExitOk;
}

int runCommand(const RunArgs& a) {
  std::string configPath = findConfig(a.config, a.rules);
  auto config = loadConfigOrReport(configPath);
  if (!config) return kExitErrors;
  auto rules = loadRules(a.rules, *config);
  if (!rules) return kExitErrors;
  RunSetup r;
  r.args = &a;
  r.config = &*config;
  r.program = &rules->program;
  r.configPath = configPath;
  r.statsPaths = a.stats;
  if (!a.shard.empty() && !parseShard(a.shard, r.load.shard, r.load.shards)) {
    printError("--shard needs K/N with 0 <= K < N (shards are numbered from 0), not '" + a.shard + "'");
    return kExitUsage;
  }
  if (a.phase == "stats" && (a.explain || !a.report.empty() || !a.rejects.empty())) {
    printError("--phase stats writes a summary, not decisions: --explain, --report and --rejects belong to the decision phase");
    return kExitUsage;
  }
  if (a.batch && !a.grouped) {
    printError("--batch sets the batch size of --grouped runs; add --grouped (the exports must be sorted by customer id)");
    return kExitUsage;
  }
  if (a.grouped && (!a.previous.empty() || !a.report.empty())) {
    printError(std::string("--grouped does not support ") + (a.previous.empty() ? "--report" : "--previous") +
               " yet: both need every customer in memory; run without --grouped");
    return kExitUsage;
  }

  int64_t now = 0;
  if (!a.asOf.empty()) {
    auto t = parseTime(a.asOf, config->zone);
    if (!t) {
      printError("--as-of '" + a.asOf + "' is not a time (2026-11-23T08:00:00+08:00, 2026-11-23 or epoch seconds)");
      return kExitUsage;
    }
    now = *t;
  } else if (config->asOf) {
    now = *config->asOf;
  } else {
    now = static_cast<int64_t>(std::time(nullptr));  // the one clock read of a run
  }
  r.clock = RunClock::at(now, config->zone);

  for (const auto& p : a.params) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      printError("--param needs NAME=VALUE, not '" + p + "'");
      return kExitUsage;
    }
    r.params.emplace_back(p.substr(0, eq), p.substr(eq + 1));
  }

  r.load.customersPath = a.customers;
  r.load.eventsPath = a.events;
  r.load.contactsPath = a.contacts;
  r.load.maxErrors = a.maxErrors;
  r.threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  r.load.threads = r.threads;
  // Only what the rules and the runtime read is kept in memory; a report reads more.
  if (a.report.empty()) keepFieldsRead(rules->program, *config, r.load);
  if (a.phase == "stats" || !a.stats.empty()) {
    // Shards must agree on everything but their data: the program (not where its file was),
    // the config's text, the as-of time, the params and the shard count.
    Program bare = rules->program;
    bare.files.clear();
    std::string configText, error;
    if (!readFile(configPath, configText, error)) {
      printError(error);
      return kExitErrors;
    }
    // previous.* can decide who competes for a budget: every shard must read the same file.
    std::string previousText;
    if (!a.previous.empty() && !readFile(a.previous, previousText, error)) {
      printError("--previous: " + error);
      return kExitErrors;
    }
    r.runKey = runKey(serializeProgram(bare), configText + std::string(1, '\0') + previousText, now, r.params, r.load.shards);
  }
  return a.grouped ? runGrouped(r) : runWhole(r);
}

}  // namespace

Command addRun(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Decide stage, channel, cap and offer for every customer");
  cmd->add_option("rules", args->rules, "Rules file (.rules, or compiled .rkb)")->required();
  cmd->add_option("--config", args->config, "Config file (default: rekindle.yaml beside the rules or above)");
  cmd->add_option("--customers", args->customers, "Customers export (overrides the config's path)");
  cmd->add_option("--events", args->events, "Events export (overrides the config's path)");
  cmd->add_option("--contacts", args->contacts, "Contact history (overrides the config's path)");
  cmd->add_option("--as-of", args->asOf, "The run's time `now` (default: config as_of, else the current time)");
  cmd->add_option("--param", args->params, "Override a param: NAME=VALUE (repeatable)");
  cmd->add_option("--previous", args->previous, "An earlier decisions file, for previous.* and transitions");
  cmd->add_option("--out,-o", args->out, "Decisions file, or - for standard output (default: -)");
  cmd->add_option("--format", args->format, "csv or jsonl (default: from the output's extension)")->check(CLI::IsMember({"csv", "jsonl"}));
  cmd->add_option("--rejects", args->rejects, "Rejects file (default: beside the output)");
  cmd->add_flag("--explain", args->explain, "Add the rule that decided each output");
  cmd->add_option("--threads", args->threads, "Worker threads (default: the cores)");
  cmd->add_option("--shard", args->shard, "Process shard K/N of the customers (K from 0 to N-1)");
  cmd->add_option("--phase", args->phase, "stats: write this shard's summary of the next whole-population step; decide (the default)")
      ->check(CLI::IsMember({"stats", "decide"}));
  cmd->add_option("--stats", args->stats, "A shard's summary from --phase stats (repeatable: every shard, every earlier step)");
  cmd->add_flag("--grouped", args->grouped, "The exports list customers sorted by id (byte order): stream them a batch at a time");
  cmd->add_option("--batch", args->batch, "With --grouped: customers per batch (default 4096 x threads; 1 = one customer at a time)")
      ->check(CLI::Range(size_t(1), size_t(1) << 30));
  cmd->add_option("--max-errors", args->maxErrors, "Stop with exit 1 once more rows than this are rejected");
  cmd->add_flag("--quiet,-q", args->quiet, "No summary on stderr");
  cmd->add_option("--report", args->report, "Also write the run's HTML report to this file (docs/report.md)");
  return [args] { return runCommand(*args); };
}

REKINDLE_COMMAND("run", addRun);

}  // namespace rekindle::cli
