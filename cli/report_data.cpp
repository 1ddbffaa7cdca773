// Building the report's data from a run or from a decisions file.
#include "report_data.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "rekindle/compiler/compiler.h"
#include "rekindle/runtime/caps.h"
#include "rekindle/runtime/population.h"

namespace rekindle::report {

namespace {

void remember(std::vector<std::string>& order, std::string_view name) {
  if (std::find(order.begin(), order.end(), name) == order.end()) order.emplace_back(name);
}

// The program's names first (all of them, even with no customer), then the others in order of
// first appearance; `tail` names ("none", "") go last, when they were seen.
std::vector<std::string> ordered(const std::vector<std::string>* known, const std::vector<std::string>& seen,
                                 std::initializer_list<const char*> tail) {
  std::vector<std::string> out;
  if (known) out = *known;
  auto isTail = [&](const std::string& s) {
    for (const char* t : tail)
      if (s == t) return true;
    return false;
  };
  for (const auto& s : seen)
    if (!isTail(s) && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  for (const char* t : tail)
    if (std::find(seen.begin(), seen.end(), t) != seen.end()) out.emplace_back(t);
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool readText(const std::string& path, std::string& text, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read '" + path + "'";
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  return true;
}

bool looksJsonl(const std::string& path, const std::string& text) {
  std::string p = lower(path);
  if (endsWith(p, ".jsonl") || endsWith(p, ".ndjson")) return true;
  if (endsWith(p, ".csv")) return false;
  size_t i = text.find_first_not_of(" \t\r\n");
  return i != std::string::npos && text[i] == '{';
}

// A JSON value as the CSV cell would read: strings as they are, null as "", others as JSON.
std::string jsonCell(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  return it->dump();
}

// A table of string cells with named columns, from CSV or JSON Lines.
struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::vector<uint64_t> lines;  // where each row starts, for messages
  int column(const std::string& name) const {
    for (size_t i = 0; i < columns.size(); ++i)
      if (columns[i] == name) return static_cast<int>(i);
    return -1;
  }
};

bool readRows(const std::string& path, const std::vector<std::string>& jsonKeys, Rows& out, std::string& error) {
  std::string text;
  if (!readText(path, text, error)) return false;
  if (looksJsonl(path, text)) {
    out.columns = jsonKeys;
    std::istringstream in(text);
    std::string line;
    uint64_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      nlohmann::json obj = nlohmann::json::parse(line, nullptr, false);
      if (obj.is_discarded() || !obj.is_object()) {
        error = fmt::format("{}:{}: not a JSON object", path, n);
        return false;
      }
      std::vector<std::string> row;
      for (const auto& key : jsonKeys) {
        auto it = obj.find(key);
        if (key == "segments" && it != obj.end() && it->is_array()) {
          std::string joined;
          for (const auto& s : *it) joined += (joined.empty() ? "" : ";") + (s.is_string() ? s.get<std::string>() : s.dump());
          row.push_back(joined);
        } else {
          row.push_back(jsonCell(obj, key.c_str()));
        }
      }
      out.rows.push_back(std::move(row));
      out.lines.push_back(n);
    }
    return true;
  }
  auto records = parseCsv(text);
  if (records.empty()) {
    error = path + ": empty file (no header)";
    return false;
  }
  out.columns = records[0];
  if (!out.columns.empty() && out.columns[0].compare(0, 3, "\xEF\xBB\xBF") == 0) out.columns[0].erase(0, 3);  // BOM
  for (size_t i = 1; i < records.size(); ++i) {
    if (records[i].size() == 1 && records[i][0].empty()) continue;  // blank line
    if (records[i].size() != out.columns.size()) {
      error = fmt::format("{}: record {} has {} fields, the header {}", path, i + 1, records[i].size(), out.columns.size());
      return false;
    }
    out.rows.push_back(std::move(records[i]));
    out.lines.push_back(i + 1);
  }
  return true;
}

std::vector<std::string> capNames(const Program& p) {
  std::vector<std::string> caps;
  for (const auto& rule : p.caps)
    for (const auto& w : rule.windows) remember(caps, suppressionText(rule, w));
  return caps;
}

void fillRfmNames(ReportData& d) {
  for (int r = 0; r <= 5; ++r)
    for (int f = 0; f <= 5; ++f) d.rfmSegments[r][f] = (r == 0) != (f == 0) ? "" : rfmSegmentName(r, f);
}

// RFM scores for a run whose rules do not use std.rfm: the same scores, from a small program of
// our own compiled against the run's config (its rfm.purchase and rfm.amount).
void computeRfm(const Config& config, Dataset& data, int64_t now, int threads, ReportData& d) {
  SourceFile source("<report: std.rfm>", "rules rekindle_report\nuse std.rfm\nsegment scored when rfm.r > 0\n");
  CompileResult compiled = compileRules(source, config);
  if (!compiled.program) {
    d.rfmNote = "The rules do not use std.rfm, and this export has no purchases as the config's rfm.purchase describes them.";
    return;
  }
  std::string error;
  auto exe = Executable::bind(*compiled.program, config, data.strings, {}, error);
  if (!exe) {
    d.rfmNote = "RFM scores could not be computed: " + error;
    return;
  }
  RunOptions options;
  options.now = now;
  options.threads = std::max(1, threads);
  DecisionRun run(*exe, data, options);
  if (!run.prepare(error) || !run.population().hasRfm()) {
    d.rfmNote = "RFM scores could not be computed: " + error;
    return;
  }
  for (uint32_t c = 0; c < data.customerCount; ++c)
    ++d.rfm[run.population().rfmScore(c, 'r')][run.population().rfmScore(c, 'f')];
  d.rfmAvailable = true;
  d.rfmFromRules = false;
  d.rfmNote = "The rules do not use std.rfm: the report computed the same scores over this run's customers.";
}

}  // namespace

std::vector<std::vector<std::string>> parseCsv(std::string_view text) {
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cell += c;
      }
      continue;
    }
    any = true;
    if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(cell));
      cell.clear();
      out.push_back(std::move(row));
      row.clear();
      any = false;
    } else {
      cell += c;
    }
  }
  if (any || !cell.empty() || !row.empty()) {
    row.push_back(std::move(cell));
    out.push_back(std::move(row));
  }
  return out;
}

