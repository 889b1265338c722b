#pragma once
// Pattern-pruned fp32 Linear: y[m][n] = sum_k x[m][k] * W[n][k] + bias[n], where W is masked by
// one *pattern set* (docs/design.md "Stage 3: pattern sets"). W[out][in] is cut into tiles of
// tile_rows output rows x tile_cols input columns (the last tile row/column may be ragged). A
// pattern is a 0/1 mask over the tile_cols columns of a tile (1 = kept), shared by all rows of the
// tile; every tile uses one pattern of its layer's set (tile_pattern). So a tile keeps whole column
// segments, exactly the shape the BP strip kernel computes well (a kept column = one vector FMA per
// m row), and every tile that shares a pattern shares its index list: the kernel stores one byte
// per tile instead of a column index per kept column.
//
// PatternWeights is one set's view of one Linear, as the bundle stores it (docs/format.md):
//   patterns:     [n_patterns][tile_cols] bytes, 0 or 1. A ragged last column tile uses the
//                 first (in % tile_cols) entries of its pattern; entries past `in` are ignored.
//   tile_pattern: [n_row_tiles][n_col_tiles] pattern ids (< n_patterns),
//                 n_row_tiles = ceil(out / tile_rows), n_col_tiles = ceil(in / tile_cols).
// The weights themselves are the layer's shared dense W (one copy for every set); PatternLinear
// copies what its kernel needs at construction, so W may be dropped afterwards.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rt3 {
class ThreadPool;

namespace kernels {

struct PatternWeights {
  int64_t out_features = 0, in_features = 0;
  int64_t tile_rows = 16, tile_cols = 16;
  int64_t n_patterns = 0;
  std::vector<uint8_t> patterns;
  std::vector<uint8_t> tile_pattern;

  int64_t n_row_tiles() const { return tile_rows > 0 ? (out_features + tile_rows - 1) / tile_rows : 0; }
  int64_t n_col_tiles() const { return tile_cols > 0 ? (in_features + tile_cols - 1) / tile_cols : 0; }
  // Weights the set keeps (counting ragged tiles exactly) and its sparsity (1 - kept / (out*in)).
  int64_t kept_weights() const;
  double sparsity() const;
  // Bytes of the storage form (patterns + tile ids): what one set adds to a bundle per layer.
  size_t storage_bytes() const;
};

// Checks sizes, 0/1 pattern entries, ids < n_patterns, tile shape >= 1 and <= 4096, no
// overflow; throws std::invalid_argument naming the first violation. For data read from files.
void pattern_validate(const PatternWeights& p);

// The dense W masked by the set (zeros where pruned): the reference every kernel is tested against.
std::vector<float> pattern_apply(const float* W, const PatternWeights& p);

class PatternLinear {
 public:
  // Validates p and packs W (dense [out][in], row-major) for the set. bias may be null.
  PatternLinear(const float* W, const float* bias, const PatternWeights& p);
  // Test/bench only: the named Highway target (see dense_linear_targets()); throws
  // std::invalid_argument if it is not available.
  PatternLinear(const float* W, const float* bias, const PatternWeights& p, const std::string& target);
  ~PatternLinear();
  PatternLinear(PatternLinear&&) noexcept;
  PatternLinear& operator=(PatternLinear&&) noexcept;

  // x: [m, in] row-major, y: [m, out]. pool may be null. x and y must not alias. Never allocates.
  // Thread-safe: concurrent forward() calls on one PatternLinear are fine, each with its own pool.
  void forward(const float* x, int64_t m, float* y, ThreadPool* pool) const;

  int64_t in_features() const;
  int64_t out_features() const;
  int64_t kept_weights() const;
  size_t packed_bytes() const;      // memory held for packed values, pattern index lists, tile ids, bias
  const char* kernel_name() const;  // e.g. "pattern-hwy-AVX3 16x16"

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kernels
}  // namespace rt3
