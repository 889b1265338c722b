#include "runtime/tokenizer/unicode.h"

#include <algorithm>
#include <iterator>

namespace rt3::unicode {
namespace tables {

struct Range {
  char32_t lo, hi;
};
struct CccRange {
  char32_t lo, hi;
  uint8_t ccc;
};
struct Decomposition {
  char32_t cp;
  uint16_t offset;  // into kDecompositionPool
  uint8_t length;
};
struct CaseRun {
  char32_t lo, hi;
  uint8_t stride;
  int32_t delta;
};

#include "runtime/tokenizer/unicode_tables.inc"

}  // namespace tables

namespace {

constexpr char32_t kReplacement = 0xFFFD;

template <typename T, size_t N>
const T* find_range(const T (&table)[N], char32_t cp) {
  // First range whose hi >= cp; it contains cp iff its lo <= cp.
  const T* it = std::lower_bound(std::begin(table), std::end(table), cp,
                                 [](const T& r, char32_t c) { return r.hi < c; });
  return (it != std::end(table) && it->lo <= cp) ? it : nullptr;
}

// Hangul syllables decompose arithmetically (Unicode section 3.12), so they need no table.
constexpr char32_t kHangulBase = 0xAC00, kLeadBase = 0x1100, kVowelBase = 0x1161,
                   kTrailBase = 0x11A7;
constexpr char32_t kVowelCount = 21, kTrailCount = 28, kHangulCount = 11172;

}  // namespace

std::u32string utf8_to_u32(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char b = s[i];
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    size_t len;
    char32_t cp, min;
    if ((b & 0xE0) == 0xC0) { len = 2; cp = b & 0x1F; min = 0x80; }
    else if ((b & 0xF0) == 0xE0) { len = 3; cp = b & 0x0F; min = 0x800; }
    else if ((b & 0xF8) == 0xF0) { len = 4; cp = b & 0x07; min = 0x10000; }
    else { out.push_back(kReplacement); ++i; continue; }
    size_t k = 1;
    for (; k < len && i + k < n && (s[i + k] & 0xC0) == 0x80; ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
    if (k < len || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      // Skip the lead byte and the continuation bytes we consumed: one U+FFFD per bad sequence.
      out.push_back(kReplacement);
      i += k;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string u32_to_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(cp, out);
  return out;
}

bool is_whitespace(char32_t cp) { return find_range(tables::kWhitespace, cp) != nullptr; }

bool is_control(char32_t cp) {
  // Tab, newline and carriage return are Cc but BERT treats them as whitespace.
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  return find_range(tables::kControl, cp) != nullptr;
}

bool is_punctuation(char32_t cp) { return find_range(tables::kPunctuation, cp) != nullptr; }

bool is_mark_nonspacing(char32_t cp) {
  return find_range(tables::kMarkNonspacing, cp) != nullptr;
}

bool is_cjk_ideograph(char32_t cp) {
  // The "CJK Unified Ideographs" blocks as BERT defines them. Hiragana, Katakana and Hangul are
  // deliberately not here: BERT treats those as ordinary letters.
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

uint8_t combining_class(char32_t cp) {
  const auto* r = find_range(tables::kCombiningClass, cp);
  return r ? r->ccc : 0;
}

void append_decomposition(char32_t cp, std::u32string& out) {
  if (cp >= kHangulBase && cp < kHangulBase + kHangulCount) {
    const char32_t index = cp - kHangulBase;
    out.push_back(kLeadBase + index / (kVowelCount * kTrailCount));
    out.push_back(kVowelBase + (index % (kVowelCount * kTrailCount)) / kTrailCount);
    if (index % kTrailCount != 0) out.push_back(kTrailBase + index % kTrailCount);
    return;
  }
  const auto* end = std::end(tables::kDecomposition);
  const auto* it = std::lower_bound(std::begin(tables::kDecomposition), end, cp,
                                    [](const tables::Decomposition& d, char32_t c) { return d.cp < c; });
  if (it == end || it->cp != cp) {
    out.push_back(cp);
    return;
  }
  out.append(tables::kDecompositionPool + it->offset, it->length);
}

std::u32string to_nfd(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size() + text.size() / 4);
  for (char32_t cp : text) append_decomposition(cp, out);
  // Canonical ordering: within each run of marks with non-zero combining class, sort stably by
  // class. Runs are short (usually one mark), so insertion sort is the right tool.
  for (size_t i = 1; i < out.size(); ++i) {
    const uint8_t c = combining_class(out[i]);
    if (c == 0) continue;
    size_t j = i;
    while (j > 0) {
      const uint8_t prev = combining_class(out[j - 1]);
      if (prev == 0 || prev <= c) break;
      std::swap(out[j - 1], out[j]);
      --j;
    }
  }
  return out;
}

void append_lowercase(char32_t cp, std::u32string& out) {
  if (cp < 0x80) {  // fast path: most text is ASCII
    out.push_back((cp >= 'A' && cp <= 'Z') ? cp + 32 : cp);
    return;
  }
  if (cp == 0x130) {  // LATIN CAPITAL LETTER I WITH DOT ABOVE -> i + COMBINING DOT ABOVE
    out.push_back(0x69);
    out.push_back(0x307);
    return;
  }
  const auto* r = find_range(tables::kLowercase, cp);
  if (r && (cp - r->lo) % r->stride == 0) {
    out.push_back(static_cast<char32_t>(static_cast<int32_t>(cp) + r->delta));
  } else {
    out.push_back(cp);
  }
}

}  // namespace rt3::unicode
