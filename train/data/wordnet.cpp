#include "train/data/wordnet.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>
#include <utility>

#include "train/data/dedupe.h"
#include "train/data/paths.h"
#include "train/data/stratify.h"
#include "train/data/text.h"

namespace rt3::data {
namespace {

constexpr int kFirstNounLex = 3;  // noun.Tops
// lexnames(5), indexed by lex_filenum - 3; wordnet-base does not ship the lexnames file.
constexpr const char* kNounLexnames[] = {
    "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute",  // 03..07
    "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling",  // 08..12
    "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",  // 13..17
    "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",  // 18..22
    "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance",  // 23..27
    "noun.time",  // 28..28
};
constexpr int kNumNounLex = static_cast<int>(sizeof kNounLexnames / sizeof kNounLexnames[0]);

std::runtime_error malformed(const std::string& path, std::size_t line_no, const char* what) {
  return std::runtime_error("malformed line " + std::to_string(line_no) + " in " + path + " (" +
                            what + "): reinstall wordnet-base (run scripts/setup.sh)");
}

// Parses "offset lex_filenum ss_type ... | gloss" into an example labelled with lex_filenum.
LabeledExample parse_line(const std::string& line, const std::string& path, std::size_t line_no) {
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
  const std::size_t bar = line.find('|');
  if (sp2 == std::string::npos || bar == std::string::npos || bar < sp2)
    throw malformed(path, line_no, "expected 'offset lex_filenum ... | gloss'");
  int lex = -1;
  try {
    lex = std::stoi(line.substr(sp1 + 1, sp2 - sp1 - 1));
  } catch (const std::exception&) {
    throw malformed(path, line_no, "lex_filenum is not a number");
  }
  if (lex < kFirstNounLex || lex >= kFirstNounLex + kNumNounLex)
    throw malformed(path, line_no, "lex_filenum is not a noun lexicographer file");
  return {collapse_whitespace(sanitize_utf8(std::string_view(line).substr(bar + 1))), lex,
          "n" + line.substr(0, sp1), {}};
}

}  // namespace

std::string noun_lexname(int lex_filenum) {
  if (lex_filenum < kFirstNounLex || lex_filenum >= kFirstNounLex + kNumNounLex)
    throw std::runtime_error("lex_filenum " + std::to_string(lex_filenum) +
                             " is not a noun lexicographer file (expected 3..28)");
  return kNounLexnames[lex_filenum - kFirstNounLex];
}

ClassCorpus load_wordnet(const SplitSpec& spec, int num_classes, const std::string& path) {
  validate(spec);
  if (num_classes < 2 || num_classes > kNumNounLex)
    throw std::runtime_error("wordnet num_classes must be in 2.." + std::to_string(kNumNounLex) +
                             ", got " + std::to_string(num_classes));
  require_file(path, "WordNet noun data (package wordnet-base)");
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path + ": check it is readable");

  ClassCorpus corpus;
  corpus.name = "wordnet";
  std::vector<LabeledExample> examples;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == ' ') continue;  // the licence header lines start with "  "
    ++corpus.source.records_read;
    LabeledExample e = parse_line(line, path, line_no);
    if (e.text.empty()) {
      ++corpus.source.empty_dropped;
      continue;
    }
    examples.push_back(std::move(e));
  }
  if (examples.empty())
    throw std::runtime_error("no synsets in " + path +
                             ": reinstall wordnet-base (run scripts/setup.sh)");

  // Dedupe first so the class ranking below counts exactly the examples that are kept.
  const DedupeCounts d = dedupe_exact(examples);
  corpus.source.duplicates_dropped = d.duplicates;
  corpus.source.conflicting_dropped = d.conflicting;

  std::map<int, std::size_t> count;  // lex_filenum -> examples
  for (const auto& e : examples) ++count[e.label];
  struct Ranked {
    std::size_t count;
    std::string name;
    int lex;
  };
  std::vector<Ranked> ranked;
  for (const auto& [lex, n] : count) ranked.push_back({n, noun_lexname(lex), lex});
  std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    return a.count != b.count ? a.count > b.count : a.name < b.name;
  });
  if (ranked.size() < static_cast<std::size_t>(num_classes))
    throw std::runtime_error(path + " has only " + std::to_string(ranked.size()) +
                             " noun classes, fewer than the " + std::to_string(num_classes) +
                             " requested");
  ranked.resize(static_cast<std::size_t>(num_classes));

  std::map<int, int> new_label;  // lex_filenum -> label
  for (const Ranked& r : ranked) {
    new_label[r.lex] = static_cast<int>(corpus.label_names.size());
    corpus.label_names.push_back(r.name);
  }
  std::vector<LabeledExample> kept;
  kept.reserve(examples.size());
  for (auto& e : examples) {
    const auto it = new_label.find(e.label);
    if (it == new_label.end()) {
      ++corpus.source.other_class_dropped;
      continue;
    }
    e.label = it->second;
    kept.push_back(std::move(e));
  }
  split_stratified(std::move(kept), spec, corpus);
  return corpus;
}

}  // namespace rt3::data
