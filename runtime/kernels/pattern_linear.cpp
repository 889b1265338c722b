// PatternLinear: y = x W^T + b for a pattern-pruned W (see pattern_linear.h). Same scheme as
// bp_linear.cpp (read its top comment first): one source compiled once per SIMD target by Highway
// (foreach_target), the target chosen once at construction, its kernel table stored in the object.
//
// Packing (L = lanes of the chosen target, 16 floats on AVX-512):
//   Every row tile is cut into strips of NV*L output rows (NV = 1 or 2 vectors; a 16-row tile on
//   AVX-512 is one strip of one vector, a 32-row tile one strip of two; rows past the tile are
//   zero-padded). A strip keeps no column list: it points at its row tile's row of pattern ids
//   (one byte per column tile, the bundle's tile_pattern copied as is). The pattern set is packed
//   once per layer into index lists: pat[id] = {start, count}, offs[start .. start+count) = the
//   kept columns of the pattern as *byte* offsets inside a tile (ascending). A ragged last column
//   tile uses a second table rpat[id] (the same patterns cut to in % tile_cols columns), so the
//   inner loop never tests for it. Values per strip, in the order the kernel reads them: column
//   tile after column tile, in each its pattern's kept columns, NV*L floats per column (aligned):
//   packed[j][r] = W[row0 + r][t * tile_cols + offs_j]. seg[s][kb] = kept columns of strip s
//   before k-block kb (k-blocks are whole column tiles, KB = 512 / tile_cols tiles), so the M > 1
//   loop can enter a strip at any k-block. Bias packed per strip as in BP.
// Microkernel: R rows of x (m) x a run of strips; accumulators in registers (R*NV <= 16 on
//   32-register targets), each weight vector reused R times, as BP. A column step: one offset
//   load (the same few offsets for thousands of tiles, always in L1), NV weight loads, R
//   broadcasts of x[r][tile base + offset], R*NV FMAs. Two variants per (R, NV):
//   - fixed K (the set's patterns all keep K <= 16 columns, i.e. one pruning number per set, as
//     our sets are; pattern id's offsets then sit at offs[id * K ..]): per tile, load the id
//     byte and run K unrolled steps whose accumulator set and weight displacements are
//     compile-time constants: no count load, no branch inside the tile loop. Compiled for
//     R = 1 and R = the most rows (16 on AVX-512, 8 with NV = 2) x K = 0..16, the m tiles of
//     M = 1 and of M a multiple of 16; R = 1 with NV = 1 runs two strips at a time (two value and
//     id streams in flight, as BpGemv2: a few % at M = 1, within the run-to-run noise).
//   - any counts (mixed pruning numbers, tiles with > 16 kept columns, other R): per tile,
//     {start, count} = pat[id], then one indirect jump into a Duff's device of 16 unrolled steps
//     (predicted when most tiles keep the same count). Measured with uniform sets (i.e. the first
//     version, before the fixed-K kernels): 5-12% slower than fixed K at M = 128, and 1.4-2.2x
//     slower at M = 1 for s >= 0.8 (count load, jump, ~10 instructions per tile for 2-3 FMAs).
//   A ragged last column tile always takes the second form through rpat, once per strip, so the
//   tile loop never tests for it.
// Loop nests: exactly BP's. M > 1: m tile of R rows (balanced, R <= 16) > k-block of whole
//   column tiles covering ~512 inputs (gathered x stays in L1) > strip > its column tiles in the
//   k-block; x copied to a 2 KiB-stride stack buffer when in % 1024 == 0 (4 KiB-apart rows
//   thrash the L1 sets). M = 1: R = 1, no k-blocks, every strip streams its values once; index
//   bytes read: 1 per (strip, column tile), i.e. 1/(16*K*4) of the value bytes for 16x16 tiles
//   (BP: 4 per kept column, 1/16 of them). Threads split the strips (parallel_for, min chunk
//   from the work per strip, as BP).
//
// Measured on the dev machine (Xeon, AVX-512, 1 thread, medians of 25 reps; random sets of 8
// patterns with one pruning number; BpLinear on the same masked W with block_rows = tile_rows;
// speed-ups are time ratios, DenseLinear/Pattern and Bp/Pattern, over the six shapes):
//   tile 16x16     M = 1  vs dense   vs BP     M = 128  vs dense   vs BP
//   s = 0.5              1.7-4.6   1.05-1.17            1.5-1.7   0.96-1.09
//   s = 0.6875           2.9-7.0   1.07-1.15            2.4-2.7   1.00-1.05
//   s = 0.8125           4.5-16    1.04-1.14            3.65-4.3  0.96-1.04
//   s = 0.875            5.9-28    0.90-1.12            5.3-5.9   0.96-1.02
//   (dense M = 1 is slow on 3072x768 / 768x3072: 9.4 MB of weights stream from DRAM.) At M = 128
//   the FMA and load count per kept weight equal BP's (an offset load from a 16-entry table
//   replaces BP's column load), so the two tie; the pattern kernel wins on index bytes and
//   storage (1 byte per tile vs 4 per kept column), which matters at M = 1.
//   tile 32x8 (NV = 2, K = 4 / 2 / 1 at s = 0.5 / 0.75 / 0.875): M = 128 0.96-1.09x BP, 5.9-7.9x
//   dense at 0.875; M = 1 0.89-1.15x BP, lowest (0.83-0.9x) on 256x256 at 0.875, a 0.2 us call
//   where the per-tile id load and address step (one per kept column when K = 1) show. 16x8:
//   M = 128 0.94-1.09x BP; M = 1 0.92-1.20x BP except 256x256 at 0.875 (0.76-0.81x, 0.3 us).
#include "runtime/kernels/pattern_linear.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "runtime/format/aligned_buffer.h"
#include "runtime/kernels/dense_linear.h"
#include "runtime/threads/thread_pool.h"

