#include "train/data/corpus.h"

#include <cstdarg>
#include <cstdio>
#include <stdexcept>

#include "train/data/text.h"

namespace rt3::data {
namespace {

SplitStats lm_split_stats(const char* name, const std::vector<Document>& docs) {
  SplitStats s;
  s.split = name;
  s.items = docs.size();
  for (const auto& d : docs) {
    s.words += count_words(d.text);
    s.bytes += d.text.size();
  }
  return s;
}

SplitStats class_split_stats(const char* name, const std::vector<LabeledExample>& examples,
                             std::size_t num_classes) {
  SplitStats s;
  s.split = name;
  s.items = examples.size();
  s.per_class.assign(num_classes, 0);
  for (const auto& e : examples) {
    if (e.label < 0 || static_cast<std::size_t>(e.label) >= num_classes)
      throw std::runtime_error("example " + e.id + " has label " + std::to_string(e.label) +
                               " outside 0.." + std::to_string(num_classes - 1));
    ++s.per_class[static_cast<std::size_t>(e.label)];
    s.words += count_words(e.text);
    s.bytes += e.text.size();
  }
  return s;
}

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[256];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

}  // namespace

CorpusStats corpus_stats(const LmCorpus& corpus) {
  CorpusStats st;
  st.name = corpus.name;
  st.source = corpus.source;
  st.splits = {lm_split_stats("train", corpus.train), lm_split_stats("valid", corpus.valid),
               lm_split_stats("test", corpus.test)};
  return st;
}

CorpusStats corpus_stats(const ClassCorpus& corpus) {
  CorpusStats st;
  st.name = corpus.name;
  st.label_names = corpus.label_names;
  st.source = corpus.source;
  const std::size_t k = corpus.label_names.size();
  st.splits = {class_split_stats("train", corpus.train, k),
               class_split_stats("valid", corpus.valid, k),
               class_split_stats("test", corpus.test, k)};
  return st;
}

std::string describe(const CorpusStats& stats) {
  std::size_t items = 0, words = 0, bytes = 0;
  for (const auto& s : stats.splits) {
    items += s.items;
    words += s.words;
    bytes += s.bytes;
  }
  const SourceReport& r = stats.source;
  std::string out = format("%s: %zu items, %zu words, %zu bytes\n", stats.name.c_str(), items,
                           words, bytes);
  out += format("  read %zu; dropped %zu empty, %zu duplicate, %zu conflicting-label, "
                "%zu other-class\n",
                r.records_read, r.empty_dropped, r.duplicates_dropped, r.conflicting_dropped,
                r.other_class_dropped);
  out += format("  %-24s %10s %12s %12s\n", "split", "items", "words", "bytes");
  for (const auto& s : stats.splits)
    out += format("  %-24s %10zu %12zu %12zu\n", s.split.c_str(), s.items, s.words, s.bytes);
  if (stats.label_names.empty()) return out;

  out += format("  %-24s", "class");
  for (const auto& s : stats.splits) out += format(" %10s", s.split.c_str());
  out += format(" %10s\n", "total");
  for (std::size_t c = 0; c < stats.label_names.size(); ++c) {
    out += format("  %-24s", stats.label_names[c].c_str());
    std::size_t total = 0;
    for (const auto& s : stats.splits) {
      out += format(" %10zu", s.per_class[c]);
      total += s.per_class[c];
    }
    out += format(" %10zu\n", total);
  }
  return out;
}

}  // namespace rt3::data