void Counter::add(const RowFacts& r) {
  ReportData& d = d_;
  ++d.customers;
  remember(stages_, r.stage);
  remember(channels_, r.channel);
  std::string stage(r.stage), channel(r.channel), offer(r.offer);
  ++d.stageChannel[{stage, channel}];
  if (r.holdout) ++d.stageHoldout[stage];
  if (r.holdout) ++d.heldOut;
  else if (r.send) ++d.sent;
  else if (!r.suppressedBy.empty()) ++d.suppressedTreated;
  else ++d.noMessage;
  if (!r.suppressedBy.empty()) {
    std::string cap(r.suppressedBy);
    ++d.suppressedBy[cap];
    if (r.holdout) ++d.suppressedByHeldOut[cap];
  }
  remember(offers_, r.offer);
  if (!r.offer.empty()) anyOffer_ = true;
  ++d.offerCount[offer];
  if (r.holdout) ++d.offerHeldOut[offer];
  if (r.send) {
    ++offerSent_[offer];
    ++channelSent_[channel];
  }
  for (auto seg : r.segments) {
    remember(segments_, seg);
    ++d.segmentCount[std::string(seg)];
  }
  if (!r.transition.empty()) {
    size_t arrow = r.transition.find("->");
    std::string from(arrow == std::string_view::npos ? std::string_view() : r.transition.substr(0, arrow));
    std::string to(arrow == std::string_view::npos ? r.transition : r.transition.substr(arrow + 2));
    ++d.transitions[{from, to}];
  }
}

void Counter::finish(const Program* p, const Config* config, ReportData& out) {
  ReportData& d = d_;
  std::vector<std::string> channels;
  if (p)
    for (const auto& c : p->channels) channels.push_back(c);
  d.stages = ordered(p ? &p->stages : nullptr, stages_, {""});
  d.channels = ordered(p ? &channels : nullptr, channels_, {"none", ""});
  d.offers = ordered(p ? &p->offers : nullptr, offers_, {"none", ""});
  std::vector<std::string> segs;
  if (p)
    for (const auto& s : p->segments) segs.push_back(s.name);
  d.segments = ordered(p ? &segs : nullptr, segments_, {});
  d.hasOffers = p ? p->table(TableKind::Offer).present : anyOffer_;
  if (!d.hasOffers) d.offerCount.clear(), d.offerHeldOut.clear();
  if (d.hasOffers)
    for (const auto& o : d.offers) d.offerCount[o] += 0;  // offers nobody got show as 0
  if (p) {
    d.caps = capNames(*p);
    if (p->holdout.present) d.holdoutDeclared = p->holdout.fraction;
  }
  if (config && d.hasOffers) {
    d.costsKnown = true;
    d.totalCost = 0;
    for (const auto& o : d.offers) {
      const OfferSpec* spec = o.empty() || o == "none" ? nullptr : config->offer(o);
      if (!spec) continue;
      d.unitCost[o] = spec->cost;
      uint64_t n = d.offerCount[o];
      auto h = d.offerHeldOut.find(o);
      uint64_t paid = n - (h == d.offerHeldOut.end() ? 0 : h->second);  // the control group's offers cost nothing
      d.offerCost[o] = static_cast<double>(paid) * spec->cost;
      d.totalCost += d.offerCost[o];
    }
  }
  fillRfmNames(d);
  out = d;
}

