#include "runtime/tokenizer/spm_model.h"

#include <cfloat>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "runtime/format/input_file.h"
#include "runtime/tokenizer/spm_model_impl.h"

namespace rt3 {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("spm model: " + what); }

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // U+2581

// "<0x41>" -> 0x41; -1 if `piece` is not in that form.
int byte_of_piece(const std::string& piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return -1;
  int value = 0;
  for (int i = 3; i < 5; ++i) {
    const char c = piece[static_cast<size_t>(i)];
    int digit;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    else return -1;
    value = value * 16 + digit;
  }
  return value;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0;;) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) {
      out.append(s.substr(pos));
      return out;
    }
    out.append(s.substr(pos, hit - pos)).append(to);
    pos = hit + from.size();
  }
}

}  // namespace

SpmModel::SpmModel(std::shared_ptr<const SpmModelState> impl) : impl_(std::move(impl)) {}

SpmModel SpmModel::from_file(const std::string& path) {
  std::string bytes;
  try {
    bytes = format::read_input_file(path);
  } catch (const format::InputFileError& e) {
    fail(e.what());
  }
  try {
    return from_bytes(bytes);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + " (in '" + path + "')");
  }
}

SpmModel SpmModel::from_bytes(std::string_view serialized_model) {
  SpmProto proto = parse_spm_proto(serialized_model);
  auto m = std::make_shared<SpmModelState>();

  const int32_t type = proto.trainer_spec.model_type;
  if (type < 1 || type > 4) fail("unknown model_type " + std::to_string(type));
  m->type = static_cast<ModelType>(type);
  if (m->type == ModelType::kWord) fail("model_type WORD is not supported");
  if (proto.trainer_spec.treat_whitespace_as_suffix)
    fail("treat_whitespace_as_suffix=true is not supported");
  if (proto.has_denormalizer && !proto.denormalizer_spec.precompiled_charsmap.empty())
    fail("a denormalizer ('" + proto.denormalizer_spec.name + "') is not supported");
  if (proto.pieces.empty()) fail("no pieces");
  if (proto.pieces.size() > static_cast<size_t>(INT32_MAX)) fail("too many pieces");

  m->byte_fallback = proto.trainer_spec.byte_fallback;
  m->byte_piece.fill(-1);
  m->byte_value.assign(proto.pieces.size(), -1);
  std::vector<std::pair<std::string, int32_t>> vocab, reserved, user;
  m->min_score = FLT_MAX;
  m->max_score = FLT_MIN;  // as libsentencepiece: the smallest positive float, not -FLT_MAX
  for (size_t i = 0; i < proto.pieces.size(); ++i) {
    const SpmProtoPiece& p = proto.pieces[i];
    const auto id = static_cast<int32_t>(i);
    if (p.piece.empty()) fail("piece " + std::to_string(i) + " is empty");
    switch (p.type) {
      case SpmProtoPiece::kNormal:
        m->min_score = std::min(m->min_score, p.score);
        m->max_score = std::max(m->max_score, p.score);
        vocab.emplace_back(p.piece, id);
        break;
      case SpmProtoPiece::kUserDefined:
        user.emplace_back(p.piece, id);
        vocab.emplace_back(p.piece, id);
        break;
      case SpmProtoPiece::kUnused: vocab.emplace_back(p.piece, id); break;
      case SpmProtoPiece::kUnknown:
        if (m->unk >= 0) fail("more than one UNKNOWN piece");
        m->unk = id;
        reserved.emplace_back(p.piece, id);
        break;
      case SpmProtoPiece::kControl: reserved.emplace_back(p.piece, id); break;
      case SpmProtoPiece::kByte: {
        if (!m->byte_fallback) fail("byte piece '" + p.piece + "' in a model without byte_fallback");
        const int b = byte_of_piece(p.piece);
        if (b < 0) fail("malformed byte piece '" + p.piece + "'");
        m->byte_piece[static_cast<size_t>(b)] = id;
        m->byte_value[i] = static_cast<int16_t>(b);
        reserved.emplace_back(p.piece, id);
        break;
      }
      default: fail("piece " + std::to_string(i) + " has unknown type " + std::to_string(p.type));
    }
  }
  if (m->unk < 0) fail("no UNKNOWN (<unk>) piece");
  try {
    m->vocab = SpmTrie(std::move(vocab));
    m->reserved = SpmTrie(std::move(reserved));
    m->user_defined = SpmTrie(std::move(user));
  } catch (const std::runtime_error& e) {
    fail(std::string("duplicate piece: ") + e.what());
  }

  const SpmProtoNormalizerSpec& ns = proto.normalizer_spec;
  m->normalizer = SpmNormalizer(ns, proto.trainer_spec.treat_whitespace_as_suffix);
  m->normalizer_name = ns.name.empty() && ns.precompiled_charsmap.empty() ? "identity" : ns.name;
  m->strip_leading_space = ns.add_dummy_prefix || ns.remove_extra_whitespaces;
  m->unk_surface = proto.trainer_spec.unk_surface;
  auto by_name = [&](const std::string& name) -> int32_t {
    if (auto id = m->reserved.find(name)) return *id;
    if (auto id = m->vocab.find(name)) return *id;
    return -1;
  };
  m->bos = by_name(proto.trainer_spec.bos_piece);
  m->eos = by_name(proto.trainer_spec.eos_piece);
  m->unk_by_name = by_name(proto.trainer_spec.unk_piece);
  m->pad = by_name(proto.trainer_spec.pad_piece);
  m->pieces = std::move(proto.pieces);
  return SpmModel(std::move(m));
}

