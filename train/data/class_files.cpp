#include "train/data/class_files.h"

#include <filesystem>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "runtime/model/config.h"
#include "train/data/label_order.h"
#include "train/data/labeled_rows.h"
#include "train/data/stratify.h"
#include "train/data/user_text.h"

namespace rt3::data {
namespace {

LabeledExample to_example(TextRow&& r, int label, const std::string& path) {
  LabeledExample e;
  e.text = std::move(r.text);
  e.text_pair = std::move(r.text_pair);
  e.label = label;
  e.id = std::filesystem::path(path).filename().string() + ":" + std::to_string(r.line);
  return e;
}

}  // namespace

ClassCorpus load_class_files(const DataSpec& spec, const SplitSpec& split) {
  if (spec.train.empty()) throw std::runtime_error("no training data: pass --data DIR or --train FILE");
  const ColumnNames cols{spec.text_column, spec.text_pair_column, spec.label_column};
  std::vector<TextRow> train = read_labeled_rows(spec.train, cols);

  ClassCorpus corpus;
  corpus.name = "classify";
  std::vector<std::string> labels;
  labels.reserve(train.size());
  for (const auto& r : train) labels.push_back(r.label);
  corpus.label_names = label_order(labels);
  if (corpus.label_names.size() < 2)
    throw data_error(spec.train, 0, "every row has label '" + printable(corpus.label_names.at(0)) +
                                        "': a classifier needs at least two classes");
  if (static_cast<int64_t>(corpus.label_names.size()) > models::kMaxConfigLabels)
    throw data_error(spec.train, 0, "column '" + printable(spec.label_column) + "' has " +
                                        std::to_string(corpus.label_names.size()) + " distinct labels (at most " +
                                        std::to_string(models::kMaxConfigLabels) + "): is it the label column?");
  std::unordered_map<std::string, int> id_of;
  for (std::size_t i = 0; i < corpus.label_names.size(); ++i) id_of[corpus.label_names[i]] = static_cast<int>(i);

  std::vector<LabeledExample> pool;
  std::vector<std::string> keys;
  pool.reserve(train.size());
  keys.reserve(train.size());
  for (auto& r : train) {
    keys.push_back(cols.text_pair.empty() ? r.text : r.text + '\x1f' + r.text_pair);
    const int label = id_of.at(r.label);
    pool.push_back(to_example(std::move(r), label, spec.train));
  }
  corpus.source.records_read = pool.size();

  // Given valid/test files: read whole, labels checked against train's.
  std::vector<LabeledExample> given[2];
  const std::string* paths[2] = {&spec.valid, &spec.test};
  for (int s = 0; s < 2; ++s) {
    if (paths[s]->empty()) continue;
    for (auto& r : read_labeled_rows(*paths[s], cols)) {
      const auto it = id_of.find(r.label);
      if (it == id_of.end())
        throw data_error(*paths[s], r.line, "label '" + printable(r.label) + "' never occurs in the training file " + spec.train);
      given[s].push_back(to_example(std::move(r), it->second, *paths[s]));
    }
    corpus.source.records_read += given[s].size();
  }
  split_stratified(std::move(pool), keys, carve_spec(split, spec.valid.empty(), spec.test.empty()), corpus);
  for (auto& e : given[0]) corpus.valid.push_back(std::move(e));
  for (auto& e : given[1]) corpus.test.push_back(std::move(e));
  // A class is carved only from 3 rows up (split_counts), so tiny files can leave a split empty.
  for (const auto* split_rows : {&corpus.valid, &corpus.test})
    if (split_rows->empty())
      throw data_error(spec.train, 0, std::string("too few rows to carve a ") + (split_rows == &corpus.valid ? "validation" : "test") +
                                          " split (a class needs 3 rows): add rows or pass --valid / --test files");
  return corpus;
}

}  // namespace rt3::data