#ifndef RT3_PATTERN_LINEAR_SHARED
#define RT3_PATTERN_LINEAR_SHARED
namespace rt3 {
namespace kernels {
namespace pat_detail {
constexpr int kMaxR = 16;      // most m rows per tile (any target)
constexpr int kMaxLanes = 64;  // most float lanes per vector we accept: 2048-bit SVE
constexpr int kKC = 512;       // k-block of inputs (and row stride of the copied x tile)
constexpr int kSteps = 16;     // unrolled column steps per block (Duff's device)
// One strip: NV*L output rows of one row tile.
struct Strip {
  int64_t row0 = 0;     // first output row
  int32_t rows = 0;     // valid rows (<= nv * lanes)
  int32_t nv = 1;       // vectors per column
  int64_t ids_off = 0;  // into the tile ids: its row tile's first column tile
  int64_t val_off = 0;  // into the packed values (floats), a multiple of lanes
};
// A pattern's kept columns: offs[start .. start + count).
struct PatRef {
  int32_t start = 0, count = 0;
};
// One tile call. x: column c of row r at x[r * ldx + c - c0]. Column tiles [t0, t1) are full;
// rag: then also the ragged last column tile t1 (through rpat). seg == null: values start at the
// strip's first column, else at seg[s * seg_stride + kb] kept columns into the strip; a strip
// with no column in range is skipped unless first. first: y = bias + sum, else y += sum.
struct TileArgs {
  const float* x;
  int64_t c0, ldx;
  const Strip* strips;
  const uint8_t* ids;
  int64_t t0, t1;
  bool rag;
  const int32_t* seg;
  int64_t seg_stride, kb;
  const PatRef* pat;
  const PatRef* rpat;
  const uint32_t* offs;  // byte offsets inside a tile
  int64_t tile_bytes;    // tile_cols * sizeof(float)
  const float* values;
  const float* bias;
  int64_t bias_stride;
  bool first;
  float* y;
  int64_t ldy;
};
using TileFn = void (*)(const TileArgs& a, int64_t s0, int64_t s1);
struct PatKernels {
  int lanes = 0;
  int mr[3] = {0, 0, 0};  // most m rows per tile for NV = 1, 2
  const char* target = "";
  TileFn tile[3][kMaxR + 1] = {};  // [NV][R], any kept counts
  TileFn tilek[3][2][kSteps + 1] = {};  // [NV][R == 1 ? 0 : R == mr[NV] ? 1][K]: K kept per tile
};
}  // namespace pat_detail
}  // namespace kernels
}  // namespace rt3
#endif

// Targets: runtime/kernels/simd_targets.h. SVE is among them: the tile keeps its accumulators in
// named registers (acc_tile-inl.h), not in an array of vectors.
#include "runtime/kernels/simd_targets.h"
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "runtime/kernels/pattern_linear.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include "runtime/kernels/target_dispatch.h"
#include "runtime/kernels/acc_tile-inl.h"

HWY_BEFORE_NAMESPACE();
namespace rt3 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using pat_detail::PatKernels;

// Accumulator budget per tile, as BP's: 16 on targets with 32 vector registers (AVX-512; NEON and
// SVE on aarch64), 12 on the others.
#if HWY_TARGET == HWY_SCALAR || HWY_TARGET == HWY_EMU128
constexpr int kPatAcc = 4;
#elif (HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3) || HWY_ARCH_ARM_A64
constexpr int kPatAcc = 16;
#else
constexpr int kPatAcc = 12;
#endif

// Column step N of a Duff block ending at (oe, we): the kept column oe[-N] (a byte offset from
// the tile base xt), its NV weight vectors at we - N * NV * L, into accumulator set (N + C) % U
// of the R x NV tile acc (registers as in acc_tile-inl.h).
template <int N, int R, int NV, int U, int C = 0, class D, class... Vs>
HWY_INLINE void PatStep(D d, const uint32_t* HWY_RESTRICT oe, const float* HWY_RESTRICT we, uintptr_t xt,
                        int64_t ldx, Vs&... acc) {
  const size_t L = hn::Lanes(d);  // a constant except on scalable SVE
  const float* xc = reinterpret_cast<const float*>(xt + oe[-N]);
  const float* wj = we - static_cast<ptrdiff_t>(N * NV * L);
  ColumnStep<(N + C) % U, R, NV>(d, xc, ldx, 0, wj, acc...);
}