namespace {

// Segments `text` and applies libsentencepiece's post-processing: a run of unknown pieces
// becomes one <unk> (so decoders can copy it whole), or with byte_fallback each byte of it
// becomes its <0xNN> piece. `normalized` owns the text the returned views point into.
SpmSegments encode_segments(const SpmModelState& m, std::string_view text,
                            std::string& normalized) {
  normalized = m.normalizer.normalize(text, m.user_defined);
  SpmSegments raw;
  switch (m.type) {
    case SpmModel::ModelType::kUnigram: raw = spm_segment_unigram(m, normalized); break;
    case SpmModel::ModelType::kBpe: raw = spm_segment_bpe(m, normalized); break;
    case SpmModel::ModelType::kChar: raw = spm_segment_char(m, normalized); break;
    case SpmModel::ModelType::kWord: break;  // rejected at load time
  }
  SpmSegments out;
  out.reserve(raw.size());
  bool prev_unk = false;
  for (const auto& [piece, id] : raw) {
    const bool unk = id == m.unk;
    if (unk && m.byte_fallback) {
      for (const char c : piece) {
        const auto b = static_cast<uint8_t>(c);
        const int32_t bid = m.byte_piece[b];
        if (bid < 0) {
          out.emplace_back(piece, m.unk);  // model lacks this byte piece: keep <unk>
          continue;
        }
        out.emplace_back(m.pieces[static_cast<size_t>(bid)].piece, bid);  // views the model
      }
    } else if (unk && prev_unk && !out.empty()) {
      // Adjacent views into `normalized`: widen the previous one.
      std::string_view& last = out.back().first;
      last = std::string_view(last.data(), static_cast<size_t>(piece.data() + piece.size() - last.data()));
    } else {
      out.emplace_back(piece, id);
    }
    prev_unk = unk;
  }
  return out;
}

}  // namespace

std::vector<int32_t> SpmModel::encode(std::string_view text) const {
  std::string normalized;
  const SpmSegments segs = encode_segments(*impl_, text, normalized);
  std::vector<int32_t> ids;
  ids.reserve(segs.size());
  for (const auto& s : segs) ids.push_back(s.second);
  return ids;
}

std::vector<std::string> SpmModel::encode_pieces(std::string_view text) const {
  std::string normalized;
  const SpmSegments segs = encode_segments(*impl_, text, normalized);
  std::vector<std::string> pieces;
  pieces.reserve(segs.size());
  for (const auto& s : segs) pieces.emplace_back(s.first);
  return pieces;
}

std::string SpmModel::decode(const std::vector<int32_t>& ids) const {
  const SpmModelState& m = *impl_;
  std::string text;
  std::string bytes;  // a run of <0xNN> pieces, decoded together as UTF-8
  auto flush_bytes = [&] {
    for (size_t pos = 0; pos < bytes.size();) {
      const auto [valid, len] = spm_decode_utf8(std::string_view(bytes).substr(pos));
      if (valid) text.append(bytes, pos, len);
      else text.append("\xEF\xBF\xBD");  // each malformed byte becomes U+FFFD
      pos += len;
    }
    bytes.clear();
  };
  // libsentencepiece 0.1.97 strips a leading U+2581 from every piece while the output is still
  // empty: after control pieces or a lone "▁" (which strips to nothing) the next one loses it too.
  for (const int32_t id : ids) {
    check_id(id);
    const SpmProtoPiece& p = m.pieces[static_cast<size_t>(id)];
    if (p.type == SpmProtoPiece::kByte) {
      bytes.push_back(static_cast<char>(m.byte_value[static_cast<size_t>(id)]));
      continue;
    }
    flush_bytes();
    if (p.type == SpmProtoPiece::kControl) continue;
    if (p.type == SpmProtoPiece::kUnknown) {
      text.append(m.unk_surface);
      continue;
    }
    std::string_view piece = p.piece;
    if (text.empty() && m.strip_leading_space &&
        piece.substr(0, kSpaceSymbol.size()) == kSpaceSymbol)
      piece.remove_prefix(kSpaceSymbol.size());
    text.append(replace_all(piece, kSpaceSymbol, " "));
  }
  flush_bytes();
  return text;
}

void SpmModel::check_id(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->pieces.size())
    throw std::out_of_range("spm model: id " + std::to_string(id) + " outside vocab of " +
                            std::to_string(impl_->pieces.size()));
}

size_t SpmModel::vocab_size() const { return impl_->pieces.size(); }

std::optional<int32_t> SpmModel::piece_to_id(std::string_view piece) const {
  if (auto id = impl_->reserved.find(piece)) return id;
  return impl_->vocab.find(piece);
}

const std::string& SpmModel::id_to_piece(int32_t id) const {
  check_id(id);
  return impl_->pieces[static_cast<size_t>(id)].piece;
}

int32_t SpmModel::bos_id() const { return impl_->bos; }
int32_t SpmModel::eos_id() const { return impl_->eos; }
int32_t SpmModel::unk_id() const { return impl_->unk_by_name; }
int32_t SpmModel::pad_id() const { return impl_->pad; }
SpmModel::ModelType SpmModel::model_type() const { return impl_->type; }
const std::string& SpmModel::normalizer_name() const { return impl_->normalizer_name; }

}  // namespace rt3
