// Internal state of rt3::SpmModel, shared by spm_model.cpp (loading, decoding) and
// spm_segment.cpp (the segmentation algorithms). Not part of the public API.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/tokenizer/spm_model.h"
#include "runtime/tokenizer/spm_normalizer.h"
#include "runtime/tokenizer/spm_proto.h"
#include "runtime/tokenizer/spm_trie.h"

namespace rt3 {

struct SpmModelState {
  using ModelType = SpmModel::ModelType;
  ModelType type = ModelType::kUnigram;
  std::vector<SpmProtoPiece> pieces;  // index = id
  SpmTrie vocab;         // NORMAL, USER_DEFINED and UNUSED pieces: what segmentation may use
  SpmTrie reserved;      // CONTROL, UNKNOWN and BYTE pieces
  SpmTrie user_defined;  // USER_DEFINED only: matched whole, never normalized or split
  int32_t unk = -1;      // the UNKNOWN piece
  float min_score = 0.0f, max_score = 0.0f;  // over NORMAL pieces (unigram)
  bool byte_fallback = false;
  std::array<int32_t, 256> byte_piece{};  // id of <0xNN>, -1 if missing
  std::vector<int16_t> byte_value;        // per id: the byte of a BYTE piece, else -1
  SpmNormalizer normalizer;
  std::string normalizer_name;
  bool strip_leading_space = true;  // decode: add_dummy_prefix || remove_extra_whitespaces
  std::string unk_surface;
  int32_t bos = -1, eos = -1, unk_by_name = -1, pad = -1;

  bool is(int32_t id, int32_t type_) const { return pieces[static_cast<size_t>(id)].type == type_; }
  // libsentencepiece's PieceToId inside the model: reserved pieces first, then the vocab, and
  // <unk> for anything else.
  int32_t lookup(std::string_view piece) const {
    if (auto id = reserved.find(piece)) return *id;
    if (auto id = vocab.find(piece)) return *id;
    return unk;
  }
};

using SpmSegments = std::vector<std::pair<std::string_view, int32_t>>;

// Segment normalized text into (piece text, id). Unknown characters come out as `unk` one
// character at a time; the caller merges runs and applies byte fallback.
SpmSegments spm_segment_unigram(const SpmModelState& m, std::string_view normalized);
SpmSegments spm_segment_bpe(const SpmModelState& m, std::string_view normalized);
SpmSegments spm_segment_char(const SpmModelState& m, std::string_view normalized);

}  // namespace rt3
