// WordNet noun glosses (Debian wordnet-base) labelled with their lexicographer file: a harder,
// multi-class classification task (what kind of thing does this definition describe?).
#pragma once

#include <string>

#include "train/data/corpus.h"
#include "train/data/split.h"

namespace rt3::data {

inline constexpr const char* kWordnetNounPath = "/usr/share/wordnet/data.noun";

// Lexicographer file name for a noun lex_filenum (3..28, e.g. 6 -> "noun.artifact"), per
// WordNet's lexnames(5). Throws std::runtime_error for other numbers.
std::string noun_lexname(int lex_filenum);

// One example per noun synset: text = the gloss (after '|', whitespace collapsed), definition
// AND quoted example sentences: only ~11% of glosses have examples, they are hand-written usage
// that helps, and cutting at quotes is fragile. Identical glosses are deduplicated (dedupe.h),
// then only the `num_classes` lexicographer files with the most examples are kept (ties by
// name); labels are 0..num_classes-1 in descending count, label_names like "noun.artifact".
// Stratified split, default 80/10/10. Example ids are "n<synset_offset>".
// Throws std::runtime_error if the file is missing or malformed, or num_classes is out of range.
ClassCorpus load_wordnet(const SplitSpec& spec = kClassSplit, int num_classes = 10,
                         const std::string& path = kWordnetNounPath);

}  // namespace rt3::data
