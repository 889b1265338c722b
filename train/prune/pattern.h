#pragma once
// Pattern pruning primitives (docs/design.md "Stage 3: pattern sets"). A Linear weight W[out, in]
// is cut into tiles of TileSpec.rows output rows x TileSpec.cols input columns (the last ones may
// be ragged: they are treated as zero-padded). A *pattern* is a 0/1 mask over a tile's columns
// (1 = kept), shared by all rows of the tile, so a pattern-pruned tile keeps whole column segments,
// the shape the runtime kernel computes well (runtime/kernels/pattern_linear.h). The *pruning
// number* p of a pattern is the number of columns it removes.
//
// Candidates come from the weights' own importance: sampled tiles each vote for the pattern that
// keeps their cols - p largest-|w| columns; the most voted patterns are the candidates (about 10 per
// layer and pruning number). A *set* is a few candidates; every tile takes the pattern of its set
// that is nearest to it in Euclidean distance, i.e. that keeps the most of its squared weight.
// Only train/ includes this header (it includes torch).
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace rt3::prune {

struct TileSpec {
  int64_t rows = 16, cols = 16;
};

// Sum of squares of every column segment of every tile: [n_row_tiles, n_col_tiles, cols]
// (padding columns/rows count as zeros). Float32, no grad.
torch::Tensor tile_column_energy(const torch::Tensor& W, const TileSpec& t);

// Up to n_candidates patterns removing `pruning_number` columns each: [n, cols] float 0/1, most
// voted first (ties: more summed kept energy first, then lower bit pattern). Votes come from
// min(sample_tiles, all tiles) tiles sampled with `seed` (every tile when sample_tiles >= all).
// A tile votes for the pattern keeping its cols - p columns of largest L1 norm (ties: lower column).
torch::Tensor pattern_candidates(const torch::Tensor& W, const TileSpec& t, int64_t pruning_number,
                                 int64_t n_candidates, int64_t sample_tiles, uint64_t seed);

// Chooses k of the candidates (rows of `candidates`) greedily so that the sampled tiles, each
// taking its nearest chosen pattern, keep the most squared weight (facility location; greedy is
// within 1 - 1/e of the best). Returns the chosen row indices, in the order chosen.
std::vector<int64_t> choose_set(const torch::Tensor& W, const TileSpec& t, const torch::Tensor& candidates, int64_t k,
                                int64_t sample_tiles, uint64_t seed);

// For every tile, the index of the pattern (row of `patterns` [P, cols]) keeping the most squared
// weight, i.e. the nearest masked tile: [n_row_tiles, n_col_tiles] int64 (ties: lower index).
torch::Tensor assign_patterns(const torch::Tensor& W, const TileSpec& t, const torch::Tensor& patterns);

// The [out, in] 0/1 mask (W's dtype) of tiles using patterns[tile_ids].
torch::Tensor pattern_mask(const torch::Tensor& patterns, const torch::Tensor& tile_ids, const TileSpec& t, int64_t out,
                           int64_t in, torch::Dtype dtype = torch::kFloat32);

}  // namespace rt3::prune
