#include "train/data/task_data.h"

#include <stdexcept>

#include "train/data/class_files.h"
#include "train/data/documents.h"
#include "train/data/paths.h"
#include "train/data/sotu.h"
#include "train/data/spam.h"
#include "train/data/wordnet.h"

namespace rt3::data {

DataSpec preset_spec(const std::string& preset) {
  DataSpec d;
  d.preset = preset;
  return d;
}

ClassCorpus load_class_corpus(const DataSpec& spec) {
  if (spec.preset == "spam") return load_spam(data_dir());
  if (spec.preset == "wordnet") return load_wordnet();
  if (!spec.preset.empty()) throw std::runtime_error("'" + spec.preset + "' is not a classification preset (spam, wordnet)");
  return load_class_files(spec);
}

LmCorpus load_lm_corpus(const DataSpec& spec) {
  if (spec.preset == "sotu") return load_sotu(data_dir());
  if (!spec.preset.empty()) throw std::runtime_error("'" + spec.preset + "' is not a language-modelling preset (sotu)");
  return load_lm_files(spec);
}

}  // namespace rt3::data
