// Loading exports into a Dataset: typing raw values by the schema, joining events and contacts
// to customers by id (sorted or not), and recording every row that cannot be used.
#include "rekindle/runtime/dataset.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "rekindle/core/hash.h"
#include "parts.h"

namespace rekindle {

void Column::push(const Value& v) {
  const size_t row = bits_.size();
  if ((row & 63) == 0) nulls_.push_back(0);
  if (v.isNull()) {
    bits_.push_back(0);
    nulls_.back() |= uint64_t{1} << (row & 63);
    return;
  }
  int64_t bits;
  std::memcpy(&bits, &v.i, sizeof bits);
  bits_.push_back(bits);
}

Column Column::gather(const std::vector<const Column*>& parts, const std::vector<uint32_t>& order) {
  // Where each part starts in the numbering of `order`. A cell's part is found by counting the
  // starts at or below it: no branch to mispredict on cells taken in no useful order.
  std::vector<uint32_t> start(parts.size(), 0);
  for (size_t p = 1; p < parts.size(); ++p) start[p] = start[p - 1] + static_cast<uint32_t>(parts[p - 1]->size());
  auto partOf = [&](uint32_t cell) {
    size_t p = 0;
    for (size_t q = 1; q < start.size(); ++q) p += cell >= start[q];
    return p;
  };
  Column out(parts.empty() ? Kind::Null : parts[0]->kind_);
  const size_t n = order.size();
  out.bits_.resize(n);
  out.nulls_.assign((n + 63) / 64, 0);
  // The reads land anywhere in the columns: ask for the cells a few rows ahead, so that their
  // cache misses overlap.
  constexpr size_t kAhead = 16;
  for (size_t k = 0; k < n; ++k) {
    if (k + kAhead < n) {
      const uint32_t ahead = order[k + kAhead];
      const size_t p = partOf(ahead);
      __builtin_prefetch(&parts[p]->bits_[ahead - start[p]]);
    }
    const size_t p = partOf(order[k]);
    const size_t from = order[k] - start[p];
    out.bits_[k] = parts[p]->bits_[from];
    out.nulls_[k >> 6] |= uint64_t{parts[p]->isNull(from)} << (k & 63);
  }
  return out;
}

void Column::permuteFrom(size_t first, const std::vector<uint32_t>& order) {
  std::vector<int64_t> cells(order.size());
  std::vector<bool> nulls(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    cells[k] = bits_[first + order[k]];
    nulls[k] = isNull(first + order[k]);
  }
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t row = first + k;
    bits_[row] = cells[k];
    nulls_[row >> 6] = (nulls_[row >> 6] & ~(uint64_t{1} << (row & 63))) | (uint64_t{nulls[k]} << (row & 63));
  }
}

bool CustomerIndex::Slot::holds(std::string_view id, uint64_t h) const {
  if (hash != h) return false;
  if (length != kLong) return length == id.size() && std::memcmp(key, id.data(), id.size()) == 0;
  const std::string* stored;
  std::memcpy(&stored, key, sizeof stored);
  return *stored == id;
}

size_t CustomerIndex::slotFor(std::string_view id, uint64_t hash) const {
  size_t k = home(hash);
  while (slots_[k].customer != kEmpty && !slots_[k].holds(id, hash))
    if (++k == slots_.size()) k = 0;
  return k;
}

std::optional<uint32_t> CustomerIndex::find(std::string_view id, uint64_t hash) const {
  if (slots_.empty()) return std::nullopt;
  const Slot& s = slots_[slotFor(id, hash)];
  if (s.customer == kEmpty) return std::nullopt;
  return s.customer;
}

void CustomerIndex::reserve(size_t customers) {
  const size_t capacity = std::max<size_t>(16, customers * 2);  // at most half full: short probe runs
  if (capacity <= slots_.size()) return;
  std::vector<Slot> old(capacity);
  old.swap(slots_);
  for (const Slot& s : old) {
    if (s.customer == kEmpty) continue;
    size_t k = home(s.hash);
    while (slots_[k].customer != kEmpty)
      if (++k == slots_.size()) k = 0;
    slots_[k] = s;
  }
}

