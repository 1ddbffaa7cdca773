// Stable hashes: the customer bucket of holdouts and budget tie-breaks, checksums and schema
// fingerprints. These are part of the product's contract: another system must be able to
// reproduce them (docs/reference.md, "Holdout and buckets").
#pragma once

#include <cstdint>
#include <string_view>

namespace rekindle {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

// FNV-1a, 64 bit, continuing from `h`.
inline uint64_t fnv1a64(std::string_view bytes, uint64_t h = kFnvOffset) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

// SplitMix64's finaliser: spreads FNV's weak low-entropy bits over all 64.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The hash of the salt and its 0x00, which every customer's bucket of that salt continues from:
// a run with a million customers hashes the salt once.
inline uint64_t bucketSeed(std::string_view salt) { return fnv1a64(std::string_view("\0", 1), fnv1a64(salt)); }

// bucket(salt) of a customer: FNV-1a-64 over the bytes salt, 0x00, customer id; then mix64;
// the top 53 bits divided by 2^53. A number in [0, 1). `seed` is bucketSeed(salt).
inline double customerBucket(std::string_view customerId, uint64_t seed) {
  return static_cast<double>(mix64(fnv1a64(customerId, seed)) >> 11) * (1.0 / 9007199254740992.0);
}
inline double customerBucket(std::string_view customerId, std::string_view salt) {
  return customerBucket(customerId, bucketSeed(salt));
}

// The shard (0 .. shards-1) of a customer in a run split `shards` ways (`rekindle run --shard
// K/N`): the bucket's 64-bit hash with the fixed salt "rekindle-shard", modulo N. An integer
// formula, so any system can reproduce it exactly (docs/runtime.md, "Sharding").
inline uint32_t customerShard(std::string_view customerId, uint32_t shards) {
  if (shards <= 1) return 0;
  uint64_t h = fnv1a64("rekindle-shard");
  h = fnv1a64(std::string_view("\0", 1), h);
  h = fnv1a64(customerId, h);
  return static_cast<uint32_t>(mix64(h) % shards);
}

}  // namespace rekindle
