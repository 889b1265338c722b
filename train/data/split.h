// Deterministic train/valid/test assignment. The order of items comes from a keyed hash of each
// item's id (FNV-1a, then splitmix64 mixed with the seed), never from std:: random engines or
// distributions (whose output differs between standard libraries) nor from directory order.
// A side effect worth having: adding or removing one item never moves any other item.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rt3::data {

// Fractions of items per split (must be >= 0 and sum to 1) and the hash seed.
struct SplitSpec {
  double train = 0.8;
  double valid = 0.1;
  double test = 0.1;
  std::uint64_t seed = 0x5254330000000001ULL;  // "RT3\0" + 1; any fixed value will do
};

// Defaults: language modelling keeps most text for training (few, long documents); the
// classifiers need a bigger valid/test share for stable accuracy estimates.
inline constexpr SplitSpec kLmSplit{0.90, 0.05, 0.05, 0x5254330000000001ULL};
inline constexpr SplitSpec kClassSplit{0.80, 0.10, 0.10, 0x5254330000000001ULL};

enum class Split { train, valid, test };
const char* split_name(Split s);
// "train" | "valid" | "test"; anything else throws std::runtime_error naming the value.
Split parse_split(const std::string& s);

// Throws std::runtime_error when a fraction is negative or they do not sum to 1.
void validate(const SplitSpec& spec);

struct SplitCounts {
  std::size_t train = 0, valid = 0, test = 0;
};
// valid = round(n * spec.valid), test = round(n * spec.test), train = the rest; a split with a
// non-zero fraction gets at least one item when n >= 3, so small strata are never missing.
SplitCounts split_counts(std::size_t n, const SplitSpec& spec);

std::uint64_t splitmix64(std::uint64_t x);
// Position of an item in the seeded order: splitmix64(seed ^ fnv1a64(id)).
std::uint64_t split_key(std::string_view id, std::uint64_t seed);

// Split of each item (result[i] belongs to ids[i]). Items are ordered by (split_key, id); the
// first `test` go to test, the next `valid` to valid, the rest to train. Equal ids are ordered by
// their position in `ids`.
std::vector<Split> assign_splits(const std::vector<std::string>& ids, const SplitSpec& spec);

// Same, but separately within each label, so every split keeps the overall class balance.
std::vector<Split> assign_splits_stratified(const std::vector<std::string>& ids,
                                            const std::vector<int>& labels,
                                            const SplitSpec& spec);

}  // namespace rt3::data
