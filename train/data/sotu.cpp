#include "train/data/sotu.h"

#include <stdexcept>

#include "train/data/documents.h"
#include "train/data/paths.h"

namespace rt3::data {

// A preset: the shipped folder goes through the same reader and split as a user's folder of
// documents (rt3 train --task lm --data DIR); only the "run scripts/setup.sh" hints are its own.
LmCorpus load_sotu(const std::string& data_dir, const SplitSpec& spec) {
  validate(spec);
  const std::string dir = data_dir + "/sotu/data";
  require_dir(dir, "sotu corpus");
  if (list_files(dir, ".txt").empty())
    throw std::runtime_error("sotu corpus at " + dir + " has no .txt files: run scripts/setup.sh");
  DocumentSet docs = read_documents(dir);
  LmCorpus corpus;
  corpus.name = "sotu";
  corpus.source.records_read = docs.docs.size();
  // The files are listed sorted by name (= by year), so each split comes out chronological.
  split_documents(std::move(docs), spec, corpus);
  return corpus;
}

}  // namespace rt3::data
