// BERT's "basic tokenizer": text normalisation and the split into words and punctuation that
// runs before WordPiece. Matches Hugging Face tokenizers' BertNormalizer + BertPreTokenizer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rt3 {

struct BertNormalizerOptions {
  bool clean_text = true;            // drop NUL, U+FFFD and control chars; whitespace -> ' '
  bool handle_chinese_chars = true;  // put spaces around CJK ideographs (one word each)
  bool strip_accents = true;         // NFD, then drop non-spacing marks (Mn)
  bool lowercase = true;             // per-character full lower-case mapping
};

// Applies the steps in HF's order: clean, CJK spacing, strip accents, lower-case. (HF's Python
// BertTokenizer lower-cases before stripping; for single code points the result is the same.)
std::u32string bert_normalize(std::u32string_view text, const BertNormalizerOptions& options);

// Splits normalised text on whitespace and makes every punctuation character its own word.
std::vector<std::u32string> bert_pre_tokenize(std::u32string_view text);

}  // namespace rt3
