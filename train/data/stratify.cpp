#include "train/data/stratify.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

namespace rt3::data {

void split_stratified(std::vector<LabeledExample> examples, const SplitSpec& spec,
                      ClassCorpus& out) {
  std::vector<std::string> ids;
  std::vector<int> labels;
  ids.reserve(examples.size());
  labels.reserve(examples.size());
  for (const auto& e : examples) {
    ids.push_back(e.id);
    labels.push_back(e.label);
  }
  const std::vector<Split> where = assign_splits_stratified(ids, labels, spec);

  std::vector<std::pair<std::uint64_t, std::size_t>> order;
  order.reserve(examples.size());
  for (std::size_t i = 0; i < examples.size(); ++i)
    order.emplace_back(split_key(ids[i], spec.seed), i);
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return ids[a.second] < ids[b.second];
  });
  for (const auto& [key, i] : order) {
    auto& dst = where[i] == Split::train   ? out.train
                : where[i] == Split::valid ? out.valid
                                           : out.test;
    dst.push_back(std::move(examples[i]));
  }
}

}  // namespace rt3::data
