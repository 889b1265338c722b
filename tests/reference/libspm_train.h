// Trains SentencePiece models (host side only: libsentencepiece_train never ships to devices).
// The result loads with rt3::SentencePieceTokenizer (tests/reference/libspm_tokenizer.h).
// Built into the test-only target rt3_spm_reference for now (libsentencepiece's bundled protobuf
// clashes with LibTorch's); see docs/tokenizers.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rt3 {

struct SpmTrainOptions {
  enum class ModelType { kUnigram, kBpe };
  ModelType model_type = ModelType::kUnigram;
  int vocab_size = 8000;
  double character_coverage = 1.0;  // 1.0 keeps every character; ~0.9995 for CJK-heavy text
  int num_threads = 1;
  // Use at most this many sentences (0 = all). The sample is drawn by us with `seed`, so the
  // same input and options always give the same model bytes.
  int64_t max_sentences = 0;
  uint32_t seed = 42;
  int max_sentence_length = 4192;  // bytes; longer sentences are skipped by the trainer
  bool byte_fallback = false;      // unknown characters become <0xNN> byte pieces
  bool hard_vocab_limit = true;    // false: vocab_size is an upper bound only
  // libsentencepiece's normalization_rule_name; "identity" stores no ~240 KB NFKC map in the model.
  std::string normalization = "nmt_nfkc";
  // Special ids as libsentencepiece numbers them; -1 disables one.
  int unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
  bool quiet = true;  // silence the trainer's progress log
};

// Trains on in-memory sentences and returns the serialized model (the bytes of a .model file).
// Throws std::runtime_error with the trainer's message on failure (e.g. vocab_size too large
// for the text).
std::string train_sentencepiece(const std::vector<std::string>& sentences,
                                const SpmTrainOptions& options);

// Same, writing the model to `model_path` atomically: the bytes go to a temporary file in the
// same folder that is renamed over `model_path`, so readers never see a half-written model.
void train_sentencepiece_to_file(const std::vector<std::string>& sentences,
                                 const std::string& model_path, const SpmTrainOptions& options);

// Trains on a text file, one sentence per line (empty lines are skipped).
void train_sentencepiece_from_text_file(const std::string& text_path,
                                        const std::string& model_path,
                                        const SpmTrainOptions& options);

}  // namespace rt3
