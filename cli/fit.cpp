// `rekindle fit`: estimates std.clv's parameters (BG/NBD for purchases, Gamma-Gamma for spend)
// by maximum likelihood from the purchases of the export, and writes the file that the config's
// clv.fitted names, for runs to read.
#include <fmt/format.h>

#include <ctime>

#include "common.h"
#include "rekindle/runtime/clv.h"
#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/vm.h"
#include "rekindle/runtime/writer.h"

namespace rekindle::cli {
namespace {

struct FitArgs {
  std::string config, out, until, unit, events;
  bool quiet = false;
};

int fitCommand(const FitArgs& a) {
  std::string configPath = findConfig(a.config, "./rekindle.yaml");
  auto config = loadConfigOrReport(configPath);
  if (!config) return kExitErrors;
  const std::string unit = a.unit.empty() ? config->clv.unit : a.unit;
  const double unitDays = clvUnitDays(unit);

  // The calibration period ends on `until` (purchases that day included); by default the day of
  // the config's as_of, else today, in the config's zone: the day a run would measure T to.
  int64_t untilDay = 0;
  if (!a.until.empty()) {
    auto d = parseDate(a.until);
    if (!d) {
      printError("--until '" + a.until + "' is not a date (YYYY-MM-DD)");
      return kExitUsage;
    }
    untilDay = *d;
  } else {
    int64_t now = config->asOf ? *config->asOf : static_cast<int64_t>(std::time(nullptr));
    untilDay = RunClock::at(now, config->zone).today;
  }

  // What a purchase is comes from the config (clv.purchase, clv.amount), compiled exactly as
  // std.clv compiles it for runs: through the rules of a program that uses std.clv.
  if (!config->events.present) {
    printError(configPath + ": `rekindle fit` reads purchases, and the config has no `events:` export");
    return kExitErrors;
  }
  SourceFile source("(rekindle fit)", "rules rekindle_fit\nuse std.clv\nlet repeat_purchases = clv.frequency\n");
  CompileResult compiled = compileRules(source, *config);
  if (!compiled.program) {
    std::vector<Diagnostic> errors;
    for (const auto& d : compiled.diags)
      if (d.severity == Severity::Error) errors.push_back(d);
    printDiagnostics(errors, &source, compiled.preludeSources);
    return kExitErrors;
  }
  const Program& program = *compiled.program;

  LoadOptions lo;
  lo.eventsPath = a.events;
  std::string fatal;
  auto data = loadDataset(*config, lo, fatal);
  if (!data) {
    printError(fatal);
    return kExitErrors;
  }
  std::string error;
  auto exe = Executable::bind(program, *config, data->strings, {}, error);
  if (!exe) {
    printError(error);
    return kExitErrors;
  }
  RunContext context;
  // `now` for a purchase condition that reads it: the end of the until day.
  context.clock = RunClock::at(config->zone.localDayStart(untilDay + 1) - 1, config->zone);
  Evaluator ev(*exe, *data, context);
  std::vector<ClvSummary> summaries;
  uint64_t without = 0, purchaseRows = 0, purchaseDays = 0;
  std::vector<ClvPurchase> purchases;
  for (uint32_t c = 0; c < data->customerCount; ++c) {
    ev.begin(c);
    if (!readClvPurchases(ev, program, config->zone, purchases, error)) {
      printError(error);
      return kExitErrors;
    }
    for (const auto& p : purchases) purchaseRows += p.day <= untilDay;
    auto s = summarizePurchases(purchases, untilDay, unitDays);
    if (!s) {
      ++without;
      continue;
    }
    purchaseDays += static_cast<uint64_t>(s->days);
    summaries.push_back(*s);
  }
  uint64_t repeat = 0;
  for (const auto& s : summaries) repeat += s.x > 0;

  std::string until = formatDate(untilDay);
  if (!a.quiet) {
    fmt::print("rekindle fit: {}: purchases ({}) until {} inclusive, time in {}\n", configPath, config->clv.purchase,
               until, unit);
    fmt::print("  customers    {} with purchases ({} without), {} with repeat purchases\n", summaries.size(), without,
               repeat);
    fmt::print("  purchases    {} on {} purchase days (same-day purchases merged)", purchaseRows, purchaseDays);
    if (!data->rejects.empty()) fmt::print("; {} rows of the export rejected", data->rejects.size());
    fmt::print("\n");
  }

  ClvModel model;
  model.unit = unit;
  model.until = until;
  model.purchase = config->clv.purchase;
  model.amount = config->clv.amount;
  model.source = configPath;
  model.customers = summaries.size();
  model.repeatCustomers = repeat;
  ClvFitReport bg = fitBgNbd(summaries, model.bgnbd);
  if (!bg.ok) {
    printError(bg.error);
    return kExitErrors;
  }
  model.bgnbdLogLikelihood = bg.logLikelihood;
  if (!a.quiet) {
    fmt::print("  BG/NBD       r = {:.6g}  alpha = {:.6g}  a = {:.6g}  b = {:.6g}\n", model.bgnbd.r, model.bgnbd.alpha,
               model.bgnbd.a, model.bgnbd.b);
    fmt::print("               log-likelihood {:.4f} over {} customers; {} iterations ({} evaluations, {} restarts)\n",
               bg.logLikelihood, bg.customers, bg.iterations, bg.evaluations, bg.restarts);
  }
  ClvFitReport gg = fitGammaGamma(summaries, model.gammaGamma);
  if (!gg.ok) {
    printError(gg.error);
    return kExitErrors;
  }
  model.gammaGammaLogLikelihood = gg.logLikelihood;
  model.gammaGammaCustomers = gg.customers;
  if (!a.quiet) {
    const auto& g = model.gammaGamma;
    fmt::print("  Gamma-Gamma  p = {:.6g}  q = {:.6g}  gamma = {:.6g}  (mean spend per purchase {:.2f})\n", g.p, g.q,
               g.gamma, g.gamma * g.p / (g.q - 1));
    fmt::print("               log-likelihood {:.4f} over {} customers with repeat purchases; {} iterations ({} evaluations, {} restarts)\n",
               gg.logLikelihood, gg.customers, gg.iterations, gg.evaluations, gg.restarts);
    fmt::print("  a new customer's expected repeat purchases in a year ({}): {:.4f}\n", unit == "weeks" ? "52 weeks" : "365 days",
               bgnbdExpectedNew(model.bgnbd, unit == "weeks" ? 52.0 : 365.0));
  }

  std::string text = writeClvModel(model);
  if (!writeFileAtomically(a.out, text, error)) {
    printError(error);
    return kExitErrors;
  }
  if (!a.quiet) {
    fmt::print("  wrote {}\n", a.out);
    if (unit != config->clv.unit)
      fmt::print("  note: the config's clv.unit is {}: runs with it will refuse this file until it says {}\n",
                 config->clv.unit, unit);
  }
  return kExitOk;
}

}  // namespace

Command addFit(CLI::App& app) {
  auto args = std::make_shared<FitArgs>();
  CLI::App* cmd = app.add_subcommand("fit", "Fit std.clv's BG/NBD and Gamma-Gamma parameters to the export's purchases");
  cmd->add_option("--config", args->config, "Config file (default: rekindle.yaml here or in a folder above)");
  cmd->add_option("-o,--out", args->out, "The parameters file to write (what clv.fitted names)")->required();
  cmd->add_option("--until", args->until, "Last day of the calibration period, YYYY-MM-DD, included (default: the day of as_of, else today)");
  cmd->add_option("--unit", args->unit, "Time unit: weeks or days (default: the config's clv.unit, else weeks)")
      ->check(CLI::IsMember({"weeks", "days"}));
  cmd->add_option("--events", args->events, "Events export (overrides the config's path)");
  cmd->add_flag("--quiet,-q", args->quiet, "Print nothing on success");
  return [args] { return fitCommand(*args); };
}

REKINDLE_COMMAND("fit", addFit);

}  // namespace rekindle::cli
