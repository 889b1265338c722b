// SentencePiece text normalization: the precompiled character map (e.g. nmt_nfkc; none for
// `identity`), whitespace clean-up, the dummy-prefix space and escaping ' ' as U+2581.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/tokenizer/spm_proto.h"
#include "runtime/tokenizer/spm_trie.h"

namespace rt3 {

class SpmNormalizer {
 public:
  SpmNormalizer() = default;
  // Throws std::runtime_error when the precompiled charsmap is malformed.
  SpmNormalizer(const SpmProtoNormalizerSpec& spec, bool treat_whitespace_as_suffix);

  // `user_defined` holds the model's USER_DEFINED pieces: they are copied through untouched,
  // as libsentencepiece does, so a symbol like "<sep>" survives normalization.
  std::string normalize(std::string_view text, const SpmTrie& user_defined) const;

 private:
  // The normalized form of the longest rule matching the start of `text`, and how many input
  // bytes it consumed.
  std::pair<std::string_view, size_t> normalize_prefix(std::string_view text,
                                                       const SpmTrie& user_defined) const;
  // Longest charsmap key that prefixes `text`: (length, offset into normalized_), length 0 if
  // none. Walks the Darts-clone double array stored in the model.
  std::pair<size_t, uint32_t> charsmap_longest_match(std::string_view text) const;

  bool add_dummy_prefix_ = true;
  bool remove_extra_whitespaces_ = true;
  bool escape_whitespaces_ = true;
  bool treat_whitespace_as_suffix_ = false;
  std::vector<uint32_t> units_;  // double-array trie units (empty: identity)
  std::string normalized_;       // NUL-terminated replacement strings the units point into
};

// Length of the UTF-8 character at the start of `s` (1 for an invalid byte), and whether it is
// valid (well-formed, not overlong, not a surrogate, <= U+10FFFF). `s` must not be empty.
std::pair<bool, size_t> spm_decode_utf8(std::string_view s);

}  // namespace rt3