template <int N, int R, int NV, int U, int C = 0, class D, class... Vs>
HWY_INLINE void PatSteps(D d, const uint32_t* HWY_RESTRICT oe, const float* HWY_RESTRICT we, uintptr_t xt,
                         int64_t ldx, Vs&... acc) {
  if constexpr (N >= 1) {
    PatStep<N, R, NV, U, C>(d, oe, we, xt, ldx, acc...);
    PatSteps<N - 1, R, NV, U, C>(d, oe, we, xt, ldx, acc...);
  }
}

// One column tile: its `count` kept columns (byte offsets o) against the values at w; returns
// the values of the next tile.
template <int R, int NV, int U, class D, class... Vs>
HWY_INLINE const float* PatTileCols(D d, const uint32_t* HWY_RESTRICT o, int32_t count, uintptr_t xt,
                                    int64_t ldx, const float* HWY_RESTRICT w, Vs&... acc) {
  const size_t nr = NV * hn::Lanes(d);
  constexpr int S = pat_detail::kSteps;
  while (count > S) {  // tiles wider than 16 kept columns only
    PatSteps<S, R, NV, U>(d, o + S, w + S * nr, xt, ldx, acc...);
    o += S;
    w += S * nr;
    count -= S;
  }
  const uint32_t* oe = o + count;
  const float* we = w + static_cast<size_t>(count) * nr;
#define RT3_PAT_CASE(n)                                   \
  case n:                                                 \
    PatStep<n, R, NV, U>(d, oe, we, xt, ldx, acc...);     \
    [[fallthrough]];
  switch (count) {
    RT3_PAT_CASE(16)
    RT3_PAT_CASE(15)
    RT3_PAT_CASE(14)
    RT3_PAT_CASE(13)
    RT3_PAT_CASE(12)
    RT3_PAT_CASE(11)
    RT3_PAT_CASE(10)
    RT3_PAT_CASE(9)
    RT3_PAT_CASE(8)
    RT3_PAT_CASE(7)
    RT3_PAT_CASE(6)
    RT3_PAT_CASE(5)
    RT3_PAT_CASE(4)
    RT3_PAT_CASE(3)
    RT3_PAT_CASE(2)
    RT3_PAT_CASE(1)
    default:
      break;
  }
#undef RT3_PAT_CASE
  static_assert(pat_detail::kSteps == 16, "the switch above unrolls 16 steps");
  return we;
}

// M = 1, fixed K, NV = 1: two full strips at a time (two value and id streams in flight, two
// accumulator chains each), as BpGemv2. Returns the first strip it did not do.
template <int K>
HWY_NOINLINE int64_t PatGemv2(const pat_detail::TileArgs& a, int64_t s0, int64_t s1) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t L = hn::Lanes(d);
  const size_t kw = static_cast<size_t>(K) * L;
  const uintptr_t tile_bytes = static_cast<uintptr_t>(a.tile_bytes);
  const uintptr_t xt0 = reinterpret_cast<uintptr_t>(a.x) - sizeof(float) * static_cast<uintptr_t>(a.c0) +
                        static_cast<uintptr_t>(a.t0) * tile_bytes;
  const uint32_t* HWY_RESTRICT offs = a.offs;
  int64_t s = s0;
  for (; s + 1 < s1; s += 2) {
    const pat_detail::Strip& A = a.strips[s];
    const pat_detail::Strip& B = a.strips[s + 1];
    if (A.rows != static_cast<int32_t>(L) || B.rows != static_cast<int32_t>(L)) break;
    const uint8_t* HWY_RESTRICT ia = a.ids + A.ids_off;
    const uint8_t* HWY_RESTRICT ib = a.ids + B.ids_off;
    const float* HWY_RESTRICT wa = a.values + A.val_off;
    const float* HWY_RESTRICT wb = a.values + B.val_off;
    // Two 1 x 1 tiles of two sets each: strip A's (a0, a1), strip B's (b0, b1).
    V a0 = hn::Load(d, a.bias + s * a.bias_stride), a1 = hn::Zero(d);
    V b0 = hn::Load(d, a.bias + (s + 1) * a.bias_stride), b1 = hn::Zero(d);
    uintptr_t xt = xt0;
    for (int64_t t = a.t0; t < a.t1; ++t) {
      PatSteps<K, 1, 1, 2>(d, offs + ia[t] * K + K, wa + kw, xt, 0, a0, a1);
      PatSteps<K, 1, 1, 2>(d, offs + ib[t] * K + K, wb + kw, xt, 0, b0, b1);
      wa += kw;
      wb += kw;
      xt += tile_bytes;
    }
    if (a.rag) {
      const pat_detail::PatRef pa = a.rpat[ia[a.t1]], pb = a.rpat[ib[a.t1]];
      PatTileCols<1, 1, 2>(d, offs + pa.start, pa.count, xt, 0, wa, a0, a1);
      PatTileCols<1, 1, 2>(d, offs + pb.start, pb.count, xt, 0, wb, b0, b1);
    }
    hn::StoreU(hn::Add(a0, a1), d, a.y + A.row0);
    hn::StoreU(hn::Add(b0, b1), d, a.y + B.row0);
  }
  return s;
}

