// Types, values, string interning and the per-customer arena.
#include "rekindle/core/value.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <vector>

namespace rekindle {

const char* kindName(Kind k) {
  switch (k) {
    case Kind::Null: return "null";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "string";
    case Kind::Time: return "time";
    case Kind::Date: return "date";
    case Kind::Duration: return "duration";
    case Kind::Stage: return "stage";
    case Kind::Channel: return "channel";
    case Kind::Offer: return "offer";
    case Kind::Event: return "event";
    case Kind::List: return "list";
    case Kind::None: return "none";
  }
  return "?";
}

std::string Type::str() const {
  std::string s;
  if (kind == Kind::List) {
    s = std::string("list<") + kindName(elem) + (elemNullable ? "?" : "") + ">";
    if (elem == Kind::Event) s = "events";
  } else {
    s = kindName(kind);
  }
  if (nullable && kind != Kind::Null) s += "?";
  return s;
}

std::optional<Type> parseTypeName(std::string_view name) {
  bool nullable = false;
  if (!name.empty() && name.back() == '?') {
    nullable = true;
    name.remove_suffix(1);
  }
  static const std::pair<const char*, Kind> kNames[] = {
      {"bool", Kind::Bool},         {"int", Kind::Int},   {"float", Kind::Float},
      {"string", Kind::String},     {"time", Kind::Time}, {"date", Kind::Date},
      {"duration", Kind::Duration},
  };
  for (const auto& [n, k] : kNames)
    if (name == n) return Type::of(k, nullable);
  return std::nullopt;
}

bool valuesEqual(const Value& a, const Value& b) {
  if (a.tag == Kind::String && b.tag == Kind::String) return a.s == b.s || *a.s == *b.s;
  if ((a.tag == Kind::Int || a.tag == Kind::Float) && (b.tag == Kind::Int || b.tag == Kind::Float)) {
    if (a.tag == Kind::Int && b.tag == Kind::Int) return a.i == b.i;
    return a.asNumber() == b.asNumber();
  }
  if (a.tag != b.tag) return false;
  switch (a.tag) {
    case Kind::Null: return true;
    case Kind::Bool: return a.b == b.b;
    case Kind::List: {
      if (a.list->items.size() != b.list->items.size()) return false;
      for (size_t k = 0; k < a.list->items.size(); ++k)
        if (!valuesEqual(a.list->items[k], b.list->items[k])) return false;
      return true;
    }
    default: return a.i == b.i;
  }
}

int compareValues(const Value& a, const Value& b) {
  if (a.tag == Kind::String && b.tag == Kind::String) {
    if (a.s == b.s) return 0;
    int c = a.s->compare(*b.s);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.tag == Kind::Float || b.tag == Kind::Float) {
    double x = a.asNumber(), y = b.asNumber();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.tag == Kind::Bool && b.tag == Kind::Bool) return int(a.b) - int(b.b);
  return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
}

// Open addressing with linear probing over (hash, string) slots: loading an export interns a
// few values per row (kinds, channels, products), and a flat table avoids a node allocation per
// string and a pointer chase per lookup. The hash is kept so most probes compare one word.
struct StringPool::Impl {
  struct Slot {
    size_t hash = 0;
    const std::string* str = nullptr;  // nullptr: empty
  };
  std::deque<std::string> storage;  // stable addresses
  std::vector<Slot> slots = std::vector<Slot>(64);
  std::vector<const std::string*> blanks;  // the blank strings interned, sorted by address

  size_t probe(std::string_view s, size_t h) const {
    size_t mask = slots.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots[i];
      if (!slot.str || (slot.hash == h && *slot.str == s)) return i;
    }
  }
  void grow() {
    std::vector<Slot> old(slots.size() * 2);
    old.swap(slots);
    for (const Slot& slot : old)
      if (slot.str) slots[probe(*slot.str, slot.hash)] = slot;
  }
};

StringPool::StringPool() : impl_(std::make_unique<Impl>()) {}
StringPool::~StringPool() = default;
StringPool::StringPool(StringPool&&) noexcept = default;
StringPool& StringPool::operator=(StringPool&&) noexcept = default;

void StringPool::prefetch(size_t hash) const { __builtin_prefetch(&impl_->slots[hash & (impl_->slots.size() - 1)]); }

const std::string* StringPool::intern(std::string_view s, size_t h) {
  size_t i = impl_->probe(s, h);
  if (impl_->slots[i].str) return impl_->slots[i].str;
  // At most half full, so probes stay short.
  if ((impl_->storage.size() + 1) * 2 > impl_->slots.size()) {
    impl_->grow();
    i = impl_->probe(s, h);
  }
  const std::string* stored = &impl_->storage.emplace_back(s);
  impl_->slots[i] = {h, stored};
  if (s.find_first_not_of(" \t") == std::string_view::npos) {
    auto& blanks = impl_->blanks;
    blanks.insert(std::upper_bound(blanks.begin(), blanks.end(), stored, std::less<const std::string*>()), stored);
  }
  return stored;
}

bool StringPool::isBlank(const std::string* s) const {
  const auto& blanks = impl_->blanks;
  return !blanks.empty() && std::binary_search(blanks.begin(), blanks.end(), s, std::less<const std::string*>());
}

const std::string* StringPool::find(std::string_view s) const {
  return impl_->slots[impl_->probe(s, hashOf(s))].str;
}

size_t StringPool::size() const { return impl_->storage.size(); }

ListObj* Arena::newList() {
  if (listsUsed_ == lists_.size()) lists_.push_back(std::make_unique<ListObj>());
  ListObj* l = lists_[listsUsed_++].get();
  l->items.clear();
  return l;
}

const std::string* Arena::newString(std::string s) {
  if (stringsUsed_ == strings_.size()) strings_.push_back(std::make_unique<std::string>());
  std::string* p = strings_[stringsUsed_++].get();
  *p = std::move(s);
  return p;
}

}  // namespace rekindle
