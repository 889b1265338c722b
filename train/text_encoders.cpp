#include "train/text_encoders.h"

#include <sstream>
#include <stdexcept>

#include "runtime/tokenizer/wordpiece.h"

namespace rt3::train {

WordPieceEncoder::WordPieceEncoder(const std::string& vocab_path, int64_t max_len)
    : wp_(std::make_unique<WordPieceTokenizer>(WordPieceTokenizer::from_vocab_file(vocab_path))), max_len_(max_len) {}
WordPieceEncoder::~WordPieceEncoder() = default;

int64_t WordPieceEncoder::vocab_size() const { return static_cast<int64_t>(wp_->vocab_size()); }
int32_t WordPieceEncoder::pad_id() const { return wp_->pad_id(); }

std::vector<int32_t> WordPieceEncoder::encode(const std::string& text) const {
  return wp_->encode(text, static_cast<size_t>(max_len_), /*pad_to_max=*/false).ids;
}

}  // namespace rt3::train
