// `rekindle run`: decide stage, segments, channel, send and offer for every customer of an
// export and write one row each, plus the rejects file and a summary on stderr.
#include <fmt/format.h>

#include <csignal>
#include <ctime>
#include <map>
#include <set>

#include "common.h"
#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/engine.h"
#include "rekindle/runtime/vm.h"
#include "rekindle/runtime/previous.h"
#include "rekindle/runtime/writer.h"

#include <thread>

namespace rekindle::cli {
namespace {

struct RunArgs {
  std::string rules, config, customers, events, contacts, asOf, previous, out = "-", format, rejects;
  std::vector<std::string> params;
  bool explain = false;
  bool quiet = false;
  int threads = 0;
  std::string shard;
  int64_t maxErrors = -1;
};

extern "C" void onSignal(int sig) {
  removeOpenTemporaries();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// Forms whose runtime semantics are not built yet: refuse them rather than ignore them.
bool refuseUnsupported(const Program& p) {
  if (!(p.features & kUsesClv)) return false;
  printError(p.files[0] + ": std.clv is not supported yet by `rekindle run` (error[E090])");
  return true;
}

std::string rejectsPathFor(const std::string& out, const std::string& explicitPath) {
  if (!explicitPath.empty()) return explicitPath;
  if (out == "-") return "";
  std::string base = out;
  size_t slash = base.rfind('/');
  size_t dot = base.rfind('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) base = base.substr(0, dot);
  return base + ".rejects.csv";
}

void printSummary(const Executable& exe, const Dataset& data, const RunSummary& s, const RunClock& clock,
                  const std::string& outPath, const std::string& rejectsPath) {
  const Program& p = exe.program();
  std::string name = p.rulesName + (p.rulesVersion.empty() ? "" : " v" + p.rulesVersion);
  fmt::print(stderr, "rekindle: {}: {} customers decided as of {}\n", name, s.customers, formatTime(clock.now, clock.zone));
  auto line = [&](const char* what, const SourceCounts& c, bool present) {
    if (!present) return;
    fmt::print(stderr, "  {:<10} read {} = {} {} + rejected {}{}\n", what, c.read, what == std::string("customers") ? "decided" : "used",
               c.accepted, c.rejected, c.reconciles() ? "" : "  (DOES NOT RECONCILE)");
  };
  line("customers", data.customerCounts, true);
  line("events", data.eventCounts, exe.config().events.present);
  line("contacts", data.contactCounts, exe.config().contacts.present && exe.config().contacts.fromEventsField.empty());
  if (exe.config().contacts.present && !exe.config().contacts.fromEventsField.empty())
    fmt::print(stderr, "  {:<10} {} taken from the events ({} in {})\n", "contacts", data.contactTime.size(),
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
    fmt::print(stderr, "\n  {:<{}}{:>9}{:>9}{:>12}\n", "budget", w + 2, "limit", "given", "turned away");
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
  if (!rejectsPath.empty()) fmt::print(stderr, "  rejects:   {} ({} rows)\n", rejectsPath, data.rejects.size());
}

int runCommand(const RunArgs& a) {
  std::string configPath = findConfig(a.config, a.rules);
  auto config = loadConfigOrReport(configPath);
  if (!config) return kExitErrors;
  auto rules = loadRules(a.rules, *config);
  if (!rules) return kExitErrors;
  if (refuseUnsupported(rules->program)) return kExitErrors;
  if (!a.shard.empty()) {
    printError("--shard is not supported yet");
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
  RunClock clock = RunClock::at(now, config->zone);

  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& p : a.params) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      printError("--param needs NAME=VALUE, not '" + p + "'");
      return kExitUsage;
    }
    params.emplace_back(p.substr(0, eq), p.substr(eq + 1));
  }

  LoadOptions lo;
  lo.customersPath = a.customers;
  lo.eventsPath = a.events;
  lo.contactsPath = a.contacts;
  lo.maxErrors = a.maxErrors;
  std::string fatal;
  auto data = loadDataset(*config, lo, fatal);
  if (!data) {
    printError(fatal);
    return kExitErrors;
  }
  std::string error;
  auto exe = Executable::bind(rules->program, *config, data->strings, params, error);
  if (!exe) {
    printError(error);
    return kExitErrors;
  }
  std::optional<PreviousDecisions> previous;
  if (a.previous.empty() && (rules->program.features & kUsesPrevious))
    fmt::print(stderr, "warning: the rules read previous.*, but no --previous file was given: it is null for everyone\n");
  if (!a.previous.empty()) {
    previous = loadPrevious(a.previous, rules->program, *data, config->zone, error);
    if (!previous) {
      printError(error);
      return kExitErrors;
    }
  }
  RunOptions options;
  options.now = now;
  options.threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.previous = previous ? &*previous : nullptr;
  DecisionRun run(*exe, *data, options);
  if (!run.prepare(error)) {
    printError(error + "; no output was written");
    return kExitErrors;
  }

  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  OutputFormat format = a.format.empty() ? formatForPath(a.out) : a.format == "jsonl" ? OutputFormat::Jsonl : OutputFormat::Csv;
  AtomicFile out;
  if (!out.open(a.out, error)) {
    printError(error);
    return kExitErrors;
  }
  std::string rejectsPath = rejectsPathFor(a.out, a.rejects);
  RunSummary summary;
  {
    DecisionWriter writer(out.stream(), format, *exe, *data, clock, a.explain);
    if (!run.decide(writer, summary, error)) {
      out.abandon();
      printError(error + "; no output was written");
      return kExitErrors;
    }
  }
  bool reconciled = data->customerCounts.read == summary.customers + data->customerCounts.rejected &&
                    data->eventCounts.reconciles() && data->contactCounts.reconciles();
  if (!reconciled) {
    out.abandon();
    printError("the counts do not reconcile (read != decided + rejected); no output was written");
    return kExitErrors;
  }
  // With decisions on standard output and no --rejects, rejected rows are reported on stderr
  // rather than dropped into the working directory.
  if (rejectsPath.empty())
    for (const auto& r : data->rejects)
      fmt::print(stderr, "rejected: {}:{}: {}{}\n", r.file, r.line, r.field.empty() ? "" : r.field + ": ", r.reason);
  AtomicFile rejects;
  if (!rejectsPath.empty()) {
    if (!rejects.open(rejectsPath, error)) {
      printError(error);
      return kExitErrors;
    }
    writeRejects(rejects.stream(), formatForPath(rejectsPath), data->rejects);
  }
  if (!out.commit(error) || (!rejectsPath.empty() && !rejects.commit(error))) {
    printError(error);
    return kExitErrors;
  }
  if (!a.quiet) printSummary(*exe, *data, summary, clock, a.out, rejectsPath);
  if (a.maxErrors >= 0 && static_cast<int64_t>(data->rejects.size()) > a.maxErrors) return kExitErrors;
  return kExitOk;
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
  cmd->add_option("--shard", args->shard, "Process shard K/N of the customers");
  cmd->add_option("--max-errors", args->maxErrors, "Stop with exit 1 once more rows than this are rejected");
  cmd->add_flag("--quiet,-q", args->quiet, "No summary on stderr");
  return [args] { return runCommand(*args); };
}

REKINDLE_COMMAND("run", addRun);

}  // namespace rekindle::cli
