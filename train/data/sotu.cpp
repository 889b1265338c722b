#include "train/data/sotu.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "train/data/paths.h"
#include "train/data/text.h"

namespace rt3::data {

LmCorpus load_sotu(const std::string& data_dir, const SplitSpec& spec) {
  validate(spec);
  const std::string dir = data_dir + "/sotu/data";
  require_dir(dir, "sotu corpus");
  const std::vector<std::string> files = list_files(dir, ".txt");
  if (files.empty())
    throw std::runtime_error("sotu corpus at " + dir + " has no .txt files: run scripts/setup.sh");

  LmCorpus corpus;
  corpus.name = "sotu";
  std::vector<Document> docs;
  for (const auto& path : files) {
    ++corpus.source.records_read;
    std::string text =
        strip_trailing_whitespace(unify_newlines(sanitize_utf8(read_file(path))));
    if (text.empty()) {
      ++corpus.source.empty_dropped;
      continue;
    }
    docs.push_back({std::filesystem::path(path).stem().string(), std::move(text)});
  }

  std::vector<std::string> ids;
  ids.reserve(docs.size());
  for (const auto& d : docs) ids.push_back(d.id);
  const std::vector<Split> where = assign_splits(ids, spec);
  // `docs` is sorted by id (list_files sorts), so each split comes out in chronological order.
  for (std::size_t i = 0; i < docs.size(); ++i) {
    auto& dst = where[i] == Split::train ? corpus.train
                : where[i] == Split::valid ? corpus.valid : corpus.test;
    dst.push_back(std::move(docs[i]));
  }
  return corpus;
}

}  // namespace rt3::data