std::pair<uint32_t, bool> CustomerIndex::insert(const std::string* id, uint32_t customer) {
  if ((size_ + 1) * 2 > slots_.size()) reserve(std::max<size_t>(size_ + 1, size_ * 2));
  const uint64_t hash = hashOf(*id);
  Slot& s = slots_[slotFor(*id, hash)];
  if (s.customer != kEmpty) return {s.customer, false};
  s.hash = hash;
  s.customer = customer;
  if (id->size() <= sizeof s.key) {
    s.length = static_cast<uint8_t>(id->size());
    std::memcpy(s.key, id->data(), id->size());
  } else {
    s.length = kLong;
    std::memcpy(s.key, &id, sizeof id);
  }
  ++size_;
  return {customer, true};
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

// The text a string field takes from a raw value: a JSON boolean by its name, a number as written.
std::string_view stringText(const RawValue& raw) { return raw.kind == RawKind::Bool ? (raw.b ? "true" : "false") : raw.text; }
// A string field's value, to be interned (not a null, which convertValue checks).
bool isStringValue(const RawValue& raw, const FieldSpec& field) {
  return field.type.kind == Kind::String && raw.kind != RawKind::Missing && raw.kind != RawKind::Null;
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
      return Value::string(pool.intern(stringText(raw)));
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

// A column like an event's kind or channel holds a handful of values over millions of rows. A
// small cache per string field, tried before the run's pool, answers most rows from a few cache
// lines instead of a probe in a pool of every name, email and product. Entries point into the
// pool, so a cache is cleared whenever the loader moves to another dataset.
class InternCache {
 public:
  const std::string* intern(std::string_view text, StringPool& pool) {
    const std::string*& slot = slots_[slotOf(text)];
    if (slot == nullptr || *slot != text) slot = pool.intern(text);
    return slot;
  }

 private:
  static constexpr size_t kSlots = 64;
  static size_t slotOf(std::string_view text) {
    uint64_t head = 0;
    std::memcpy(&head, text.data(), std::min<size_t>(text.size(), sizeof head));
    uint64_t h = (head ^ (text.size() * 0x9E3779B97F4A7C15ULL) ^ (text.empty() ? 0u : static_cast<unsigned char>(text.back()))) *
                 0xBF58476D1CE4E5B9ULL;
    return static_cast<size_t>(h >> 58);  // the top 6 bits: 64 slots
  }
  std::array<const std::string*, kSlots> slots_{};
};

// A file's row count, estimated from its size and its first rows, so that its columns can be
// reserved once: growing a column by doubling copies it and keeps two copies at once, and
// growing a hash table rehashes it (untouched capacity costs no memory). 0 for files whose size
// is unknown (compressed, a pipe).
class RowEstimate {
 public:
  explicit RowEstimate(uint64_t fileBytes) : fileBytes_(fileBytes) {}
  explicit RowEstimate(const std::string& path) : fileBytes_(plainFileBytes(path)) {}
  // Counts rows read and their bytes; returns the estimate once, when enough rows are seen.
  uint64_t add(uint64_t rows, uint64_t bytes) {
    if (fileBytes_ == 0 || rows_ >= kSampleRows) return 0;
    rows_ += rows;
    bytes_ += bytes;
    if (rows_ < kSampleRows || bytes_ == 0) return 0;
    return std::min<uint64_t>(fileBytes_ / bytes_ * rows_ * 11 / 10, UINT32_MAX);  // 10% to spare
  }

 private:
  static constexpr uint64_t kSampleRows = 4096;
  uint64_t fileBytes_;
  uint64_t rows_ = 0, bytes_ = 0;
};

// What typing one event row found: a row to store, a row of another shard, or why it is
// rejected (Loader::typeEvent).
struct TypedEvent {
  enum class Outcome : uint8_t { Store, OtherShard, Reject };
  Outcome outcome = Outcome::Store;
  uint32_t customer = 0;
  std::vector<Value> values;            // per event field; a string is a String with no pointer yet,
  std::vector<std::string_view> texts;  // its text here (valid until the reader's next())
  uint32_t column = 0;                  // Reject: where and why
  std::string field, reason;
};

// A string of one pool to the same text in another, for every cell of a column: a few distinct
// strings over millions of cells, so a small open-addressing table keyed by address, where a
// std::unordered_map spent most of the join dividing by its bucket count.
class MovedStrings {
 public:
  explicit MovedStrings(StringPool& to) : pool_(to), slots_(64) {}
  const std::string* to(const std::string* from) {
    for (size_t i = slotOf(from);; i = (i + 1) & (slots_.size() - 1)) {
      Slot& s = slots_[i];
      if (s.from == from) return s.to;
      if (s.from != nullptr) continue;
      const std::string* moved = pool_.intern(*from);
      s = {from, moved};
      if (++used_ * 2 > slots_.size()) grow();
      return moved;
    }
  }

 private:
  struct Slot {
    const std::string* from = nullptr;
    const std::string* to = nullptr;
  };
  size_t slotOf(const std::string* p) const {
    return static_cast<size_t>((reinterpret_cast<uintptr_t>(p) * 0x9E3779B97F4A7C15ULL) >> 32) & (slots_.size() - 1);
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old)
      if (s.from != nullptr)
        for (size_t i = slotOf(s.from);; i = (i + 1) & (slots_.size() - 1))
          if (slots_[i].from == nullptr) {
            slots_[i] = s;
            break;
          }
  }
  StringPool& pool_;
  std::vector<Slot> slots_;  // a power of two, at most half full
  size_t used_ = 0;
};

// What typing one customer row found (Loader::typeCustomer): a row to keep, a row of another
// shard, or why it is rejected.
struct TypedCustomer {
  enum class Outcome : uint8_t { Keep, OtherShard, Reject };
  Outcome outcome = Outcome::Keep;
  std::string_view id;                  // the id's text, for the row's rejects ("" if none)
  std::vector<Value> values;            // per field; a string is a String with no pointer yet,
  std::vector<std::string_view> texts;  // its text here,
  std::vector<size_t> hashes;           // and its hash in the pool
  uint32_t column = 0;                  // Reject: where and why
  std::string field, reason;
};

// Typed rows passed from the reading thread: their cells, a string's text in `text`.
struct TypedCells {
  std::vector<Value> cells;                          // the rows' values, one field after another
  std::vector<std::pair<uint32_t, uint32_t>> spans;  // per cell: a string's text in `text`
  std::string text;
  void clear() {
    cells.clear();
    spans.clear();
    text.clear();
  }
  // Adds a row's values, their strings' texts copied; returns its first cell.
  uint32_t add(const std::vector<Value>& values, const std::vector<std::string_view>& texts) {
    const auto first = static_cast<uint32_t>(cells.size());
    for (size_t k = 0; k < values.size(); ++k) {
      cells.push_back(values[k]);
      std::pair<uint32_t, uint32_t> span{0, 0};
      if (values[k].tag == Kind::String && values[k].s == nullptr) span = addText(texts[k]);
      spans.push_back(span);
    }
    return first;
  }
  std::pair<uint32_t, uint32_t> addText(std::string_view t) {
    std::pair<uint32_t, uint32_t> span{static_cast<uint32_t>(text.size()), static_cast<uint32_t>(t.size())};
    text.append(t);
    return span;
  }
  std::string_view textOf(std::pair<uint32_t, uint32_t> span) const { return std::string_view(text).substr(span.first, span.second); }
  // Row values and texts back from cells [first, first + n).
  void get(uint32_t first, size_t n, std::vector<Value>& values, std::vector<std::string_view>& texts) const {
    values.assign(cells.begin() + first, cells.begin() + first + n);
    texts.resize(n);
    for (size_t k = 0; k < n; ++k) texts[k] = textOf(spans[first + k]);
  }
};

// Where stored event rows go: the columns in file order, each row's customer, and the interning
// of their strings into a pool. The loader has one; with the events file read in parts, each
// part after the first has its own, appended to the loader's at the end.
struct EventStore {
  std::vector<Column> columns;  // one per event field
  // The columns of the stores appended to this one, in file order. They are joined only when
  // the rows are grouped (Column::gather): joining them here would copy every cell once more.
  std::vector<std::vector<Column>> appended;
  std::vector<uint32_t> owner;      // every row's, the appended ones' too
  std::vector<InternCache> caches;  // per event field
  std::vector<bool> keep;           // per event field: stored, or its column left empty
  StringPool* pool = nullptr;

  void reset(const Schema& schema, StringPool& strings, const std::vector<bool>& keepFields) {
    columns.clear();
    for (const auto& f : schema.eventFields) columns.emplace_back(f.type.kind);
    keep = keepFields;
    if (keep.empty()) keep.assign(columns.size(), true);
    appended.clear();
    caches.assign(schema.eventFields.size(), InternCache());
    owner.clear();
    pool = &strings;
  }
  void reserve(uint64_t rows) {
    for (auto& c : columns) c.reserve(rows);
    owner.reserve(rows);
  }
  void store(const TypedEvent& t) {
    for (size_t k = 0; k < t.values.size(); ++k) {
      if (!keep[k]) continue;
      Value v = t.values[k];
      if (v.tag == Kind::String && v.s == nullptr) v = Value::string(caches[k].intern(t.texts[k], *pool));
      columns[k].push(v);
    }
    owner.push_back(t.customer);
  }
  // Appends another store's rows, their strings moved into this store's pool.
  void append(EventStore& other) {
    MovedStrings moved(*pool);
    auto to = [&](const std::string* s) { return moved.to(s); };
    for (auto& c : other.columns)
      if (c.kind() == Kind::String) c.restring(to);
    appended.push_back(std::move(other.columns));
    owner.insert(owner.end(), other.owner.begin(), other.owner.end());
    other.owner = std::vector<uint32_t>();  // `= {}` would keep the capacity
  }
  // Field k's cells, in file order, gathered in `order` (empty if not kept); the store's own are
  // then freed.
  Column gather(size_t k, const std::vector<uint32_t>& order) {
    if (!keep[k]) return Column(columns[k].kind());
    std::vector<const Column*> parts{&columns[k]};
    for (const auto& a : appended) parts.push_back(&a[k]);
    Column out = Column::gather(parts, order);
    columns[k] = Column(out.kind());
    for (auto& a : appended) a[k] = Column(out.kind());
    return out;
  }
};

// Row-level loading, shared by loadDataset (whole files) and GroupedReader (batches): typing,
// joining, rejecting and the shard filter happen here and only here, so both give the same rows.
class Loader {
 public:
  Loader(const Config& config, const LoadOptions& options, std::string& fatal)
      : config_(config), options_(options), fatal_(fatal) {}

  void bind(Dataset& ds) {
    ds_ = &ds;
    const Schema& schema = config_.schema;
    if (config_.customers.customersFromEvents) ds_->customers.emplace_back(Kind::String);  // the id is their only field
    else
      for (const auto& f : schema.customerFields) ds_->customers.emplace_back(f.type.kind);
    events_.reset(schema, ds_->strings, options_.keepEventFields);
    contactOwner_.clear();
    contactWhen_.clear();
    contactChannel_.clear();
    batchZone_.clear();
  }

  bool run(Dataset& ds) {
    bind(ds);
    if (!loadCustomers()) return false;
    if (config_.events.present && !loadEvents()) return false;
    if (config_.contacts.present && config_.contacts.fromEventsField.empty() && !loadContacts()) return false;
    finishBatch();
    return true;
  }

  // Ends a batch: events and contacts grouped by customer, then time; the rejects and counts.
  void finishBatch() {
    finishEvents();
    if (config_.contacts.present && !config_.contacts.fromEventsField.empty()) contactsFromEvents();
    else finishContacts();
    ds_->customerCounts = counts_[0];
    ds_->eventCounts = counts_[1];
    ds_->contactCounts = counts_[2];
    for (auto& part : rejects_)
      for (auto& r : part) ds_->rejects.push_back(std::move(r));
    for (auto& part : rejects_) part.clear();
  }

  std::unique_ptr<RecordReader> open(const ExportSpec& spec, const std::string& overridePath,
                                     const std::vector<std::string>& wanted) {
    SourceOptions src = spec.source;
    if (!overridePath.empty()) src.path = overridePath;
    std::string err;
    auto reader = RecordReader::open(src, wanted, err);
    if (!reader) fatal_ = err;
    return reader;
  }

  // The columns each source reads, in the order the row functions expect.
  std::vector<std::string> customerColumns() const {
    const Schema& schema = config_.schema;
    std::vector<std::string> wanted;
    for (size_t k = config_.customers.rowIds ? 1 : 0; k < schema.customerFields.size(); ++k)
      wanted.push_back(schema.customerFields[k].column);
    return wanted;
  }
  std::vector<std::string> eventColumns() const {
    std::vector<std::string> wanted{config_.events.keyColumn};
    for (const auto& f : config_.schema.eventFields) wanted.push_back(f.column);
    return wanted;
  }
  std::vector<std::string> contactColumns() const {
    const ExportSpec& spec = config_.contacts;
    return {spec.keyColumn, spec.timeColumn, spec.channelColumn};
  }

  // Is field k kept in memory (LoadOptions::keepCustomerFields, keepEventFields)?
  static bool keptField(const std::vector<bool>& keep, size_t k) { return keep.empty() || keep[k]; }

  // Does this row belong to our shard? A row whose customer id cannot be read goes to shard 0.
  bool ours(const RawValue* id) const {
    if (options_.shards <= 1) return true;
    std::string_view text;
    if (id && (id->kind == RawKind::Text || id->kind == RawKind::Number)) text = id->text;
    return (text.empty() ? 0 : customerShard(text, options_.shards)) == options_.shard;
  }

  // One customer row, typed and kept. False on a fatal error (the error limit).
  bool customerRow(const RecordReader& reader, std::vector<RawValue>& vals, const RecordInfo& info) {
    if (config_.customers.rowIds) {
      rowNumber_ = std::to_string(customerRows_ + 1);
      RawValue id;
      id.kind = RawKind::Text;
      id.text = rowNumber_;
      vals.insert(vals.begin(), id);
    }
    typeCustomer(reader, vals, info, typedCustomer_, unusedPool_);
    if (typedCustomer_.outcome == TypedCustomer::Outcome::Keep)
      prefetchStrings(typedCustomer_.values.data(), typedCustomer_.hashes.data(), typedCustomer_.values.size(), typedCustomer_.id);
    return keepCustomer(reader, info, typedCustomer_);
  }

  // Types one customer row: its fields converted, its strings hashed for the pool. It reads only
  // the config, so with --threads 2 or more it runs on a reading thread (readCustomersAside).
  void typeCustomer(const RecordReader& reader, const std::vector<RawValue>& vals, const RecordInfo& info,
                    TypedCustomer& t, StringPool& unused) const {
    const Schema& schema = config_.schema;
    t.id = std::string_view();
    if (!info.ok) {
      t.outcome = ours(nullptr) ? TypedCustomer::Outcome::Reject : TypedCustomer::Outcome::OtherShard;
      t.column = info.error.column;
      t.field = info.error.field;
      t.reason = info.error.reason;
      return;
    }
    if (!ours(&vals[0])) {
      t.outcome = TypedCustomer::Outcome::OtherShard;
      return;
    }
    if (vals[0].kind == RawKind::Text || vals[0].kind == RawKind::Number) t.id = vals[0].text;
    const size_t fields = schema.customerFields.size();
    t.values.resize(fields);
    t.texts.resize(fields);
    t.hashes.resize(fields);
    for (size_t k = 0; k < fields; ++k) {
      const bool kept = keptField(options_.keepCustomerFields, k);
      if (isStringValue(vals[k], schema.customerFields[k])) {
        t.values[k] = kept ? Value::string(nullptr) : Value::null();  // interned when kept
        t.texts[k] = stringText(vals[k]);
        t.hashes[k] = kept ? StringPool::hashOf(t.texts[k]) : 0;
        continue;
      }
      auto v = convertValue(vals[k], schema.customerFields[k], config_.zone, unused, t.reason);  // no string: no pool
      if (!v) {
        t.outcome = TypedCustomer::Outcome::Reject;
        t.column = config_.customers.rowIds ? (k == 0 ? 0 : reader.columnNumber(k - 1)) : reader.columnNumber(k);
        t.field = schema.customerFields[k].name;
        return;
      }
      t.values[k] = kept ? *v : Value::null();
    }
    t.outcome = TypedCustomer::Outcome::Keep;
  }

  // A customer row's strings (id, name, email, ...) land at random places in a pool of millions,
  // and its id in the id index: start their cache misses before waiting on the first. `values`
  // and `hashes` are the row's fields, as typeCustomer leaves them.
  void prefetchStrings(const Value* values, const size_t* hashes, size_t fields, std::string_view id) const {
    for (size_t k = 0; k < fields; ++k)
      if (values[k].tag == Kind::String && values[k].s == nullptr) ds_->strings.prefetch(hashes[k]);
    ds_->customerIndex.prefetch(CustomerIndex::hashOf(id));
  }

  // Counts a typed customer row and keeps it: its strings interned, its time zone located, its
  // id checked (empty, duplicate) and indexed. Or rejects it.
  bool keepCustomer(const RecordReader& reader, const RecordInfo& info, TypedCustomer& t) {
    const Schema& schema = config_.schema;
    SourceCounts& counts = counts_[0];
    ++counts.read;
    ++customerRows_;
    currentId_ = t.id;
    switch (t.outcome) {
      case TypedCustomer::Outcome::OtherShard: return other(counts);
      case TypedCustomer::Outcome::Reject:
        return reject(DataSource::Customers, reader, info, t.column, std::move(t.field), std::move(t.reason), counts);
      case TypedCustomer::Outcome::Keep: break;
    }
    std::vector<Value>& row = t.values;
    for (size_t k = 0; k < row.size(); ++k)
      if (row[k].tag == Kind::String && row[k].s == nullptr) row[k] = Value::string(ds_->strings.intern(t.texts[k], t.hashes[k]));
    int32_t zone = -1;
    if (schema.customerTimezoneField >= 0 && !row[schema.customerTimezoneField].isNull()) {
      const std::string* name = row[schema.customerTimezoneField].s;
      auto known = zoneIndex_.find(*name);
      if (known == zoneIndex_.end()) {
        auto tz = TimeZone::locate(*name);
        if (!tz)
          return reject(DataSource::Customers, reader, info, reader.columnNumber(schema.customerTimezoneField),
                        schema.customerFields[schema.customerTimezoneField].name, "unknown time zone '" + shown(*name) + "'", counts);
        known = zoneIndex_.emplace(*name, *tz).first;
      }
      // Zones are per dataset (a batch of a grouped run has its own).
      auto local = batchZone_.find(name);
      if (local == batchZone_.end()) {
        local = batchZone_.emplace(name, static_cast<int32_t>(ds_->zones.size())).first;
        ds_->zones.push_back(known->second);
      }
      zone = local->second;
    }
    if (row[0].s->empty())
      return reject(DataSource::Customers, reader, info, reader.columnNumber(0), schema.customerFields[0].name, "empty customer id", counts);
    // A grouped run sees one batch at a time: a duplicate of the previous batch's last customer
    // is caught by remembering it (sorted input puts every duplicate right after its first).
    uint64_t firstLine = 0;
    if (grouped_ && *row[0].s == lastAccepted_) firstLine = lastAcceptedLine_;
    auto [first, fresh] = firstLine ? std::make_pair(uint32_t{0}, false)
                                    : ds_->customerIndex.insert(row[0].s, static_cast<uint32_t>(ds_->customerCount));
    if (!fresh) {
      if (!firstLine) firstLine = ds_->customerLine[first];
      std::string reason = fmt::format("duplicate customer id '{}' (first at line {})", shown(*row[0].s), firstLine);
      return reject(DataSource::Customers, reader, info, reader.columnNumber(0), schema.customerFields[0].name, reason, counts);
    }
    for (size_t k = 0; k < row.size(); ++k) ds_->customers[k].push(row[k]);
    if (schema.customerTimezoneField >= 0) ds_->customerZone.push_back(zone);
    ds_->customerLine.push_back(info.line);
    ++ds_->customerCount;
    ++counts.accepted;
    if (grouped_) {
      lastAccepted_ = *row[0].s;
      lastAcceptedLine_ = info.line;
    }
    return true;
  }

  // Types one event row. It reads only the config, the customer index and the customers, so with
  // --threads 2 or more it runs on other threads than this one (loadEvents).
  void typeEvent(const RecordReader& reader, const std::vector<RawValue>& vals, const RecordInfo& info,
                 TypedEvent& t, StringPool& unused) {
    const Schema& schema = config_.schema;
    if (!info.ok) {
      t.outcome = ours(nullptr) ? TypedEvent::Outcome::Reject : TypedEvent::Outcome::OtherShard;
      t.column = info.error.column;
      t.field = info.error.field;
      t.reason = info.error.reason;
      return;
    }
    if (!ours(&vals[0])) {
      t.outcome = TypedEvent::Outcome::OtherShard;
      return;
    }
    // The id lookup is a cache miss in a large table: start it, type the fields meanwhile, then
    // finish it. An unknown customer is still the reason given first, as the lookup comes first.
    const uint64_t idHash = prefetchCustomer(vals[0]);
    const size_t fields = schema.eventFields.size();
    t.values.resize(fields);
    t.texts.resize(fields);
    size_t badField = fields;
    std::string badReason;
    for (size_t k = 0; k < fields; ++k) {
      const RawValue& raw = vals[k + 1];
      const bool kept = keptField(options_.keepEventFields, k);
      if (isStringValue(raw, schema.eventFields[k])) {
        t.values[k] = kept ? Value::string(nullptr) : Value::null();  // interned when stored (EventStore::store)
        t.texts[k] = stringText(raw);
        continue;
      }
      auto v = convertValue(raw, schema.eventFields[k], config_.zone, unused, badReason);  // no string: no pool
      if (!v) {
        badField = k;
        break;
      }
      t.values[k] = kept ? *v : Value::null();
    }
    auto cust = customerOf(vals[0], idHash);
    if (!cust) {
      t.outcome = TypedEvent::Outcome::Reject;
      t.column = reader.columnNumber(0);
      t.field = config_.events.keyColumn;
      t.reason = vals[0].kind == RawKind::Text || vals[0].kind == RawKind::Number
                     ? fmt::format("unknown customer id '{}'", shown(vals[0].text))
                     : "missing customer id";
      return;
    }
    if (badField < fields) {
      t.outcome = TypedEvent::Outcome::Reject;
      t.column = reader.columnNumber(badField + 1);
      t.field = schema.eventFields[badField].name;
      t.reason = std::move(badReason);
      return;
    }
    t.outcome = TypedEvent::Outcome::Store;
    t.customer = *cust;
  }

  // Counts a typed event row in `counts` and stores it in `store`, or leaves its rejection to
  // rejected() (false stops the reading). The loader's own rows and a part's (readEventsInParts)
  // go through here.
  template <class Rejected>
  bool keepEvent(TypedEvent& t, EventStore& store, SourceCounts& counts, Rejected rejected) {
    ++counts.read;
    switch (t.outcome) {
      case TypedEvent::Outcome::OtherShard: return other(counts);
      case TypedEvent::Outcome::Reject: return rejected();
      case TypedEvent::Outcome::Store: break;
    }
    store.store(t);
    ++counts.accepted;
    return true;
  }

  // Stores a typed event row, or counts or rejects it. False once the error limit is exceeded.
  bool storeEvent(TypedEvent& t, const std::string& path, uint64_t line, std::string_view raw) {
    return keepEvent(t, events_, counts_[1], [&] {
      return reject(DataSource::Events, path, line, raw, t.column, std::move(t.field), std::move(t.reason), counts_[1]);
    });
  }

  // An event row rejected on another thread, held until it can be counted in file order.
  struct HeldReject {
    uint64_t line;
    uint32_t column;
    std::string field, reason, raw;
  };
  static HeldReject hold(TypedEvent& t, const RecordInfo& info) {
    return {info.line, t.column, std::move(t.field), std::move(t.reason), std::string(info.raw)};
  }
  // Rejects a held row; its line counted from where its reader started, plus `lineOffset`.
  bool reject(HeldReject& r, const std::string& path, uint64_t lineOffset) {
    return reject(DataSource::Events, path, r.line + lineOffset, r.raw, r.column, std::move(r.field), std::move(r.reason),
                  counts_[1]);
  }

  // One event row, typed and stored.
  bool eventRow(const RecordReader& reader, std::vector<RawValue>& vals, const RecordInfo& info) {
    typeEvent(reader, vals, info, typed_, unusedPool_);
    return storeEvent(typed_, reader.path(), info.line, info.raw);
  }

  // One contact row.
  bool contactRow(const RecordReader& reader, std::vector<RawValue>& vals, const RecordInfo& info) {
    const ExportSpec& spec = config_.contacts;
    SourceCounts& counts = counts_[2];
    ++counts.read;
    if (!info.ok) {
      if (!ours(nullptr)) return other(counts);
      return rejectBadRecord(DataSource::Contacts, reader, info, counts);
    }
    if (!ours(&vals[0])) return other(counts);
    auto cust = customerOf(vals[0]);
    if (!cust)
      return reject(DataSource::Contacts, reader, info, reader.columnNumber(0), spec.keyColumn,
                    fmt::format("unknown customer id '{}'", shown(vals[0].text)), counts);
    FieldSpec timeField{spec.timeColumn, spec.timeColumn, Type::of(Kind::Time), spec.timeFormat};
    FieldSpec channelField{spec.channelColumn, spec.channelColumn, Type::of(Kind::String), ""};
    std::string reason;
    auto t = convertValue(vals[1], timeField, config_.zone, ds_->strings, reason);
    if (!t) return reject(DataSource::Contacts, reader, info, reader.columnNumber(1), spec.timeColumn, reason, counts);
    auto ch = convertValue(vals[2], channelField, config_.zone, ds_->strings, reason);
    if (!ch) return reject(DataSource::Contacts, reader, info, reader.columnNumber(2), spec.channelColumn, reason, counts);
    int32_t idx = -1;
    for (size_t k = 0; k < config_.channels.size(); ++k)
      if (config_.channels[k].name == *ch->s) idx = static_cast<int32_t>(k);
    contactOwner_.push_back(*cust);
    contactWhen_.push_back(t->i);
    contactChannel_.push_back(idx);
    ++counts.accepted;
    return true;
  }

  const SourceCounts& counts(int source) const { return counts_[source]; }
  std::vector<RejectedRow>& rejects(int source) { return rejects_[source]; }
  void setGrouped() { grouped_ = true; }
  void keepRejects() { keepRejects_ = true; }
  std::vector<RejectedRow>& kept(int source) { return keptRejects_[source]; }
  uint64_t contactsTaken() const { return contactsTaken_; }

 private:
  bool other(SourceCounts& counts) {
    ++counts.otherShards;
    return true;
  }

  // Records a rejected row; false once the error limit is exceeded.
  bool reject(DataSource source, const RecordReader& reader, const RecordInfo& info, uint32_t column,
              std::string field, std::string reason, SourceCounts& counts) {
    return reject(source, reader.path(), info.line, info.raw, column, std::move(field), std::move(reason), counts);
  }
  bool reject(DataSource source, const std::string& path, uint64_t line, std::string_view raw, uint32_t column,
              std::string field, std::string reason, SourceCounts& counts) {
    RejectedRow r;
    r.source = source;
    r.file = path;
    r.line = line;
    r.column = column;
    r.field = std::move(field);
    r.reason = std::move(reason);
    r.raw = std::string(raw);
    r.customerId = source == DataSource::Customers ? currentId_ : std::string();
    std::string last = r.reason;
    (keepRejects_ ? keptRejects_ : rejects_)[static_cast<int>(source)].push_back(std::move(r));
    ++counts.rejected;
    ++rejectCount_;
    if (options_.maxErrors >= 0 && static_cast<int64_t>(rejectCount_) > options_.maxErrors) {
      fatal_ = fmt::format("stopped: {} rows rejected, more than --max-errors {} (last: {}:{}: {})",
                           rejectCount_, options_.maxErrors, path, line, last);
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
    if (config_.customers.customersFromEvents) return true;
    auto reader = open(config_.customers, options_.customersPath, customerColumns());
    if (!reader) return false;
    RowEstimate estimate(reader->path());
    auto sample = [&](uint64_t rows, uint64_t bytes) {
      if (uint64_t n = estimate.add(rows, bytes)) reserveCustomers(n);
    };
    if (options_.threads >= 2 && !config_.customers.rowIds) {
      if (!readCustomersAside(*reader, sample)) return false;
      return finish(*reader);
    }
    std::vector<RawValue> vals;
    RecordInfo info;
    while (reader->next(vals, info)) {
      if (!customerRow(*reader, vals, info)) return false;
      sample(1, info.raw.size() + 1);
    }
    return finish(*reader);
  }

  // The customers file on two threads: a reading thread parses and types the rows
  // (typeCustomer), and this thread keeps them in file order (keepCustomer), its cache misses in
  // the pool and the id index started a few rows ahead. The rows, the rejects and their order are
  // those of one thread.
  struct CustomerBatch {
    struct Row {
      TypedCustomer::Outcome outcome;
      uint32_t index;   // Keep: first cell; Reject: index into reasons
      uint32_t column;  // Reject: where
      uint64_t line;
      std::pair<uint32_t, uint32_t> raw, id;  // in typed.text
    };
    std::vector<Row> rows;
    TypedCells typed;
    std::vector<size_t> hashes;                                // per cell: a string's in the pool
    std::vector<std::pair<std::string, std::string>> reasons;  // Reject: field, reason
    uint64_t rawBytes = 0;
    void clear() {
      rows.clear();
      typed.clear();
      hashes.clear();
      reasons.clear();
      rawBytes = 0;
    }
  };

  template <class Sample>
  bool readCustomersAside(RecordReader& reader, Sample& sample) {
    TypedCustomer t;  // the reading thread's
    StringPool unused;
    std::vector<RawValue> vals;
    RecordInfo info;
    auto fill = [&](CustomerBatch& b) {
      b.clear();
      while (b.rows.size() < kBatchRows) {
        if (!reader.next(vals, info)) return false;
        typeCustomer(reader, vals, info, t, unused);
        CustomerBatch::Row row{t.outcome, 0, 0, info.line, b.typed.addText(info.raw), b.typed.addText(t.id)};
        b.rawBytes += info.raw.size() + 1;
        if (t.outcome == TypedCustomer::Outcome::Keep) {
          row.index = b.typed.add(t.values, t.texts);
          b.hashes.insert(b.hashes.end(), t.hashes.begin(), t.hashes.end());
        } else if (t.outcome == TypedCustomer::Outcome::Reject) {
          row.index = static_cast<uint32_t>(b.reasons.size());
          row.column = t.column;
          b.reasons.emplace_back(std::move(t.field), std::move(t.reason));
        }
        b.rows.push_back(row);
      }
      return true;
    };
    TypedCustomer kept;  // this thread's
    const size_t fields = config_.schema.customerFields.size();
    constexpr size_t kAhead = 4;  // rows: enough to cover a miss, few enough to stay in cache
    auto prefetchRow = [&](const CustomerBatch& b, const CustomerBatch::Row& row) {
      if (row.outcome == TypedCustomer::Outcome::Keep)
        prefetchStrings(&b.typed.cells[row.index], &b.hashes[row.index], fields, b.typed.textOf(row.id));
    };
    auto keep = [&](CustomerBatch& b) {
      for (size_t r = 0; r < std::min(kAhead, b.rows.size()); ++r) prefetchRow(b, b.rows[r]);
      for (size_t r = 0; r < b.rows.size(); ++r) {
        if (r + kAhead < b.rows.size()) prefetchRow(b, b.rows[r + kAhead]);
        const CustomerBatch::Row& row = b.rows[r];
        kept.outcome = row.outcome;
        kept.id = b.typed.textOf(row.id);
        if (row.outcome == TypedCustomer::Outcome::Keep) {
          b.typed.get(row.index, fields, kept.values, kept.texts);
          kept.hashes.assign(b.hashes.begin() + row.index, b.hashes.begin() + row.index + fields);
        } else if (row.outcome == TypedCustomer::Outcome::Reject) {
          kept.column = row.column;
          kept.field = std::move(b.reasons[row.index].first);
          kept.reason = std::move(b.reasons[row.index].second);
        }
        RecordInfo at;
        at.line = row.line;
        at.raw = b.typed.textOf(row.raw);
        if (!keepCustomer(reader, at, kept)) return false;
      }
      sample(b.rows.size(), b.rawBytes);
      return true;
    };
    return readAside<CustomerBatch>(fill, keep);
  }

  void reserveCustomers(uint64_t rows) {
    for (auto& c : ds_->customers) c.reserve(rows);
    ds_->customerLine.reserve(rows);
    if (config_.schema.customerTimezoneField >= 0) ds_->customerZone.reserve(rows);
    ds_->customerIndex.reserve(rows);
  }

  // Starts looking a customer id up: the id's hash, for customerOf, with the index's cache line
  // for it on its way.
  uint64_t prefetchCustomer(const RawValue& raw) const {
    const uint64_t hash = CustomerIndex::hashOf(raw.text);
    ds_->customerIndex.prefetch(hash);
    return hash;
  }

  // Looks up a customer id; rejects the row when unknown. With customers.from_events, an id
  // seen for the first time is a new customer.
  std::optional<uint32_t> customerOf(const RawValue& raw) { return customerOf(raw, CustomerIndex::hashOf(raw.text)); }
  std::optional<uint32_t> customerOf(const RawValue& raw, uint64_t hash) {
    if (raw.kind != RawKind::Text && raw.kind != RawKind::Number) return std::nullopt;
    if (config_.customers.customersFromEvents && !raw.text.empty()) {
      const std::string* id = ds_->strings.intern(raw.text);
      auto [customer, fresh] = ds_->customerIndex.insert(id, static_cast<uint32_t>(ds_->customerCount));
      if (fresh) {
        ds_->customers[0].push(Value::string(id));
        ds_->customerLine.push_back(0);
        ++ds_->customerCount;
        ++counts_[0].read;
        ++counts_[0].accepted;
      }
      return customer;
    }
    return ds_->customerIndex.find(raw.text, hash);
  }

  bool loadEvents() {
    auto reader = open(config_.events, options_.eventsPath, eventColumns());
    if (!reader) return false;
    RowEstimate estimate(reader->path());
    auto sample = [&](uint64_t rows, uint64_t bytes) {
      if (uint64_t n = estimate.add(rows, bytes)) events_.reserve(n);
    };
    if (options_.threads >= 2 && !config_.customers.customersFromEvents) {
      auto parts = splitEvents(*reader);
      if (parts.empty() ? !readEventsAside(*reader, sample) : !readEventsInParts(*reader, parts, sample)) return false;
      return finish(*reader);
    }
    std::vector<RawValue> vals;
    RecordInfo info;
    while (reader->next(vals, info)) {
      if (!eventRow(*reader, vals, info)) return false;
      sample(1, info.raw.size() + 1);
    }
    return finish(*reader);
  }

  // ---- the events file in parts --------------------------------------------------------------
  //
  // A plain events file is split at line starts into one part per thread, and each part is
  // read, typed and stored by its own thread. A CSV line start may lie inside a quoted field, so
  // a split is only trusted once the reader before it ends exactly there: each reader stops at
  // the first later part start it lands on, and reads on past any start it steps over (that
  // part's work is dropped). The parts are then joined in file order, following those landings,
  // so the rows, the rejects, their order, their lines and --max-errors are those of one
  // reader. Each part after the first stores into its own columns and string pool, appended to
  // the loader's at the end.
  struct EventPart {
    uint64_t begin = 0;  // where its reader starts in the file
    std::unique_ptr<RecordReader> reader;
    EventStore store;   // parts after the first (the first stores into the loader's)
    StringPool pool;    // the strings of `store`
    std::vector<HeldReject> rejects;   // lines counted from the part's start
    SourceCounts counts;                // its rows read, stored and of other shards
    std::optional<size_t> landed;       // the later part at whose start its reader ended
    uint64_t landedLine = 0;            // that start's line, counted from this part's start
    std::atomic<bool> dropped{false};   // stepped over by the first part's reader: stop
  };
  static constexpr uint64_t kMinPartBytes = uint64_t{1} << 16;

  // The parts of the events file; the first is read by `reader`, the loader's (past the header
  // already). None when the file is compressed or too small to be worth it.
  std::vector<std::unique_ptr<EventPart>> splitEvents(const RecordReader& reader) {
    std::vector<std::unique_ptr<EventPart>> parts;
    const uint64_t bytes = plainFileBytes(reader.path());
    const uint64_t n = std::min<uint64_t>(static_cast<uint64_t>(options_.threads), bytes / kMinPartBytes);
    if (n < 2) return parts;
    parts.push_back(std::make_unique<EventPart>());
    for (uint64_t i = 1; i < n; ++i) {
      const uint64_t begin = lineStartFrom(reader.path(), bytes / n * i);
      if (begin >= bytes || begin <= parts.back()->begin) continue;
      auto part = std::make_unique<EventPart>();
      part->begin = begin;
      part->reader = open(config_.events, reader.path(), eventColumns());
      if (!part->reader || !part->reader->restartAt(begin)) {
        fatal_.clear();  // the first reader reads on alone
        break;
      }
      part->store.reset(config_.schema, part->pool, options_.keepEventFields);
      parts.push_back(std::move(part));
    }
    if (parts.size() < 2) parts.clear();
    return parts;
  }

  // Reads part i until its reader lands on a later part's start, or at the end of the file.
  // row(typed, info) takes each row; false stops the part.
  template <class Row>
  void readPart(std::vector<std::unique_ptr<EventPart>>& parts, size_t i, RecordReader& reader, Row row) {
    EventPart& part = *parts[i];
    size_t next = i + 1;
    TypedEvent t;
    StringPool unused;
    std::vector<RawValue> vals;
    RecordInfo info;
    for (;;) {
      if (part.dropped.load(std::memory_order_relaxed)) return;
      if (auto at = next < parts.size() ? reader.position() : std::nullopt) {
        // Only the first part is known to read true records, so only it may stop the parts
        // it steps over; any other part may be dropped itself.
        for (; next < parts.size() && at->offset > parts[next]->begin; ++next)
          if (i == 0) parts[next]->dropped = true;
        if (next < parts.size() && at->offset == parts[next]->begin) {
          part.landed = next;
          part.landedLine = at->line;
          return;
        }
      }
      if (!reader.next(vals, info)) return;
      typeEvent(reader, vals, info, t, unused);
      if (!row(t, info)) return;
    }
  }

  template <class Sample>
  bool readEventsInParts(RecordReader& first, std::vector<std::unique_ptr<EventPart>>& parts, Sample& sample) {
    std::vector<std::thread> threads;
    for (size_t i = 1; i < parts.size(); ++i) {
      threads.emplace_back([&, i] {
        EventPart& part = *parts[i];
        RowEstimate estimate(plainFileBytes(part.reader->path()) - part.begin);
        readPart(parts, i, *part.reader, [&](TypedEvent& t, const RecordInfo& info) {
          if (uint64_t n = estimate.add(1, info.raw.size() + 1)) part.store.reserve(n);
          return keepEvent(t, part.store, part.counts, [&] {
            part.rejects.push_back(hold(t, info));
            // More than the limit on its own: the join will stop at one of these.
            return options_.maxErrors < 0 || static_cast<int64_t>(part.rejects.size()) <= options_.maxErrors;
          });
        });
      });
    }
    // The first part, on this thread, stores and rejects as one reader would.
    bool ok = true;
    readPart(parts, 0, first, [&](TypedEvent& t, const RecordInfo& info) {
      sample(1, info.raw.size() + 1);
      return ok = storeEvent(t, first.path(), info.line, info.raw);
    });
    if (!ok)
      for (auto& part : parts) part->dropped = true;
    for (auto& t : threads) t.join();
    if (!ok) return false;
    // The parts the first one's reader landed on, and theirs, in file order.
    uint64_t lineOffset = 0;  // a part's line counted from its start, plus this: the file's
    for (size_t from = 0; parts[from]->landed;) {
      const size_t i = *parts[from]->landed;
      lineOffset += parts[from]->landedLine - 1;
      EventPart& part = *parts[i];
      if (!finish(*part.reader)) return false;
      counts_[1].add(part.counts);  // rejected: none yet; reject() counts its rows below
      for (auto& r : part.rejects)
        if (!reject(r, part.reader->path(), lineOffset)) return false;
      events_.append(part.store);
      from = i;
    }
    return true;
  }

  // Reads a file on two threads: fill(batch) runs on a reading thread and fills the batches in
  // turn, false once the input has ended; keep(batch) runs on this thread and takes them in file
  // order, false to stop. A bounded queue keeps a few batches in flight; spent ones are reused.
  template <class Batch, class Fill, class Keep>
  static bool readAside(Fill fill, Keep keep) {
    struct Slot {
      Batch batch;
      bool last = false;
    };
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<std::unique_ptr<Slot>> full, spare;
    bool stop = false;

    std::thread reading([&] {
      for (bool more = true; more;) {
        std::unique_ptr<Slot> b;
        {
          std::unique_lock<std::mutex> lock(mutex);
          changed.wait(lock, [&] { return stop || full.size() < kBatchesInFlight; });
          if (stop) return;
          if (!spare.empty()) {
            b = std::move(spare.front());
            spare.pop_front();
          }
        }
        if (!b) b = std::make_unique<Slot>();
        more = fill(b->batch);
        b->last = !more;
        std::lock_guard<std::mutex> lock(mutex);
        full.push_back(std::move(b));
        changed.notify_all();
      }
    });

    bool ok = true;
    for (bool last = false; !last && ok;) {
      std::unique_ptr<Slot> b;
      {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] { return !full.empty(); });
        b = std::move(full.front());
        full.pop_front();
        changed.notify_all();
      }
      last = b->last;
      ok = keep(b->batch);
      std::lock_guard<std::mutex> lock(mutex);
      spare.push_back(std::move(b));
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
      changed.notify_all();
    }
    reading.join();
    return ok;
  }
  static constexpr size_t kBatchRows = 8192;
  static constexpr size_t kBatchesInFlight = 4;

  // The events file on two threads: a reading thread parses and types the rows (typeEvent), and
  // this thread stores them in file order (keepEvent). The rows, the rejects and their order are
  // those of one thread; the pool, the columns and the counts are only touched here.
  struct EventBatch {
    struct Row {
      TypedEvent::Outcome outcome;
      uint32_t customer;
      uint32_t index;  // Store: first cell; Reject: index into rejects
    };
    std::vector<Row> rows;
    TypedCells typed;
    std::vector<HeldReject> rejects;
    uint64_t rawBytes = 0;  // the rows' length in the file, for the reservation estimate
    void clear() {
      rows.clear();
      typed.clear();
      rejects.clear();
      rawBytes = 0;
    }
  };

  template <class Sample>
  bool readEventsAside(RecordReader& reader, Sample& sample) {
    TypedEvent t;  // the reading thread's
    StringPool unused;
    std::vector<RawValue> vals;
    RecordInfo info;
    auto fill = [&](EventBatch& b) {
      b.clear();
      while (b.rows.size() < kBatchRows) {
        if (!reader.next(vals, info)) return false;
        typeEvent(reader, vals, info, t, unused);
        EventBatch::Row row{t.outcome, t.customer, 0};
        b.rawBytes += info.raw.size() + 1;
        if (t.outcome == TypedEvent::Outcome::Store) {
          row.index = b.typed.add(t.values, t.texts);
        } else if (t.outcome == TypedEvent::Outcome::Reject) {
          row.index = static_cast<uint32_t>(b.rejects.size());
          b.rejects.push_back(hold(t, info));
        }
        b.rows.push_back(row);
      }
      return true;
    };
    TypedEvent kept;  // this thread's
    const size_t fields = config_.schema.eventFields.size();
    auto keep = [&](EventBatch& b) {
      for (const auto& row : b.rows) {
        kept.outcome = row.outcome;
        kept.customer = row.customer;
        if (row.outcome == TypedEvent::Outcome::Store) b.typed.get(row.index, fields, kept.values, kept.texts);
        if (!keepEvent(kept, events_, counts_[1], [&] { return reject(b.rejects[row.index], reader.path(), 0); })) return false;
      }
      sample(b.rows.size(), b.rawBytes);
      return true;
    };
    return readAside<EventBatch>(fill, keep);
  }

  // Group by customer, then time; equal times keep file order (stable).
  void finishEvents() {
    std::vector<uint32_t> order = groupByCustomer(events_.owner, ds_->eventBegin);
    events_.owner = std::vector<uint32_t>();
    // Each field on its own, the fields going to the threads in turn.
    std::vector<Column> columns(events_.columns.size());
    const size_t workers = std::min(columns.size(), static_cast<size_t>(std::max(1, options_.threads)));
    auto work = [&](size_t first) {
      for (size_t k = first; k < columns.size(); k += workers) columns[k] = events_.gather(k, order);
    };
    inParts(workers, work);
    if (!columns.empty()) {
      const int64_t* time = columns[0].payloads();  // the event time: never null
      std::vector<uint32_t> within;
      for (size_t c = 0; c < ds_->customerCount; ++c)
        if (timeOrderWithin(time, ds_->eventBegin[c], ds_->eventBegin[c + 1], within))
          for (auto& col : columns)
            if (col.size() > 0) col.permuteFrom(ds_->eventBegin[c], within);
    }
    ds_->events = std::move(columns);
    events_.columns.clear();
    events_.appended.clear();
  }

  // The rows' order grouped by customer, each customer's in file order: a counting sort (stable,
  // linear). `begin` gets each customer's first row. Each customer's rows are then put in time
  // order (timeOrderWithin): together, what one stable sort by (customer, time) gives.
  std::vector<uint32_t> groupByCustomer(const std::vector<uint32_t>& owner, std::vector<uint32_t>& begin) const {
    begin.assign(ds_->customerCount + 1, 0);
    for (uint32_t o : owner) ++begin[o + 1];
    for (size_t c = 0; c < ds_->customerCount; ++c) begin[c + 1] += begin[c];
    std::vector<uint32_t> order(owner.size());
    std::vector<uint32_t> next(begin.begin(), begin.end() - 1);
    for (uint32_t row = 0; row < owner.size(); ++row) order[next[owner[row]]++] = row;
    return order;
  }

  // One customer's rows [first, last), in file order, with these times: false when they are in
  // time order already (exports are usually written in time order), else `within` gets their
  // order by time, equal times in file order.
  static bool timeOrderWithin(const int64_t* times, uint32_t first, uint32_t last, std::vector<uint32_t>& within) {
    if (std::is_sorted(times + first, times + last)) return false;
    within.resize(last - first);
    std::iota(within.begin(), within.end(), 0u);
    std::stable_sort(within.begin(), within.end(), [&](uint32_t a, uint32_t b) { return times[first + a] < times[first + b]; });
    return true;
  }

  bool loadContacts() {
    auto reader = open(config_.contacts, options_.contactsPath, contactColumns());
    if (!reader) return false;
    std::vector<RawValue> vals;
    RecordInfo info;
    while (reader->next(vals, info))
      if (!contactRow(*reader, vals, info)) return false;
    return finish(*reader);
  }

  void finishContacts() {
    std::vector<uint32_t> order = groupByCustomer(contactOwner_, ds_->contactBegin);
    ds_->contactTime.resize(order.size());
    for (size_t k = 0; k < order.size(); ++k) ds_->contactTime[k] = contactWhen_[order[k]];
    std::vector<uint32_t> within;
    for (size_t c = 0; c < ds_->customerCount; ++c) {
      const uint32_t first = ds_->contactBegin[c], last = ds_->contactBegin[c + 1];
      if (!timeOrderWithin(ds_->contactTime.data(), first, last, within)) continue;
      std::vector<uint32_t> rows(order.begin() + first, order.begin() + last);
      for (uint32_t k = first; k < last; ++k) {
        order[k] = rows[within[k - first]];
        ds_->contactTime[k] = contactWhen_[order[k]];
      }
    }
    ds_->contactChannel.resize(order.size());
    for (size_t k = 0; k < order.size(); ++k) ds_->contactChannel[k] = contactChannel_[order[k]];
    contactOwner_.clear();
    contactWhen_.clear();
    contactChannel_.clear();
  }

  // The contact history taken from events (contacts.from_events): no file, no rejects of its own.
  void contactsFromEvents() {
    const ExportSpec& spec = config_.contacts;
    const Schema& schema = config_.schema;
    int field = schema.eventField(spec.fromEventsField);
    int channelField = schema.eventField(spec.channelColumn);
    std::vector<const std::string*> marks;
    for (const auto& v : spec.fromEventsValues) marks.push_back(ds_->strings.intern(v));
    // The channels' names as the pool holds them (null when no event names one): every string
    // of the events is in the pool, so the same name is the same address.
    std::vector<const std::string*> channels;
    for (const auto& ch : config_.channels) channels.push_back(ds_->strings.find(ch.name));
    // A string cell's payload is its address, and a null cell's is 0, which no mark has: the
    // marks are found by comparing payloads, millions of rows in a tight loop.
    std::vector<int64_t> markCells;
    for (const std::string* m : marks) {
      int64_t cell;
      std::memcpy(&cell, &m, sizeof cell);
      markCells.push_back(cell);
    }
    const int64_t* kinds = ds_->events[field].payloads();
    const Column& channelColumn = ds_->events[channelField];
    const int64_t* times = ds_->events[0].payloads();
    ds_->contactBegin.assign(ds_->customerCount + 1, 0);
    for (uint32_t c = 0; c < ds_->customerCount; ++c) {
      for (uint32_t e = ds_->eventBegin[c]; e < ds_->eventBegin[c + 1]; ++e) {
        if (std::find(markCells.begin(), markCells.end(), kinds[e]) == markCells.end()) continue;
        Value ch = channelColumn.get(e);
        int32_t idx = -1;
        if (!ch.isNull())
          for (size_t k = 0; k < channels.size(); ++k)
            if (channels[k] == ch.s) idx = static_cast<int32_t>(k);
        ds_->contactTime.push_back(times[e]);
        ds_->contactChannel.push_back(idx);
      }
      ds_->contactBegin[c + 1] = static_cast<uint32_t>(ds_->contactTime.size());
    }
    contactsTaken_ += ds_->contactTime.size();
  }

  const Config& config_;
  const LoadOptions& options_;
  std::string& fatal_;
  Dataset* ds_ = nullptr;
  SourceCounts counts_[3];
  std::vector<RejectedRow> rejects_[3];      // this batch's, moved into the dataset
  std::vector<RejectedRow> keptRejects_[3];  // a grouped run's, kept until the end
  bool keepRejects_ = false;
  uint64_t rejectCount_ = 0;
  uint64_t customerRows_ = 0;
  uint64_t contactsTaken_ = 0;
  std::string rowNumber_;
  TypedCustomer typedCustomer_;  // customerRow's
  EventStore events_;  // events of the batch, in file order
  TypedEvent typed_;                       // eventRow's
  StringPool unusedPool_;                  // typeEvent's and typeCustomer's: typing numbers and times interns nothing
  std::vector<uint32_t> contactOwner_;
  std::vector<int64_t> contactWhen_;
  std::vector<int32_t> contactChannel_;
  std::unordered_map<std::string, TimeZone> zoneIndex_;              // located once per run
  std::unordered_map<const std::string*, int32_t> batchZone_;        // this dataset's zones
  bool grouped_ = false;
  std::string lastAccepted_;
  uint64_t lastAcceptedLine_ = 0;
  std::string currentId_;  // the customer row being read, for its rejects
};

}  // namespace

