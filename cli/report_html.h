// The HTML report of a run (`rekindle report`, `rekindle run --report`): one self-contained
// file, charts drawn as inline SVG by this code, every figure also in a table. The report is
// rendered from a ReportData, which is built either from a run in memory or from a decisions
// file (report_data.h); rendering is a pure function of it, so the same data gives the same
// bytes. See docs/report.md.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rekindle::report {

// One export the run read: read = used + rejected. Counts a decisions file cannot tell are unset.
struct InputRow {
  std::string source;  // customers, events, contacts, decisions, rejects, previous, rules, config
  std::string path;
  std::optional<uint64_t> read, used, rejected;
  std::string note;    // "taken from the events (kind in email_sent, sms_sent)"
};

// A row with `limit N`: how the budget or capacity was used.
struct BudgetRow {
  std::string table;    // "channel" or "offer"
  std::string outcome;  // "sms", "WINBACK20"
  int64_t limit = 0;
  uint64_t given = 0;                   // customers who got it and count against the limit
  std::optional<uint64_t> turnedAway;   // qualified but the budget was full (known from a run only)
  std::string cutoff;                   // the `rank by` value of the last customer given it
};

// Rejected rows of one kind: the reason with its particular values left out
// ("unknown customer id '…'"), how many, and the first full reason as an example.
struct RejectReason {
  std::string source;
  std::string reason;
  uint64_t count = 0;
  std::string example;  // "events.csv:2143: unknown customer id 'R9999'"
};

struct ReportData {
  // What was run, when, from what.
  std::string rulesName, rulesVersion;
  std::string asOf;     // the run's now, as written in decided_at
  std::string origin;   // "rekindle run", or "rekindle report (from a decisions file)"
  std::string tool = "rekindle 0.1.0";
  std::vector<InputRow> inputs;
  std::vector<std::string> notes;  // what this report could not know, and why

  uint64_t customers = 0;

  // Stages in the rules' order ("" = no stage row matched); channels in table order, then
  // "none", then "" (no channel row matched).
  std::vector<std::string> stages;
  std::vector<std::string> channels;
  std::map<std::pair<std::string, std::string>, uint64_t> stageChannel;
  std::map<std::string, uint64_t> stageHoldout;  // held-out customers per stage

  // Every customer is in exactly one of these four.
  uint64_t sent = 0;
  uint64_t heldOut = 0;                // holdout = true (whatever the caps said)
  uint64_t suppressedTreated = 0;      // not held out, stopped by a cap
  uint64_t noMessage = 0;              // not held out, channel none or no channel row
  // suppressed_by counts as in the run summary (held-out customers included), and the
  // held-out part of each. `caps` lists the cap windows the rules declare, when known.
  std::map<std::string, uint64_t> suppressedBy, suppressedByHeldOut;
  std::vector<std::string> caps;

  // Offers in the table's order, then "none", then "" (no row).
  bool hasOffers = false;
  std::vector<std::string> offers;
  std::map<std::string, uint64_t> offerCount, offerHeldOut;
  bool costsKnown = false;                  // the offer catalogue was available
  std::map<std::string, double> unitCost;   // per offer, from the catalogue
  std::map<std::string, double> offerCost;  // offers to customers not held out, times the unit cost
  double totalCost = 0;
  std::vector<BudgetRow> budgets;

  std::optional<double> holdoutDeclared;  // `holdout 10%` in the rules, when known

  std::vector<std::string> segments;  // declaration order
  std::map<std::string, uint64_t> segmentCount;

  // Transitions since the previous run, from -> to. `previousKnown`: the run had a --previous
  // file (so customers with no transition stayed where they were). From "" = not in the
  // previous file (or no stage there).
  bool previousKnown = false;
  std::map<std::pair<std::string, std::string>, uint64_t> transitions;

  // The R x F grid of std.rfm scores; rfm[r][f] for scores 1..5, rfm[0][0] = no purchases.
  bool rfmAvailable = false;
  bool rfmFromRules = false;  // the rules use std.rfm (else computed for the report)
  std::array<std::array<uint64_t, 6>, 6> rfm{};
  std::array<std::array<std::string, 6>, 6> rfmSegments;  // the std.rfm segment of each cell
  std::string rfmNote;        // why there is no grid, or how it was computed

  // Rejected rows per source, and the most frequent reasons.
  bool rejectsKnown = false;
  std::map<std::string, uint64_t> rejectsBySource;
  std::vector<RejectReason> topReasons;
};

// The report as one HTML document. Deterministic: the same data gives the same bytes.
std::string renderHtml(const ReportData& data);

// Escapes & < > " ' for HTML text and attribute values; also replaces bytes that are not
// valid UTF-8 and control characters other than tab and newline, so any value is safe.
std::string escapeHtml(std::string_view text);

// "1,234,567"
std::string groupDigits(uint64_t n);

// Reduces a rejection reason to its kind, leaving out the particular values in quotes (but not
// field names) and line numbers, so that reasons can be counted together.
std::string reasonKind(std::string_view reason);

}  // namespace rekindle::report