void RunCollector::write(const Decision& d) {
  const Program& p = exe_.program();
  std::string stage = outcomeLabel(exe_, TableKind::Stage, d.stage);
  std::string channel = outcomeLabel(exe_, TableKind::Channel, d.channel);
  std::string offer = outcomeLabel(exe_, TableKind::Offer, d.offer);
  RowFacts f;
  f.stage = stage;
  f.channel = channel;
  f.offer = offer;
  f.suppressedBy = d.suppressedBy;
  f.transition = d.transition;
  f.send = d.send;
  f.holdout = d.holdout;
  for (size_t k = 0; k < p.segments.size() && k < d.segments.size(); ++k)
    if (d.segments[k]) f.segments.push_back(p.segments[k].name);
  counter_.add(f);
  next_.write(d);
}

void countRejects(const std::vector<RejectedRow>& rejects, ReportData& d) {
  d.rejectsKnown = true;
  for (const char* src : {"customers", "events", "contacts"}) d.rejectsBySource[src] += 0;
  std::map<std::pair<std::string, std::string>, RejectReason> kinds;
  for (const auto& r : rejects) {
    std::string src = dataSourceName(r.source);
    ++d.rejectsBySource[src];
    std::string reason = (r.field.empty() || r.reason.find(r.field) != std::string::npos ? "" : r.field + ": ") + reasonKind(r.reason);
    RejectReason& k = kinds[{src, reason}];
    if (k.count++ == 0) {
      k.source = src;
      k.reason = reason;
      std::string file = r.file;
      size_t slash = file.rfind('/');
      if (slash != std::string::npos) file = file.substr(slash + 1);
      k.example = fmt::format("{}:{}: {}", file, r.line, r.reason);
    }
  }
  std::vector<RejectReason> all;
  for (auto& [key, k] : kinds) all.push_back(k);
  std::stable_sort(all.begin(), all.end(), [](const RejectReason& a, const RejectReason& b) { return a.count > b.count; });
  if (all.size() > 8) all.resize(8);
  d.topReasons = all;
}

ReportData reportFromRun(RunCollector& collected, const Executable& exe, Dataset& data, DecisionRun& run, const RunSummary& summary,
                         const RunReportInputs& in) {
  const Program& p = exe.program();
  const Config& config = exe.config();
  ReportData d;
  collected.counter().finish(&p, &config, d);
  d.origin = "rekindle run";
  d.rulesName = p.rulesName;
  d.rulesVersion = p.rulesVersion;
  d.asOf = in.asOf;
  d.previousKnown = in.previous != nullptr;
  for (const auto& b : summary.budgets)
    d.budgets.push_back({tableName(b.table), b.outcome, b.limit, b.given, b.turnedAway, b.cutoff});

  d.inputs.push_back({"rules", in.rulesPath, {}, {}, {}, ""});
  d.inputs.push_back({"config", in.configPath, {}, {}, {}, ""});
  const SourceCounts& cc = data.customerCounts;
  d.inputs.push_back({"customers", in.customersPath, cc.read, summary.customers, cc.rejected, "used = decided"});
  if (config.events.present) {
    const SourceCounts& ec = data.eventCounts;
    d.inputs.push_back({"events", in.eventsPath, ec.read, ec.accepted, ec.rejected, ""});
  }
  if (config.contacts.present) {
    if (config.contacts.fromEventsField.empty()) {
      const SourceCounts& kc = data.contactCounts;
      d.inputs.push_back({"contacts", in.contactsPath, kc.read, kc.accepted, kc.rejected, ""});
    } else {
      std::string values;
      for (const auto& v : config.contacts.fromEventsValues) values += (values.empty() ? "" : ", ") + v;
      d.inputs.push_back({"contacts", in.eventsPath, {}, static_cast<uint64_t>(data.contactTime.size()), {},
                          "taken from the events: " + config.contacts.fromEventsField + " in " + values});
    }
  }
  if (in.previous)
    d.inputs.push_back({"previous", in.previousPath, in.previous->rows, in.previous->rows - in.previous->unknownCustomers, {},
                        in.previous->unknownCustomers ? groupDigits(in.previous->unknownCustomers) + " rows for customers not in this run" : ""});
  d.inputs.push_back({"decisions", in.outPath == "-" ? "standard output" : in.outPath, {}, summary.customers, {}, "written"});
  if (!in.rejectsPath.empty())
    d.inputs.push_back({"rejects", in.rejectsPath, {}, static_cast<uint64_t>(data.rejects.size()), {}, "written"});
  countRejects(data.rejects, d);

  if ((p.features & kUsesRfm) && run.population().hasRfm()) {
    for (uint32_t c = 0; c < data.customerCount; ++c)
      ++d.rfm[run.population().rfmScore(c, 'r')][run.population().rfmScore(c, 'f')];
    d.rfmAvailable = true;
    d.rfmFromRules = true;
  } else {
    computeRfm(config, data, run.context().clock.now, in.threads, d);
  }
  fillRfmNames(d);
  if (d.customers != summary.customers)
    d.notes.push_back(fmt::format("The report counted {} decisions, the run {}.", d.customers, summary.customers));
  return d;
}

