#include "runtime/tokenizer/spm_trie.h"

#include <algorithm>
#include <stdexcept>

namespace rt3 {

SpmTrie::SpmTrie(std::vector<std::pair<std::string, int32_t>> entries) {
  // Sorting first lets each node's children be laid out contiguously (one edge block per node),
  // so the trie is two flat arrays instead of a node-per-allocation tree.
  std::sort(entries.begin(), entries.end());
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].first.empty()) throw std::runtime_error("spm trie: empty key");
    if (i > 0 && entries[i].first == entries[i - 1].first)
      throw std::runtime_error("spm trie: duplicate key '" + entries[i].first + "'");
  }
  build(entries, 0, entries.size(), 0);
}

uint32_t SpmTrie::build(const std::vector<std::pair<std::string, int32_t>>& sorted, size_t lo,
                        size_t hi, size_t depth) {
  const auto index = static_cast<uint32_t>(nodes_.size());
  nodes_.emplace_back();
  // Sorted order puts the key that ends exactly here first in its range.
  if (lo < hi && sorted[lo].first.size() == depth) nodes_[index].value = sorted[lo++].second;
  // Group the rest by their byte at `depth`.
  std::vector<std::pair<size_t, size_t>> groups;
  for (size_t i = lo; i < hi;) {
    size_t j = i + 1;
    while (j < hi && sorted[j].first[depth] == sorted[i].first[depth]) ++j;
    groups.emplace_back(i, j);
    i = j;
  }
  const auto edge_begin = static_cast<uint32_t>(edges_.size());
  nodes_[index].edge_begin = edge_begin;
  nodes_[index].edge_count = static_cast<uint32_t>(groups.size());
  for (const auto& g : groups) edges_.push_back({static_cast<uint8_t>(sorted[g.first].first[depth]), 0});
  for (size_t k = 0; k < groups.size(); ++k) {
    const uint32_t c = build(sorted, groups[k].first, groups[k].second, depth + 1);
    edges_[edge_begin + k].child = c;
  }
  return index;
}

int64_t SpmTrie::child(uint32_t node, uint8_t label) const {
  const Node& n = nodes_[node];
  const auto begin = edges_.begin() + n.edge_begin;
  const auto end = begin + n.edge_count;
  // Edges are sorted by unsigned byte: std::string compares through char_traits<char>, which
  // orders bytes as unsigned char.
  const auto it = std::lower_bound(begin, end, label,
                                   [](const Edge& e, uint8_t l) { return e.label < l; });
  if (it == end || it->label != label) return -1;
  return it->child;
}

std::optional<int32_t> SpmTrie::find(std::string_view key) const {
  std::optional<int32_t> out;
  if (key.empty()) return out;
  for_each_prefix(key, [&](size_t len, int32_t id) {
    if (len == key.size()) out = id;
  });
  return out;
}

}  // namespace rt3
