#include "runtime/tokenizer/wordpiece.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "runtime/format/input_file.h"
#include "runtime/tokenizer/bert_basic.h"
#include "runtime/tokenizer/unicode.h"

namespace rt3 {
namespace {

// Like HF (Rust lines() + trim_end): drop the line ending and any trailing whitespace.
std::string trim_end(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t' ||
                        s.back() == '\v' || s.back() == '\f'))
    s.pop_back();
  return s;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

// HF's WordPiece decoder cleanup, applied to each token (with its leading space) as HF does:
// in practice it only removes the space before . ? ! and , since the other patterns span
// several tokens.
void cleanup_token(std::string& t) {
  static constexpr std::string_view kRules[][2] = {
      {" .", "."},        {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"},    {" 'm", "'m"}, {" do not", " don't"},         {" 's", "'s"},
      {" 've", "'ve"},    {" 're", "'re"}};
  for (const auto& rule : kRules) replace_all(t, rule[0], rule[1]);
}

}  // namespace

WordPieceTokenizer WordPieceTokenizer::from_vocab_file(const std::string& path,
                                                       const WordPieceOptions& options) {
  std::istringstream in(format::read_input_file(path));  // never blocks on a FIFO
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) tokens.push_back(trim_end(std::move(line)));
  if (in.bad()) throw std::runtime_error("WordPiece: error reading vocab file '" + path + "'");
  if (tokens.empty()) throw std::runtime_error("WordPiece: vocab file '" + path + "' is empty");
  try {
    return from_vocab(std::move(tokens), options);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + " (vocab file '" + path + "')");
  }
}

WordPieceTokenizer WordPieceTokenizer::from_vocab(std::vector<std::string> tokens,
                                                  const WordPieceOptions& options) {
  if (tokens.empty()) throw std::runtime_error("WordPiece: empty vocab");
  if (tokens.size() > static_cast<size_t>(INT32_MAX))
    throw std::runtime_error("WordPiece: vocab too large");
  WordPieceTokenizer t;
  t.options_ = options;
  t.id_to_token_ = std::move(tokens);
  t.token_to_id_.reserve(t.id_to_token_.size());
  // A duplicated line maps to its last id, as in HF (later inserts overwrite).
  for (size_t i = 0; i < t.id_to_token_.size(); ++i)
    t.token_to_id_[t.id_to_token_[i]] = static_cast<int32_t>(i);

  auto lookup = [&](const std::string& token) {
    auto it = t.token_to_id_.find(token);
    return it == t.token_to_id_.end() ? -1 : it->second;
  };
  t.unk_id_ = lookup(options.unk_token);
  if (t.unk_id_ < 0)
    throw std::runtime_error("WordPiece: vocab has no unknown token '" + options.unk_token + "'");
  t.cls_id_ = lookup(options.cls_token);
  t.sep_id_ = lookup(options.sep_token);
  t.pad_id_ = lookup(options.pad_token);
  t.mask_id_ = lookup(options.mask_token);
  for (const std::string* s : {&options.pad_token, &options.unk_token, &options.cls_token,
                               &options.sep_token, &options.mask_token}) {
    const int32_t id = lookup(*s);
    if (id >= 0 && !s->empty() && !t.is_special(id)) t.specials_.push_back({*s, id});
  }
  return t;
}

std::optional<int32_t> WordPieceTokenizer::token_to_id(std::string_view token) const {
  auto it = token_to_id_.find(std::string(token));
  if (it == token_to_id_.end()) return std::nullopt;
  return it->second;
}

const std::string& WordPieceTokenizer::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size())
    throw std::out_of_range("WordPiece: token id " + std::to_string(id) +
                            " outside the vocab of " + std::to_string(id_to_token_.size()));
  return id_to_token_[static_cast<size_t>(id)];
}

bool WordPieceTokenizer::is_special(int32_t id) const {
  return std::any_of(specials_.begin(), specials_.end(),
                     [id](const Special& s) { return s.id == id; });
}

std::vector<int32_t> WordPieceTokenizer::encode_ids(std::string_view text) const {
  // Special tokens are found in the raw text first (HF's added-vocabulary pass: leftmost match,
  // longest on ties, not normalised), so "[SEP]" survives lower-casing and punctuation splits.
  std::vector<int32_t> ids;
  size_t segment_start = 0, i = 0;
  while (i < text.size()) {
    const Special* best = nullptr;
    for (const Special& s : specials_)
      if (text[i] == s.text[0] && text.compare(i, s.text.size(), s.text) == 0 &&
          (!best || s.text.size() > best->text.size()))
        best = &s;
    if (!best) {
      ++i;
      continue;
    }
    encode_segment(text.substr(segment_start, i - segment_start), ids);
    ids.push_back(best->id);
    i += best->text.size();
    segment_start = i;
  }
  encode_segment(text.substr(segment_start), ids);
  return ids;
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> out;
  for (int32_t id : encode_ids(text)) out.push_back(id_to_token(id));
  return out;
}