// K >= 0: every full column tile keeps exactly K columns (the set's patterns all keep K; their
// offsets then sit at offs[id * K ..]), so the tile loop is K straight-line steps with no count
// load and no jump; for R * NV == 1 two tiles per iteration feed different accumulator chains.
// K < 0: any counts (PatTileCols' jump into the unrolled steps).
template <int R, int NV, int K>
HWY_NOINLINE void PatTile(const pat_detail::TileArgs& a, int64_t s0, int64_t s1) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t L = hn::Lanes(d);  // a constant except on scalable SVE
  constexpr int U = R * NV == 1 ? 4 : (R * NV <= 3 ? 2 : 1);  // independent accumulator sets
  static_assert(U * R * NV <= 16, "the tile has 16 registers");
  const size_t nr = NV * L;
  // Address of x[c - c0] as integer arithmetic (x - c0 may point before the buffer).
  const uintptr_t xb = reinterpret_cast<uintptr_t>(a.x) - sizeof(float) * static_cast<uintptr_t>(a.c0);
  const uintptr_t xt0 = xb + static_cast<uintptr_t>(a.t0) * static_cast<uintptr_t>(a.tile_bytes);
  const int64_t ldy = a.ldy, ldx = a.ldx;
  const uintptr_t tile_bytes = static_cast<uintptr_t>(a.tile_bytes);
  int64_t s = s0;
  if constexpr (R == 1 && NV == 1 && K >= 0) {
    if (!a.seg && a.first) s = PatGemv2<K>(a, s0, s1);
  }
  for (; s < s1; ++s) {
    const pat_detail::Strip& st = a.strips[s];
    int64_t j0 = 0;
    if (a.seg) {
      const int32_t* sg = a.seg + s * a.seg_stride + a.kb;
      j0 = sg[0];
      if (sg[1] == sg[0] && !a.first) continue;  // nothing to add
    }
    const uint8_t* HWY_RESTRICT ids = a.ids + st.ids_off;
    const float* HWY_RESTRICT w = a.values + st.val_off + j0 * static_cast<int64_t>(nr);
    const float* HWY_RESTRICT bias = a.first ? a.bias + s * a.bias_stride : nullptr;
    // Ragged strip (rows < NV*L): go through a small tile so no row past the strip is written.
    const bool ragged = st.rows != static_cast<int32_t>(nr);
    HWY_ALIGN float tmp[R * NV * hn::MaxLanes(decltype(d)())];  // MaxLanes: 64 on scalable SVE
    float* HWY_RESTRICT y = a.y + st.row0;
    int64_t ly = ldy;
    if (ragged) {
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
    uintptr_t xt = xt0;
    if constexpr (K < 0) {
      for (int64_t t = a.t0; t < a.t1; ++t) {
        const pat_detail::PatRef pr = a.pat[ids[t]];
        w = PatTileCols<R, NV, U>(d, a.offs + pr.start, pr.count, xt, ldx, w, RT3_ACC16(acc));
        xt += tile_bytes;
      }
    } else {
      const uint32_t* HWY_RESTRICT offs = a.offs;
      constexpr int T = U > 1 ? 2 : 1;  // tiles per iteration
      const size_t kw = static_cast<size_t>(K) * nr;
      int64_t t = a.t0;
      for (; t + T <= a.t1; t += T) {
        PatSteps<K, R, NV, U>(d, offs + ids[t] * K + K, w + kw, xt, ldx, RT3_ACC16(acc));
        if constexpr (T == 2) {
          PatSteps<K, R, NV, U, K>(d, offs + ids[t + 1] * K + K, w + 2 * kw, xt + tile_bytes, ldx, RT3_ACC16(acc));
        }
        w += T * kw;
        xt += T * tile_bytes;
      }
      if (T == 2 && t < a.t1) {
        PatSteps<K, R, NV, U>(d, offs + ids[t] * K + K, w + kw, xt, ldx, RT3_ACC16(acc));
        w += kw;
        xt += tile_bytes;
      }
    }
    if (a.rag) {
      const pat_detail::PatRef pr = a.rpat[ids[a.t1]];
      w = PatTileCols<R, NV, U>(d, a.offs + pr.start, pr.count, xt, ldx, w, RT3_ACC16(acc));
    }
    FoldSets<U, R, NV>(d, RT3_ACC16(acc));
    StoreRows<R, NV>(d, y, ly, RT3_ACC16(acc));
    if (ragged) {
      for (int r = 0; r < R; ++r) std::memcpy(a.y + st.row0 + r * ldy, tmp + r * nr, sizeof(float) * st.rows);
    }
  }
}

