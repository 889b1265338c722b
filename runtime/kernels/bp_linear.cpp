// BpLinear: y = x W^T + b for a block-pruned W (see bp_linear.h for the storage form). One
// source, compiled once per SIMD target by Highway (foreach_target); the target is chosen once,
// at construction, and its kernel table is stored in the object (same scheme as dense_linear.cpp).
//
// Packing (L = lanes of the chosen target, 16 floats on AVX-512):
//   Every row block is cut into "strips" of NV*L output rows (NV = 1 or 2 vectors; a block of
//   16 rows on AVX-512 is one strip of one vector, 32 rows one strip of two). A strip owns a copy
//   of its block's kept column list (int32, ascending) and its values as kept x (NV*L) floats,
//   column after column, rows zero-padded to NV*L, aligned: packed[j][r] = W[row0 + r][cols[j]].
//   That is the storage form's column-major block order, padded, so forward() streams it
//   linearly. seg[s][kb] = first j of strip s whose column is >= kb*KC: the column list cut at
//   k-blocks of KC = 512 inputs, so the M > 1 loop can visit one k-block at a time. The bias is
//   packed per strip (zeros when there is none), so a strip with no kept column yields the bias.
// Microkernel ("tile"): R rows of x (m) x a run of strips (NV vectors of output rows each):
//   per strip, for each kept column j: load the strip's NV weight vectors for j, then for r < R
//   broadcast x[r][cols[j]] (a memory-operand FMA on AVX-512) into acc[r][v]. Accumulators stay
//   in registers (R*NV <= 16 on 32-register targets, 12 on 16-register ones). Each weight vector
//   is reused R times; each broadcast feeds one FMA, so the loop is ~(R+NV)/(R*NV) loads per FMA
//   and, on AVX-512, load-bound at ~75-85% of the dense kernel's FLOP rate (which needs 0.6 loads
//   per FMA). The strip's rows are contiguous in y[m][.], so the result is a plain vector store
//   per m (ragged strips go through a small stack tile). One call runs many strips, so its setup
//   (R row pointers, loop state) is paid once, not per strip.
// M > 1 loop nest per thread (threads split the strips; every thread sees every m):
//   m tile of R rows (R = ceil(M / ceil(M / 16)), balanced) > k-block of KC inputs > strip >
//   its columns in this k-block (first k-block: y = bias + ..., later: y += ...).
//   The k-blocks keep the gathered x working set (R rows x KC floats, 32 KiB) in L1 however
//   sparse the columns are; without them R rows x `in` floats fall out of L1 and at high sparsity
//   every FMA pulls a fresh cache line from L2. x is read in place (GCC addresses the R rows
//   from one column pointer with a chain of lea/scaled-index operands) unless its rows are a
//   multiple of 4 KiB apart (in % 1024 == 0): then all R rows of a k-block land in the same L1
//   sets and thrash the 12-way L1, so the tile is first copied to a stack buffer with a 2 KiB row
//   stride. (Copying always cost ~10% at s = 0.9 on the in = 256 shapes; never copying cost
//   ~15% on in = 1024 / 3072.)
// M = 1 (token-by-token generation, memory-bound): no copy, no k-blocks: each strip streams its
//   values and columns once, broadcasting x[cols[j]] straight from x; strips go two at a time
//   (two value streams and four accumulator chains in flight: +10% at s = 0.9 over one strip
//   with four accumulators). Bytes read ~ values + cols/(NV*L), i.e. 1.06x the kept weights.
//
// Measured on the dev machine (AVX-512, 1 thread, block_rows 16, the six DistilBERT/LM shapes;
// DenseLinear there: 145-190 GFLOP/s at M = 128, 14-68 GFLOP/s at M = 1): M = 128 runs at
// 114-152 GFLOP/s on the kept weights for s <= 0.8 and 111-128 at s = 0.9, where a strip has only
// ~26-77 kept columns and its fixed cost (R stores, loop exit) shows: 1.5-1.65x dense at s = 0.5,
// 6.3-8.1x at s = 0.9. M = 1 streams ~50 GFLOP/s of kept weights from L2 (dense ~68; both
// bandwidth-bound), so its speed-up follows the byte ratio: 0.75-0.97x of dense bytes / BP bytes
// when both fit in L2, far more when dense does not and BP does.
// Why not vectorise over m instead (transpose x to xT[in][M], broadcast the weights, R x V
// register tile like the dense kernel, ~0.4 loads per FMA)? It needs x transposed in and y
// transposed out on every forward: ~M*(in+out) elements through in-register 16x16 transposes
// (~0.25 cycle per element of shuffle-port work, the port FMAs also need). For 256 x 256 at
// s = 0.9 we estimate that at ~60% of the FMA time (not measured); it would pay for big layers
// at low sparsity, where the strip kernel is already within its target. The strip kernel also
// serves M = 1 from the same packed values.
//
// Blocks narrower than a vector (block_rows < L, e.g. 4 on AVX-512) are padded to L rows, so
// they waste lanes (correct, not fast); the benchmark shapes use block_rows = 16.
#include "runtime/kernels/bp_linear.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "runtime/format/aligned_buffer.h"
#include "runtime/kernels/dense_linear.h"
#include "runtime/threads/thread_pool.h"

