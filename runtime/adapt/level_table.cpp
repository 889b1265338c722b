#include "runtime/adapt/level_table.h"

#include <algorithm>

namespace rt3::adapt {

LevelTable::LevelTable(std::vector<std::pair<std::uint64_t, int>> entries) {
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& e : entries) {
    if (!levels_.empty() && levels_.back().first == e.first) levels_.back() = e;
    else levels_.push_back(e);
  }
}

std::size_t LevelTable::snap(std::uint64_t khz) const {
  const auto it = std::upper_bound(levels_.begin(), levels_.end(), khz,
                                   [](std::uint64_t k, const std::pair<std::uint64_t, int>& l) { return k < l.first; });
  return it == levels_.begin() ? 0 : static_cast<std::size_t>(it - levels_.begin()) - 1;
}

}  // namespace rt3::adapt
