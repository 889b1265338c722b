// Exact-duplicate removal for classification examples, done before splitting so that no text
// can land in two splits (a copy in test of a training example inflates accuracy).
#pragma once

#include <cstddef>
#include <vector>

#include "train/data/corpus.h"

namespace rt3::data {

struct DedupeCounts {
  std::size_t duplicates = 0;   // extra copies dropped (all copies had the same label)
  std::size_t conflicting = 0;  // copies dropped because the same text had different labels
};

// Keeps the first copy of each text whose copies all share one label and drops every copy of
// a text that appears under two labels (no right answer exists for it). Keeps input order.
DedupeCounts dedupe_exact(std::vector<LabeledExample>& examples);

}  // namespace rt3::data