#ifndef RT3_BP_LINEAR_SHARED
#define RT3_BP_LINEAR_SHARED
namespace rt3 {
namespace kernels {
namespace bp_detail {
constexpr int kMaxR = 16;      // most m rows per tile (any target)
constexpr int kMaxLanes = 64;  // most float lanes per vector we accept: 2048-bit SVE
constexpr int kKC = 512;       // k-block of inputs (and row stride of the copied x tile)
// One strip: NV*L output rows of one row block (see the top comment).
struct Strip {
  int64_t row0 = 0;     // first output row
  int32_t rows = 0;     // valid rows (<= nv * lanes; fewer only in ragged blocks)
  int32_t nv = 1;       // vectors per column
  int64_t col_off = 0;  // into the packed cols
  int64_t val_off = 0;  // into the packed values (floats), a multiple of lanes
  int64_t n = 0;        // kept columns
};
// What a tile call needs besides the strip range. x row r is at x + r * ldx and column c of it
// at x[c - c0] (c0 = first input of the k-block). seg == null: every column of each strip; else the columns
// [seg[s*seg_stride + kb], seg[s*seg_stride + kb + 1]). first: y = bias + sum (bias packed per
// strip at bias + s * bias_stride), else y += sum. y: row m of the tile at y + m * ldy.
struct TileArgs {
  const float* x;
  int32_t c0;
  const Strip* strips;
  const int32_t* seg;
  int64_t seg_stride, kb;
  const int32_t* cols;
  const float* values;
  const float* bias;
  int64_t bias_stride;
  bool first;
  float* y;
  int64_t ldy;
  int64_t ldx;  // x row stride
};
// Runs strips [s0, s1) (all with the table's NV) against R rows of x.
using TileFn = void (*)(const TileArgs& a, int64_t s0, int64_t s1);
struct BpKernels {
  int lanes = 0;
  int mr[3] = {0, 0, 0};  // most m rows per tile for NV = 1, 2
  const char* target = "";
  TileFn tile[3][kMaxR + 1] = {};  // [NV][R]
};
}  // namespace bp_detail
}  // namespace kernels
}  // namespace rt3
#endif

// Targets: runtime/kernels/simd_targets.h. SVE is among them: the tile keeps its accumulators in
// named registers (acc_tile-inl.h), not in an array of vectors.
#include "runtime/kernels/simd_targets.h"
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "runtime/kernels/bp_linear.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include "runtime/kernels/target_dispatch.h"
#include "runtime/kernels/acc_tile-inl.h"

HWY_BEFORE_NAMESPACE();
namespace rt3 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using bp_detail::BpKernels;
using bp_detail::kKC;

// Accumulator budget per tile: 16 on targets with 32 vector registers (AVX-512; NEON and SVE on
// aarch64; more measured no faster on AVX-512), 12 on the others.
#if HWY_TARGET == HWY_SCALAR || HWY_TARGET == HWY_EMU128
constexpr int kAcc = 4;
#elif (HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3) || HWY_ARCH_ARM_A64
constexpr int kAcc = 16;
#else
constexpr int kAcc = 12;
#endif

HWY_INLINE const float* BpXCol(uintptr_t xb, int32_t c) {
  return reinterpret_cast<const float*>(xb + sizeof(float) * static_cast<uint32_t>(c));
}

