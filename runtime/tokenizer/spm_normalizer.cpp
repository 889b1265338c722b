#include "runtime/tokenizer/spm_normalizer.h"

#include <cstring>
#include <stdexcept>

namespace rt3 {
namespace {

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";          // U+2581
constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";      // U+FFFD

bool is_trail(uint8_t b) { return (b & 0xC0) == 0x80; }
bool valid_codepoint(uint32_t c) { return c < 0xD800 || (c >= 0xE000 && c <= 0x10FFFF); }

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::pair<bool, size_t> spm_decode_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  if (p[0] < 0x80) return {true, 1};
  if (n >= 2 && (p[0] & 0xE0) == 0xC0) {
    const uint32_t c = (p[0] & 0x1Fu) << 6 | (p[1] & 0x3Fu);
    if (is_trail(p[1]) && c >= 0x80) return {true, 2};
  } else if (n >= 3 && (p[0] & 0xF0) == 0xE0) {
    const uint32_t c = (p[0] & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
    if (is_trail(p[1]) && is_trail(p[2]) && c >= 0x800 && valid_codepoint(c)) return {true, 3};
  } else if (n >= 4 && (p[0] & 0xF8) == 0xF0) {
    const uint32_t c =
        (p[0] & 0x07u) << 18 | (p[1] & 0x3Fu) << 12 | (p[2] & 0x3Fu) << 6 | (p[3] & 0x3Fu);
    if (is_trail(p[1]) && is_trail(p[2]) && is_trail(p[3]) && c >= 0x10000 && valid_codepoint(c))
      return {true, 4};
  }
  return {false, 1};
}

SpmNormalizer::SpmNormalizer(const SpmProtoNormalizerSpec& spec, bool treat_whitespace_as_suffix)
    : add_dummy_prefix_(spec.add_dummy_prefix),
      remove_extra_whitespaces_(spec.remove_extra_whitespaces),
      escape_whitespaces_(spec.escape_whitespaces),
      treat_whitespace_as_suffix_(treat_whitespace_as_suffix) {
  const std::string& blob = spec.precompiled_charsmap;
  if (blob.empty()) return;  // identity
  // Layout: uint32 LE trie size in bytes, the trie units, then the replacement strings.
  if (blob.size() <= 4)
    throw std::runtime_error("spm model: precompiled_charsmap of normalizer '" + spec.name +
                             "' is too short");
  const auto* b = reinterpret_cast<const uint8_t*>(blob.data());
  const uint32_t trie_bytes = b[0] | b[1] << 8 | b[2] << 16 | static_cast<uint32_t>(b[3]) << 24;
  if (trie_bytes >= blob.size() - 4 || trie_bytes < 4)
    throw std::runtime_error("spm model: precompiled_charsmap of normalizer '" + spec.name +
                             "' has a bad trie size " + std::to_string(trie_bytes));
  units_.resize(trie_bytes / 4);
  for (size_t i = 0; i < units_.size(); ++i) {
    const uint8_t* u = b + 4 + 4 * i;
    units_[i] = u[0] | u[1] << 8 | u[2] << 16 | static_cast<uint32_t>(u[3]) << 24;
  }
  normalized_ = blob.substr(4 + trie_bytes);
}

std::pair<size_t, uint32_t> SpmNormalizer::charsmap_longest_match(std::string_view text) const {
  // Darts-clone unit bits: label in bits 0-7 (bit 31 set marks a value unit), has_leaf in bit 8,
  // offset in bits 10-31 (scaled by 256 when bit 9 is set), value in bits 0-30.
  auto offset = [](uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); };
  auto unit = [this](size_t id) {
    if (id >= units_.size()) throw std::runtime_error("spm model: corrupt precompiled_charsmap");
    return units_[id];
  };
  size_t best_len = 0;
  uint32_t best_value = 0;
  size_t id = offset(unit(0));
  for (size_t i = 0; i < text.size(); ++i) {
    const auto label = static_cast<uint8_t>(text[i]);
    id ^= label;
    const uint32_t u = unit(id);
    if ((u & (0x80000000u | 0xFFu)) != label) break;
    id ^= offset(u);
    if ((u >> 8) & 1u) {  // a key ends here; its value sits in the unit at the new id
      best_len = i + 1;
      best_value = unit(id) & 0x7FFFFFFFu;
    }
  }
  return {best_len, best_value};
}

std::pair<std::string_view, size_t> SpmNormalizer::normalize_prefix(
    std::string_view text, const SpmTrie& user_defined) const {
  size_t user_len = 0;
  user_defined.for_each_prefix(text, [&](size_t len, int32_t) { user_len = len; });
  if (user_len > 0) return {text.substr(0, user_len), user_len};

  if (!units_.empty()) {
    const auto [len, value] = charsmap_longest_match(text);
    if (len > 0) {
      if (value >= normalized_.size())
        throw std::runtime_error("spm model: precompiled_charsmap points outside its strings");
      const size_t end = normalized_.find('\0', value);
      if (end == std::string::npos)
        throw std::runtime_error("spm model: precompiled_charsmap string is not NUL-terminated");
      return {std::string_view(normalized_).substr(value, end - value), len};
    }
  }
  const auto [valid, len] = spm_decode_utf8(text);
  // A malformed byte becomes U+FFFD and only that one byte is consumed.
  if (!valid) return {kReplacementChar, 1};
  return {text.substr(0, len), len};
}

std::string SpmNormalizer::normalize(std::string_view text, const SpmTrie& user_defined) const {
  std::string out;
  if (remove_extra_whitespaces_) {
    while (!text.empty()) {
      const auto [s, consumed] = normalize_prefix(text, user_defined);
      if (s != " ") break;
      text.remove_prefix(consumed);
    }
  }
  if (text.empty()) return out;  // nothing but whitespace

  out.reserve(text.size() * 3 / 2 + 4);
  const std::string_view space = escape_whitespaces_ ? kSpaceSymbol : std::string_view(" ");
  if (add_dummy_prefix_ && !treat_whitespace_as_suffix_) out.append(space);

  bool prev_space = remove_extra_whitespaces_;
  while (!text.empty()) {
    auto [s, consumed] = normalize_prefix(text, user_defined);
    if (prev_space) {
      while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    }
    if (!s.empty()) {
      for (const char c : s) {
        if (c == ' ' && escape_whitespaces_) out.append(kSpaceSymbol);
        else out.push_back(c);
      }
      prev_space = s.back() == ' ';
    }
    text.remove_prefix(consumed);
    if (!remove_extra_whitespaces_) prev_space = false;
  }
  if (remove_extra_whitespaces_) {
    while (ends_with(out, space)) out.resize(out.size() - space.size());
  }
  if (add_dummy_prefix_ && treat_whitespace_as_suffix_) out.append(space);
  return out;
}

}  // namespace rt3
