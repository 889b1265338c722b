#pragma once
// The SentencePiece models the torch-free suites train for their fixtures (tiny corpora, the
// deterministic trainer of tests/reference/libspm_train.h), in one place so that a build without
// libsentencepiece can replay them: tests/reference/spm_fixtures.inc holds the recorded models,
// written by tests/tools/record_spm_fixtures and checked against the trainer by the ctest
// spm_fixtures_current wherever libsentencepiece is installed.
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/reference/libspm_train.h"

namespace rt3::test_util {

struct SpmFixture {
  std::string name;
  std::vector<std::string> lines;
  SpmTrainOptions options;
};

// Each base sentence 20 times, numbered, so the trainer sees enough pieces.
inline std::vector<std::string> spm_fixture_corpus(std::initializer_list<const char*> base) {
  std::vector<std::string> lines;
  for (int r = 0; r < 20; ++r)
    for (const char* s : base) lines.push_back(std::string(s) + " " + std::to_string(r));
  return lines;
}

inline SpmTrainOptions spm_fixture_options(int vocab_size) {
  SpmTrainOptions o;
  o.vocab_size = vocab_size;
  o.hard_vocab_limit = false;
  o.normalization = "identity";  // ASCII corpora: NFKC would change nothing but add 240 KB per model
  return o;
}

inline const std::vector<SpmFixture>& spm_fixtures() {
  static const std::vector<SpmFixture> all = {
      {"lm7",
       spm_fixture_corpus({"the cat sat on the mat", "a dog ran in the park", "hello world, hello again",
                           "the quick brown fox jumps over the lazy dog", "we hold these truths to be self evident",
                           "the state of the union is strong", "congress shall make no law"}),
       spm_fixture_options(60)},
      {"lm5",
       spm_fixture_corpus({"the cat sat on the mat", "a dog ran in the park", "hello world, hello again",
                           "the quick brown fox jumps over the lazy dog", "we hold these truths to be self evident"}),
       spm_fixture_options(60)},
      {"capi",
       spm_fixture_corpus({"the cat sat on the mat", "a dog ran in the park", "hello world, hello again",
                           "the quick brown fox jumps over the lazy dog", "congress shall make no law"}),
       spm_fixture_options(50)},
  };
  return all;
}

// What identifies a training run: the sentences and every option, hashed (FNV-1a, 64 bits, the
// same on every platform).
inline std::string spm_fixture_key(const std::vector<std::string>& lines, const SpmTrainOptions& o) {
  uint64_t h = 1469598103934665603ull;
  auto add = [&h](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xffu) * 1099511628211ull;  // separator no UTF-8 text contains
  };
  for (const auto& l : lines) add(l);
  add(std::to_string(static_cast<int>(o.model_type)) + "," + std::to_string(o.vocab_size) + "," +
      std::to_string(o.character_coverage) + "," + std::to_string(o.num_threads) + "," +
      std::to_string(o.max_sentences) + "," + std::to_string(o.seed) + "," + std::to_string(o.max_sentence_length) +
      "," + std::to_string(o.byte_fallback) + "," + std::to_string(o.hard_vocab_limit) + "," +
      std::to_string(o.unk_id) + "," + std::to_string(o.bos_id) + "," + std::to_string(o.eos_id) + "," +
      std::to_string(o.pad_id) + "," + o.normalization);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// The serialized model of fixture `name` (trained once per process, or replayed).
inline const std::string& spm_fixture_model(const std::string& name) {
  static std::map<std::string, std::string> cache;  // tests of one binary run on one thread
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  for (const auto& f : spm_fixtures())
    if (f.name == name) return cache.emplace(name, train_sentencepiece(f.lines, f.options)).first->second;
  throw std::invalid_argument("no SentencePiece fixture named " + name);
}

}  // namespace rt3::test_util
