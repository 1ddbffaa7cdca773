// `rekindle explain RULES --id C123`: why one customer got their stage, channel, cap result and
// offer, in plain words: every row of every table with its condition and result, the caps
// window by window, budgets, holdout, and the values of the lets and fields the rules read.
#include <fmt/format.h>

#include <ctime>
#include <functional>
#include <map>

#include "common.h"
#include "rekindle/core/hash.h"
#include "rekindle/core/suggest.h"
#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/describe.h"
#include "rekindle/runtime/engine.h"
#include "rekindle/runtime/previous.h"

namespace rekindle::cli {
namespace {

struct ExplainArgs {
  std::string rules, config, id, asOf, previous;
  std::vector<std::string> params;
};

// Records what evaluation touched, in the order it happened. Values are described as they are
// seen: lists and computed strings live in the evaluator's arena only while it runs.
class Recorder : public EvalTracer {
 public:
  explicit Recorder(std::function<std::string(const Value&)> describe) : describe_(std::move(describe)) {}
  std::map<std::pair<int, size_t>, Value> conditions;  // bools or null: no pointers
  std::map<std::pair<int, size_t>, ConsentResult> skipped;
  std::vector<std::pair<uint32_t, std::string>> lets;
  std::vector<std::pair<uint32_t, std::string>> fields;

  void rowTried(TableKind t, size_t row, const Value& v) override {
    conditions[{int(t), row}] = v.tag == Kind::Bool ? v : Value::null();
  }
  void rowSkipped(TableKind t, size_t row, ConsentResult why) override { skipped[{int(t), row}] = why; }
  void letComputed(uint32_t let, const Value& v) override {
    for (const auto& [l, x] : lets)
      if (l == let) return;
    lets.emplace_back(let, describe_(v));
  }
  void fieldRead(uint32_t field, const Value& v) override {
    for (const auto& [f, x] : fields)
      if (f == field) return;
    fields.emplace_back(field, describe_(v));
  }

 private:
  std::function<std::string(const Value&)> describe_;
};


std::string yesNo(const Value& v) { return v.isNull() ? "null (counts as no)" : v.isTrue() ? "yes" : "no"; }

int explainCommand(const ExplainArgs& a) {
  auto config = loadConfigOrReport(findConfig(a.config, a.rules));
  if (!config) return kExitErrors;
  std::string text, error;
  if (!readFile(a.rules, text, error)) {
    printError(error);
    return kExitErrors;
  }
  SourceFile src(a.rules, text);
  CompileResult compiled = compileRules(src, *config);
  if (!compiled.program) {
    printDiagnostics(compiled.diags, &src, compiled.preludeSources);
    return kExitErrors;
  }
  const Program& program = *compiled.program;
  std::string fatal;
  auto data = loadDataset(*config, LoadOptions{}, fatal);
  if (!data) {
    printError(fatal);
    return kExitErrors;
  }
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& p : a.params) {
    size_t eq = p.find('=');
    if (eq == std::string::npos) {
      printError("--param needs NAME=VALUE, not '" + p + "'");
      return kExitUsage;
    }
    params.emplace_back(p.substr(0, eq), p.substr(eq + 1));
  }
  auto exe = Executable::bind(program, *config, data->strings, params, error);
  if (!exe) {
    printError(error);
    return kExitErrors;
  }
  auto found = data->customerIndex.find(a.id);
  if (!found) {
    for (const auto& r : data->rejects)
      if (r.source == DataSource::Customers && r.customerId == a.id) {
        printError(fmt::format("customer '{}' was rejected: {}:{}{}: {}{} (so no decision is made for it)", a.id, r.file, r.line,
                               r.column ? fmt::format(", column {}", r.column) : "", r.field.empty() ? "" : r.field + ": ", r.reason));
        return kExitErrors;
      }
    std::vector<std::string> ids;
    for (uint32_t c = 0; c < data->customerCount && ids.size() < 100000; ++c) ids.push_back(data->customerId(c));
    std::string near = closestName(a.id, ids);
    printError("no customer '" + a.id + "' in " + config->customers.source.path + (near.empty() ? "" : " (did you mean '" + near + "'?)"));
    return kExitErrors;
  }
  uint32_t c = *found;

