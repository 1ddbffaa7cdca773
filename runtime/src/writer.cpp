// Decisions and rejects writers, and atomic output files.
#include "rekindle/runtime/writer.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>

namespace rekindle {

OutputFormat formatForPath(const std::string& path) {
  auto ends = [&](const char* suffix) {
    size_t n = std::strlen(suffix);
    return path.size() >= n && path.compare(path.size() - n, n, suffix) == 0;
  };
  return ends(".jsonl") || ends(".ndjson") ? OutputFormat::Jsonl : OutputFormat::Csv;
}

namespace {
std::mutex gTempMutex;
std::set<std::string>& openTemporaries() {
  static std::set<std::string> s;
  return s;
}
}  // namespace

void removeOpenTemporaries() {
  for (const auto& t : openTemporaries()) ::unlink(t.c_str());
}

bool isDeviceOrPipe(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

AtomicFile::~AtomicFile() { abandon(); }

bool AtomicFile::open(const std::string& path, std::string& error) {
  path_ = path;
  if (path == "-") {
    stdout_ = true;
    file_ = stdout;
    return true;
  }
  if (isDeviceOrPipe(path)) {
    // /dev/null, /dev/stdout, a FIFO: written in place, never replaced by a renamed file.
    direct_ = true;
    file_ = std::fopen(path.c_str(), "wb");
    if (!file_) error = "cannot write '" + path + "': " + std::strerror(errno);
    return file_ != nullptr;
  }
  temp_ = path + ".tmp-" + std::to_string(::getpid());
  file_ = std::fopen(temp_.c_str(), "wb");
  if (!file_) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::lock_guard<std::mutex> lock(gTempMutex);
  openTemporaries().insert(temp_);
  return true;
}

bool AtomicFile::commit(std::string& error) {
  if (!file_) return false;
  if (stdout_) {
    std::fflush(stdout);
    file_ = nullptr;
    return true;
  }
  bool ok = std::fflush(file_) == 0 && !std::ferror(file_);
  ok = (std::fclose(file_) == 0) && ok;
  file_ = nullptr;
  if (direct_) {
    if (!ok) error = "cannot write '" + path_ + "': " + std::strerror(errno);
    return ok;
  }
  if (!ok || std::rename(temp_.c_str(), path_.c_str()) != 0) {
    error = "cannot write '" + path_ + "': " + std::strerror(errno);
    ::unlink(temp_.c_str());
    ok = false;
  }
  std::lock_guard<std::mutex> lock(gTempMutex);
  openTemporaries().erase(temp_);
  return ok;
}

void AtomicFile::abandon() {
  if (!file_) return;
  if (stdout_) {
    file_ = nullptr;
    return;
  }
  std::fclose(file_);
  file_ = nullptr;
  if (direct_) return;
  ::unlink(temp_.c_str());
  std::lock_guard<std::mutex> lock(gTempMutex);
  openTemporaries().erase(temp_);
}

bool writeFileAtomically(const std::string& path, std::string_view bytes, std::string& error) {
  AtomicFile out;
  if (!out.open(path, error)) return false;
  if (std::fwrite(bytes.data(), 1, bytes.size(), out.stream()) != bytes.size()) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;  // the destructor removes the temporary
  }
  return out.commit(error);
}

void appendCsvField(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void appendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  out += '"';
}

namespace {
const char* const kColumns[] = {"customer_id", "stage",       "segments",         "channel",
                                "send",        "send_at",     "suppressed_by",    "next_eligible_at",
                                "offer",       "holdout",     "transition",       "rules",
                                "rules_version", "decided_at"};

bool allDigits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}
}  // namespace

DecisionWriter::DecisionWriter(FILE* out, OutputFormat format, const Executable& exe, const Dataset& data,
                               const RunClock& clock, bool explain, bool header)
    : out_(out), format_(format), exe_(exe), data_(data), clock_(clock),
      decidedAt_(formatTime(clock.now, clock.zone)), explain_(explain) {
  if (format_ == OutputFormat::Csv && header) {
    std::string h;
    for (const char* c : kColumns) {
      if (!h.empty()) h += ',';
      h += c;
    }
    if (explain_) h += ",explain";
    h += '\n';
    std::fwrite(h.data(), 1, h.size(), out_);
  }
}

std::string DecisionWriter::timeText(uint32_t customer, int64_t t) const {
  return formatTime(t, data_.zoneOf(customer, clock_.zone));
}

std::string DecisionWriter::explanation(const Decision& d) const {
  const Program& p = exe_.program();
  std::string out;
  const std::string& file = p.files[0];
  std::string base = file.substr(file.rfind('/') == std::string::npos ? 0 : file.rfind('/') + 1);
  for (int t = 0; t < kTableCount; ++t) {
    if (!p.tables[t].present) continue;
    if (!out.empty()) out += "; ";
    TableKind k = static_cast<TableKind>(t);
    Value v = t == 0 ? d.stage : t == 1 ? d.channel : d.offer;
    out += tableName(k);
    out += ": ";
    if (d.row[t] < 0) out += "no row matched";
    else out += outcomeLabel(exe_, k, v) + fmt::format(" @ {}:{}", base, p.tables[t].rows[d.row[t]].loc.line);
    if (d.fullRow[t] >= 0) {
      const DecisionRow& full = p.tables[t].rows[d.fullRow[t]];
      out += fmt::format(" ({} @ {}:{} was full: limit {})", exe_.outcomeName(k, full.outcome), base, full.loc.line, full.limit);
    }
  }
  if (!d.suppressedBy.empty()) out += "; suppressed by " + d.suppressedBy;
  if (d.holdout) out += "; holdout";
  return out;
}

