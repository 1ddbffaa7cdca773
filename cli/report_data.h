// Building the report's data (report_html.h) from a run in memory (`rekindle run --report`) or
// from a decisions file written earlier (`rekindle report`). Both count the same rows the same
// way (Counter); a run adds what only it knows: budgets turned away, the population's RFM
// scores, every input's read/used/rejected counts. See docs/report.md.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report_html.h"
#include "rekindle/runtime/config.h"
#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/engine.h"
#include "rekindle/runtime/program.h"

namespace rekindle::report {

// One decision as the report counts it (the columns of the decisions file).
struct RowFacts {
  std::string_view stage, channel, offer, suppressedBy, transition;
  bool send = false;
  bool holdout = false;
  std::vector<std::string_view> segments;
};

// Counts decisions into a ReportData. Names are kept in order of first appearance; finish()
// puts the program's order first when there is one.
class Counter {
 public:
  void add(const RowFacts& row);
  // Orders stages, channels, offers and segments (the program's first, when given), and fills
  // what the program knows: caps, holdout share, catalogue costs, budgets' limits.
  void finish(const Program* program, const Config* config, ReportData& out);
  ReportData& data() { return d_; }
  // Customers who were sent a message with this channel (channel = true) or this offer.
  uint64_t sent(const std::string& outcome, bool channel) const {
    const auto& m = channel ? channelSent_ : offerSent_;
    auto it = m.find(outcome);
    return it == m.end() ? 0 : it->second;
  }

 private:
  ReportData d_;
  std::map<std::string, uint64_t> offerSent_, channelSent_;
  std::vector<std::string> stages_, channels_, offers_, segments_;
  bool anyOffer_ = false;
};

// Tees a run's decisions to the writer and counts them.
class RunCollector : public DecisionSink {
 public:
  RunCollector(DecisionSink& next, const Executable& exe) : next_(next), exe_(exe) {}
  void write(const Decision& d) override;
  Counter& counter() { return counter_; }

 private:
  DecisionSink& next_;
  const Executable& exe_;
  Counter counter_;
};

struct RunReportInputs {
  std::string rulesPath, configPath;
  std::string customersPath, eventsPath, contactsPath;  // as read
  std::string outPath, rejectsPath, previousPath;
  const PreviousDecisions* previous = nullptr;
  std::string asOf;  // the run's now, as decided_at writes it
  int threads = 1;   // for the RFM pass the report may run
};

// The report of a run that has just decided (after DecisionRun::decide). `data` is not const:
// when the rules do not use std.rfm, the report computes RFM scores over the same customers,
// which interns a few strings.
ReportData reportFromRun(RunCollector& collected, const Executable& exe, Dataset& data, DecisionRun& run,
                         const RunSummary& summary, const RunReportInputs& in);

// The report of a decisions file (CSV or JSON Lines, as `rekindle run` writes it), with the
// rejects file when there is one, and the program and config when given (stage order, costs,
// caps, limits). False with `error` when the file cannot be read or is not a decisions file.
struct FileReportInputs {
  std::string decisionsPath;
  std::string rejectsPath;  // "" when there is none
  const Program* program = nullptr;
  const Config* config = nullptr;
  std::string rulesPath, configPath;
};
bool reportFromFile(const FileReportInputs& in, ReportData& out, std::string& error);

// Counts rejected rows per source and their most frequent reasons into `out`.
void countRejects(const std::vector<RejectedRow>& rejects, ReportData& out);

// RFC 4180 records of a CSV text (quoted fields, doubled quotes, CRLF or LF).
std::vector<std::vector<std::string>> parseCsv(std::string_view text);

}  // namespace rekindle::report