  int64_t now = config->asOf.value_or(static_cast<int64_t>(std::time(nullptr)));
  if (!a.asOf.empty()) {
    auto t = parseTime(a.asOf, config->zone);
    if (!t) {
      printError("--as-of '" + a.asOf + "' is not a time");
      return kExitUsage;
    }
    now = *t;
  }
  std::optional<PreviousDecisions> previous;
  if (!a.previous.empty()) {
    previous = loadPrevious(a.previous, program, *data, config->zone, error);
    if (!previous) {
      printError(error);
      return kExitErrors;
    }
  }
  if (a.previous.empty() && (program.features & kUsesPrevious))
    fmt::print(stderr, "warning: the rules read previous.*, but no --previous file was given: it is null for everyone\n");
  RunOptions options;
  options.now = now;
  options.threads = 1;
  options.previous = previous ? &*previous : nullptr;
  DecisionRun run(*exe, *data, options);
  Decision d;
  const TimeZone& zone = data->zoneOf(c, config->zone);
  auto show = [&](const Value& v) { return describeValue(v, *exe, *data, zone); };
  Recorder values(show);
  if (!run.prepare(error) || !run.decideOne(c, &values, d, error)) {
    printError(error);
    return kExitErrors;
  }
  std::string base = a.rules.substr(a.rules.rfind('/') == std::string::npos ? 0 : a.rules.rfind('/') + 1);

  // Customers taken from the events have no line of their own.
  std::string where = config->customers.customersFromEvents
                          ? "from the events of " + config->events.source.path
                          : fmt::format("line {} of {}", data->customerLine[c], config->customers.source.path);
  fmt::print("Customer {} ({}), as of {}\n", a.id, where, formatTime(now, zone));
  fmt::print("Rules {}{}\n", program.rulesName, program.rulesVersion.empty() ? "" : " version " + program.rulesVersion);

  if (previous) {
    if (previous->present[c])
      fmt::print("Previous run: stage {}, channel {}, offer {}{}\n", previous->stageName[c].empty() ? "(none)" : previous->stageName[c],
                 previous->channel[c] == kUnknownOutcome ? "(none)" : exe->outcomeName(TableKind::Channel, previous->channel[c]),
                 previous->offer[c] == kUnknownOutcome ? "(none)" : exe->outcomeName(TableKind::Offer, previous->offer[c]),
                 previous->at[c] ? ", decided " + formatTime(*previous->at[c], zone) : "");
    else
      fmt::print("Previous run: the customer was not in it (previous.* is null)\n");
  } else if (program.features & kUsesPrevious) {
    fmt::print("Previous run: none given (--previous): previous.* is null for everyone\n");
  }
  if (program.features & kUsesRfm) {
    const Population& pop = run.population();
    fmt::print("RFM: R {} F {} M {}: {}\n", pop.rfmScore(c, 'r'), pop.rfmScore(c, 'f'), pop.rfmScore(c, 'm'), *pop.rfmSegment(c));
  }

  const char* titles[] = {"Stage", "Channel", "Offer"};
  for (int t = 0; t < kTableCount; ++t) {
    if (!program.tables[t].present) continue;
    TableKind k = static_cast<TableKind>(t);
    run.eligibleRows(c, k, &values);
    const ast::TableDecl* decl = nullptr;
    for (const auto& td : compiled.module->tables)
      if (static_cast<int>(td.kind) == t) decl = &td;
    Value outcome = t == 0 ? d.stage : t == 1 ? d.channel : d.offer;
    fmt::print("\n{}: {}", titles[t], d.row[t] < 0 ? "none decided (no row applies)" : outcomeLabel(*exe, k, outcome));
    if (d.row[t] >= 0) fmt::print("  ({}:{})", base, program.tables[t].rows[d.row[t]].loc.line);
    fmt::print("\n");
    const char* budgetWord = t == 1 ? "capacity" : "budget";
    for (size_t r = 0; r < program.tables[t].rows.size(); ++r) {
      const DecisionRow& row = program.tables[t].rows[r];
      auto it = values.conditions.find({t, r});
      Value v = it == values.conditions.end() ? Value::null() : it->second;
      std::string result = row.condition < 0 ? "always" : yesNo(v);
      std::vector<std::string> notes;
      auto skip = values.skipped.find({t, r});
      if (skip != values.skipped.end()) {
        const ChannelSpec& spec = config->channels[exe->configChannel(row.outcome)];
        notes.push_back(skip->second == ConsentResult::NoConsent ? "skipped: no consent (" + spec.consent + " is not true)"
                                                                 : "skipped: " + spec.requires + " is empty (" + spec.name + " needs it)");
      }
      int64_t limit = run.limitOf(row);
      if (static_cast<int>(r) == d.fullRow[t]) {
        std::string note = fmt::format("its {} of {} went to customers ranked higher", budgetWord, limit);
        for (const BudgetUse& b : run.budgets())
          if (b.table == k && b.row == static_cast<int>(r)) {
            if (row.rankBy >= 0)
              note += fmt::format(": this customer's value {}, the last one given {}", run.rankValue(c, k, static_cast<int>(r)), b.cutoff);
            if (b.tieAtCutoff) note += row.rankBy >= 0 ? " (a tie, broken by the stable bucket draw)" : " (drawn by the stable bucket)";
          }
        notes.push_back(note);
      }
      if (static_cast<int>(r) == d.row[t] && limit >= 0) {
        if (d.holdout) notes.push_back(fmt::format("held out: uses none of the {}", budgetWord));
        else if (t == 1 && !d.suppressedBy.empty()) notes.push_back("its caps stop the contact: uses none of the capacity");
        else if (t == 2 && !d.send) notes.push_back("no message goes out: uses none of the budget");
      }
      std::string text = decl ? src.oneLine(decl->rows[r].range) : exe->outcomeName(k, row.outcome);
      const char* mark = static_cast<int>(r) == d.row[t] ? "->" : "  ";
      fmt::print("  {} {:>4}  {:<7} {}\n", mark, row.loc.line, result, text);
      for (const auto& n : notes) fmt::print("  {:>15}{}\n", "", n);
    }
    if (t == 1 && !d.channel.isNull() && d.channel.i != kNoOutcome) {
      auto caps = run.capReport(c, static_cast<int32_t>(d.channel.i));
      if (caps.empty()) {
        fmt::print("  Frequency caps: none apply to {}\n", outcomeLabel(*exe, k, d.channel));
      } else {
        fmt::print("  Frequency caps on {}:\n", outcomeLabel(*exe, k, d.channel));
        for (const auto& w : caps) {
          fmt::print("     {} {}: {} contact{} in the window, limit {}: {}\n", w.cap, w.window, w.count, w.count == 1 ? "" : "s",
                     w.limit, w.full ? "full until " + formatTime(w.eligibleAt, zone) : "room for more");
          std::string list;
          for (int64_t at : w.counted) list += (list.empty() ? "" : ", ") + formatTime(at, zone);
          if (!list.empty()) fmt::print("       counted: {}\n", list);
        }
      }
    }
  }

