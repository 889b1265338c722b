// Puts a classification corpus' examples into train/valid/test with a stratified split. The one
// place every classification task gets its splits: the presets carve all three from their
// corpus, a user's train file gives whichever of valid/test it was not given.
#pragma once

#include <string>
#include <vector>

#include "train/data/corpus.h"
#include "train/data/split.h"

namespace rt3::data {

// Assigns `examples` with assign_splits_stratified (by key and label) and appends them to
// out.train/valid/test, each ordered by split key so classes come interleaved (a trainer that
// forgets to shuffle, or evaluates on a prefix, still sees every class). keys[i] is example i's
// key; the overload without keys uses the examples' ids.
void split_stratified(std::vector<LabeledExample> examples, const std::vector<std::string>& keys,
                      const SplitSpec& spec, ClassCorpus& out);
void split_stratified(std::vector<LabeledExample> examples, const SplitSpec& spec,
                      ClassCorpus& out);

// The fractions that carve only the missing splits out of a train file: `full` when both are
// missing, else the missing one keeps its fraction of `full` and train the rest.
SplitSpec carve_spec(const SplitSpec& full, bool need_valid, bool need_test);

}  // namespace rt3::data
