// Language-modelling documents from the user's own text (rt3 train --task lm) and the one place
// every LM corpus, the sotu preset included, gets its splits: by document, never inside one.
#pragma once

#include <string>
#include <vector>

#include "train/data/corpus.h"
#include "train/data/data_spec.h"
#include "train/data/split.h"

namespace rt3::data {

struct DocumentSet {
  std::vector<Document> docs;
  std::vector<std::string> keys;  // split key of each document
};

// A folder: every regular file directly in it whose name ends in .txt is one document (sorted
// by name; id and key = the file stem). A file: documents are separated by blank lines (id
// "<file name>:<first line>", key = the text, so reordering does not move a document). Text
// must be UTF-8 (a BOM is dropped); newlines are unified, control characters other than tab
// and newline become spaces, and trailing whitespace and blank lines at both ends go. Throws
// "<path>:<line>: ..." for a file that is unreadable or not UTF-8, an empty document file, and a
// file or folder without any text.
DocumentSet read_documents(const std::string& path);

// Splits by document with assign_splits and appends to out.train/valid/test, each keeping the
// input order (for a folder: by name).
void split_documents(DocumentSet set, const SplitSpec& spec, LmCorpus& out);

// spec.train (a file or a folder), and spec.valid / spec.test when given; a missing split is
// carved from train with `split`'s fractions. Throws when a split ends up without documents.
LmCorpus load_lm_files(const DataSpec& spec, const SplitSpec& split = kLmSplit);

}  // namespace rt3::data
