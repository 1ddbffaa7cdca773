// The fuzz targets: one entry point per attack surface, shared by the libFuzzer binaries
// (tests/fuzz/*_fuzz.cpp, built with -DREKINDLE_FUZZ=ON) and by a unit test that replays the
// seed corpus and every input that once crashed (tests/fuzz/regressions) on every `make test`.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rekindle::fuzz {

// Rules text: parse, check and compile against a fixed config, then serialise, load back and
// verify the bytecode, and run it over a small dataset checking consent on every decision.
int frontend(const uint8_t* data, size_t size);
// CSV bytes through the record reader, with and without a header, comma and blank separated.
int csv(const uint8_t* data, size_t size);
// JSON Lines bytes through the record reader, and each line through validJsonDocument.
int jsonl(const uint8_t* data, size_t size);
// .rkb bytes through the loader and verifier; a program that loads runs over a small dataset
// and must never route a customer to a channel without consent.
int rkb(const uint8_t* data, size_t size);

}  // namespace rekindle::fuzz
