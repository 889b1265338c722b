// A classification corpus from the user's own files (rt3 train --task classify): rows read by
// labeled_rows.h, label ids by label_order.h, missing splits carved by stratify.h.
#pragma once

#include "train/data/corpus.h"
#include "train/data/data_spec.h"
#include "train/data/split.h"

namespace rt3::data {

// Reads spec.train (and spec.valid / spec.test when given). Labels get their ids from the train
// file alone; a label in valid/test that train never has is an error naming its file and line,
// and so is a train file with a single class. A split not given is carved from train,
// stratified, with `split`'s fractions and seed; a row's place in that carve depends only on
// its text (and second text), so reordering the file does not move it.
ClassCorpus load_class_files(const DataSpec& spec, const SplitSpec& split = kClassSplit);

}  // namespace rt3::data
