// The segmentation algorithms of SentencePiece, written to pick exactly the pieces
// libsentencepiece picks (same tie-breaking, same float/double arithmetic), since any
// difference changes token ids and so a trained model's input.
#include <algorithm>
#include <queue>
#include <string>
#include <unordered_map>

#include "runtime/tokenizer/spm_model_impl.h"

namespace rt3 {
namespace {

// Bytes in the UTF-8 character starting with `lead` (1 for stray continuation bytes).
size_t one_char_len(char lead) {
  static constexpr unsigned char kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[static_cast<unsigned char>(lead) >> 4];
}

// Length of the next symbol: the longest user-defined piece there, else one character.
size_t next_symbol_len(const SpmModelState& m, std::string_view text, bool* user_defined) {
  size_t len = 0;
  m.user_defined.for_each_prefix(text, [&](size_t l, int32_t) { len = l; });
  if (user_defined) *user_defined = len > 0;
  if (len > 0) return len;
  return std::min(text.size(), one_char_len(text[0]));
}

}  // namespace

SpmSegments spm_segment_unigram(const SpmModelState& m, std::string_view text) {
  // Viterbi over all vocab pieces starting at each character boundary; best_*[e] describes the
  // best path ending at byte e. Only "best path so far" is kept because the model is unigram.
  SpmSegments out;
  if (text.empty()) return out;
  const size_t size = text.size();
  constexpr float kUnkPenalty = 10.0f;
  const float unk_score = m.min_score - kUnkPenalty;
  std::vector<float> best_score(size + 1, 0.0f);
  std::vector<int64_t> best_start(size + 1, -1);
  std::vector<int32_t> best_id(size + 1, -1);

  for (size_t start = 0; start < size;) {
    const float score_here = best_score[start];
    const size_t mblen = std::min(one_char_len(text[start]), size - start);
    bool has_single_char_piece = false;
    m.vocab.for_each_prefix(text.substr(start), [&](size_t len, int32_t id) {
      if (m.is(id, SpmProtoPiece::kUnused)) return;
      // Types as in libsentencepiece: the user-defined bonus is a double, so the candidate
      // is a double compared against the stored float; keeping that avoids rare tie flips.
      const double score = m.is(id, SpmProtoPiece::kUserDefined)
                               ? static_cast<double>(static_cast<float>(len) * m.max_score) - 0.1
                               : static_cast<double>(m.pieces[static_cast<size_t>(id)].score);
      const double candidate = score + score_here;
      const size_t end = start + len;
      if (best_start[end] == -1 || candidate > best_score[end]) {
        best_score[end] = static_cast<float>(candidate);
        best_start[end] = static_cast<int64_t>(start);
        best_id[end] = id;
      }
      if (len == mblen) has_single_char_piece = true;
    });
    if (!has_single_char_piece) {
      const size_t end = start + mblen;
      const float candidate = unk_score + score_here;
      if (best_start[end] == -1 || candidate > best_score[end]) {
        best_score[end] = candidate;
        best_start[end] = static_cast<int64_t>(start);
        best_id[end] = m.unk;
      }
    }
    start += mblen;
  }
  for (size_t end = size; end > 0;) {
    const auto start = static_cast<size_t>(best_start[end]);
    out.emplace_back(text.substr(start, end - start), best_id[end]);
    end = start;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

SpmSegments spm_segment_bpe(const SpmModelState& m, std::string_view text) {
  // Start from characters (user-defined symbols frozen whole) and repeatedly merge the adjacent
  // pair whose concatenation is the highest-scoring piece, leftmost first on ties.
  struct Symbol {
    int64_t prev, next;
    bool frozen;
    std::string_view piece;
  };
  struct Pair {
    int64_t left, right;
    float score;
    size_t size;
  };
  auto lower_priority = [](const Pair& a, const Pair& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Pair, std::vector<Pair>, decltype(lower_priority)> agenda(lower_priority);
  // UNUSED pieces may be formed by a merge but never emitted: remember how to split them again.
  std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>> unmerge;

  std::vector<Symbol> symbols;
  for (std::string_view rest = text; !rest.empty();) {
    bool frozen = false;
    const size_t len = next_symbol_len(m, rest, &frozen);
    const auto index = static_cast<int64_t>(symbols.size());
    symbols.push_back({index - 1, len == rest.size() ? -1 : index + 1, frozen, rest.substr(0, len)});
    rest.remove_prefix(len);
  }
  if (symbols.empty()) return {};

  auto try_pair = [&](int64_t left, int64_t right) {
    if (left == -1 || right == -1 || symbols[left].frozen || symbols[right].frozen) return;
    const std::string_view merged(symbols[left].piece.data(),
                                  symbols[left].piece.size() + symbols[right].piece.size());
    const auto id = m.vocab.find(merged);
    if (!id) return;
    agenda.push({left, right, m.pieces[static_cast<size_t>(*id)].score, merged.size()});
    if (m.is(*id, SpmProtoPiece::kUnused))
      unmerge[merged] = {symbols[left].piece, symbols[right].piece};
  };
  for (size_t i = 1; i < symbols.size(); ++i)
    try_pair(static_cast<int64_t>(i - 1), static_cast<int64_t>(i));

  while (!agenda.empty()) {
    const Pair top = agenda.top();
    agenda.pop();
    Symbol& l = symbols[top.left];
    Symbol& r = symbols[top.right];
    // Stale entry: one side was merged away or grew since this pair was queued.
    if (l.piece.empty() || r.piece.empty() || l.piece.size() + r.piece.size() != top.size) continue;
    l.piece = std::string_view(l.piece.data(), l.piece.size() + r.piece.size());
    l.next = r.next;
    if (r.next >= 0) symbols[r.next].prev = top.left;
    r.piece = std::string_view();
    try_pair(l.prev, top.left);
    try_pair(top.left, l.next);
  }

  SpmSegments out;
  // Recursion depth is bounded by the longest piece (each split shortens it).
  auto emit = [&](auto&& self, std::string_view w) -> void {
    const int32_t id = m.lookup(w);
    if (m.is(id, SpmProtoPiece::kUnused)) {
      const auto it = unmerge.find(w);
      if (it != unmerge.end()) {
        self(self, it->second.first);
        self(self, it->second.second);
        return;
      }
    }
    out.emplace_back(w, id);
  };
  for (int64_t i = 0; i != -1; i = symbols[i].next) emit(emit, symbols[i].piece);
  return out;
}

SpmSegments spm_segment_char(const SpmModelState& m, std::string_view text) {
  SpmSegments out;
  for (std::string_view rest = text; !rest.empty();) {
    const size_t len = next_symbol_len(m, rest, nullptr);
    out.emplace_back(rest.substr(0, len), m.lookup(rest.substr(0, len)));
    rest.remove_prefix(len);
  }
  return out;
}

}  // namespace rt3