// M = 1, NV = 1: two full strips at a time (two value streams in flight, two accumulators each).
// Returns the first strip it did not do.
HWY_NOINLINE int64_t BpGemv2(const bp_detail::TileArgs& a, int64_t s0, int64_t s1) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const uintptr_t xb = reinterpret_cast<uintptr_t>(a.x);
  int64_t s = s0;
  for (; s + 1 < s1; s += 2) {
    const bp_detail::Strip& A = a.strips[s];
    const bp_detail::Strip& B = a.strips[s + 1];
    if (A.rows != L || B.rows != L) break;
    const int32_t* HWY_RESTRICT ca = a.cols + A.col_off;
    const int32_t* HWY_RESTRICT cb = a.cols + B.col_off;
    const float* HWY_RESTRICT wa = a.values + A.val_off;
    const float* HWY_RESTRICT wb = a.values + B.val_off;
    V a0 = hn::Load(d, a.bias + s * a.bias_stride), a1 = hn::Zero(d);
    V b0 = hn::Load(d, a.bias + (s + 1) * a.bias_stride), b1 = hn::Zero(d);
    const int64_t n = std::min(A.n, B.n);
    int64_t j = 0;
    for (; j + 2 <= n; j += 2) {
      a0 = hn::MulAdd(hn::Set(d, *BpXCol(xb, ca[j])), hn::Load(d, wa + j * L), a0);
      b0 = hn::MulAdd(hn::Set(d, *BpXCol(xb, cb[j])), hn::Load(d, wb + j * L), b0);
      a1 = hn::MulAdd(hn::Set(d, *BpXCol(xb, ca[j + 1])), hn::Load(d, wa + (j + 1) * L), a1);
      b1 = hn::MulAdd(hn::Set(d, *BpXCol(xb, cb[j + 1])), hn::Load(d, wb + (j + 1) * L), b1);
    }
    int64_t ja = j, jb = j;
    for (; ja + 2 <= A.n; ja += 2) {
      a0 = hn::MulAdd(hn::Set(d, *BpXCol(xb, ca[ja])), hn::Load(d, wa + ja * L), a0);
      a1 = hn::MulAdd(hn::Set(d, *BpXCol(xb, ca[ja + 1])), hn::Load(d, wa + (ja + 1) * L), a1);
    }
    if (ja < A.n) a0 = hn::MulAdd(hn::Set(d, *BpXCol(xb, ca[ja])), hn::Load(d, wa + ja * L), a0);
    for (; jb + 2 <= B.n; jb += 2) {
      b0 = hn::MulAdd(hn::Set(d, *BpXCol(xb, cb[jb])), hn::Load(d, wb + jb * L), b0);
      b1 = hn::MulAdd(hn::Set(d, *BpXCol(xb, cb[jb + 1])), hn::Load(d, wb + (jb + 1) * L), b1);
    }
    if (jb < B.n) b0 = hn::MulAdd(hn::Set(d, *BpXCol(xb, cb[jb])), hn::Load(d, wb + jb * L), b0);
    hn::StoreU(hn::Add(a0, a1), d, a.y + A.row0);
    hn::StoreU(hn::Add(b0, b1), d, a.y + B.row0);
  }
  return s;
}