  fmt::print("\n");
  if (program.holdout.present) {
    double b = customerBucket(a.id, program.holdout.salt);
    fmt::print("Holdout: {} (bucket {:.4f} {} {:g}% of salt \"{}\")\n", d.holdout ? "yes, in the control group" : "no",
               b, d.holdout ? "<" : ">=", program.holdout.fraction * 100, program.holdout.salt);
  }
  std::string why;
  if (d.send) {
    why = "yes, at " + formatTime(*d.sendAt, zone);
    if (*d.sendAt != now) {
      const ChannelSpec& spec = config->channels[exe->configChannel(static_cast<int32_t>(d.channel.i))];
      why += " (after " + spec.name + "'s quiet hours " + spec.quiet->text + " in " + zone.name() + ")";
    }
  } else if (d.channel.isNull() || d.channel.i == kNoOutcome) {
    why = "no: no channel";
  } else if (d.holdout) {
    why = "no: the customer is in the holdout group";
  } else {
    why = "no: suppressed by " + d.suppressedBy + ", next eligible " + formatTime(*d.nextEligibleAt, zone);
  }
  fmt::print("Send: {}\n", why);
  if (!d.transition.empty()) fmt::print("Transition since the previous run: {}\n", d.transition);
  if (!program.segments.empty()) {
    std::string yes, no;
    for (size_t s = 0; s < program.segments.size(); ++s) (d.segments[s] ? yes : no) += (((d.segments[s] ? yes : no).empty()) ? "" : ", ") + program.segments[s].name;
    fmt::print("Segments: {}{}\n", yes.empty() ? "(none)" : yes, no.empty() ? "" : "   (not: " + no + ")");
  }
  if (!values.lets.empty()) {
    fmt::print("\nValues the rules computed:\n");
    for (const auto& [l, v] : values.lets) fmt::print("  {:<24} = {}\n", program.lets[l].name, v);
  }
  if (!values.fields.empty()) {
    fmt::print("\nCustomer fields the rules read:\n");
    for (const auto& [f, v] : values.fields) fmt::print("  {:<24} = {}\n", config->schema.customerFields[f].name, v);
  }
  return kExitOk;
}

}  // namespace

Command addExplain(CLI::App& app) {
  auto args = std::make_shared<ExplainArgs>();
  CLI::App* cmd = app.add_subcommand("explain", "Explain every decision for one customer, in plain words");
  cmd->add_option("rules", args->rules, "Rules file")->required();
  cmd->add_option("--id", args->id, "The customer's id")->required();
  cmd->add_option("--config", args->config, "Config file (default: rekindle.yaml beside the rules or above)");
  cmd->add_option("--as-of", args->asOf, "The run's time `now`");
  cmd->add_option("--param", args->params, "Override a param: NAME=VALUE (repeatable)");
  cmd->add_option("--previous", args->previous, "An earlier decisions file");
  return [args] { return explainCommand(*args); };
}

REKINDLE_COMMAND("explain", addExplain);

}  // namespace rekindle::cli
