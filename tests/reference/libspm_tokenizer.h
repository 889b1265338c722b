// SentencePiece tokenizer for models trained by tests/reference/libspm_train.h (or any .model file).
// A thin wrapper of libsentencepiece; the library's header stays out of ours (pImpl) so code
// that includes this does not need sentencepiece's include paths.
// Build note: Debian's libsentencepiece exports a bundled protobuf that clashes with LibTorch's,
// so this file is compiled into the test-only target rt3_spm_reference (tests/CMakeLists.txt),
// not into rt3_runtime; see docs/tokenizers.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rt3 {

class SentencePieceTokenizer {
 public:
  // Throw std::runtime_error with the path / library message when the model cannot be loaded.
  static SentencePieceTokenizer from_file(const std::string& path);
  // From the bytes of a .model file, so a model bundle can embed the tokenizer.
  static SentencePieceTokenizer from_bytes(std::string_view serialized_model);

  SentencePieceTokenizer(SentencePieceTokenizer&&) noexcept;
  SentencePieceTokenizer& operator=(SentencePieceTokenizer&&) noexcept;
  ~SentencePieceTokenizer();

  // No BOS/EOS are added; callers add bos_id()/eos_id() where their model wants them.
  std::vector<int32_t> encode(std::string_view text) const;
  std::vector<std::string> encode_pieces(std::string_view text) const;
  // Throws std::out_of_range for an id outside the vocab.
  std::string decode(const std::vector<int32_t>& ids) const;

  size_t vocab_size() const;
  std::optional<int32_t> piece_to_id(std::string_view piece) const;  // nullopt if not a piece
  const std::string& id_to_piece(int32_t id) const;                  // throws std::out_of_range
  // -1 when the model has no such token (e.g. pad is off by default).
  int32_t bos_id() const;
  int32_t eos_id() const;
  int32_t unk_id() const;
  int32_t pad_id() const;
  // The model file's bytes (what from_bytes() takes back).
  std::string serialized_model() const;

 private:
  struct Impl;
  explicit SentencePieceTokenizer(std::unique_ptr<Impl> impl);
  void check_id(int32_t id) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rt3