std::optional<Dataset> loadDataset(const Config& config, const LoadOptions& options, std::string& fatal) {
  Dataset ds;
  Loader loader(config, options, fatal);
  if (!loader.run(ds)) return std::nullopt;
  if (ds.eventBegin.empty()) ds.eventBegin.assign(ds.customerCount + 1, 0);
  if (ds.contactBegin.empty()) ds.contactBegin.assign(ds.customerCount + 1, 0);
  return ds;
}

// ---- grouped exports -------------------------------------------------------------------------

namespace {

// One record read ahead, copied so that it outlives the reader's next() call.
class Lookahead {
 public:
  bool present = false;

  bool fetch(RecordReader& reader) {
    std::vector<RawValue> vals;
    RecordInfo info;
    present = reader.next(vals, info);
    if (!present) return false;
    texts_.resize(vals.size());
    views_.resize(vals.size());
    for (size_t k = 0; k < vals.size(); ++k) {
      texts_[k].assign(vals[k].text.data(), vals[k].text.size());
      views_[k] = vals[k];
    }
    for (size_t k = 0; k < vals.size(); ++k) views_[k].text = texts_[k];
    raw_.assign(info.raw.data(), info.raw.size());
    info_ = info;
    info_.raw = raw_;
    return true;
  }
  std::vector<RawValue>& values() { return views_; }
  const RecordInfo& info() const { return info_; }
  // The row's customer id (column 0), or "" when it cannot be read.
  std::string_view id() const {
    if (!info_.ok || views_.empty()) return {};
    const RawValue& v = views_[0];
    return v.kind == RawKind::Text || v.kind == RawKind::Number ? v.text : std::string_view();
  }

