// Static types and runtime values shared by the checker, the bytecode and the VM.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rekindle {

// One kind per static type of SPEC §3.5. Values carry the same enum as their tag.
enum class Kind : uint8_t {
  Null,      // the `null` literal before it meets a context; a runtime null value
  Bool,
  Int,
  Float,
  String,
  Time,      // seconds since the Unix epoch, UTC
  Date,      // days since 1970-01-01
  Duration,  // seconds
  Stage,     // index into the program's stage names
  Channel,   // index into the program's channel names; kNoOutcome is `none`
  Offer,     // index into the program's offer names; kNoOutcome is `none`
  Event,     // one event record: index into the run's event table
  List,
  None,      // the `none` literal before it meets a channel or offer context
};

const char* kindName(Kind k);

// A static type. Lists hold one element type; `events` is list<event>.
struct Type {
  Kind kind = Kind::Null;
  Kind elem = Kind::Null;  // element kind when kind == List
  bool nullable = false;
  bool elemNullable = false;

  static Type of(Kind k, bool nullable = false) { return Type{k, Kind::Null, nullable, false}; }
  static Type listOf(Kind e, bool elemNullable = false) {
    return Type{Kind::List, e, false, elemNullable};
  }
  Type element() const { return Type{elem, Kind::Null, elemNullable, false}; }
  Type asNullable(bool n = true) const {
    Type t = *this;
    t.nullable = n;
    return t;
  }
  bool isNumeric() const { return kind == Kind::Int || kind == Kind::Float; }
  bool isEnum() const {
    return kind == Kind::Stage || kind == Kind::Channel || kind == Kind::Offer;
  }
  bool sameBase(const Type& o) const {
    return kind == o.kind && (kind != Kind::List || elem == o.elem);
  }
  bool operator==(const Type& o) const {
    return kind == o.kind && elem == o.elem && nullable == o.nullable &&
           elemNullable == o.elemNullable;
  }
  bool operator!=(const Type& o) const { return !(*this == o); }
  std::string str() const;  // "int", "string?", "list<float?>"
};

// Parses a schema type name: "bool", "int", "float", "string", "time", "date", "duration",
// each optionally followed by '?' for nullable.
std::optional<Type> parseTypeName(std::string_view name);

constexpr int64_t kNoOutcome = -1;  // the `none` channel or offer

struct ListObj;

// A runtime value: a 16-byte tagged union. Strings and lists point into storage that outlives
// the evaluation of one customer (the run's string pool, or the evaluator's arena).
struct Value {
  Kind tag = Kind::Null;
  union {
    bool b;
    int64_t i;
    double f;
    const std::string* s;
    const ListObj* list;
  };

  Value() : i(0) {}
  static Value null() { return Value(); }
  static Value boolean(bool v) {
    Value x;
    x.tag = Kind::Bool;
    x.b = v;
    return x;
  }
  static Value integer(int64_t v) { return tagged(Kind::Int, v); }
  static Value real(double v) {
    Value x;
    x.tag = Kind::Float;
    x.f = v;
    return x;
  }
  static Value string(const std::string* v) {
    Value x;
    x.tag = Kind::String;
    x.s = v;
    return x;
  }
  static Value time(int64_t seconds) { return tagged(Kind::Time, seconds); }
  static Value date(int64_t days) { return tagged(Kind::Date, days); }
  static Value duration(int64_t seconds) { return tagged(Kind::Duration, seconds); }
  static Value event(int64_t index) { return tagged(Kind::Event, index); }
  static Value outcome(Kind k, int64_t index) { return tagged(k, index); }
  static Value listOf(const ListObj* l) {
    Value x;
    x.tag = Kind::List;
    x.list = l;
    return x;
  }
  static Value tagged(Kind k, int64_t v) {
    Value x;
    x.tag = k;
    x.i = v;
    return x;
  }

  bool isNull() const { return tag == Kind::Null; }
  bool isTrue() const { return tag == Kind::Bool && b; }
  bool isFalse() const { return tag == Kind::Bool && !b; }
  double asNumber() const { return tag == Kind::Float ? f : static_cast<double>(i); }
};

struct ListObj {
  std::vector<Value> items;
};

// Equality as the language defines it for non-null operands of compatible types: numbers
// compare by value (int widens to float), strings by content, everything else by payload.
bool valuesEqual(const Value& a, const Value& b);
// Three-way order for orderable kinds (numbers, strings, time, date, duration). Both non-null.
int compareValues(const Value& a, const Value& b);

// Interns strings so equal strings share one address: equality is usually a pointer compare.
// Addresses stay valid for the pool's lifetime.
class StringPool {
 public:
  StringPool();
  ~StringPool();
  StringPool(const StringPool&) = delete;
  StringPool& operator=(const StringPool&) = delete;
  // Moving keeps every interned address valid: the storage lives behind the pointer.
  StringPool(StringPool&&) noexcept;
  StringPool& operator=(StringPool&&) noexcept;
  const std::string* intern(std::string_view s) { return intern(s, hashOf(s)); }
  // Interning many strings at random places in a large pool waits on a cache miss for each:
  // prefetch(hashOf(s)) for several first, then intern(s, hash) each, and the misses overlap.
  static size_t hashOf(std::string_view s) { return std::hash<std::string_view>()(s); }
  void prefetch(size_t hash) const;
  const std::string* intern(std::string_view s, size_t hash);
  const std::string* find(std::string_view s) const;  // nullptr if never interned
  // Whether an interned string is blank: empty, or spaces and tabs only. Known from interning, so
  // the answer reads no string (a contact detail of each of a million customers would be a cache
  // miss each). Only for this pool's strings.
  bool isBlank(const std::string* interned) const;
  size_t size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Per-evaluation scratch storage for lists and computed strings; reset between customers so
// its memory is reused rather than reallocated.
class Arena {
 public:
  ListObj* newList();
  const std::string* newString(std::string s);
  void reset() {
    listsUsed_ = 0;
    stringsUsed_ = 0;
  }

 private:
  std::vector<std::unique_ptr<ListObj>> lists_;
  std::vector<std::unique_ptr<std::string>> strings_;
  size_t listsUsed_ = 0;
  size_t stringsUsed_ = 0;
};

}  // namespace rekindle