void WordPieceTokenizer::encode_segment(std::string_view text, std::vector<int32_t>& ids) const {
  if (text.empty()) return;
  BertNormalizerOptions norm;
  norm.clean_text = options_.clean_text;
  norm.handle_chinese_chars = options_.handle_chinese_chars;
  norm.lowercase = options_.lowercase;
  norm.strip_accents = options_.strip_accents.value_or(options_.lowercase);
  const std::u32string normalized = bert_normalize(unicode::utf8_to_u32(text), norm);
  for (const std::u32string& word : bert_pre_tokenize(normalized)) encode_word(word, ids);
}

void WordPieceTokenizer::encode_word(const std::u32string& word, std::vector<int32_t>& ids) const {
  if (word.size() > options_.max_input_chars_per_word) {
    ids.push_back(unk_id_);
    return;
  }
  // Greedy longest-match-first over code point boundaries. Work in UTF-8 (the vocab's form) and
  // remember where each code point starts.
  std::string utf8;
  std::vector<size_t> starts;
  starts.reserve(word.size() + 1);
  for (char32_t cp : word) {
    starts.push_back(utf8.size());
    unicode::append_utf8(cp, utf8);
  }
  starts.push_back(utf8.size());

  const size_t first_piece = ids.size();
  const std::string& prefix = options_.continuing_subword_prefix;
  std::string candidate;
  size_t begin = 0;  // index into starts
  while (begin < word.size()) {
    int32_t found = -1;
    size_t end = word.size();
    for (; end > begin; --end) {
      candidate.clear();
      if (begin > 0) candidate = prefix;
      candidate.append(utf8, starts[begin], starts[end] - starts[begin]);
      auto it = token_to_id_.find(candidate);
      if (it != token_to_id_.end()) {
        found = it->second;
        break;
      }
    }
    if (found < 0) {  // some part of the word matches nothing: the whole word is unknown
      ids.resize(first_piece);
      ids.push_back(unk_id_);
      return;
    }
    ids.push_back(found);
    begin = end;
  }
}

int32_t WordPieceTokenizer::required_id(int32_t id, const std::string& token) const {
  if (id < 0) throw std::runtime_error("WordPiece: vocab has no '" + token + "' token");
  return id;
}

Encoding WordPieceTokenizer::encode(std::string_view text, size_t max_len, bool pad_to_max) const {
  return finish(encode_ids(text), nullptr, max_len, pad_to_max);
}

Encoding WordPieceTokenizer::encode_pair(std::string_view a, std::string_view b, size_t max_len,
                                         bool pad_to_max) const {
  const std::vector<int32_t> second = encode_ids(b);
  return finish(encode_ids(a), &second, max_len, pad_to_max);
}

Encoding WordPieceTokenizer::finish(std::vector<int32_t> a, const std::vector<int32_t>* b_in,
                                    size_t max_len, bool pad_to_max) const {
  const int32_t cls = required_id(cls_id_, options_.cls_token);
  const int32_t sep = required_id(sep_id_, options_.sep_token);
  std::vector<int32_t> b = b_in ? *b_in : std::vector<int32_t>{};
  const size_t added = b_in ? 3 : 2;
  if (max_len > 0) {
    if (max_len < added)
      throw std::invalid_argument("WordPiece: max_len " + std::to_string(max_len) +
                                  " leaves no room for the " + std::to_string(added) +
                                  " special tokens");
    const size_t budget = max_len - added;
    if (a.size() + b.size() > budget) {
      // HF's longest_first: keep the shorter side whole if it fits in half, else split evenly.
      size_t n1 = a.size(), n2 = b.size();
      const bool swapped = n1 > n2;
      if (swapped) std::swap(n1, n2);
      n2 = n1 > budget ? n1 : std::max(n1, budget - n1);
      if (n1 + n2 > budget) {
        n1 = budget / 2;
        n2 = n1 + budget % 2;
      }
      if (swapped) std::swap(n1, n2);
      a.resize(std::min(a.size(), n1));
      b.resize(std::min(b.size(), n2));
    }
  }
  Encoding e;
  e.ids.reserve(std::max(max_len, a.size() + b.size() + added));
  e.ids.push_back(cls);
  e.ids.insert(e.ids.end(), a.begin(), a.end());
  e.ids.push_back(sep);
  e.type_ids.assign(e.ids.size(), 0);
  if (b_in) {
    e.ids.insert(e.ids.end(), b.begin(), b.end());
    e.ids.push_back(sep);
    e.type_ids.resize(e.ids.size(), 1);
  }
  e.attention_mask.assign(e.ids.size(), 1);
  if (pad_to_max && e.ids.size() < max_len) {
    const int32_t pad = required_id(pad_id_, options_.pad_token);
    e.ids.resize(max_len, pad);
    e.type_ids.resize(max_len, 0);
    e.attention_mask.resize(max_len, 0);
  }
  return e;
}

std::string WordPieceTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens,
                                       bool cleanup) const {
  std::string out;
  bool first = true;
  const std::string& prefix = options_.continuing_subword_prefix;
  for (int32_t id : ids) {
    const std::string& token = id_to_token(id);
    if (skip_special_tokens && is_special(id)) continue;
    std::string piece;
    if (first) {
      piece = token;
    } else if (!prefix.empty() && token.compare(0, prefix.size(), prefix) == 0) {
      piece = token.substr(prefix.size());
    } else {
      piece = " " + token;
    }
    first = false;
    if (cleanup) cleanup_token(piece);
    out += piece;
  }
  return out;
}

}  // namespace rt3
