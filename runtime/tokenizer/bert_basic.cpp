#include "runtime/tokenizer/bert_basic.h"

#include "runtime/tokenizer/unicode.h"

namespace rt3 {

std::u32string bert_normalize(std::u32string_view text, const BertNormalizerOptions& options) {
  std::u32string s;
  s.reserve(text.size());
  for (char32_t cp : text) {
    if (options.clean_text) {
      if (cp == 0 || cp == 0xFFFD || unicode::is_control(cp)) continue;
      if (unicode::is_whitespace(cp)) cp = ' ';
    }
    if (options.handle_chinese_chars && unicode::is_cjk_ideograph(cp)) {
      s.push_back(' ');
      s.push_back(cp);
      s.push_back(' ');
    } else {
      s.push_back(cp);
    }
  }
  if (options.strip_accents) {
    std::u32string decomposed = unicode::to_nfd(s);
    s.clear();
    for (char32_t cp : decomposed)
      if (!unicode::is_mark_nonspacing(cp)) s.push_back(cp);
  }
  if (options.lowercase) {
    std::u32string lower;
    lower.reserve(s.size());
    for (char32_t cp : s) unicode::append_lowercase(cp, lower);
    s.swap(lower);
  }
  return s;
}

std::vector<std::u32string> bert_pre_tokenize(std::u32string_view text) {
  std::vector<std::u32string> words;
  std::u32string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  for (char32_t cp : text) {
    if (unicode::is_whitespace(cp)) {
      flush();
    } else if (unicode::is_punctuation(cp)) {
      flush();
      words.emplace_back(1, cp);
    } else {
      current.push_back(cp);
    }
  }
  flush();
  return words;
}

}  // namespace rt3
