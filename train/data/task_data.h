// The corpus behind a task, whether a preset (sotu, spam, wordnet) or the user's files: the one
// entry point that training, eval, pruning, search and the demo's runtime check all use.
#pragma once

#include <string>

#include "train/data/corpus.h"
#include "train/data/data_spec.h"

namespace rt3::data {

DataSpec preset_spec(const std::string& preset);  // {preset = name}
ClassCorpus load_class_corpus(const DataSpec& spec);  // spam, wordnet, or load_class_files
LmCorpus load_lm_corpus(const DataSpec& spec);        // sotu, or load_lm_files

}  // namespace rt3::data
