#pragma once
// Adapters from the runtime tokenizers to what the training tasks need: id streams for the LM,
// truncated [CLS] ... [SEP] (or [CLS] a [SEP] b [SEP]) sequences for the classifiers. Torch-free.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "train/data/corpus.h"

namespace rt3 {
class SpmModel;
class WordPieceTokenizer;
}  // namespace rt3

namespace rt3::train {

// Splits text into sentences (after . ? ! followed by a space, and at newlines); a run longer
// than max_bytes without such a mark is cut at the next space. Whitespace-only pieces dropped.
std::vector<std::string> split_sentences(const std::string& text, size_t max_bytes = 2000);

// Trains the LM's SentencePiece model on the training documents only (never valid/test).
void train_lm_tokenizer(const std::vector<data::Document>& train_docs, int64_t vocab_size, const std::string& out_path);

class SpmEncoder {
 public:
  explicit SpmEncoder(const std::string& model_path);
  ~SpmEncoder();
  int64_t vocab_size() const;
  // All documents as one stream, each followed by the end-of-sequence id.
  std::vector<int32_t> encode_documents(const std::vector<data::Document>& docs) const;

 private:
  std::unique_ptr<SpmModel> spm_;
};

class WordPieceEncoder {
 public:
  WordPieceEncoder(const std::string& vocab_path, int64_t max_len);
  ~WordPieceEncoder();
  int64_t vocab_size() const;
  int32_t pad_id() const;
  std::vector<int32_t> encode(const std::string& text) const;  // [CLS] ... [SEP], at most max_len
  // [CLS] a [SEP] b [SEP], at most max_len: the runtime tokenizer's encode_pair (HF's longest-first
  // truncation), the very code the engine runs, so training and run time cannot disagree.
  std::vector<int32_t> encode_pair(const std::string& a, const std::string& b) const;

 private:
  std::unique_ptr<WordPieceTokenizer> wp_;
  int64_t max_len_;
};

}  // namespace rt3::train
