#include "train/data/dedupe.h"

#include <string_view>
#include <unordered_map>
#include <utility>

namespace rt3::data {

DedupeCounts dedupe_exact(std::vector<LabeledExample>& examples) {
  struct Seen {
    std::size_t first;  // index of the first copy
    bool conflicting;
  };
  // Views into `examples`, which is not modified until the map is no longer needed.
  std::unordered_map<std::string_view, Seen> seen;
  seen.reserve(examples.size());
  std::vector<bool> keep(examples.size(), false);
  DedupeCounts counts;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    auto [it, inserted] = seen.try_emplace(examples[i].text, Seen{i, false});
    if (inserted) {
      keep[i] = true;
    } else if (examples[it->second.first].label != examples[i].label) {
      it->second.conflicting = true;
    }
  }
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const Seen& s = seen.at(examples[i].text);
    if (s.conflicting) {
      keep[i] = false;
      ++counts.conflicting;
    } else if (!keep[i]) {
      ++counts.duplicates;
    }
  }
  std::size_t w = 0;
  for (std::size_t i = 0; i < examples.size(); ++i)
    if (keep[i]) {
      if (w != i) examples[w] = std::move(examples[i]);
      ++w;
    }
  examples.resize(w);
  return counts;
}

}  // namespace rt3::data
