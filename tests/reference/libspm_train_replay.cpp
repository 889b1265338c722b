// train_sentencepiece for builds without libsentencepiece (the aarch64 cross build: Debian's
// package is not multiarch): replays the models recorded in spm_fixtures.inc for the fixture
// corpora of tests/common/spm_fixtures.h, and refuses anything else. Same interface as
// libspm_train.cpp, so the suites that use those fixtures run unchanged.
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

#include "tests/common/spm_fixtures.h"
#include "tests/reference/libspm_train.h"

namespace rt3 {
namespace {
const std::map<std::string, std::string>& recorded() {
  static const std::map<std::string, std::string> models = {
#include "tests/reference/spm_fixtures.inc"
  };
  return models;
}
}  // namespace

std::string train_sentencepiece(const std::vector<std::string>& sentences, const SpmTrainOptions& options) {
  const std::string key = test_util::spm_fixture_key(sentences, options);
  auto it = recorded().find(key);
  if (it == recorded().end())
    throw std::runtime_error("spm_train (replay): no recorded model for corpus " + key +
                             "; only the fixtures of tests/common/spm_fixtures.h are recorded "
                             "(tests/tools/record_spm_fixtures rewrites spm_fixtures.inc)");
  return it->second;
}

void train_sentencepiece_to_file(const std::vector<std::string>& sentences, const std::string& model_path,
                                 const SpmTrainOptions& options) {
  const std::string model = train_sentencepiece(sentences, options);
  std::ofstream out(model_path, std::ios::binary | std::ios::trunc);
  out.write(model.data(), static_cast<std::streamsize>(model.size()));
  if (!out) throw std::runtime_error("spm_train (replay): cannot write " + model_path);
}

void train_sentencepiece_from_text_file(const std::string& text_path, const std::string& model_path,
                                        const SpmTrainOptions& options) {
  std::ifstream in(text_path);
  if (!in) throw std::runtime_error("spm_train (replay): cannot read " + text_path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) lines.push_back(l);
  train_sentencepiece_to_file(lines, model_path, options);
}

}  // namespace rt3
