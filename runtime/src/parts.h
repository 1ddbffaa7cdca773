// Independent parts of one job, on threads.
#pragma once

#include <cstddef>
#include <thread>
#include <vector>

namespace rekindle {

// Runs fn(0), ..., fn(parts - 1) at once, part 0 on the calling thread and each other on a thread
// of its own, and returns when all are done. The parts must share nothing they write.
template <class Fn>
void inParts(size_t parts, Fn fn) {
  std::vector<std::thread> others;
  for (size_t p = 1; p < parts; ++p) others.emplace_back(fn, p);
  if (parts > 0) fn(0);
  for (auto& t : others) t.join();
}

}  // namespace rekindle