template <int R, int NV>
HWY_NOINLINE void BpTile(const bp_detail::TileArgs& a, int64_t s0, int64_t s1) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t L = hn::Lanes(d);
  constexpr int U = R * NV == 1 ? 4 : (R * NV <= 3 ? 2 : 1);  // independent accumulator sets over j
  static_assert(U * R * NV <= 16, "the tile has 16 registers");
  const size_t nr = NV * L;
  // x[c - c0] as integer arithmetic on the address (c >= c0 always; x - c0 itself may point
  // before the buffer): saves a subtract and a sign extension per column in the inner loop.
  const uintptr_t xb = reinterpret_cast<uintptr_t>(a.x) - sizeof(float) * static_cast<uint32_t>(a.c0);
  const int64_t ldy = a.ldy, ldx = a.ldx;
  int64_t s = s0;
  if constexpr (R == 1 && NV == 1) {
    if (!a.seg && a.first) s = BpGemv2(a, s0, s1);
  }
  for (; s < s1; ++s) {
    const bp_detail::Strip& st = a.strips[s];
    int64_t j0 = 0, n = st.n;
    if (a.seg) {
      const int32_t* sg = a.seg + s * a.seg_stride + a.kb;
      j0 = sg[0];
      n = sg[1] - sg[0];
      if (n == 0 && !a.first) continue;  // nothing to add
    }
    const int32_t* HWY_RESTRICT cols = a.cols + st.col_off + j0;
    const float* HWY_RESTRICT w = a.values + st.val_off + j0 * static_cast<int64_t>(nr);
    const float* HWY_RESTRICT bias = a.first ? a.bias + s * a.bias_stride : nullptr;
    // Ragged strip (rows < NV*L): go through a small tile so no lane past the block is written.
    const bool ragged = st.rows != static_cast<int32_t>(nr);
    HWY_ALIGN float tmp[R * NV * hn::MaxLanes(decltype(d)())];  // MaxLanes: 64 on scalable SVE
    float* HWY_RESTRICT y = a.y + st.row0;
    int64_t ly = ldy;
    if (ragged) {
      // The padding lanes are computed (and dropped): keep them defined.
      std::memset(tmp, 0, sizeof(float) * R * nr);
      if (!bias) {
        for (int r = 0; r < R; ++r) std::memcpy(tmp + r * nr, y + r * ldy, sizeof(float) * st.rows);
      }
      y = tmp;
      ly = static_cast<int64_t>(nr);
    }
    // acc (set u, row r, vector v) is register (u * R + r) * NV + v (acc_tile-inl.h); sets
    // 1..U-1 start at zero.
    RT3_ACC_DECLARE16(V, d, acc);
    if (bias) {
      const V b0 = hn::Load(d, bias);
      if constexpr (NV == 2) {
        SetRows<R, NV>(b0, hn::Load(d, bias + L), RT3_ACC16(acc));
      } else {
        SetRows<R, NV>(b0, b0, RT3_ACC16(acc));
      }
    } else {
      LoadRows<R, NV>(d, y, ly, RT3_ACC16(acc));
    }
    int64_t j = 0;
    for (; j + U <= n; j += U) {
      // Step u: kept column j + u (its x column and its NV weight vectors) into set u.
      ColumnStep<0, R, NV>(d, BpXCol(xb, cols[j]), ldx, 0, w + static_cast<size_t>(j) * nr, RT3_ACC16(acc));
      if constexpr (U > 1) {
        ColumnStep<1, R, NV>(d, BpXCol(xb, cols[j + 1]), ldx, 0, w + static_cast<size_t>(j + 1) * nr, RT3_ACC16(acc));
      }
      if constexpr (U > 2) {
        ColumnStep<2, R, NV>(d, BpXCol(xb, cols[j + 2]), ldx, 0, w + static_cast<size_t>(j + 2) * nr, RT3_ACC16(acc));
      }
      if constexpr (U > 3) {
        ColumnStep<3, R, NV>(d, BpXCol(xb, cols[j + 3]), ldx, 0, w + static_cast<size_t>(j + 3) * nr, RT3_ACC16(acc));
      }
    }
    // The last n % U (< U) columns, into set 0: U - 1 fully unrolled tries, straight-line code.
#pragma GCC unroll 4
    for (int t = 1; t < U && j < n; ++t, ++j) {
      ColumnStep<0, R, NV>(d, BpXCol(xb, cols[j]), ldx, 0, w + static_cast<size_t>(j) * nr, RT3_ACC16(acc));
    }
    FoldSets<U, R, NV>(d, RT3_ACC16(acc));
    StoreRows<R, NV>(d, y, ly, RT3_ACC16(acc));
    if (ragged) {
      for (int r = 0; r < R; ++r) std::memcpy(a.y + st.row0 + r * ldy, tmp + r * nr, sizeof(float) * st.rows);
    }
  }
}

template <int R, int NV>
void FillBpTiles(BpKernels& g) {
  if constexpr (R >= 1) {
    g.tile[NV][R] = &BpTile<R, NV>;
    FillBpTiles<R - 1, NV>(g);
  }
}

