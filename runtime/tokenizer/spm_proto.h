// Reads a SentencePiece `.model` file (a serialized sentencepiece.ModelProto) without protobuf.
// Only the fields that change encoding or decoding are kept; everything else is skipped by its
// wire type. Field numbers follow sentencepiece_model.proto (proto2).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rt3 {

struct SpmProtoPiece {
  enum Type : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5,
                        kByte = 6 };
  std::string piece;
  float score = 0.0f;
  int32_t type = kNormal;
};

struct SpmProtoTrainerSpec {  // ModelProto.trainer_spec (field 2)
  int32_t model_type = 1;     // 3: 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR
  bool treat_whitespace_as_suffix = false;  // 24
  bool byte_fallback = false;               // 35
  std::string unk_piece = "<unk>";          // 45
  std::string bos_piece = "<s>";            // 46
  std::string eos_piece = "</s>";           // 47
  std::string pad_piece = "<pad>";          // 48
  std::string unk_surface = " \xE2\x81\x87 ";  // 44: what decode() prints for <unk>
};

struct SpmProtoNormalizerSpec {  // ModelProto.normalizer_spec (3) / denormalizer_spec (5)
  std::string name;                  // 1
  std::string precompiled_charsmap;  // 2
  bool add_dummy_prefix = true;          // 3
  bool remove_extra_whitespaces = true;  // 4
  bool escape_whitespaces = true;        // 5
};

struct SpmProto {
  std::vector<SpmProtoPiece> pieces;  // 1 (repeated)
  SpmProtoTrainerSpec trainer_spec;   // 2
  SpmProtoNormalizerSpec normalizer_spec;  // 3
  bool has_denormalizer = false;
  SpmProtoNormalizerSpec denormalizer_spec;  // 5
};

// Parses the wire format. Throws std::runtime_error("spm model: ...") on truncated data, a bad
// varint, a length running past its message, a wire type that does not fit a known field, or
// groups (never used by sentencepiece). Never reads outside `bytes`.
SpmProto parse_spm_proto(std::string_view bytes);

}  // namespace rt3
