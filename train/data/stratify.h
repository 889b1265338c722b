// Puts a classification corpus' examples into train/valid/test with a stratified split.
#pragma once

#include <vector>

#include "train/data/corpus.h"
#include "train/data/split.h"

namespace rt3::data {

// Assigns `examples` with assign_splits_stratified (by id and label) and appends them to
// out.train/valid/test, each ordered by split key so classes come interleaved (a trainer that
// forgets to shuffle, or evaluates on a prefix, still sees every class).
void split_stratified(std::vector<LabeledExample> examples, const SplitSpec& spec,
                      ClassCorpus& out);

}  // namespace rt3::data
