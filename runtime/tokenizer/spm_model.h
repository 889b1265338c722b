// SentencePiece tokenizer that reads `.model` files itself: no protobuf, no libsentencepiece.
// Why: Debian's libsentencepiece bundles protobuf-lite 3.14 and exports its symbols, which
// crash a process that also loads LibTorch's protobuf 3.21; and the device runtime should stay
// dependency-light. Its output is checked id-for-id against libsentencepiece in the tests.
//
// Supported: UNIGRAM, BPE and CHAR models; the `identity` normalizer and any precompiled
// charsmap (nmt_nfkc, nfkc, ...); byte_fallback; user-defined symbols. WORD models,
// treat_whitespace_as_suffix and a denormalizer are rejected at load time with a clear error.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rt3 {

struct SpmModelState;  // the loaded model; internal (spm_model_impl.h)

class SpmModel {
 public:
  enum class ModelType { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 };

  // Throw std::runtime_error("spm model: ...") for an unreadable, corrupt or unsupported model.
  static SpmModel from_file(const std::string& path);
  static SpmModel from_bytes(std::string_view serialized_model);

  // No BOS/EOS are added; callers add bos_id()/eos_id() where their model wants them.
  std::vector<int32_t> encode(std::string_view text) const;
  // The pieces behind encode(): for <unk> the (normalized) text it covers, as libsentencepiece.
  std::vector<std::string> encode_pieces(std::string_view text) const;
  // Throws std::out_of_range for an id outside the vocab.
  std::string decode(const std::vector<int32_t>& ids) const;

  size_t vocab_size() const;
  std::optional<int32_t> piece_to_id(std::string_view piece) const;  // nullopt if not a piece
  const std::string& id_to_piece(int32_t id) const;                  // throws std::out_of_range
  // Looked up by the trainer's piece names ("<s>", ...), as libsentencepiece does; -1 if absent.
  int32_t bos_id() const;
  int32_t eos_id() const;
  int32_t unk_id() const;
  int32_t pad_id() const;
  ModelType model_type() const;
  const std::string& normalizer_name() const;  // "identity", "nmt_nfkc", ...

 private:
  explicit SpmModel(std::shared_ptr<const SpmModelState> impl);
  void check_id(int32_t id) const;  // throws std::out_of_range
  // Immutable after loading, so copies share it and concurrent encode() calls are safe.
  std::shared_ptr<const SpmModelState> impl_;
};

}  // namespace rt3
