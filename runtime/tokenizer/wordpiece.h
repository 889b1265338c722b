// BERT WordPiece tokenizer (uncased by default), compatible id-for-id with Hugging Face's
// BertTokenizer / tokenizers' BertWordPieceTokenizer on a vocab.txt. Verified against the real
// HF Rust library by tests/runtime/test_wordpiece.cpp. Torch-free and ICU-free (ships on device).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rt3 {

struct WordPieceOptions {
  bool lowercase = true;
  std::optional<bool> strip_accents;  // unset: follows `lowercase`, as in HF
  bool clean_text = true;
  bool handle_chinese_chars = true;
  size_t max_input_chars_per_word = 100;  // longer words become [UNK]
  std::string continuing_subword_prefix = "##";
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string mask_token = "[MASK]";
};

// Model input for one sequence (or a pair). All three vectors have the same length.
struct Encoding {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;        // 0 for the first segment, 1 for the second
  std::vector<int32_t> attention_mask;  // 1 for real tokens, 0 for padding
};

class WordPieceTokenizer {
 public:
  // vocab.txt: one token per line, id = line index. Throws std::runtime_error if the file
  // cannot be read, is empty, or has no unk token.
  static WordPieceTokenizer from_vocab_file(const std::string& path,
                                            const WordPieceOptions& options = {});
  // Same, from tokens already in memory (e.g. from a model bundle).
  static WordPieceTokenizer from_vocab(std::vector<std::string> tokens,
                                       const WordPieceOptions& options = {});

  // Token ids without [CLS]/[SEP]. Special tokens written in the text ("[SEP]", "[MASK]", ...)
  // are kept whole and map to their ids, exactly where they appear (even inside a word).
  std::vector<int32_t> encode_ids(std::string_view text) const;
  std::vector<std::string> tokenize(std::string_view text) const;  // same, as token strings

  // [CLS] text [SEP]. max_len > 0 truncates the text so the result fits in max_len (both special
  // tokens are kept); pad_to_max then pads with [PAD] up to exactly max_len.
  Encoding encode(std::string_view text, size_t max_len = 0, bool pad_to_max = false) const;
  // [CLS] a [SEP] b [SEP]; truncation removes tokens from the longer side first (HF's
  // "longest_first").
  Encoding encode_pair(std::string_view a, std::string_view b, size_t max_len = 0,
                       bool pad_to_max = false) const;

  // Joins word pieces back into text like HF's WordPiece decoder: "##" pieces glue to the
  // previous token, others get a space; `cleanup` removes the space before . , ! ?
  // Throws std::out_of_range for an id outside the vocab.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = true,
                     bool cleanup = true) const;

  size_t vocab_size() const { return id_to_token_.size(); }
  std::optional<int32_t> token_to_id(std::string_view token) const;
  const std::string& id_to_token(int32_t id) const;  // throws std::out_of_range
  bool is_special(int32_t id) const;

  int32_t unk_id() const { return unk_id_; }
  // -1 when the vocab has no such token.
  int32_t cls_id() const { return cls_id_; }
  int32_t sep_id() const { return sep_id_; }
  int32_t pad_id() const { return pad_id_; }
  int32_t mask_id() const { return mask_id_; }
  const WordPieceOptions& options() const { return options_; }

 private:
  WordPieceTokenizer() = default;
  // Normalise, pre-tokenise and WordPiece one stretch of text that holds no special token.
  void encode_segment(std::string_view text, std::vector<int32_t>& ids) const;
  void encode_word(const std::u32string& word, std::vector<int32_t>& ids) const;
  int32_t required_id(int32_t id, const std::string& token) const;
  Encoding finish(std::vector<int32_t> a, const std::vector<int32_t>* b, size_t max_len,
                  bool pad_to_max) const;

  WordPieceOptions options_;
  std::vector<std::string> id_to_token_;
  std::unordered_map<std::string, int32_t> token_to_id_;
  struct Special {
    std::string text;
    int32_t id;
  };
  std::vector<Special> specials_;  // special tokens present in the vocab
  int32_t unk_id_ = -1, cls_id_ = -1, sep_id_ = -1, pad_id_ = -1, mask_id_ = -1;
};

}  // namespace rt3