bool reportFromFile(const FileReportInputs& in, ReportData& out, std::string& error) {
  static const std::vector<std::string> kKeys{"customer_id", "stage",      "segments", "channel",       "send",
                                              "suppressed_by", "offer",    "holdout",  "transition",    "rules",
                                              "rules_version", "decided_at"};
  Rows rows;
  if (!readRows(in.decisionsPath, kKeys, rows, error)) return false;
  int id = rows.column("customer_id"), stage = rows.column("stage");
  if (id < 0 || stage < 0) {
    error = in.decisionsPath + ": not a decisions file (it has no customer_id and stage columns)";
    return false;
  }
  int segments = rows.column("segments"), channel = rows.column("channel"), send = rows.column("send"),
      suppressed = rows.column("suppressed_by"), offer = rows.column("offer"), holdout = rows.column("holdout"),
      transition = rows.column("transition"), rules = rows.column("rules"), version = rows.column("rules_version"),
      decidedAt = rows.column("decided_at");
  Counter counter;
  std::set<std::string> names, versions, asOfs;
  for (const auto& r : rows.rows) {
    auto cell = [&](int k) -> std::string_view { return k < 0 ? std::string_view() : std::string_view(r[k]); };
    RowFacts f;
    f.stage = cell(stage);
    f.channel = cell(channel);
    f.offer = cell(offer);
    f.suppressedBy = cell(suppressed);
    f.transition = cell(transition);
    f.send = cell(send) == "true";
    f.holdout = cell(holdout) == "true";
    std::string_view segs = cell(segments);
    while (!segs.empty()) {
      size_t semi = segs.find(';');
      std::string_view one = segs.substr(0, semi);
      if (!one.empty()) f.segments.push_back(one);
      if (semi == std::string_view::npos) break;
      segs.remove_prefix(semi + 1);
    }
    counter.add(f);
    names.insert(std::string(cell(rules)));
    versions.insert(std::string(cell(version)));
    asOfs.insert(std::string(cell(decidedAt)));
  }
  ReportData& d = out;
  counter.finish(in.program, in.config, d);
  d.origin = "rekindle report (from a decisions file)";
  d.rulesName = names.empty() ? "" : *names.begin();
  d.rulesVersion = versions.empty() ? "" : *versions.begin();
  d.asOf = asOfs.empty() ? "" : *asOfs.begin();
  if (names.size() > 1 || versions.size() > 1) d.notes.push_back("The file holds decisions of more than one rules file or version.");
  if (asOfs.size() > 1) d.notes.push_back("The file holds decisions made at more than one time; the first is shown.");
  if (d.rulesName.empty() && in.program) {
    d.rulesName = in.program->rulesName;
    d.rulesVersion = in.program->rulesVersion;
  }
  if (in.program && !names.empty() && *names.begin() != in.program->rulesName)
    d.notes.push_back(fmt::format("The decisions were written by rules '{}', and --rules is '{}': the stage order and limits may not match.",
                                  *names.begin(), in.program->rulesName));
  // Transitions exist only in runs with --previous, where an empty one means "stayed".
  d.previousKnown = !d.transitions.empty();

  // Budgets: the limits from the program; who got each outcome, from the rows: customers the
  // outcome reached (not held out; for channels, not suppressed; for offers decided after the
  // channel, also sent). Who was turned away only the run knows.
  if (in.program) {
    const Program& p = *in.program;
    std::optional<Executable> exe;
    StringPool pool;
    if (in.config) {
      std::string bindError;
      exe = Executable::bind(p, *in.config, pool, {}, bindError);
    }
    bool offerFollowsChannel = false;
    if (p.table(TableKind::Channel).present)
      for (uint8_t t : p.decisionOrder) {
        if (t == static_cast<uint8_t>(TableKind::Channel)) {
          offerFollowsChannel = true;
          break;
        }
        if (t == static_cast<uint8_t>(TableKind::Offer)) break;
      }
    for (TableKind k : {TableKind::Channel, TableKind::Offer}) {
      const DecisionTable& table = p.table(k);
      for (const auto& row : table.rows) {
        int64_t limit = row.limit;
        if (row.limitParam >= 0) {
          if (!exe) continue;
          limit = exe->params()[row.limitParam].i;
        }
        if (limit < 0) continue;
        std::string outcome = row.outcome == kNoOutcome ? "none"
                              : k == TableKind::Channel ? p.channels[row.outcome]
                                                        : p.offers[row.outcome];
        uint64_t given = 0;
        if (k == TableKind::Channel) {
          given = counter.sent(outcome, true);
        } else if (offerFollowsChannel) {
          given = counter.sent(outcome, false);
        } else {
          given = d.offerCount[outcome] - d.offerHeldOut[outcome];
        }
        d.budgets.push_back({tableName(k), outcome, limit, given, std::nullopt, ""});
      }
    }
    if (!d.budgets.empty())
      d.notes.push_back("Budgets: 'given' is counted from the decisions file (customers the outcome reached); how many were "
                        "turned away, and the cut-off, only the run knows (rekindle run --report).");
  }

  d.inputs.push_back({"decisions", in.decisionsPath, static_cast<uint64_t>(rows.rows.size()), {}, {}, ""});
  if (!in.rulesPath.empty()) d.inputs.push_back({"rules", in.rulesPath, {}, {}, {}, "stage order, caps, limits"});
  if (!in.configPath.empty()) d.inputs.push_back({"config", in.configPath, {}, {}, {}, "offer costs"});
  if (!in.rejectsPath.empty()) {
    Rows rej;
    if (!readRows(in.rejectsPath, {"source", "file", "line", "column", "field", "reason", "raw"}, rej, error)) return false;
    int src = rej.column("source"), file = rej.column("file"), line = rej.column("line"), field = rej.column("field"),
        reason = rej.column("reason");
    if (src < 0 || reason < 0) {
      error = in.rejectsPath + ": not a rejects file (it has no source and reason columns)";
      return false;
    }
    std::vector<RejectedRow> list;
    for (const auto& r : rej.rows) {
      RejectedRow x;
      x.source = r[src] == "events" ? DataSource::Events : r[src] == "contacts" ? DataSource::Contacts : DataSource::Customers;
      if (file >= 0) x.file = r[file];
      if (line >= 0) x.line = std::strtoull(r[line].c_str(), nullptr, 10);
      if (field >= 0) x.field = r[field];
      x.reason = r[reason];
      list.push_back(std::move(x));
    }
    countRejects(list, d);
    uint64_t rejectedCustomers = d.rejectsBySource["customers"];
    d.inputs.push_back({"customers", "", rows.rows.size() + rejectedCustomers, static_cast<uint64_t>(rows.rows.size()), rejectedCustomers,
                        "counted from the decisions and the rejects"});
    d.inputs.push_back({"events", "", {}, {}, d.rejectsBySource["events"], "rejected rows only: the rest only the run knows"});
    d.inputs.push_back({"contacts", "", {}, {}, d.rejectsBySource["contacts"], ""});
    d.inputs.push_back({"rejects", in.rejectsPath, static_cast<uint64_t>(rej.rows.size()), {}, {}, ""});
  } else {
    d.notes.push_back("No rejects file was given or found beside the decisions: rejected rows are not shown.");
  }
  if (!in.program) d.notes.push_back("Without --rules, stages, channels and offers are in the order they first appear in the file, and "
                                     "caps, limits and the declared holdout share are not known.");
  if (!in.config) d.notes.push_back("Without the config, offer costs are not known.");
  d.rfmNote = "RFM scores are not in a decisions file: `rekindle run --report` shows the grid of the run's population.";
  return true;
}

}  // namespace rekindle::report