 private:
  std::vector<std::string> texts_;
  std::vector<RawValue> views_;
  std::string raw_;
  RecordInfo info_;
};

}  // namespace

struct GroupedReader::State {
  State(const Config& c, const LoadOptions& o, std::string& fatal) : config(c), options(o), loader(c, o, fatal) {}
  const Config& config;
  LoadOptions options;
  Loader loader;
  std::unique_ptr<RecordReader> customers, events, contacts;
  Lookahead customer, event, contact;
  std::string lastId[3];  // the last readable id of each file, for the order check
  uint64_t lastLine[3] = {0, 0, 0};
  bool done = false;
  SourceCounts totals[3];

  // The order check: ids must never decrease (equal ids are one customer's rows).
  bool inOrder(int source, const RecordReader& reader, const Lookahead& row, std::string& fatal) {
    std::string_view id = row.id();
    if (id.empty()) return true;
    if (!lastId[source].empty() && id < std::string_view(lastId[source])) {
      fatal = fmt::format("{}:{}: customer id '{}' comes after '{}' (line {}): with --grouped, every export must list "
                          "customers in ascending byte order of their id (LC_ALL=C sort)",
                          reader.path(), row.info().line, shown(id), shown(lastId[source]), lastLine[source]);
      return false;
    }
    if (lastId[source] != id) lastId[source].assign(id.data(), id.size());
    lastLine[source] = row.info().line;
    return true;
  }