const BpKernels* GetBpKernels() {
  static const BpKernels kTable = [] {
    BpKernels g;
    const hn::ScalableTag<float> d;
    g.lanes = static_cast<int>(hn::Lanes(d));
    g.mr[1] = kAcc;
    g.mr[2] = kAcc / 2;
    g.target = hwy::TargetName(HWY_TARGET);
    FillBpTiles<kAcc, 1>(g);
    FillBpTiles<kAcc / 2, 2>(g);
    return g;
  }();
  return &kTable;
}

}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace rt3
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace rt3 {
namespace kernels {
HWY_EXPORT(GetBpKernels);

using bp_detail::BpKernels;
using bp_detail::kKC;
using bp_detail::kMaxLanes;
using bp_detail::kMaxR;

namespace {
// Smallest amount of work worth handing to another thread.
constexpr int64_t kMinFlopsPerChunk = int64_t{1} << 17;

[[noreturn]] void Invalid(const std::string& what) { throw std::invalid_argument("BpWeights: " + what); }

int64_t RowsOfBlock(const BpWeights& w, int64_t b) {
  return std::min(w.block_rows, w.out_features - b * w.block_rows);
}
}  // namespace

size_t BpWeights::storage_bytes() const {
  return sizeof(float) * values.size() + sizeof(int32_t) * (cols.size() + block_ptr.size());
}

void bp_validate(const BpWeights& w) {
  if (w.out_features < 0 || w.in_features < 0) {
    Invalid("negative shape " + std::to_string(w.out_features) + "x" + std::to_string(w.in_features));
  }
  if (w.block_rows < 1) Invalid("block_rows " + std::to_string(w.block_rows) + " < 1");
  if (w.in_features > std::numeric_limits<int32_t>::max()) Invalid("in_features does not fit int32 columns");
  // n_blocks() without the overflow of out + block_rows - 1.
  const int64_t n_blocks = w.out_features / w.block_rows + (w.out_features % w.block_rows != 0 ? 1 : 0);
  if (static_cast<uint64_t>(w.block_ptr.size()) != static_cast<uint64_t>(n_blocks) + 1) {
    Invalid("block_ptr has " + std::to_string(w.block_ptr.size()) + " entries, expected n_blocks + 1 = " +
            std::to_string(n_blocks + 1));
  }
  if (w.block_ptr[0] != 0) Invalid("block_ptr[0] = " + std::to_string(w.block_ptr[0]) + ", expected 0");
  uint64_t expect_values = 0;
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t p0 = w.block_ptr[static_cast<size_t>(b)], p1 = w.block_ptr[static_cast<size_t>(b) + 1];
    if (p1 < p0) Invalid("block_ptr decreases at block " + std::to_string(b));
    if (static_cast<uint64_t>(p1) > w.cols.size()) {
      Invalid("block_ptr[" + std::to_string(b + 1) + "] = " + std::to_string(p1) + " is past cols (" +
              std::to_string(w.cols.size()) + ")");
    }
    if (p1 - p0 > w.in_features) Invalid("block " + std::to_string(b) + " keeps more columns than in_features");
    for (int64_t j = p0; j < p1; ++j) {
      const int32_t c = w.cols[static_cast<size_t>(j)];
      if (c < 0 || c >= w.in_features) {
        Invalid("block " + std::to_string(b) + ": column " + std::to_string(c) + " out of range [0, " +
                std::to_string(w.in_features) + ")");
      }
      if (j > p0 && c <= w.cols[static_cast<size_t>(j) - 1]) {
        Invalid("block " + std::to_string(b) + ": columns not strictly ascending at " + std::to_string(c));
      }
    }
    // kept <= in < 2^31 and rows <= out < 2^63: the product and the running sum can overflow.
    const uint64_t kept = static_cast<uint64_t>(p1 - p0), rows = static_cast<uint64_t>(RowsOfBlock(w, b));
    if (kept != 0 && rows > std::numeric_limits<uint64_t>::max() / 2 / kept) Invalid("values size overflows");
    expect_values += kept * rows;
    if (expect_values > std::numeric_limits<uint64_t>::max() / 2) Invalid("values size overflows");
  }
  if (static_cast<uint64_t>(w.block_ptr.back()) != w.cols.size()) {
    Invalid("block_ptr ends at " + std::to_string(w.block_ptr.back()) + " but cols has " +
            std::to_string(w.cols.size()) + " entries");
  }
  if (w.values.size() != expect_values) {
    Invalid("values has " + std::to_string(w.values.size()) + " entries, expected " + std::to_string(expect_values));
  }
}

BpWeights bp_pack(const float* W, int64_t out_features, int64_t in_features, int64_t block_rows) {
  if (block_rows < 1) throw std::invalid_argument("bp_pack: block_rows must be >= 1");
  if (out_features <= 0 || in_features <= 0) throw std::invalid_argument("bp_pack: shape must be positive");
  if (in_features > std::numeric_limits<int32_t>::max()) throw std::invalid_argument("bp_pack: in_features too large");
  if (W == nullptr) throw std::invalid_argument("bp_pack: W is null");
  BpWeights w;
  w.out_features = out_features;
  w.in_features = in_features;
  w.block_rows = block_rows;
  const int64_t n_blocks = w.n_blocks();
  w.block_ptr.reserve(static_cast<size_t>(n_blocks) + 1);
  w.block_ptr.push_back(0);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t r0 = b * block_rows, rows = RowsOfBlock(w, b);
    for (int64_t k = 0; k < in_features; ++k) {
      bool kept = false;
      for (int64_t r = 0; r < rows && !kept; ++r) kept = W[(r0 + r) * in_features + k] != 0.0f;
      if (!kept) continue;
      w.cols.push_back(static_cast<int32_t>(k));
      for (int64_t r = 0; r < rows; ++r) w.values.push_back(W[(r0 + r) * in_features + k]);
    }
    if (w.cols.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      throw std::invalid_argument("bp_pack: too many kept groups for int32 block_ptr");
    }
    w.block_ptr.push_back(static_cast<int32_t>(w.cols.size()));
  }
  return w;
}

