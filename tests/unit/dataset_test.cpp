// The loader's data structures on their own: the customer index every event row is joined
// through, and the string pool every value is interned in.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "rekindle/runtime/dataset.h"

using namespace rekindle;

TEST_CASE("the customer index maps every id, short or long, through growth and reservation", "[dataset]") {
  StringPool pool;
  // Ids of every length around the 19 bytes kept in a slot, many of them sharing prefixes.
  std::vector<const std::string*> ids;
  for (int i = 0; i < 5000; ++i) ids.push_back(pool.intern(std::string(static_cast<size_t>(i % 40), 'x') + std::to_string(i)));
  ids.push_back(pool.intern(""));

  for (bool reserved : {false, true}) {
    CustomerIndex index;
    if (reserved) index.reserve(1000);  // too small: the index grows past it
    for (uint32_t c = 0; c < ids.size(); ++c) {
      auto [customer, added] = index.insert(ids[c], c);
      REQUIRE(added);
      REQUIRE(customer == c);
    }
    REQUIRE(index.size() == ids.size());
    for (uint32_t c = 0; c < ids.size(); ++c) {
      REQUIRE(index.find(*ids[c]) == c);
      // A second insert of an id answers the first customer and adds nothing.
      auto [customer, added] = index.insert(ids[c], c + 1);
      REQUIRE_FALSE(added);
      REQUIRE(customer == c);
    }
    REQUIRE(index.size() == ids.size());
    REQUIRE_FALSE(index.find("x5000"));
    REQUIRE_FALSE(index.find(std::string(39, 'x') + "39x"));  // a long id that differs at the end
    REQUIRE_FALSE(index.find(std::string(17, 'x') + "18"));  // 19 bytes, as a slot keeps, not an id
  }
  CustomerIndex empty;
  REQUIRE_FALSE(empty.find("C1"));
}

TEST_CASE("the string pool interns the same text once, with or without a precomputed hash, as it grows", "[dataset]") {
  StringPool pool;
  std::vector<const std::string*> first;
  for (int i = 0; i < 3000; ++i) {
    const std::string text = "s" + std::to_string(i);
    const size_t hash = StringPool::hashOf(text);
    pool.prefetch(hash);
    first.push_back(i % 2 ? pool.intern(text, hash) : pool.intern(text));
  }
  REQUIRE(pool.size() == 3000);
  for (int i = 0; i < 3000; ++i) {
    const std::string text = "s" + std::to_string(i);
    REQUIRE(pool.intern(text) == first[i]);
    REQUIRE(pool.find(text) == first[i]);
    REQUIRE(*first[i] == text);
  }
  REQUIRE(pool.size() == 3000);
  REQUIRE(pool.find("s3000") == nullptr);
}
