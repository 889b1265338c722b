#include "tests/reference/libspm_tokenizer.h"

#include <sentencepiece_processor.h>

#include <stdexcept>

namespace rt3 {

struct SentencePieceTokenizer::Impl {
  sentencepiece::SentencePieceProcessor processor;
};

namespace {

void check(const sentencepiece::util::Status& status, const std::string& what) {
  if (!status.ok()) throw std::runtime_error("SentencePiece: " + what + ": " + status.ToString());
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
SentencePieceTokenizer::SentencePieceTokenizer(SentencePieceTokenizer&&) noexcept = default;
SentencePieceTokenizer& SentencePieceTokenizer::operator=(SentencePieceTokenizer&&) noexcept =
    default;
SentencePieceTokenizer::~SentencePieceTokenizer() = default;

SentencePieceTokenizer SentencePieceTokenizer::from_file(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  check(impl->processor.Load(path), "cannot load model file '" + path + "'");
  return SentencePieceTokenizer(std::move(impl));
}

SentencePieceTokenizer SentencePieceTokenizer::from_bytes(std::string_view serialized_model) {
  if (serialized_model.empty())
    throw std::runtime_error("SentencePiece: cannot load model from bytes: no bytes given");
  auto impl = std::make_unique<Impl>();
  check(impl->processor.LoadFromSerializedProto(serialized_model),
        "cannot load model from " + std::to_string(serialized_model.size()) + " bytes");
  return SentencePieceTokenizer(std::move(impl));
}

std::vector<int32_t> SentencePieceTokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  check(impl_->processor.Encode(text, &ids), "encode failed");
  return std::vector<int32_t>(ids.begin(), ids.end());
}

std::vector<std::string> SentencePieceTokenizer::encode_pieces(std::string_view text) const {
  std::vector<std::string> pieces;
  check(impl_->processor.Encode(text, &pieces), "encode failed");
  return pieces;
}

void SentencePieceTokenizer::check_id(int32_t id) const {
  if (id < 0 || id >= impl_->processor.GetPieceSize())
    throw std::out_of_range("SentencePiece: id " + std::to_string(id) + " outside the vocab of " +
                            std::to_string(impl_->processor.GetPieceSize()));
}

std::string SentencePieceTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::vector<int> spm_ids;
  spm_ids.reserve(ids.size());
  for (int32_t id : ids) {
    check_id(id);  // libsentencepiece would abort on some out-of-range ids; fail cleanly instead
    spm_ids.push_back(id);
  }
  std::string text;
  check(impl_->processor.Decode(spm_ids, &text), "decode failed");
  return text;
}

size_t SentencePieceTokenizer::vocab_size() const {
  return static_cast<size_t>(impl_->processor.GetPieceSize());
}

std::optional<int32_t> SentencePieceTokenizer::piece_to_id(std::string_view piece) const {
  // The library answers unk_id for unknown pieces; tell that apart from the unk piece itself.
  const int id = impl_->processor.PieceToId(piece);
  if (id == impl_->processor.unk_id() && impl_->processor.IdToPiece(id) != piece)
    return std::nullopt;
  return id;
}

const std::string& SentencePieceTokenizer::id_to_piece(int32_t id) const {
  check_id(id);
  return impl_->processor.IdToPiece(id);
}

int32_t SentencePieceTokenizer::bos_id() const { return impl_->processor.bos_id(); }
int32_t SentencePieceTokenizer::eos_id() const { return impl_->processor.eos_id(); }
int32_t SentencePieceTokenizer::unk_id() const { return impl_->processor.unk_id(); }
int32_t SentencePieceTokenizer::pad_id() const { return impl_->processor.pad_id(); }

std::string SentencePieceTokenizer::serialized_model() const {
  return impl_->processor.serialized_model_proto();
}

}  // namespace rt3
