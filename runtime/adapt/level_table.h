#pragma once
// The bundle's level table (level_to_variant): which variant rt3 search chose for each DVFS level.
// A frequency between levels snaps down to the highest level at or below it (that level's variant
// was searched to meet the deadline at the lower clock, so it is safe at the higher one); below the
// lowest level it snaps to the lowest.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace rt3::adapt {

class LevelTable {
 public:
  LevelTable() = default;
  // (level kHz, variant index) pairs in any order; a level listed twice keeps its last variant.
  explicit LevelTable(std::vector<std::pair<std::uint64_t, int>> entries);

  bool empty() const { return levels_.empty(); }
  std::size_t size() const { return levels_.size(); }
  std::uint64_t level_khz(std::size_t i) const { return levels_[i].first; }
  int variant(std::size_t i) const { return levels_[i].second; }
  // Index of the level a frequency snaps to. Table must not be empty.
  std::size_t snap(std::uint64_t khz) const;
  std::size_t top() const { return levels_.size() - 1; }

 private:
  std::vector<std::pair<std::uint64_t, int>> levels_;  // ascending kHz, distinct
};

}  // namespace rt3::adapt