std::vector<float> bp_unpack(const BpWeights& w) {
  bp_validate(w);
  if (w.in_features > 0 && w.out_features > std::numeric_limits<int64_t>::max() / w.in_features) {
    Invalid("dense size overflows");
  }
  std::vector<float> W(static_cast<size_t>(w.out_features * w.in_features), 0.0f);
  size_t v = 0;
  for (int64_t b = 0; b < w.n_blocks(); ++b) {
    const int64_t r0 = b * w.block_rows, rows = RowsOfBlock(w, b);
    for (int32_t j = w.block_ptr[static_cast<size_t>(b)]; j < w.block_ptr[static_cast<size_t>(b) + 1]; ++j) {
      const int64_t c = w.cols[static_cast<size_t>(j)];
      for (int64_t r = 0; r < rows; ++r) W[static_cast<size_t>((r0 + r) * w.in_features + c)] = w.values[v++];
    }
  }
  return W;
}

struct BpLinear::Impl {
  using Strip = bp_detail::Strip;
  int64_t out = 0, in = 0, block_rows = 0, nnz = 0;
  int64_t nkb = 1;  // k-blocks of kKC inputs
  int mr = 0;       // most m rows per tile over the strips' NV
  const BpKernels* g = nullptr;
  std::vector<Strip> strips;
  std::vector<int32_t> seg;      // strips * (nkb + 1)
  format::AlignedBuffer cols;    // int32
  format::AlignedBuffer values;  // float, per strip kept * nv * lanes
  format::AlignedBuffer bias;    // float, per strip nv * lanes
  std::string name;

  void pack(const BpWeights& w, const float* bias_in);
  const int32_t* c() const { return reinterpret_cast<const int32_t*>(cols.data()); }
  const float* v() const { return reinterpret_cast<const float*>(values.data()); }
  const float* b() const { return reinterpret_cast<const float*>(bias.data()); }

  // Strips [s0, s1) against R rows of x (see TileArgs), in runs of equal NV.
  void run(int64_t s0, int64_t s1, int R, const float* x, int64_t ldx, int32_t c0, bool use_seg, int64_t kb,
           float* y) const {
    const bp_detail::TileArgs a{x,   c0,  strips.data(), use_seg ? seg.data() : nullptr, nkb + 1, kb, c(), v(),
                                b(), 2 * static_cast<int64_t>(g->lanes), kb == 0, y, out, ldx};
    while (s0 < s1) {
      const int nv = strips[static_cast<size_t>(s0)].nv;
      int64_t e = s0 + 1;
      while (e < s1 && strips[static_cast<size_t>(e)].nv == nv) ++e;
      g->tile[nv][R](a, s0, e);
      s0 = e;
    }
  }
};

