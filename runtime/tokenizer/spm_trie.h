// A compact byte trie from strings to ids: the piece vocabulary of a SentencePiece model. It
// answers "which keys are prefixes of this text" in one walk, which is what both the unigram
// lattice and the user-defined-symbol matcher need.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rt3 {

class SpmTrie {
 public:
  SpmTrie() = default;
  // Keys must be unique and non-empty (the caller checks; duplicates throw).
  explicit SpmTrie(std::vector<std::pair<std::string, int32_t>> entries);

  bool empty() const { return nodes_.size() <= 1; }
  std::optional<int32_t> find(std::string_view key) const;

  // Calls f(length, id) for every key that is a prefix of `text`, shortest first.
  template <typename F>
  void for_each_prefix(std::string_view text, F&& f) const {
    if (nodes_.empty()) return;
    uint32_t node = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      const int64_t next = child(node, static_cast<uint8_t>(text[i]));
      if (next < 0) return;
      node = static_cast<uint32_t>(next);
      if (nodes_[node].value >= 0) f(i + 1, nodes_[node].value);
    }
  }

 private:
  struct Node {
    int32_t value = -1;
    uint32_t edge_begin = 0;
    uint32_t edge_count = 0;
  };
  struct Edge {
    uint8_t label;
    uint32_t child;
  };
  int64_t child(uint32_t node, uint8_t label) const;
  uint32_t build(const std::vector<std::pair<std::string, int32_t>>& sorted, size_t lo, size_t hi,
                 size_t depth);

  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
};

}  // namespace rt3