  // Reads a joined file's rows up to `last` (all of them when `all`).
  bool joinUpTo(int source, RecordReader* reader, Lookahead& row, std::string_view last, bool all, std::string& fatal) {
    if (!reader) return true;
    for (;;) {
      if (!row.present) {
        if (!row.fetch(*reader)) return reader->ioError().empty() || (fatal = reader->ioError(), false);
        if (!inOrder(source, *reader, row, fatal)) return false;
      }
      std::string_view id = row.id();
      if (!all && !id.empty() && id > last) return true;  // a later batch's
      bool ok = source == 1 ? loader.eventRow(*reader, row.values(), row.info())
                            : loader.contactRow(*reader, row.values(), row.info());
      row.present = false;
      if (!ok) return false;
    }
  }
};

GroupedReader::GroupedReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
GroupedReader::~GroupedReader() = default;

std::unique_ptr<GroupedReader> GroupedReader::open(const Config& config, const LoadOptions& options, std::string& fatal) {
  if (config.customers.rowIds) {
    fatal = "--grouped needs customer ids in the customers export; with customers.row_ids the ids are row numbers";
    return nullptr;
  }
  auto st = std::make_unique<State>(config, options, fatal);
  st->loader.setGrouped();
  st->loader.keepRejects();
  if (!config.customers.customersFromEvents &&
      !(st->customers = st->loader.open(config.customers, options.customersPath, st->loader.customerColumns())))
    return nullptr;
  if (config.events.present && !(st->events = st->loader.open(config.events, options.eventsPath, st->loader.eventColumns())))
    return nullptr;
  if (config.contacts.present && config.contacts.fromEventsField.empty() &&
      !(st->contacts = st->loader.open(config.contacts, options.contactsPath, st->loader.contactColumns())))
    return nullptr;
  return std::unique_ptr<GroupedReader>(new GroupedReader(std::move(st)));
}

