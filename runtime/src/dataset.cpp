// Loading exports into a Dataset: typing raw values by the schema, joining events and contacts
// to customers by id (sorted or not), and recording every row that cannot be used.
#include "rekindle/runtime/dataset.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <numeric>

namespace rekindle {

void Column::push(const Value& v) {
  if (v.isNull()) {
    bits_.push_back(0);
    nulls_.push_back(true);
    return;
  }
  int64_t bits;
  std::memcpy(&bits, &v.i, sizeof bits);
  bits_.push_back(bits);
  nulls_.push_back(false);
}

void Column::permute(const std::vector<uint32_t>& order) {
  std::vector<int64_t> b(order.size());
  std::vector<bool> n(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    b[k] = bits_[order[k]];
    n[k] = nulls_[order[k]];
  }
  bits_.swap(b);
  nulls_.swap(n);
}

const char* dataSourceName(DataSource s) {
  switch (s) {
    case DataSource::Customers: return "customers";
    case DataSource::Events: return "events";
    case DataSource::Contacts: return "contacts";
  }
  return "?";
}

namespace {

bool lowerEquals(std::string_view a, const char* b) {
  size_t n = std::strlen(b);
  if (a.size() != n) return false;
  for (size_t k = 0; k < n; ++k)
    if (std::tolower(static_cast<unsigned char>(a[k])) != b[k]) return false;
  return true;
}

std::string_view trimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> parseInt(std::string_view s) {
  s = trimBlanks(s);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> parseFloat(std::string_view s) {
  s = trimBlanks(s);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string shown(std::string_view s) {
  if (s.size() > 40) return std::string(s.substr(0, 40)) + "...";
  return std::string(s);
}

}  // namespace

std::optional<Value> convertValue(const RawValue& raw, const FieldSpec& field, const TimeZone& zone,
                                  StringPool& pool, std::string& reason) {
  if (raw.kind == RawKind::Missing || raw.kind == RawKind::Null) {
    if (field.type.nullable) return Value::null();
    reason = raw.kind == RawKind::Missing ? "missing value for '" + field.name + "'"
                                          : "empty value for '" + field.name + "', which is not nullable";
    return std::nullopt;
  }
  std::string_view text = raw.text;
  auto fail = [&](const char* what) -> std::optional<Value> {
    reason = fmt::format("'{}' is not {} (field '{}')", shown(raw.kind == RawKind::Bool ? (raw.b ? "true" : "false") : text), what, field.name);
    return std::nullopt;
  };
  switch (field.type.kind) {
    case Kind::Bool: {
      if (raw.kind == RawKind::Bool) return Value::boolean(raw.b);
      std::string_view t = trimBlanks(text);
      for (const char* y : {"true", "1", "yes", "y", "t"})
        if (lowerEquals(t, y)) return Value::boolean(true);
      for (const char* n : {"false", "0", "no", "n", "f"})
        if (lowerEquals(t, n)) return Value::boolean(false);
      return fail("a bool");
    }
    case Kind::Int: {
      if (raw.kind == RawKind::Bool) return fail("an integer");
      if (auto v = parseInt(text)) return Value::integer(*v);
      return fail("an integer");
    }
    case Kind::Float: {
      if (raw.kind == RawKind::Bool) return fail("a number");
      if (auto v = parseFloat(text)) return Value::real(*v);
      return fail("a number");
    }
    case Kind::String:
      if (raw.kind == RawKind::Bool) return Value::string(pool.intern(raw.b ? "true" : "false"));
      return Value::string(pool.intern(text));
    case Kind::Time: {
      if (raw.kind == RawKind::Number) {
        if (auto v = parseInt(text)) return Value::time(*v);
        if (auto f = parseFloat(text)) return Value::time(static_cast<int64_t>(std::floor(*f)));
        return fail("a time");
      }
      if (raw.kind == RawKind::Bool) return fail("a time");
      std::optional<int64_t> t = field.format.empty() ? parseTime(text, zone) : parseWithFormat(text, field.format, zone, false);
      if (t) return Value::time(*t);
      return fail(field.format.empty() ? "a time (ISO 8601 or epoch seconds)" : "a time in the configured format");
    }
    case Kind::Date: {
      if (raw.kind != RawKind::Text) return fail("a date");
      std::optional<int64_t> d = field.format.empty() ? parseDate(text) : parseWithFormat(text, field.format, zone, true);
      if (d) return Value::date(*d);
      return fail(field.format.empty() ? "a date (YYYY-MM-DD)" : "a date in the configured format");
    }
    case Kind::Duration: {
      if (raw.kind == RawKind::Bool) return fail("a duration");
      if (auto d = parseDuration(text)) return Value::duration(*d);
      if (auto s = parseInt(text)) return Value::duration(*s);  // plain numbers are seconds
      return fail("a duration (90d, 12h, or seconds)");
    }
    default:
      reason = "unsupported field type";
      return std::nullopt;
  }
}

namespace {

class Loader {
 public:
  Loader(const Config& config, const LoadOptions& options, Dataset& ds, std::string& fatal)
      : config_(config), options_(options), ds_(ds), fatal_(fatal) {}

  bool run() {
    if (!loadCustomers()) return false;
    if (config_.events.present && !loadEvents()) return false;
    if (!config_.contacts.present) return true;
    if (!config_.contacts.fromEventsField.empty()) {
      if (ds_.eventBegin.empty()) ds_.eventBegin.assign(ds_.customerCount + 1, 0);
      contactsFromEvents();
      return true;
    }
    return loadContacts();
  }

 private:
  std::unique_ptr<RecordReader> open(const ExportSpec& spec, const std::string& overridePath,
                                     const std::vector<std::string>& wanted) {
    SourceOptions src = spec.source;
    if (!overridePath.empty()) src.path = overridePath;
    std::string err;
    auto reader = RecordReader::open(src, wanted, err);
    if (!reader) fatal_ = err;
    return reader;
  }

  // Records a rejected row; false once the error limit is exceeded.
  bool reject(DataSource source, const RecordReader& reader, const RecordInfo& info, uint32_t column,
              std::string field, std::string reason, SourceCounts& counts) {
    RejectedRow r;
    r.source = source;
    r.file = reader.path();
    r.line = info.line;
    r.column = column;
    r.field = std::move(field);
    r.reason = std::move(reason);
    r.raw = std::string(info.raw);
    r.customerId = currentId_;
    ds_.rejects.push_back(std::move(r));
    ++counts.rejected;
    if (options_.maxErrors >= 0 && static_cast<int64_t>(ds_.rejects.size()) > options_.maxErrors) {
      fatal_ = fmt::format("stopped: {} rows rejected, more than --max-errors {} (last: {}:{}: {})",
                           ds_.rejects.size(), options_.maxErrors, reader.path(), info.line, ds_.rejects.back().reason);
      return false;
    }
    return true;
  }

  bool rejectBadRecord(DataSource source, const RecordReader& reader, const RecordInfo& info, SourceCounts& counts) {
    return reject(source, reader, info, info.error.column, info.error.field, info.error.reason, counts);
  }

  bool finish(const RecordReader& reader) {
    if (!reader.ioError().empty()) {
      fatal_ = reader.ioError();
      return false;
    }
    return true;
  }

  bool loadCustomers() {
    const Schema& schema = config_.schema;
    if (config_.customers.customersFromEvents) {
      ds_.customers.emplace_back(Kind::String);  // the id is their only field
      return true;
    }
    const bool rowIds = config_.customers.rowIds;
    std::vector<std::string> wanted;
    for (size_t k = rowIds ? 1 : 0; k < schema.customerFields.size(); ++k) wanted.push_back(schema.customerFields[k].column);
    if (rowIds) wanted.insert(wanted.begin(), std::string());  // placeholder: filled with the row number
    std::vector<std::string> readColumns(wanted.begin() + (rowIds ? 1 : 0), wanted.end());
    auto reader = open(config_.customers, options_.customersPath, readColumns);
    if (!reader) return false;
    for (const auto& f : schema.customerFields) ds_.customers.emplace_back(f.type.kind);
    std::vector<RawValue> vals;
    std::vector<Value> row(wanted.size());
    RecordInfo info;
    SourceCounts& counts = ds_.customerCounts;
    std::string rowNumber;
    while (reader->next(vals, info)) {
      ++counts.read;
      currentId_.clear();
      if (rowIds) {
        rowNumber = std::to_string(counts.read);
        RawValue id;
        id.kind = RawKind::Text;
        id.text = rowNumber;
        vals.insert(vals.begin(), id);
      }
      if (!info.ok) {
        if (!rejectBadRecord(DataSource::Customers, *reader, info, counts)) return false;
        continue;
      }
      if (vals[0].kind == RawKind::Text || vals[0].kind == RawKind::Number) currentId_ = std::string(vals[0].text);
      bool ok = true;
      for (size_t k = 0; k < wanted.size() && ok; ++k) {
        std::string reason;
        auto v = convertValue(vals[k], schema.customerFields[k], config_.zone, ds_.strings, reason);
        if (!v) {
          uint32_t column = rowIds ? (k == 0 ? 0 : reader->columnNumber(k - 1)) : reader->columnNumber(k);
          if (!reject(DataSource::Customers, *reader, info, column, schema.customerFields[k].name, reason, counts)) return false;
          ok = false;
        } else {
          row[k] = *v;
        }
      }
      if (!ok) continue;
      int32_t zone = -1;
      if (schema.customerTimezoneField >= 0 && !row[schema.customerTimezoneField].isNull()) {
        const std::string* name = row[schema.customerTimezoneField].s;
        auto known = zoneIndex_.find(name);
        if (known == zoneIndex_.end()) {
          auto tz = TimeZone::locate(*name);
          if (!tz) {
            if (!reject(DataSource::Customers, *reader, info, reader->columnNumber(schema.customerTimezoneField), schema.customerFields[schema.customerTimezoneField].name,
                        "unknown time zone '" + shown(*name) + "'", counts))
              return false;
            continue;
          }
          known = zoneIndex_.emplace(name, static_cast<int32_t>(ds_.zones.size())).first;
          ds_.zones.push_back(*tz);
        }
        zone = known->second;
      }
      if (row[0].s->empty()) {
        if (!reject(DataSource::Customers, *reader, info, reader->columnNumber(0), schema.customerFields[0].name, "empty customer id", counts)) return false;
        continue;
      }
      auto [it, fresh] = ds_.customerIndex.emplace(row[0].s, static_cast<uint32_t>(ds_.customerCount));
      if (!fresh) {
        std::string reason = fmt::format("duplicate customer id '{}' (first at line {})", shown(*row[0].s), ds_.customerLine[it->second]);
        if (!reject(DataSource::Customers, *reader, info, reader->columnNumber(0), schema.customerFields[0].name, reason, counts)) return false;
        continue;
      }
      for (size_t k = 0; k < wanted.size(); ++k) ds_.customers[k].push(row[k]);
      if (schema.customerTimezoneField >= 0) ds_.customerZone.push_back(zone);
      ds_.customerLine.push_back(info.line);
      ++ds_.customerCount;
      ++counts.accepted;
    }
    return finish(*reader);
  }

  // Looks up a customer id; rejects the row when unknown. With customers.from_events, an id
  // seen for the first time is a new customer.
  std::optional<uint32_t> customerOf(const RawValue& raw) {
    if (raw.kind != RawKind::Text && raw.kind != RawKind::Number) return std::nullopt;
    if (config_.customers.customersFromEvents && !raw.text.empty()) {
      const std::string* id = ds_.strings.intern(raw.text);
      auto [it, fresh] = ds_.customerIndex.emplace(id, static_cast<uint32_t>(ds_.customerCount));
      if (fresh) {
        ds_.customers[0].push(Value::string(id));
        ds_.customerLine.push_back(0);
        ++ds_.customerCount;
        ++ds_.customerCounts.read;
        ++ds_.customerCounts.accepted;
      }
      return it->second;
    }
    const std::string* id = ds_.strings.find(raw.text);
    if (!id) return std::nullopt;
    auto it = ds_.customerIndex.find(id);
    if (it == ds_.customerIndex.end()) return std::nullopt;
    return it->second;
  }

  bool loadEvents() {
    const Schema& schema = config_.schema;
    std::vector<std::string> wanted{config_.events.keyColumn};
    for (const auto& f : schema.eventFields) wanted.push_back(f.column);
    auto reader = open(config_.events, options_.eventsPath, wanted);
    if (!reader) return false;
    std::vector<Column> staged;
    for (const auto& f : schema.eventFields) staged.emplace_back(f.type.kind);
    std::vector<uint32_t> owner;
    std::vector<int64_t> when;
    std::vector<RawValue> vals;
    std::vector<Value> row(schema.eventFields.size());
    RecordInfo info;
    SourceCounts& counts = ds_.eventCounts;
    currentId_.clear();
    while (reader->next(vals, info)) {
      ++counts.read;
      if (!info.ok) {
        if (!rejectBadRecord(DataSource::Events, *reader, info, counts)) return false;
        continue;
      }
      auto cust = customerOf(vals[0]);
      if (!cust) {
        std::string reason = vals[0].kind == RawKind::Text || vals[0].kind == RawKind::Number
                                 ? fmt::format("unknown customer id '{}'", shown(vals[0].text))
                                 : "missing customer id";
        if (!reject(DataSource::Events, *reader, info, reader->columnNumber(0), config_.events.keyColumn, reason, counts)) return false;
        continue;
      }
      bool ok = true;
      for (size_t k = 0; k < schema.eventFields.size() && ok; ++k) {
        std::string reason;
        auto v = convertValue(vals[k + 1], schema.eventFields[k], config_.zone, ds_.strings, reason);
        if (!v) {
          if (!reject(DataSource::Events, *reader, info, reader->columnNumber(k + 1), schema.eventFields[k].name, reason, counts)) return false;
          ok = false;
        } else {
          row[k] = *v;
        }
      }
      if (!ok) continue;
      for (size_t k = 0; k < row.size(); ++k) staged[k].push(row[k]);
      owner.push_back(*cust);
      when.push_back(row[0].i);
      ++counts.accepted;
    }
    if (!finish(*reader)) return false;
    // Group by customer, then time; equal times keep file order (stable).
    std::vector<uint32_t> order(owner.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return owner[a] != owner[b] ? owner[a] < owner[b] : when[a] < when[b];
    });
    for (auto& c : staged) c.permute(order);
    ds_.events = std::move(staged);
    ds_.eventBegin.assign(ds_.customerCount + 1, 0);
    for (uint32_t o : owner) ++ds_.eventBegin[o + 1];
    for (size_t c = 0; c < ds_.customerCount; ++c) ds_.eventBegin[c + 1] += ds_.eventBegin[c];
    return true;
  }

  bool loadContacts() {
    const ExportSpec& spec = config_.contacts;
    std::vector<std::string> wanted{spec.keyColumn, spec.timeColumn, spec.channelColumn};
    auto reader = open(spec, options_.contactsPath, wanted);
    if (!reader) return false;
    FieldSpec timeField{spec.timeColumn, spec.timeColumn, Type::of(Kind::Time), spec.timeFormat};
    FieldSpec channelField{spec.channelColumn, spec.channelColumn, Type::of(Kind::String), ""};
    std::vector<uint32_t> owner;
    std::vector<int64_t> when;
    std::vector<int32_t> channel;
    std::vector<RawValue> vals;
    RecordInfo info;
    SourceCounts& counts = ds_.contactCounts;
    while (reader->next(vals, info)) {
      ++counts.read;
      if (!info.ok) {
        if (!rejectBadRecord(DataSource::Contacts, *reader, info, counts)) return false;
        continue;
      }
      auto cust = customerOf(vals[0]);
      if (!cust) {
        if (!reject(DataSource::Contacts, *reader, info, reader->columnNumber(0), spec.keyColumn,
                    fmt::format("unknown customer id '{}'", shown(vals[0].text)), counts)) return false;
        continue;
      }
      std::string reason;
      auto t = convertValue(vals[1], timeField, config_.zone, ds_.strings, reason);
      if (!t) {
        if (!reject(DataSource::Contacts, *reader, info, reader->columnNumber(1), spec.timeColumn, reason, counts)) return false;
        continue;
      }
      auto ch = convertValue(vals[2], channelField, config_.zone, ds_.strings, reason);
      if (!ch) {
        if (!reject(DataSource::Contacts, *reader, info, reader->columnNumber(2), spec.channelColumn, reason, counts)) return false;
        continue;
      }
      int32_t idx = -1;
      for (size_t k = 0; k < config_.channels.size(); ++k)
        if (config_.channels[k].name == *ch->s) idx = static_cast<int32_t>(k);
      owner.push_back(*cust);
      when.push_back(t->i);
      channel.push_back(idx);
      ++counts.accepted;
    }
    if (!finish(*reader)) return false;
    std::vector<uint32_t> order(owner.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return owner[a] != owner[b] ? owner[a] < owner[b] : when[a] < when[b];
    });
    ds_.contactTime.resize(order.size());
    ds_.contactChannel.resize(order.size());
    for (size_t k = 0; k < order.size(); ++k) {
      ds_.contactTime[k] = when[order[k]];
      ds_.contactChannel[k] = channel[order[k]];
    }
    ds_.contactBegin.assign(ds_.customerCount + 1, 0);
    for (uint32_t o : owner) ++ds_.contactBegin[o + 1];
    for (size_t c = 0; c < ds_.customerCount; ++c) ds_.contactBegin[c + 1] += ds_.contactBegin[c];
    return true;
  }

  // The contact history taken from events (contacts.from_events): no file, no rejects of its own.
  void contactsFromEvents() {
    const ExportSpec& spec = config_.contacts;
    const Schema& schema = config_.schema;
    int field = schema.eventField(spec.fromEventsField);
    int channelField = schema.eventField(spec.channelColumn);
    std::vector<const std::string*> marks;
    for (const auto& v : spec.fromEventsValues) marks.push_back(ds_.strings.intern(v));
    std::vector<int32_t> channelOf;  // by interned channel name: config channel index
    ds_.contactBegin.assign(ds_.customerCount + 1, 0);
    for (uint32_t c = 0; c < ds_.customerCount; ++c) {
      for (uint32_t e = ds_.eventBegin[c]; e < ds_.eventBegin[c + 1]; ++e) {
        Value kind = ds_.events[field].get(e);
        if (kind.isNull() || std::find(marks.begin(), marks.end(), kind.s) == marks.end()) continue;
        Value ch = ds_.events[channelField].get(e);
        int32_t idx = -1;
        if (!ch.isNull())
          for (size_t k = 0; k < config_.channels.size(); ++k)
            if (config_.channels[k].name == *ch.s) idx = static_cast<int32_t>(k);
        ds_.contactTime.push_back(ds_.events[0].get(e).i);
        ds_.contactChannel.push_back(idx);
      }
      ds_.contactBegin[c + 1] = static_cast<uint32_t>(ds_.contactTime.size());
    }
  }

  const Config& config_;
  const LoadOptions& options_;
  Dataset& ds_;
  std::string& fatal_;
  std::unordered_map<const std::string*, int32_t> zoneIndex_;
  std::string currentId_;  // the customer row being read, for its rejects
};

}  // namespace

std::optional<Dataset> loadDataset(const Config& config, const LoadOptions& options, std::string& fatal) {
  Dataset ds;
  Loader loader(config, options, ds, fatal);
  if (!loader.run()) return std::nullopt;
  if (ds.eventBegin.empty()) ds.eventBegin.assign(ds.customerCount + 1, 0);
  if (ds.contactBegin.empty()) ds.contactBegin.assign(ds.customerCount + 1, 0);
  return ds;
}

}  // namespace rekindle
