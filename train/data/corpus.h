// The corpus types every loader returns, and the summary the CLI prints. Loaders live in
// sotu.h (language modelling), spam.h and wordnet.h (classification).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace rt3::data {

// One language-modelling document (a whole speech). `id` is stable across runs (file stem).
struct Document {
  std::string id;
  std::string text;
};

// What a loader read and what it dropped on the way, so counts in docs/data.md can be checked.
struct SourceReport {
  std::size_t records_read = 0;         // files (sotu, spam) or synset lines (wordnet)
  std::size_t empty_dropped = 0;        // nothing left after preprocessing
  std::size_t duplicates_dropped = 0;   // extra copies of a text already kept (same label)
  std::size_t conflicting_dropped = 0;  // every copy of a text seen with two different labels
  std::size_t other_class_dropped = 0;  // label outside the classes kept (wordnet)
};

struct LmCorpus {
  std::string name;
  std::vector<Document> train, valid, test;  // each sorted by id
  SourceReport source;
};

struct LabeledExample {
  std::string text;
  int label = 0;   // index into ClassCorpus::label_names
  std::string id;  // where it came from (file or synset, "<file>:<line>"), for tracing it back
  std::string text_pair;  // second text of a sentence pair; empty for single texts
};

struct ClassCorpus {
  std::string name;
  std::vector<std::string> label_names;
  // Each split is in a fixed pseudo-random order (classes interleaved), not grouped by class.
  std::vector<LabeledExample> train, valid, test;
  SourceReport source;
};

struct SplitStats {
  std::string split;               // "train", "valid", "test"
  std::size_t items = 0;           // documents or examples
  std::size_t words = 0;           // whitespace-separated
  std::size_t bytes = 0;           // UTF-8
  std::vector<std::size_t> per_class;  // indexed like label_names; empty for LM corpora
};

struct CorpusStats {
  std::string name;
  std::vector<std::string> label_names;
  std::vector<SplitStats> splits;  // train, valid, test
  SourceReport source;
};

CorpusStats corpus_stats(const LmCorpus& corpus);
CorpusStats corpus_stats(const ClassCorpus& corpus);

// Multi-line, human-readable table of the stats (per split; per class for classification).
std::string describe(const CorpusStats& stats);

}  // namespace rt3::data
