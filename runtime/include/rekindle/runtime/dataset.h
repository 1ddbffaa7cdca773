// The data of one run: customers, their events (joined by id, in time order) and their contact
// history, typed by the schema and stored in compact columns. Every row that cannot be used is
// recorded with its file, line and reason — nothing is dropped silently (SPEC §5.8).
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rekindle/core/value.h"
#include "rekindle/runtime/config.h"
#include "rekindle/runtime/reader.h"

namespace rekindle {

// One typed column: 8 bytes per cell plus a null bit (kept in 64-bit words: reading one is a
// shift and a mask, and gather() writes whole words).
class Column {
 public:
  Column() = default;
  explicit Column(Kind kind) : kind_(kind) {}
  Kind kind() const { return kind_; }
  size_t size() const { return bits_.size(); }
  void push(const Value& v);
  bool isNull(size_t row) const { return (nulls_[row >> 6] >> (row & 63)) & 1; }
  int64_t payload(size_t row) const { return bits_[row]; }  // of a non-null cell
  const int64_t* payloads() const { return bits_.data(); }
  int64_t* payloads() { return bits_.data(); }  // to rewrite in place (a null cell's is 0)
  // The null bits of rows [row, row + count), count at most 64: bit k for row + k.
  uint64_t nullBits(size_t row, uint32_t count) const {
    const size_t w = row >> 6;
    const unsigned shift = row & 63;
    uint64_t bits = nulls_[w] >> shift;
    if (shift != 0 && w + 1 < nulls_.size()) bits |= nulls_[w + 1] << (64 - shift);
    return count == 64 ? bits : bits & ((uint64_t(1) << count) - 1);
  }
  Value get(size_t row) const {
    if (isNull(row)) return Value::null();
    Value v;
    v.tag = kind_;
    v.i = bits_[row];
    return v;
  }
  void reserve(size_t n) {
    bits_.reserve(n);
    nulls_.reserve((n + 63) / 64);
  }
  // The cells of `parts` (of one kind), laid end to end, in `order`: new cell k is cell order[k]
  // of them. The events file read in parts is grouped straight from each part's columns.
  static Column gather(const std::vector<const Column*>& parts, const std::vector<uint32_t>& order);
  // Reorders the cells: new cell k is old cell order[k].
  void permute(const std::vector<uint32_t>& order) { *this = gather({this}, order); }
  // Reorders the cells from `first` on: new cell first + k is old cell first + order[k].
  void permuteFrom(size_t first, const std::vector<uint32_t>& order);
  // A string column moved to another pool: each non-null cell's pointer p becomes to(p).
  template <class To>
  void restring(To to) {
    for (size_t row = 0; row < bits_.size(); ++row) {
      if (isNull(row)) continue;
      const std::string* s;
      std::memcpy(&s, &bits_[row], sizeof s);
      s = to(s);
      std::memcpy(&bits_[row], &s, sizeof s);
    }
  }

 private:
  Kind kind_ = Kind::Null;
  std::vector<int64_t> bits_;    // the Value payload: int, double bits, pointer, days...
  std::vector<uint64_t> nulls_;  // bit k of word k / 64: cell k is null
};

// Customer ids to customers: open addressing over 32-byte slots. Ids up to 19 bytes (most are)
// are kept in the slot, so a lookup reads one cache line instead of following a pointer to the
// string: the loader looks up every event row, in no useful order, and every customer row once
// to catch duplicates. Longer ids are compared through their interned string.
class CustomerIndex {
 public:
  static uint64_t hashOf(std::string_view id) { return std::hash<std::string_view>()(id); }
  // Room for this many customers without growing.
  void reserve(size_t customers);
  size_t size() const { return size_; }
  // Starts loading the cache line find() will read first.
  void prefetch(uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[home(hash)]);
  }
  std::optional<uint32_t> find(std::string_view id) const { return find(id, hashOf(id)); }
  std::optional<uint32_t> find(std::string_view id, uint64_t hash) const;
  // Maps the interned `id` to `customer` unless the id is there already. Returns the customer
  // the id maps to, and whether it was added.
  std::pair<uint32_t, bool> insert(const std::string* id, uint32_t customer);

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  static constexpr uint8_t kLong = UINT8_MAX;
  struct Slot {
    uint64_t hash = 0;
    uint32_t customer = kEmpty;
    uint8_t length = 0;  // of the id in `key`; kLong: `key` holds the interned string's address
    char key[19] = {};
    bool holds(std::string_view id, uint64_t h) const;
  };
  // Where an id's probe starts: its hash scaled to the table (any size, not only powers of two,
  // so that a reservation for a million customers is not rounded up to two).
  size_t home(uint64_t hash) const {
    return static_cast<size_t>((static_cast<unsigned __int128>(hash) * slots_.size()) >> 64);
  }
  size_t slotFor(std::string_view id, uint64_t hash) const;  // the id's slot, or the empty one ending its run
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

enum class DataSource : uint8_t { Customers, Events, Contacts };
const char* dataSourceName(DataSource s);

// A row that could not be used, for the rejects file and the summary.
struct RejectedRow {
  DataSource source = DataSource::Customers;
  std::string file;
  uint64_t line = 0;
  uint32_t column = 0;  // 1-based field number, 0 for the whole row
  std::string field;
  std::string reason;
  std::string raw;
  std::string customerId;  // the row's customer id, when it could be read
};

struct SourceCounts {
  uint64_t read = 0;         // rows read from the file
  uint64_t accepted = 0;     // rows used
  uint64_t rejected = 0;     // rows in the rejects file
  uint64_t otherShards = 0;  // rows of customers of other shards (--shard), left to them
  bool reconciles() const { return read == accepted + rejected + otherShards; }
  void add(const SourceCounts& o) {
    read += o.read;
    accepted += o.accepted;
    rejected += o.rejected;
    otherShards += o.otherShards;
  }
};

struct Dataset {
  StringPool strings;  // every string value of the run, interned
  size_t customerCount = 0;
  std::vector<Column> customers;       // one per Schema::customerFields (null if not kept, LoadOptions)
  std::vector<uint64_t> customerLine;  // source line of each customer, for messages
  CustomerIndex customerIndex;         // id -> customer