void DecisionWriter::write(const Decision& d) {
  line_.clear();
  format(d, line_);
  std::fwrite(line_.data(), 1, line_.size(), out_);
}

void DecisionWriter::writeFormatted(const std::string& text) { std::fwrite(text.data(), 1, text.size(), out_); }

void DecisionWriter::format(const Decision& d, std::string& o) const {
  const Program& p = exe_.program();
  std::string segs;
  std::vector<std::string_view> segNames;
  for (size_t s = 0; s < d.segments.size(); ++s)
    if (d.segments[s]) segNames.push_back(p.segments[s].name);
  const std::string& stage = outcomeLabel(exe_, TableKind::Stage, d.stage);
  const std::string& channel = outcomeLabel(exe_, TableKind::Channel, d.channel);
  const std::string& offer = outcomeLabel(exe_, TableKind::Offer, d.offer);
  std::string sendAt = d.sendAt ? timeText(d.customer, *d.sendAt) : "";
  std::string nextAt = d.nextEligibleAt ? timeText(d.customer, *d.nextEligibleAt) : "";
  const std::string& decidedAt = decidedAt_;
  const std::string& id = data_.customerId(d.customer);
  if (format_ == OutputFormat::Csv) {
    for (size_t k = 0; k < segNames.size(); ++k) {
      if (k) segs += ';';
      segs += segNames[k];
    }
    appendCsvField(o, id);
    for (const std::string* f : {&stage, static_cast<const std::string*>(&segs), &channel}) {
      o += ',';
      appendCsvField(o, *f);
    }
    o += d.send ? ",true," : ",false,";
    o += sendAt;
    o += ',';
    appendCsvField(o, d.suppressedBy);
    o += ',';
    o += nextAt;
    o += ',';
    appendCsvField(o, offer);
    o += d.holdout ? ",true," : ",false,";
    appendCsvField(o, d.transition);
    o += ',';
    appendCsvField(o, p.rulesName);
    o += ',';
    appendCsvField(o, p.rulesVersion);
    o += ',';
    o += decidedAt;
    if (explain_) {
      o += ',';
      appendCsvField(o, explanation(d));
    }
    o += '\n';
  } else {
    const size_t start = o.size();  // rows are appended to a block's buffer
    auto field = [&](const char* name, const std::string& v, bool nullIfEmpty = true) {
      if (o.size() > start + 1) o += ',';
      appendJsonString(o, name);
      o += ':';
      if (v.empty() && nullIfEmpty) o += "null";
      else appendJsonString(o, v);
    };
    o += '{';
    field("customer_id", id, false);
    field("stage", stage);
    o += ",\"segments\":[";
    for (size_t k = 0; k < segNames.size(); ++k) {
      if (k) o += ',';
      appendJsonString(o, segNames[k]);
    }
    o += ']';
    field("channel", channel);
    o += d.send ? ",\"send\":true" : ",\"send\":false";
    field("send_at", sendAt);
    field("suppressed_by", d.suppressedBy);
    field("next_eligible_at", nextAt);
    field("offer", offer);
    o += d.holdout ? ",\"holdout\":true" : ",\"holdout\":false";
    field("transition", d.transition);
    field("rules", p.rulesName);
    if (allDigits(p.rulesVersion)) o += ",\"rules_version\":" + p.rulesVersion;
    else field("rules_version", p.rulesVersion);
    field("decided_at", decidedAt);
    if (explain_) field("explain", explanation(d));
    o += "}\n";
  }
}

void writeRejects(FILE* out, OutputFormat format, const std::vector<RejectedRow>& rejects) {
  std::string o;
  if (format == OutputFormat::Csv) o = "source,file,line,column,field,reason,raw\n";
  for (const auto& r : rejects) {
    if (format == OutputFormat::Csv) {
      appendCsvField(o, dataSourceName(r.source));
      o += ',';
      appendCsvField(o, r.file);
      o += fmt::format(",{},{},", r.line, r.column);
      appendCsvField(o, r.field);
      o += ',';
      appendCsvField(o, r.reason);
      o += ',';
      appendCsvField(o, r.raw);
      o += '\n';
    } else {
      o += "{\"source\":";
      appendJsonString(o, dataSourceName(r.source));
      o += ",\"file\":";
      appendJsonString(o, r.file);
      o += fmt::format(",\"line\":{},\"column\":{},\"field\":", r.line, r.column);
      appendJsonString(o, r.field);
      o += ",\"reason\":";
      appendJsonString(o, r.reason);
      o += ",\"raw\":";
      appendJsonString(o, r.raw);
      o += "}\n";
    }
    if (o.size() > (1 << 16)) {
      std::fwrite(o.data(), 1, o.size(), out);
      o.clear();
    }
  }
  std::fwrite(o.data(), 1, o.size(), out);
}

}  // namespace rekindle
