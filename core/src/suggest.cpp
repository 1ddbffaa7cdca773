// Typo suggestions.
#include "rekindle/core/suggest.h"

#include <algorithm>

namespace rekindle {

size_t editDistance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::string closestName(const std::string& name, const std::vector<std::string>& candidates) {
  // Short names tolerate one edit, longer ones one per three letters.
  const size_t allowed = std::max<size_t>(1, name.size() / 3);
  std::string best;
  size_t bestDist = allowed + 1;
  for (const auto& c : candidates) {
    if (c == name) continue;
    size_t dist = editDistance(name, c);
    if (dist < bestDist || (dist == bestDist && c < best)) {
      bestDist = dist;
      best = c;
    }
  }
  return bestDist <= allowed ? best : "";
}

}  // namespace rekindle
