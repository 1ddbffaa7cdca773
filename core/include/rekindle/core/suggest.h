// "Did you mean ...?": the closest known name to a misspelt one.
#pragma once

#include <string>
#include <vector>

namespace rekindle {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring letters ("emial" -> "email") each cost 1.
size_t editDistance(const std::string& a, const std::string& b);

// The candidate closest to `name`, if it is close enough to be a likely typo; else "".
std::string closestName(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace rekindle