  std::vector<Column> events;       // one per Schema::eventFields (empty if not kept); grouped by customer, then time
  std::vector<uint32_t> eventBegin;  // customerCount + 1 offsets into the event columns

  std::vector<int64_t> contactTime;      // grouped by customer, then time
  std::vector<int32_t> contactChannel;   // index into Config::channels; -1 for other channels
  std::vector<uint32_t> contactBegin;    // customerCount + 1 offsets

  // Customers' own time zones (config customers.timezone), resolved once: index into zones,
  // or -1 for the config's zone.
  std::vector<TimeZone> zones;
  std::vector<int32_t> customerZone;

  SourceCounts customerCounts, eventCounts, contactCounts;
  std::vector<RejectedRow> rejects;

  const std::string& customerId(uint32_t c) const { return *customers[0].get(c).s; }
  // The customer's time zone as an index into `zones`; -1 when it has none of its own.
  int32_t zoneIndex(uint32_t c) const { return customerZone.empty() ? -1 : customerZone[c]; }
  const TimeZone& zoneOf(uint32_t c, const TimeZone& fallback) const {
    const int32_t z = zoneIndex(c);
    return z < 0 ? fallback : zones[z];
  }
  uint32_t eventCount(uint32_t c) const { return eventBegin[c + 1] - eventBegin[c]; }
};

struct LoadOptions {
  std::string customersPath;  // overrides of the config's paths (--customers, ...)
  std::string eventsPath;
  std::string contactsPath;
  // Stop once this many rows are rejected (-1: never). The loader reports that it stopped.
  int64_t maxErrors = -1;
  // --shard K/N: keep only the rows whose customer id is in shard K (core/hash.h
  // customerShard). Rows whose id cannot be read belong to shard 0, so that each rejected row
  // is rejected by exactly one shard.
  uint32_t shard = 0;
  uint32_t shards = 1;
  // Threads for reading the events file (in parts, each on its own thread, or a compressed one
  // on a reading thread) and grouping the events by customer. Rows, rejects and messages are
  // those of one reader, in file order, whatever the count.
  int threads = 1;
  // The fields kept in memory, per customer field and per event field (empty: every field;
  // keepFieldsRead, vm.h). The others are still typed and checked, so a bad value rejects its row
  // all the same, but a customer's value is null and an event field's column is left empty.
  std::vector<bool> keepCustomerFields, keepEventFields;
};

// Reads every export the config names. A fatal problem (a file missing, a column missing, the
// error limit exceeded) returns nullopt with `fatal` set; row problems go to Dataset::rejects.
std::optional<Dataset> loadDataset(const Config& config, const LoadOptions& options,
                                   std::string& fatal);

// Reads exports that list customers in ascending byte order of their id (`rekindle run
// --grouped`), one batch of customers at a time with their events and contacts, so memory holds
// a batch rather than the export. Rows are typed, joined and rejected exactly as loadDataset
// does. A file out of order is a fatal error naming the file and line.
class GroupedReader {
 public:
  static std::unique_ptr<GroupedReader> open(const Config& config, const LoadOptions& options,
                                             std::string& fatal);
  ~GroupedReader();
  // The next batch: up to `customers` customers (more only with customers.from_events, never
  // splitting a customer), and every event and contact row up to the batch's last id. False at
  // the end of the exports, or with `fatal` set on an error.
  bool next(Dataset& batch, size_t customers, std::string& fatal);
  // Totals over the batches read so far, and every rejected row in loadDataset's order.
  const SourceCounts& counts(DataSource s) const;
  std::vector<RejectedRow> takeRejects();
  uint64_t contactsFromEvents() const;  // with contacts.from_events: the contacts taken

  struct State;

 private:
  explicit GroupedReader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Types one raw value by a field's schema. Returns nullopt with `reason` when it does not
// parse; a null for a non-nullable field is an error too.
std::optional<Value> convertValue(const RawValue& raw, const FieldSpec& field,
                                  const TimeZone& zone, StringPool& pool, std::string& reason);

}  // namespace rekindle
