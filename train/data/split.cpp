#include "train/data/split.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace rt3::data {
namespace {

std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Assigns the items at `members` (indices into ids) and writes into `out`.
void assign_group(const std::vector<std::string>& ids, const std::vector<std::size_t>& members,
                  const SplitSpec& spec, std::vector<Split>& out) {
  std::vector<std::pair<std::uint64_t, std::size_t>> order;
  order.reserve(members.size());
  for (std::size_t i : members) order.emplace_back(split_key(ids[i], spec.seed), i);
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    // Equal ids (two identical texts of a user's file, whose text is the key) go by position,
    // so the order never depends on std::sort; the presets' ids are unique.
    if (ids[a.second] != ids[b.second]) return ids[a.second] < ids[b.second];
    return a.second < b.second;
  });
  const SplitCounts c = split_counts(members.size(), spec);
  for (std::size_t r = 0; r < order.size(); ++r) {
    const Split s = r < c.test ? Split::test : r < c.test + c.valid ? Split::valid : Split::train;
    out[order[r].second] = s;
  }
}

}  // namespace

Split parse_split(const std::string& s) {
  if (s == "train") return Split::train;
  if (s == "valid") return Split::valid;
  if (s == "test") return Split::test;
  throw std::runtime_error("unknown split '" + s + "' (expected train, valid or test)");
}

const char* split_name(Split s) {
  switch (s) {
    case Split::train: return "train";
    case Split::valid: return "valid";
    case Split::test: return "test";
  }
  return "?";
}

void validate(const SplitSpec& spec) {
  if (spec.train < 0 || spec.valid < 0 || spec.test < 0 ||
      std::abs(spec.train + spec.valid + spec.test - 1.0) > 1e-6)
    throw std::runtime_error("split fractions must be >= 0 and sum to 1 (got " +
                             std::to_string(spec.train) + "/" + std::to_string(spec.valid) +
                             "/" + std::to_string(spec.test) + ")");
}

SplitCounts split_counts(std::size_t n, const SplitSpec& spec) {
  validate(spec);
  auto share = [n](double frac) {
    auto k = static_cast<std::size_t>(std::llround(static_cast<double>(n) * frac));
    if (frac > 0 && k == 0 && n >= 3) k = 1;
    return k;
  };
  SplitCounts c;
  c.test = std::min(share(spec.test), n);
  c.valid = std::min(share(spec.valid), n - c.test);
  c.train = n - c.test - c.valid;
  return c;
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t split_key(std::string_view id, std::uint64_t seed) {
  return splitmix64(seed ^ fnv1a64(id));
}

std::vector<Split> assign_splits(const std::vector<std::string>& ids, const SplitSpec& spec) {
  std::vector<Split> out(ids.size(), Split::train);
  std::vector<std::size_t> all(ids.size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  assign_group(ids, all, spec, out);
  return out;
}

std::vector<Split> assign_splits_stratified(const std::vector<std::string>& ids,
                                            const std::vector<int>& labels,
                                            const SplitSpec& spec) {
  if (ids.size() != labels.size())
    throw std::runtime_error("assign_splits_stratified: ids and labels differ in length");
  std::map<int, std::vector<std::size_t>> by_label;
  for (std::size_t i = 0; i < ids.size(); ++i) by_label[labels[i]].push_back(i);
  std::vector<Split> out(ids.size(), Split::train);
  for (const auto& [label, members] : by_label) assign_group(ids, members, spec, out);
  return out;
}

}  // namespace rt3::data