namespace {
const BpKernels* BpKernelsForTarget(const std::string& target) {
  for (int64_t t : hwy::SupportedAndGeneratedTargets()) {
    if (target != hwy::TargetName(t)) continue;
    return RT3_DISPATCH_FOR_TARGET(GetBpKernels, t)();
  }
  throw std::invalid_argument("BpLinear: SIMD target '" + target + "' is not available here");
}
}  // namespace

void BpLinear::Impl::pack(const BpWeights& w, const float* bias_in) {
  const int64_t L = g->lanes;
  if (L > kMaxLanes) throw std::invalid_argument("BpLinear: vectors wider than supported");
  out = w.out_features;
  in = w.in_features;
  block_rows = w.block_rows;
  nnz = w.nonzeros();
  nkb = std::max<int64_t>(1, (in + kKC - 1) / kKC);
  strips.clear();
  int64_t n_cols = 0, n_vals = 0;
  bool has_nv2 = false;
  for (int64_t b = 0; b < w.n_blocks(); ++b) {
    const int64_t rows = RowsOfBlock(w, b);
    const int64_t kept = w.block_ptr[static_cast<size_t>(b) + 1] - w.block_ptr[static_cast<size_t>(b)];
    for (int64_t off = 0; off < rows;) {
      Strip st;
      st.nv = rows - off > L ? 2 : 1;
      st.row0 = b * w.block_rows + off;
      st.rows = static_cast<int32_t>(std::min(rows - off, st.nv * L));
      st.n = kept;
      st.col_off = n_cols;
      st.val_off = n_vals;
      n_cols += kept;
      n_vals += kept * st.nv * L;
      has_nv2 = has_nv2 || st.nv == 2;
      off += st.rows;
      strips.push_back(st);
    }
  }
  mr = has_nv2 ? g->mr[2] : g->mr[1];
  cols = format::AlignedBuffer(sizeof(int32_t) * static_cast<size_t>(std::max<int64_t>(1, n_cols)));
  values = format::AlignedBuffer(sizeof(float) * static_cast<size_t>(std::max<int64_t>(1, n_vals)));
  bias = format::AlignedBuffer(sizeof(float) * static_cast<size_t>(std::max<size_t>(1, strips.size() * 2 * L)));
  int32_t* C = reinterpret_cast<int32_t*>(cols.data());
  float* V = reinterpret_cast<float*>(values.data());
  float* B = reinterpret_cast<float*>(bias.data());
  std::memset(V, 0, values.size());
  std::memset(B, 0, bias.size());
  seg.assign(strips.size() * static_cast<size_t>(nkb + 1), 0);
  for (size_t s = 0; s < strips.size(); ++s) {
    const Strip& st = strips[s];
    const int64_t b = st.row0 / w.block_rows;
    const int64_t brow = st.row0 - b * w.block_rows, rows_b = RowsOfBlock(w, b);
    const int64_t p0 = w.block_ptr[static_cast<size_t>(b)];
    const float* src = w.values.data() + p0 * w.block_rows;  // every earlier block is full
    const int64_t nr = st.nv * L;
    for (int64_t j = 0; j < st.n; ++j) {
      C[st.col_off + j] = w.cols[static_cast<size_t>(p0 + j)];
      for (int64_t r = 0; r < st.rows; ++r) V[st.val_off + j * nr + r] = src[j * rows_b + brow + r];
    }
    int32_t* sg = seg.data() + s * static_cast<size_t>(nkb + 1);
    int64_t j = 0;
    for (int64_t kb = 0; kb <= nkb; ++kb) {
      while (j < st.n && C[st.col_off + j] < kb * kKC) ++j;
      sg[kb] = static_cast<int32_t>(kb == nkb ? st.n : j);
    }
    if (bias_in) std::memcpy(B + s * 2 * L, bias_in + st.row0, sizeof(float) * static_cast<size_t>(st.rows));
  }
  name = std::string("bp-hwy-") + g->target + " b" + std::to_string(block_rows);
}

