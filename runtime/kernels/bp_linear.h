#pragma once
// Block-pruned (BP) fp32 Linear: y[m][n] = sum_k x[m][k] * W[n][k] + bias[n], where W has been
// pruned in *groups*: one input column inside a row block of `block_rows` consecutive output
// rows (train/prune/block_prune.h). Each row block keeps only its surviving input columns, so a
// block is a small dense product over gathered inputs.
//
// BpWeights is the storage form (what the bundle holds, and what the trainer's masks turn into):
//   n_blocks = ceil(out_features / block_rows); block b covers rows
//     [b*block_rows, min((b+1)*block_rows, out_features))  (the last block may be shorter).
//   block_ptr[n_blocks + 1]: block b's kept columns are cols[block_ptr[b] .. block_ptr[b+1]).
//   cols: kept input columns of each block, strictly ascending within a block.
//   values: per block, column-major inside the block: for kept column j of block b (j counts
//     from 0 inside the block), the block's rows_b values W[b*block_rows + r][cols[..+j]] for
//     r = 0..rows_b-1 are contiguous. Block b starts at values[block_ptr[b] * block_rows] (every
//     block before it is full), so values.size() == sum_b kept_b * rows_b.
// BpLinear repacks this form once, at construction, into whatever its kernel wants (like
// DenseLinear); forward() never repacks or allocates.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rt3 {
class ThreadPool;

namespace kernels {

struct BpWeights {
  int64_t out_features = 0, in_features = 0, block_rows = 16;
  std::vector<int32_t> block_ptr;
  std::vector<int32_t> cols;
  std::vector<float> values;

  int64_t n_blocks() const { return block_rows > 0 ? (out_features + block_rows - 1) / block_rows : 0; }
  int64_t nonzeros() const { return static_cast<int64_t>(values.size()); }  // stored weights
  // Bytes of the storage form (values + cols + block_ptr), for size reports.
  size_t storage_bytes() const;
};

// Packs a dense W[out][in]: a group is kept iff any of its entries is nonzero (so a BP-pruned
// weight round-trips exactly; entries of a kept group that happen to be zero are stored as 0).
// Throws std::invalid_argument for block_rows < 1 or non-positive shapes.
BpWeights bp_pack(const float* W, int64_t out_features, int64_t in_features, int64_t block_rows);

// Dense W[out][in] (zeros where pruned). Throws std::invalid_argument if w is malformed.
std::vector<float> bp_unpack(const BpWeights& w);

// Checks every invariant above (sizes, ascending in-range columns, block_ptr monotone from 0);
// throws std::invalid_argument naming the first violation. Used on weights read from a bundle.
void bp_validate(const BpWeights& w);

class BpLinear {
 public:
  // Validates w (bp_validate) and packs it. bias may be null.
  BpLinear(const BpWeights& w, const float* bias);
  // Test/bench only: use the named Highway target (see dense_linear_targets()); throws
  // std::invalid_argument if it is not available on this CPU.
  BpLinear(const BpWeights& w, const float* bias, const std::string& target);
  ~BpLinear();
  BpLinear(BpLinear&&) noexcept;
  BpLinear& operator=(BpLinear&&) noexcept;

  // x: [m, in] row-major, y: [m, out]. pool may be null (single thread). x and y must not alias.
  // scratch: scratch_floats(m) floats the kernel may use (e.g. for gathered or transposed
  // inputs), 64-byte aligned; when null and scratch_floats(m) > 0, forward() allocates it itself
  // (slower: models pass scratch they own).
  // Thread-safe: concurrent forward() calls on one BpLinear are fine (no mutable state), as long
  // as each uses its own pool (or none) and its own scratch.
  void forward(const float* x, int64_t m, float* y, ThreadPool* pool, float* scratch = nullptr) const;
  size_t scratch_floats(int64_t m) const;

  int64_t in_features() const;
  int64_t out_features() const;
  int64_t nonzeros() const;
  size_t packed_bytes() const;      // memory held for the packed weights, indices and bias
  const char* kernel_name() const;  // e.g. "bp-hwy-AVX3 b16", for logs and benches

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kernels
}  // namespace rt3