template <int R, int NV>
void FillPatTiles(PatKernels& g) {
  if constexpr (R >= 1) {
    g.tile[NV][R] = &PatTile<R, NV, -1>;
    FillPatTiles<R - 1, NV>(g);
  }
}

// Fixed-count kernels for the m tiles that matter: R = 1 (M = 1) and R = the most rows.
template <int R, int NV, int K>
void FillPatTilesK(PatKernels& g) {
  if constexpr (K >= 0) {
    g.tilek[NV][R == 1 ? 0 : 1][K] = &PatTile<R, NV, K>;
    FillPatTilesK<R, NV, K - 1>(g);
  }
}

const PatKernels* GetPatKernels() {
  static const PatKernels kTable = [] {
    PatKernels g;
    const hn::ScalableTag<float> d;
    g.lanes = static_cast<int>(hn::Lanes(d));
    g.mr[1] = kPatAcc;
    g.mr[2] = kPatAcc / 2;
    g.target = hwy::TargetName(HWY_TARGET);
    FillPatTiles<kPatAcc, 1>(g);
    FillPatTiles<kPatAcc / 2, 2>(g);
    FillPatTilesK<1, 1, pat_detail::kSteps>(g);
    FillPatTilesK<1, 2, pat_detail::kSteps>(g);
    FillPatTilesK<kPatAcc, 1, pat_detail::kSteps>(g);
    FillPatTilesK<kPatAcc / 2, 2, pat_detail::kSteps>(g);
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
HWY_EXPORT(GetPatKernels);

using pat_detail::kKC;
using pat_detail::kMaxLanes;
using pat_detail::kMaxR;
using pat_detail::PatKernels;
using pat_detail::PatRef;

namespace {
constexpr int64_t kMinFlopsPerChunk = int64_t{1} << 17;  // smallest work worth another thread
constexpr int64_t kMaxTile = 4096;

[[noreturn]] void Invalid(const std::string& what) { throw std::invalid_argument("PatternWeights: " + what); }

// Kept columns of pattern id among its first `width` entries.
int64_t KeptOf(const PatternWeights& p, int64_t id, int64_t width) {
  const uint8_t* e = p.patterns.data() + id * p.tile_cols;
  int64_t n = 0;
  for (int64_t j = 0; j < width; ++j) n += e[j];
  return n;
}
}  // namespace

void pattern_validate(const PatternWeights& p) {
  if (p.out_features < 0 || p.in_features < 0) {
    Invalid("negative shape " + std::to_string(p.out_features) + "x" + std::to_string(p.in_features));
  }
  if (p.tile_rows < 1 || p.tile_rows > kMaxTile || p.tile_cols < 1 || p.tile_cols > kMaxTile) {
    Invalid("tile " + std::to_string(p.tile_rows) + "x" + std::to_string(p.tile_cols) + " not in [1, 4096]");
  }
  if (p.in_features > std::numeric_limits<int32_t>::max()) Invalid("in_features does not fit int32");
  if (p.in_features > 0 && p.out_features > std::numeric_limits<int64_t>::max() / p.in_features) {
    Invalid("out_features * in_features overflows");
  }
  if (p.n_patterns < 0) Invalid("n_patterns " + std::to_string(p.n_patterns) + " < 0");
  if (p.n_patterns > std::numeric_limits<int64_t>::max() / p.tile_cols) Invalid("n_patterns * tile_cols overflows");
  if (static_cast<uint64_t>(p.patterns.size()) != static_cast<uint64_t>(p.n_patterns * p.tile_cols)) {
    Invalid("patterns has " + std::to_string(p.patterns.size()) + " entries, expected n_patterns * tile_cols = " +
            std::to_string(p.n_patterns * p.tile_cols));
  }
  // n_row_tiles <= out and n_col_tiles <= in, so their product fits (out * in does).
  const int64_t n_tiles = p.n_row_tiles() * p.n_col_tiles();
  if (static_cast<uint64_t>(p.tile_pattern.size()) != static_cast<uint64_t>(n_tiles)) {
    Invalid("tile_pattern has " + std::to_string(p.tile_pattern.size()) + " entries, expected " +
            std::to_string(n_tiles) + " (" + std::to_string(p.n_row_tiles()) + " x " +
            std::to_string(p.n_col_tiles()) + " tiles)");
  }
  for (size_t i = 0; i < p.patterns.size(); ++i) {
    if (p.patterns[i] > 1) {
      Invalid("pattern " + std::to_string(i / static_cast<size_t>(p.tile_cols)) + " entry " +
              std::to_string(i % static_cast<size_t>(p.tile_cols)) + " is " + std::to_string(p.patterns[i]) +
              ", expected 0 or 1");
    }
  }
  for (size_t i = 0; i < p.tile_pattern.size(); ++i) {
    if (p.tile_pattern[i] >= p.n_patterns) {
      Invalid("tile " + std::to_string(i) + " uses pattern " + std::to_string(p.tile_pattern[i]) +
              " >= n_patterns " + std::to_string(p.n_patterns));
    }
  }
}

int64_t PatternWeights::kept_weights() const {
  pattern_validate(*this);
  const int64_t nrt = n_row_tiles(), nct = n_col_tiles();
  const int64_t last_w = in_features - (nct - 1) * tile_cols;  // width of the last column tile
  const int64_t np = std::min<int64_t>(n_patterns, 256);      // ids are bytes
  std::vector<int64_t> full(static_cast<size_t>(np)), last(static_cast<size_t>(np));
  for (int64_t id = 0; id < np; ++id) {
    full[static_cast<size_t>(id)] = KeptOf(*this, id, tile_cols);
    last[static_cast<size_t>(id)] = nct > 0 ? KeptOf(*this, id, last_w) : 0;
  }
  int64_t kept = 0;
  for (int64_t rt = 0; rt < nrt; ++rt) {
    const int64_t rows = std::min(tile_rows, out_features - rt * tile_rows);
    int64_t per_row = 0;
    for (int64_t ct = 0; ct < nct; ++ct) {
      const size_t id = tile_pattern[static_cast<size_t>(rt * nct + ct)];
      per_row += ct + 1 == nct ? last[id] : full[id];
    }
    kept += rows * per_row;
  }
  return kept;
}

double PatternWeights::sparsity() const {
  const int64_t kept = kept_weights();
  const int64_t total = out_features * in_features;  // validated: no overflow
  return total > 0 ? 1.0 - static_cast<double>(kept) / static_cast<double>(total) : 0.0;
}

size_t PatternWeights::storage_bytes() const { return patterns.size() + tile_pattern.size(); }

std::vector<float> pattern_apply(const float* W, const PatternWeights& p) {
  pattern_validate(p);
  const int64_t out = p.out_features, in = p.in_features, nct = p.n_col_tiles();
  if (out * in > 0 && W == nullptr) throw std::invalid_argument("pattern_apply: W is null");
  std::vector<float> Wm(static_cast<size_t>(out * in), 0.0f);
  for (int64_t r = 0; r < out; ++r) {
    const uint8_t* ids = p.tile_pattern.data() + (r / p.tile_rows) * nct;
    for (int64_t c = 0; c < in; ++c) {
      const int64_t ct = c / p.tile_cols;
      if (p.patterns[static_cast<size_t>(ids[ct] * p.tile_cols + (c - ct * p.tile_cols))]) {
        Wm[static_cast<size_t>(r * in + c)] = W[r * in + c];
      }
    }
  }
  return Wm;
}

struct PatternLinear::Impl {
  using Strip = pat_detail::Strip;
  int64_t out = 0, in = 0, tile_rows = 0, tile_cols = 0, kept = 0;
  int64_t nct = 0, nct_full = 0;  // column tiles, full column tiles
  bool rag = false;               // in % tile_cols != 0: the last column tile is ragged
  int64_t kb_tiles = 1, nkb = 1;  // column tiles per k-block, k-blocks
  int mr = 0;
  int uniform_k = -1;  // every pattern keeps this many of tile_cols columns (<= 16), else -1
  const PatKernels* g = nullptr;
  std::vector<Strip> strips;
  std::vector<int32_t> seg;     // strips * (nkb + 1)
  std::vector<uint8_t> ids;     // [row tile][column tile] pattern ids
  std::vector<uint32_t> offs;   // kept byte offsets of every pattern (full ones, then ragged ones)
  std::vector<PatRef> pat, rpat;  // per id: full tile, ragged last tile
  format::AlignedBuffer values;   // float, per strip kept * nv * lanes
  format::AlignedBuffer bias;     // float, per strip 2 * lanes
  std::string name;

  void pack(const float* W, const float* bias_in, const PatternWeights& p);
  const float* v() const { return reinterpret_cast<const float*>(values.data()); }
  const float* b() const { return reinterpret_cast<const float*>(bias.data()); }

  // Strips [s0, s1) against R rows of x for k-block kb (all of `in` when !use_seg), in runs of
  // equal NV. x holds the k-block's inputs from column c0 on, rows ldx apart.
  void run(int64_t s0, int64_t s1, int R, const float* x, int64_t ldx, bool use_seg, int64_t kb, float* y) const {
    const int64_t t0 = use_seg ? kb * kb_tiles : 0;
    const int64_t t_end = use_seg ? std::min(nct, t0 + kb_tiles) : nct;
    const bool r = rag && t_end == nct;
    const pat_detail::TileArgs a{x,
                                 t0 * tile_cols,
                                 ldx,
                                 strips.data(),
                                 ids.data(),
                                 t0,
                                 r ? t_end - 1 : t_end,
                                 r,
                                 use_seg ? seg.data() : nullptr,
                                 nkb + 1,
                                 kb,
                                 pat.data(),
                                 rpat.data(),
                                 offs.data(),
                                 tile_cols * static_cast<int64_t>(sizeof(float)),
                                 v(),
                                 b(),
                                 2 * static_cast<int64_t>(g->lanes),
                                 kb == 0,
                                 y,
                                 out};
    while (s0 < s1) {
      const int nv = strips[static_cast<size_t>(s0)].nv;
      int64_t e = s0 + 1;
      while (e < s1 && strips[static_cast<size_t>(e)].nv == nv) ++e;
      const int rk = R == 1 ? 0 : (R == g->mr[nv] ? 1 : -1);
      if (uniform_k >= 0 && rk >= 0) {
        g->tilek[nv][rk][uniform_k](a, s0, e);
      } else {
        g->tile[nv][R](a, s0, e);
      }
      s0 = e;
    }
  }
};

namespace {
const PatKernels* PatKernelsForTarget(const std::string& target) {
  for (int64_t t : hwy::SupportedAndGeneratedTargets()) {
    if (target != hwy::TargetName(t)) continue;
    return RT3_DISPATCH_FOR_TARGET(GetPatKernels, t)();
  }
  throw std::invalid_argument("PatternLinear: SIMD target '" + target + "' is not available here");
}
}  // namespace

void PatternLinear::Impl::pack(const float* W, const float* bias_in, const PatternWeights& p) {
  const int64_t L = g->lanes;
  if (L > kMaxLanes) throw std::invalid_argument("PatternLinear: vectors wider than supported");
  out = p.out_features;
  in = p.in_features;
  if (out * in > 0 && W == nullptr) throw std::invalid_argument("PatternLinear: W is null");
  tile_rows = p.tile_rows;
  tile_cols = p.tile_cols;
  kept = p.kept_weights();
  nct = p.n_col_tiles();
  nct_full = in / tile_cols;
  rag = nct != nct_full;
  kb_tiles = std::max<int64_t>(1, kKC / tile_cols);
  nkb = std::max<int64_t>(1, (nct + kb_tiles - 1) / kb_tiles);
  ids = p.tile_pattern;

  // Index lists: every id's kept columns (as byte offsets), for a full tile and a ragged one.
  const int64_t np = std::min<int64_t>(p.n_patterns, 256);
  const int64_t last_w = in - nct_full * tile_cols;
  pat.assign(static_cast<size_t>(np), PatRef{});
  rpat.assign(static_cast<size_t>(np), PatRef{});
  offs.clear();
  for (int ragged_table = 0; ragged_table < 2; ++ragged_table) {
    const int64_t width = ragged_table ? last_w : tile_cols;
    for (int64_t id = 0; id < np; ++id) {
      PatRef& ref = (ragged_table ? rpat : pat)[static_cast<size_t>(id)];
      ref.start = static_cast<int32_t>(offs.size());
      for (int64_t j = 0; j < width; ++j) {
        if (p.patterns[static_cast<size_t>(id * tile_cols + j)]) offs.push_back(static_cast<uint32_t>(j * 4));
      }
      ref.count = static_cast<int32_t>(offs.size()) - ref.start;
    }
  }
  if (offs.empty()) offs.push_back(0);
  uniform_k = np > 0 && pat[0].count <= pat_detail::kSteps ? pat[0].count : -1;
  for (const PatRef& ref : pat) {
    if (ref.count != uniform_k) uniform_k = -1;  // then pat[id].start == id * uniform_k
  }
  auto count_of = [&](const uint8_t* row, int64_t t) {
    return (rag && t == nct - 1 ? rpat : pat)[row[t]].count;
  };

  strips.clear();
  int64_t n_vals = 0;
  bool has_nv2 = false;
  for (int64_t rt = 0; rt < p.n_row_tiles(); ++rt) {
    const int64_t rows = std::min(tile_rows, out - rt * tile_rows);
    int64_t kept_cols = 0;
    for (int64_t t = 0; t < nct; ++t) kept_cols += count_of(ids.data() + rt * nct, t);
    for (int64_t off = 0; off < rows;) {
      Strip st;
      st.nv = rows - off > L ? 2 : 1;
      st.row0 = rt * tile_rows + off;
      st.rows = static_cast<int32_t>(std::min(rows - off, st.nv * L));
      st.ids_off = rt * nct;
      st.val_off = n_vals;
      n_vals += kept_cols * st.nv * L;
      has_nv2 = has_nv2 || st.nv == 2;
      off += st.rows;
      strips.push_back(st);
    }
  }
  mr = has_nv2 ? g->mr[2] : g->mr[1];
  values = format::AlignedBuffer(sizeof(float) * static_cast<size_t>(std::max<int64_t>(1, n_vals)));
  bias = format::AlignedBuffer(sizeof(float) * static_cast<size_t>(std::max<size_t>(1, strips.size() * 2 * L)));
  float* V = reinterpret_cast<float*>(values.data());
  float* B = reinterpret_cast<float*>(bias.data());
  std::memset(V, 0, values.size());
  std::memset(B, 0, bias.size());
  seg.assign(strips.size() * static_cast<size_t>(nkb + 1), 0);
  for (size_t s = 0; s < strips.size(); ++s) {
    const Strip& st = strips[s];
    const uint8_t* row = ids.data() + st.ids_off;
    const int64_t nr = st.nv * L;
    int32_t* sg = seg.data() + s * static_cast<size_t>(nkb + 1);
    int64_t j = 0;  // kept columns so far
    for (int64_t t = 0; t < nct; ++t) {
      if (t % kb_tiles == 0) sg[t / kb_tiles] = static_cast<int32_t>(j);
      const PatRef ref = (rag && t == nct - 1 ? rpat : pat)[row[t]];
      for (int32_t q = 0; q < ref.count; ++q, ++j) {
        const int64_t c = t * tile_cols + offs[static_cast<size_t>(ref.start + q)] / 4;
        float* dst = V + st.val_off + j * nr;
        for (int64_t r = 0; r < st.rows; ++r) dst[r] = W[(st.row0 + r) * in + c];
      }
    }
    sg[nkb] = static_cast<int32_t>(j);
    if (nct == 0) sg[0] = 0;
    if (bias_in) std::memcpy(B + s * 2 * L, bias_in + st.row0, sizeof(float) * static_cast<size_t>(st.rows));
  }
  name = std::string("pattern-hwy-") + g->target + " " + std::to_string(tile_rows) + "x" + std::to_string(tile_cols);
}

PatternLinear::PatternLinear(const float* W, const float* bias, const PatternWeights& p) : impl_(new Impl) {
  pattern_validate(p);
  impl_->g = HWY_DYNAMIC_DISPATCH(GetPatKernels)();  // the one dispatch decision
  impl_->pack(W, bias, p);
}

PatternLinear::PatternLinear(const float* W, const float* bias, const PatternWeights& p, const std::string& target)
    : impl_(new Impl) {
  pattern_validate(p);
  impl_->g = PatKernelsForTarget(target);
  impl_->pack(W, bias, p);
}

PatternLinear::~PatternLinear() = default;
PatternLinear::PatternLinear(PatternLinear&&) noexcept = default;
PatternLinear& PatternLinear::operator=(PatternLinear&&) noexcept = default;

int64_t PatternLinear::in_features() const { return impl_->in; }
int64_t PatternLinear::out_features() const { return impl_->out; }
int64_t PatternLinear::kept_weights() const { return impl_->kept; }
size_t PatternLinear::packed_bytes() const {
  const Impl& I = *impl_;
  return I.values.size() + I.bias.size() + I.ids.size() + sizeof(uint32_t) * I.offs.size() +
         sizeof(PatRef) * (I.pat.size() + I.rpat.size()) + sizeof(int32_t) * I.seg.size() +
         sizeof(Impl::Strip) * I.strips.size();
}
const char* PatternLinear::kernel_name() const { return impl_->name.c_str(); }

void PatternLinear::forward(const float* x, int64_t m, float* y, ThreadPool* pool) const {
  const Impl& I = *impl_;
  if (m <= 0 || I.out == 0) return;
  const int64_t n_strips = static_cast<int64_t>(I.strips.size());
  const int64_t in = I.in, nkb = I.nkb, kc = I.kb_tiles * I.tile_cols;
  const int64_t mtiles = (m + I.mr - 1) / I.mr;
  const int R = static_cast<int>((m + mtiles - 1) / mtiles);
  // Rows 4 KiB apart share L1 sets: copy such x tiles to a 2 KiB row stride (see bp_linear.cpp).
  const bool copy_x = in > 0 && in % 1024 == 0 && kc <= kKC;
  auto run = [&](int64_t s0, int64_t s1) {
    if (m == 1) {
      I.run(s0, s1, 1, x, 0, /*use_seg=*/false, 0, y);
      return;
    }
    alignas(64) float xs[kMaxR * kKC];  // 32 KiB
    for (int64_t m0 = 0; m0 < m; m0 += R) {
      const int rows = static_cast<int>(std::min<int64_t>(R, m - m0));
      for (int64_t kb = 0; kb < nkb; ++kb) {
        const int64_t k0 = kb * kc, kw = std::max<int64_t>(0, std::min<int64_t>(kc, in - k0));
        if (copy_x) {
          for (int r = 0; r < rows; ++r) {
            std::memcpy(xs + r * kKC, x + (m0 + r) * in + k0, sizeof(float) * static_cast<size_t>(kw));
          }
          I.run(s0, s1, rows, xs, kKC, /*use_seg=*/true, kb, y + m0 * I.out);
        } else {
          I.run(s0, s1, rows, x + m0 * in + k0, in, /*use_seg=*/true, kb, y + m0 * I.out);
        }
      }
    }
  };
  const int64_t kept_per_row = I.kept / I.out, rows_per_strip = I.out / std::max<int64_t>(1, n_strips);
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
