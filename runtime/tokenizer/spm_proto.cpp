// Hand-written protobuf wire-format reader for sentencepiece.ModelProto. We avoid libprotobuf
// because Debian's libsentencepiece bundles its own copy, which clashes with LibTorch's.
#include "runtime/tokenizer/spm_proto.h"

#include <cstring>
#include <stdexcept>

namespace rt3 {
namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kStartGroup = 3,
                           kEndGroup = 4, kFixed32 = 5 };

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("spm model: " + what);
}

// A cursor over one message's bytes; every read checks the remaining length first.
class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }

  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) fail("truncated varint at byte " + std::to_string(pos_));
      const auto byte = static_cast<uint8_t>(data_[pos_++]);
      // The 10th byte may only carry the top bit of a 64-bit value.
      if (shift == 63 && byte > 1) fail("varint overflows 64 bits");
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    fail("varint longer than 10 bytes");
  }

  std::string_view bytes(size_t n) {
    if (n > data_.size() - pos_)
      fail("length " + std::to_string(n) + " runs past the end of its message (" +
           std::to_string(data_.size() - pos_) + " bytes left)");
    const std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  std::string_view length_delimited() {
    const uint64_t n = varint();
    if (n > data_.size()) fail("length " + std::to_string(n) + " larger than the model");
    return bytes(static_cast<size_t>(n));
  }

  float fixed32_float() {
    const std::string_view b = bytes(4);
    // Wire order is little-endian; assemble explicitly so big-endian hosts read it right too.
    const uint32_t bits = static_cast<uint32_t>(static_cast<uint8_t>(b[0])) |
                          static_cast<uint32_t>(static_cast<uint8_t>(b[1])) << 8 |
                          static_cast<uint32_t>(static_cast<uint8_t>(b[2])) << 16 |
                          static_cast<uint32_t>(static_cast<uint8_t>(b[3])) << 24;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }

  void skip(uint32_t wire_type) {
    switch (wire_type) {
      case kVarint: varint(); return;
      case kFixed64: bytes(8); return;
      case kLengthDelimited: length_delimited(); return;
      case kFixed32: bytes(4); return;
      default: fail("unsupported wire type " + std::to_string(wire_type));
    }
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

struct Tag {
  uint32_t field;
  uint32_t wire_type;
};

Tag read_tag(WireReader& r) {
  const uint64_t key = r.varint();
  const uint64_t field = key >> 3;
  if (field == 0 || field > 0x1FFFFFFF) fail("invalid field number " + std::to_string(field));
  const auto wire = static_cast<uint32_t>(key & 7);
  if (wire == kStartGroup || wire == kEndGroup || wire > kFixed32)
    fail("unsupported wire type " + std::to_string(wire) + " for field " + std::to_string(field));
  return {static_cast<uint32_t>(field), wire};
}

void expect(const Tag& t, uint32_t wire, const char* name) {
  if (t.wire_type != wire)
    fail(std::string(name) + " (field " + std::to_string(t.field) + ") has wire type " +
         std::to_string(t.wire_type) + ", expected " + std::to_string(wire));
}

// proto2 int32/enum: negative values are sign-extended to 64 bits on the wire.
int32_t as_int32(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }

void parse_piece(std::string_view data, SpmProtoPiece& p) {
  WireReader r(data);
  while (!r.done()) {
    const Tag t = read_tag(r);
    switch (t.field) {
      case 1: expect(t, kLengthDelimited, "piece"); p.piece = std::string(r.length_delimited()); break;
      case 2: expect(t, kFixed32, "score"); p.score = r.fixed32_float(); break;
      case 3: expect(t, kVarint, "type"); p.type = as_int32(r.varint()); break;
      default: r.skip(t.wire_type);
    }
  }
}

void parse_trainer(std::string_view data, SpmProtoTrainerSpec& s) {
  WireReader r(data);
  while (!r.done()) {
    const Tag t = read_tag(r);
    auto str = [&](const char* name, std::string& out) {
      expect(t, kLengthDelimited, name);
      out = std::string(r.length_delimited());
    };
    auto flag = [&](const char* name, bool& out) {
      expect(t, kVarint, name);
      out = r.varint() != 0;
    };
    switch (t.field) {
      case 3: expect(t, kVarint, "model_type"); s.model_type = as_int32(r.varint()); break;
      case 24: flag("treat_whitespace_as_suffix", s.treat_whitespace_as_suffix); break;
      case 35: flag("byte_fallback", s.byte_fallback); break;
      case 44: str("unk_surface", s.unk_surface); break;
      case 45: str("unk_piece", s.unk_piece); break;
      case 46: str("bos_piece", s.bos_piece); break;
      case 47: str("eos_piece", s.eos_piece); break;
      case 48: str("pad_piece", s.pad_piece); break;
      default: r.skip(t.wire_type);
    }
  }
}

void parse_normalizer(std::string_view data, SpmProtoNormalizerSpec& s) {
  WireReader r(data);
  while (!r.done()) {
    const Tag t = read_tag(r);
    switch (t.field) {
      case 1: expect(t, kLengthDelimited, "name"); s.name = std::string(r.length_delimited()); break;
      case 2:
        expect(t, kLengthDelimited, "precompiled_charsmap");
        s.precompiled_charsmap = std::string(r.length_delimited());
        break;
      case 3: expect(t, kVarint, "add_dummy_prefix"); s.add_dummy_prefix = r.varint() != 0; break;
      case 4:
        expect(t, kVarint, "remove_extra_whitespaces");
        s.remove_extra_whitespaces = r.varint() != 0;
        break;
      case 5:
        expect(t, kVarint, "escape_whitespaces");
        s.escape_whitespaces = r.varint() != 0;
        break;
      default: r.skip(t.wire_type);
    }
  }
}

}  // namespace

SpmProto parse_spm_proto(std::string_view bytes) {
  if (bytes.empty()) fail("empty model data");
  SpmProto proto;
  WireReader r(bytes);
  // A sub-message that appears twice is merged field by field, as protobuf does; parsing each
  // occurrence into the same struct gives exactly that.
  while (!r.done()) {
    const Tag t = read_tag(r);
    switch (t.field) {
      case 1:
        expect(t, kLengthDelimited, "pieces");
        proto.pieces.emplace_back();
        parse_piece(r.length_delimited(), proto.pieces.back());
        break;
      case 2: expect(t, kLengthDelimited, "trainer_spec"); parse_trainer(r.length_delimited(), proto.trainer_spec); break;
      case 3:
        expect(t, kLengthDelimited, "normalizer_spec");
        parse_normalizer(r.length_delimited(), proto.normalizer_spec);
        break;
      case 5:
        expect(t, kLengthDelimited, "denormalizer_spec");
        proto.has_denormalizer = true;
        parse_normalizer(r.length_delimited(), proto.denormalizer_spec);
        break;
      default: r.skip(t.wire_type);
    }
  }
  return proto;
}

}  // namespace rt3
