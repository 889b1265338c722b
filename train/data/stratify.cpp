#include "train/data/stratify.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace rt3::data {

void split_stratified(std::vector<LabeledExample> examples, const std::vector<std::string>& keys,
                      const SplitSpec& spec, ClassCorpus& out) {
  if (keys.size() != examples.size()) throw std::runtime_error("split_stratified: one key per example expected");
  std::vector<int> labels;
  labels.reserve(examples.size());
  for (const auto& e : examples) labels.push_back(e.label);
  const std::vector<Split> where = assign_splits_stratified(keys, labels, spec);

  std::vector<std::pair<std::uint64_t, std::size_t>> order;
  order.reserve(examples.size());
  for (std::size_t i = 0; i < examples.size(); ++i)
    order.emplace_back(split_key(keys[i], spec.seed), i);
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    if (keys[a.second] != keys[b.second]) return keys[a.second] < keys[b.second];
    return a.second < b.second;
  });
  for (const auto& [key, i] : order) {
    auto& dst = where[i] == Split::train   ? out.train
                : where[i] == Split::valid ? out.valid
                                           : out.test;
    dst.push_back(std::move(examples[i]));
  }
}

void split_stratified(std::vector<LabeledExample> examples, const SplitSpec& spec,
                      ClassCorpus& out) {
  std::vector<std::string> ids;
  ids.reserve(examples.size());
  for (const auto& e : examples) ids.push_back(e.id);
  split_stratified(std::move(examples), ids, spec, out);
}

SplitSpec carve_spec(const SplitSpec& full, bool need_valid, bool need_test) {
  if (need_valid && need_test) return full;
  SplitSpec s = full;
  s.valid = need_valid ? full.valid : 0.0;
  s.test = need_test ? full.test : 0.0;
  s.train = 1.0 - s.valid - s.test;
  return s;
}

}  // namespace rt3::data