BpLinear::BpLinear(const BpWeights& w, const float* bias) : impl_(new Impl) {
  bp_validate(w);
  impl_->g = HWY_DYNAMIC_DISPATCH(GetBpKernels)();  // the one dispatch decision
  impl_->pack(w, bias);
}

BpLinear::BpLinear(const BpWeights& w, const float* bias, const std::string& target) : impl_(new Impl) {
  bp_validate(w);
  impl_->g = BpKernelsForTarget(target);
  impl_->pack(w, bias);
}

BpLinear::~BpLinear() = default;
BpLinear::BpLinear(BpLinear&&) noexcept = default;
BpLinear& BpLinear::operator=(BpLinear&&) noexcept = default;

int64_t BpLinear::in_features() const { return impl_->in; }
int64_t BpLinear::out_features() const { return impl_->out; }
int64_t BpLinear::nonzeros() const { return impl_->nnz; }
size_t BpLinear::packed_bytes() const {
  const Impl& I = *impl_;
  return I.cols.size() + I.values.size() + I.bias.size() + sizeof(int32_t) * I.seg.size() +
         sizeof(Impl::Strip) * I.strips.size();
}
const char* BpLinear::kernel_name() const { return impl_->name.c_str(); }

// The only buffer forward() needs is the copied x tile (in % 1024 == 0), which lives on each
// thread's stack (16 x kKC floats, 32 KiB); so no caller scratch is needed, and scratch is
// accepted for API stability and ignored.
size_t BpLinear::scratch_floats(int64_t) const { return 0; }

void BpLinear::forward(const float* x, int64_t m, float* y, ThreadPool* pool, float* /*scratch*/) const {
  const Impl& I = *impl_;
  if (m <= 0 || I.out == 0) return;
  const int64_t n_strips = static_cast<int64_t>(I.strips.size());
  const int64_t in = I.in, nkb = I.nkb;
  // Balanced m tiles of at most mr rows.
  const int64_t mtiles = (m + I.mr - 1) / I.mr;
  const int R = static_cast<int>((m + mtiles - 1) / mtiles);
  // Rows of x 4 KiB apart (in % 1024 == 0) map to the same L1 sets: 16 of them thrash a 12-way
  // cache, so such x tiles are copied to a 2 KiB row stride first (see the top comment).
  const bool copy_x = in % 1024 == 0;
  auto run = [&](int64_t s0, int64_t s1) {
    if (m == 1) {
      I.run(s0, s1, 1, x, 0, 0, /*use_seg=*/false, 0, y);
      return;
    }
    alignas(64) float xs[kMaxR * kKC];  // 32 KiB
    for (int64_t m0 = 0; m0 < m; m0 += R) {
      const int rows = static_cast<int>(std::min<int64_t>(R, m - m0));
      for (int64_t kb = 0; kb < nkb; ++kb) {
        const int64_t k0 = kb * kKC, kw = std::min<int64_t>(kKC, in - k0);
        if (copy_x) {
          for (int r = 0; r < rows; ++r) {
            std::memcpy(xs + r * kKC, x + (m0 + r) * in + k0, sizeof(float) * static_cast<size_t>(kw));
          }
          I.run(s0, s1, rows, xs, kKC, static_cast<int32_t>(k0), /*use_seg=*/true, kb, y + m0 * I.out);
        } else {
          I.run(s0, s1, rows, x + m0 * in + k0, in, static_cast<int32_t>(k0), /*use_seg=*/true, kb, y + m0 * I.out);
        }
      }
    }
  };
  // Work of an average strip: 2 * m * (kept columns per row) * (rows per strip).
  const int64_t kept_per_row = I.nnz / I.out, rows_per_strip = I.out / std::max<int64_t>(1, n_strips);
  const int64_t item_flops = 2 * m * std::max<int64_t>(1, kept_per_row) * std::max<int64_t>(1, rows_per_strip);
  const int64_t min_chunk = std::max<int64_t>(1, kMinFlopsPerChunk / item_flops);
  if (pool && pool->size() > 1 && n_strips > min_chunk) {
    pool->parallel_for(n_strips, run, min_chunk);
  } else {
    run(0, n_strips);
  }
}

}  // namespace kernels
}  // namespace rt3
#endif  // HWY_ONCE