bool GroupedReader::next(Dataset& batch, size_t customers, std::string& fatal) {
  State& st = *state_;
  if (st.done) return false;
  batch = Dataset();
  st.loader.bind(batch);
  std::string last;  // the batch's last customer id: joined rows up to it belong to this batch
  bool end = false;  // no customers after this batch: every remaining row belongs to it
  if (st.customers) {
    while (batch.customerCount < customers) {
      if (!st.customer.fetch(*st.customers)) {
        if (!st.customers->ioError().empty()) {
          fatal = st.customers->ioError();
          return false;
        }
        end = true;
        break;
      }
      if (!st.inOrder(0, *st.customers, st.customer, fatal)) return false;
      if (!st.loader.customerRow(*st.customers, st.customer.values(), st.customer.info())) return false;
    }
    if (batch.customerCount) last = batch.customerId(static_cast<uint32_t>(batch.customerCount - 1));
    if (!st.joinUpTo(1, st.events.get(), st.event, last, end, fatal)) return false;
  } else {
    // Customers are the events' ids: a batch ends where a new customer would overflow it.
    for (;;) {
      if (!st.event.present) {
        if (!st.events || !st.event.fetch(*st.events)) {
          if (st.events && !st.events->ioError().empty()) {
            fatal = st.events->ioError();
            return false;
          }
          end = true;
          break;
        }
        if (!st.inOrder(1, *st.events, st.event, fatal)) return false;
      }
      std::string_view id = st.event.id();
      if (batch.customerCount >= customers && !id.empty() && id != last) break;
      bool ok = st.loader.eventRow(*st.events, st.event.values(), st.event.info());
      st.event.present = false;
      if (!ok) return false;
      if (batch.customerCount) last = batch.customerId(static_cast<uint32_t>(batch.customerCount - 1));
    }
  }
  if (!st.joinUpTo(2, st.contacts.get(), st.contact, last, end, fatal)) return false;
  st.loader.finishBatch();
  if (batch.eventBegin.empty()) batch.eventBegin.assign(batch.customerCount + 1, 0);
  if (batch.contactBegin.empty()) batch.contactBegin.assign(batch.customerCount + 1, 0);
  st.done = end;
  return true;
}

const SourceCounts& GroupedReader::counts(DataSource s) const {
  return state_->loader.counts(static_cast<int>(s));
}

std::vector<RejectedRow> GroupedReader::takeRejects() {
  std::vector<RejectedRow> all;
  for (int s = 0; s < 3; ++s)
    for (auto& r : state_->loader.kept(s)) all.push_back(std::move(r));
  for (int s = 0; s < 3; ++s) state_->loader.kept(s).clear();
  return all;
}

uint64_t GroupedReader::contactsFromEvents() const { return state_->loader.contactsTaken(); }

}  // namespace rekindle
