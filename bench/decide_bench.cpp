// rekindle_bench_decide: the decision pass alone, in memory. Loads the config, the rules and
// the export once, then times DecisionRun::prepare (budgets' allocation passes) and
// DecisionRun::decide (every customer's stage, segments, channel, caps and offer), best of
// --repeat runs, on 1 thread and on --threads threads. Decisions go to a sink that drops
// them, or (--format csv) are formatted as CSV into /dev/null, so that file output is
// measured apart from deciding. Like `rekindle run`, it runs on transparent huge pages
// (REKINDLE_HUGE_PAGES=0 to time 4 KiB pages).
//
//   rekindle_bench_decide RULES --config rekindle.yaml --customers F --events F [--threads N] [--repeat K] [--format none|csv]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "rekindle/compiler/compiler.h"
#include "rekindle/runtime/config.h"
#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/engine.h"
#include "rekindle/runtime/vm.h"
#include "rekindle/runtime/writer.h"
#include "huge_pages.h"

using namespace rekindle;

namespace {

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Takes the decisions and drops them, so that deciding is timed without formatting or writing
// them. Like the run's writers it "formats" on the worker threads (into nothing): the engine then
// hands each decision over where it was made, as in a real run, instead of copying every one for a
// sink that must receive them in order. The run's summary still counts them.
class DiscardingSink : public DecisionSink {
 public:
  void write(const Decision&) override {}
  bool formatsConcurrently() const override { return true; }
};

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "rekindle_bench_decide: %s\n", message.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  rekindle::cli::startWithHugePages(argv, "bench");
  std::string rulesPath, configPath, customers, events, format = "none";
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail("missing value after " + a);
      return argv[++i];
    };
    if (a == "--config") configPath = value();
    else if (a == "--customers") customers = value();
    else if (a == "--events") events = value();
    else if (a == "--threads") threads = std::max(1, std::atoi(value().c_str()));
    else if (a == "--repeat") repeat = std::max(1, std::atoi(value().c_str()));
    else if (a == "--format") format = value();
    else if (rulesPath.empty()) rulesPath = a;
    else fail("unexpected argument " + a);
  }
  if (rulesPath.empty() || configPath.empty()) fail("usage: rekindle_bench_decide RULES --config F [--customers F] [--events F]");

  std::vector<Diagnostic> diags;
  auto config = loadConfig(configPath, diags);
  if (!config) fail("config: " + (diags.empty() ? std::string("?") : diags[0].message));
  std::FILE* rf = std::fopen(rulesPath.c_str(), "rb");
  if (!rf) fail("cannot read " + rulesPath);
  std::string text;
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, rf)) > 0;) text.append(buf, n);
  std::fclose(rf);
  SourceFile src(rulesPath, text);
  CompileResult compiled = compileRules(src, *config);
  if (!compiled.program) {
    for (const auto& d : compiled.diags) std::fputs(renderDiagnostic(d, &src, false).c_str(), stderr);
    fail("the rules do not compile");
  }

  auto t0 = std::chrono::steady_clock::now();
  LoadOptions lo;
  lo.customersPath = customers;
  lo.eventsPath = events;
  lo.threads = threads;
  std::string error;
  auto data = loadDataset(*config, lo, error);
  if (!data) fail(error);
  double load = seconds(t0);
  auto exe = Executable::bind(*compiled.program, *config, data->strings, {}, error);
  if (!exe) fail(error);
  const double n = static_cast<double>(data->customerCount);
  fmt::print("load: {} customers, {} events, {} contacts in {:.3f} s ({:.0f} events/s)\n", data->customerCount,
             data->eventBegin.back(), data->contactTime.size(), load, static_cast<double>(data->eventBegin.back()) / load);

  std::FILE* devnull = format == "csv" ? std::fopen("/dev/null", "wb") : nullptr;
  RunSummary last;
  for (int t : {1, threads}) {
    double bestPrepare = 1e300, bestDecide = 1e300;
    for (int k = 0; k < repeat; ++k) {
      RunOptions options;
      options.now = config->asOf.value_or(0);
      options.threads = t;
      DecisionRun run(*exe, *data, options);
      auto p0 = std::chrono::steady_clock::now();
      if (!run.prepare(error)) fail(error);
      double prepare = seconds(p0);
      RunSummary summary;
      auto d0 = std::chrono::steady_clock::now();
      if (devnull) {
        DecisionWriter writer(devnull, OutputFormat::Csv, *exe, *data, RunClock::at(options.now, config->zone), false);
        if (!run.decide(writer, summary, error)) fail(error);
      } else {
        DiscardingSink sink;
        if (!run.decide(sink, summary, error)) fail(error);
      }
      double decide = seconds(d0);
      bestPrepare = std::min(bestPrepare, prepare);
      bestDecide = std::min(bestDecide, decide);
      last = summary;
    }
    double total = bestPrepare + bestDecide;
    fmt::print("threads {}: prepare {:.3f} s, decide {:.3f} s, total {:.3f} s: {:.0f} customers/s ({:.0f} per thread); "
               "decide alone {:.0f} customers/s\n",
               t, bestPrepare, bestDecide, total, n / total, n / total / t, n / bestDecide);
    if (t == threads) break;
  }
  fmt::print("decided: {} customers, {} sends, {} suppressed, {} held out\n", last.customers, last.sends, last.suppressed,
             last.holdout);
  if (devnull) std::fclose(devnull);
  return 0;
}
