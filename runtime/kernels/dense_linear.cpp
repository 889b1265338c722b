// DenseLinear: y = x W^T + b with W packed once into column panels for a register-blocked
// microkernel. One source, compiled once per SIMD target by Highway (foreach_target); the
// target is chosen once, at construction, and its kernel table is stored in the object.
//
// Packing (NR = 2 vectors of the chosen target, e.g. 32 floats on AVX-512):
//   panel p holds output columns [p*NR, p*NR + NR) as K rows of NR contiguous floats:
//   packed[p][k][j] = W[p*NR + j][k]   (zero for columns past out_features)
//   so the microkernel reads 2 aligned vectors per k and broadcasts x[r][k] for MR rows.
//   The bias is packed to panels * NR floats (zeros when there is no bias).
// Microkernel ("tile"): R rows (1..MR) x NR columns, R*2 vector accumulators (R <= 3 uses extra
// k-split accumulator sets so the FMA latency chain is hidden in the GEMV / small-M case).
// Loop nest per task: k-block (KC so a panel slice stays in L1) > panel > MR-row block.
// Threads split the (M block, panel) grid into contiguous chunks, i.e. mostly over N.
#include "runtime/kernels/dense_linear.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "runtime/format/aligned_buffer.h"
#include "runtime/threads/thread_pool.h"

#ifndef RT3_DENSE_LINEAR_SHARED
#define RT3_DENSE_LINEAR_SHARED
namespace rt3 {
namespace kernels {
namespace dense_detail {
constexpr int kMaxMR = 12;
constexpr int kMaxNR = 128;  // 2 vectors of 2048-bit SVE (64 floats each), the widest vectors there are
// c[r][0..NR) for r < R, row stride ldc. bias != null: c = bias + a*b; else c += a*b.
using TileFn = void (*)(const float* a, int64_t lda, const float* b, int64_t kc, float* c, int64_t ldc,
                        const float* bias);
struct GemmKernels {
  int nr = 0;
  int mr = 0;
  int kc = 0;  // k-block for M > MR
  const char* target = "";
  TileFn tile[kMaxMR + 1] = {};
};
}  // namespace dense_detail
}  // namespace kernels
}  // namespace rt3
#endif

// Targets: runtime/kernels/simd_targets.h. SVE is among them: the tile keeps its accumulators in
// named registers (acc_tile-inl.h), not in an array of vectors.
#include "runtime/kernels/simd_targets.h"
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "runtime/kernels/dense_linear.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include "runtime/kernels/target_dispatch.h"
#include "runtime/kernels/acc_tile-inl.h"

HWY_BEFORE_NAMESPACE();
namespace rt3 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using dense_detail::GemmKernels;

// Rows per tile: targets with 32 vector registers (AVX-512; NEON and SVE on aarch64) hold 12x2
// accumulators, the others 6x2.
#if HWY_TARGET == HWY_SCALAR || HWY_TARGET == HWY_EMU128
constexpr int kMR = 4;
#elif (HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3) || HWY_ARCH_ARM_A64
constexpr int kMR = 12;
#else
constexpr int kMR = 6;
#endif

template <int R>
HWY_NOINLINE void Tile(const float* HWY_RESTRICT a, int64_t lda, const float* HWY_RESTRICT b, int64_t kc,
                       float* HWY_RESTRICT c, int64_t ldc, const float* HWY_RESTRICT bias) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t L = hn::Lanes(d);
  constexpr int U = R == 1 ? 4 : (R <= 3 ? 2 : 1);  // independent accumulator sets over k
  static_assert(U * R * 2 <= 24, "the tile has 24 registers");
  // acc (set u, row r, vector v) is register (u * R + r) * 2 + v (acc_tile-inl.h); sets 1..U-1
  // start at zero.
  RT3_ACC_DECLARE24(V, d, acc);
  if (bias) {
    const V b0 = hn::LoadU(d, bias), b1 = hn::LoadU(d, bias + L);
    SetRows<R, 2>(b0, b1, RT3_ACC24(acc));
  } else {
    LoadRows<R, 2>(d, c, ldc, RT3_ACC24(acc));
  }
  const size_t nr = 2 * L;
  int64_t k = 0;
  for (; k + U <= kc; k += U) {
    // Step u: column k + u of the R rows of a, row k + u of the panel, into set u.
    ColumnStep<0, R, 2>(d, a, lda, k, b + static_cast<size_t>(k) * nr, RT3_ACC24(acc));
    if constexpr (U > 1) ColumnStep<1, R, 2>(d, a, lda, k + 1, b + static_cast<size_t>(k + 1) * nr, RT3_ACC24(acc));
    if constexpr (U > 2) ColumnStep<2, R, 2>(d, a, lda, k + 2, b + static_cast<size_t>(k + 2) * nr, RT3_ACC24(acc));
    if constexpr (U > 3) ColumnStep<3, R, 2>(d, a, lda, k + 3, b + static_cast<size_t>(k + 3) * nr, RT3_ACC24(acc));
  }
  // The last kc % U (< U) steps, into set 0. A loop of U - 1 fully unrolled tries: straight-line
  // code, as GCC made of the `for (; k < kc; ++k)` tail of the array version.
#pragma GCC unroll 4
  for (int t = 1; t < U && k < kc; ++t, ++k) {
    ColumnStep<0, R, 2>(d, a, lda, k, b + static_cast<size_t>(k) * nr, RT3_ACC24(acc));
  }
  FoldSets<U, R, 2>(d, RT3_ACC24(acc));
  StoreRows<R, 2>(d, c, ldc, RT3_ACC24(acc));
}

template <int R>
void FillTiles(GemmKernels& g) {
  if constexpr (R >= 1) {
    g.tile[R] = &Tile<R>;
    FillTiles<R - 1>(g);
  }
}

const GemmKernels* GetGemmKernels() {
  static const GemmKernels kTable = [] {
    GemmKernels g;
    const hn::ScalableTag<float> d;
    g.nr = static_cast<int>(2 * hn::Lanes(d));
    g.mr = kMR;
    g.kc = std::max(64, 8192 / g.nr);  // KC * NR * 4 bytes = 32 KiB: a panel slice stays in L1
    g.target = hwy::TargetName(HWY_TARGET);
    FillTiles<kMR>(g);
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
HWY_EXPORT(GetGemmKernels);

using dense_detail::GemmKernels;
using dense_detail::kMaxMR;
using dense_detail::kMaxNR;

namespace {
// Rows per M block (A block = MC x KC floats, kept in L2 while the panels stream past it).
constexpr int kMcTiles = 16;
// Smallest amount of work worth handing to another thread.
constexpr int64_t kMinFlopsPerChunk = int64_t{1} << 17;
}  // namespace

struct DenseLinear::Impl {
  int64_t out = 0, in = 0;
  int64_t panels = 0;
  const GemmKernels* g = nullptr;
  format::AlignedBuffer packed;  // panels * in * nr floats
  format::AlignedBuffer bias;    // panels * nr floats
  std::string name;

  void pack(const float* W, const float* bias_in);  // (re)packs for the kernels in g
  const float* w() const { return reinterpret_cast<const float*>(packed.data()); }
  const float* b() const { return reinterpret_cast<const float*>(bias.data()); }

  // Rows [r_begin, r_end) x panels [p0, p1).
  void run_block(const float* x, int64_t r_begin, int64_t r_end, int64_t p0, int64_t p1, int64_t kc,
                 float* y) const {
    const int64_t nr = g->nr, mr = g->mr, K = in, N = out;
    alignas(64) float tmp[kMaxMR * kMaxNR];
    for (int64_t k0 = 0; k0 == 0 || k0 < K; k0 += kc) {
      const int64_t kcur = std::min(kc, K - k0);
      for (int64_t p = p0; p < p1; ++p) {
        const float* bp = w() + (p * K + k0) * nr;
        const float* bias_p = k0 == 0 ? b() + p * nr : nullptr;
        const int64_t cols = std::min(nr, N - p * nr);
        for (int64_t r0 = r_begin; r0 < r_end; r0 += mr) {
          const int64_t rows = std::min(mr, r_end - r0);
          const float* a = x + r0 * K + k0;
          float* c = y + r0 * N + p * nr;
          if (cols == nr) {
            g->tile[rows](a, K, bp, kcur, c, N, bias_p);
          } else {
            if (!bias_p) {
              for (int64_t r = 0; r < rows; ++r) std::memcpy(tmp + r * nr, c + r * N, sizeof(float) * cols);
            }
            g->tile[rows](a, K, bp, kcur, tmp, nr, bias_p);
            for (int64_t r = 0; r < rows; ++r) std::memcpy(c + r * N, tmp + r * nr, sizeof(float) * cols);
          }
        }
      }
      if (K == 0) break;
    }
  }
};

std::vector<std::string> dense_linear_targets() {
  std::vector<std::string> names;
  for (int64_t t : hwy::SupportedAndGeneratedTargets()) names.emplace_back(hwy::TargetName(t));
  return names;
}

namespace {
const GemmKernels* KernelsForTarget(const std::string& target) {
  for (int64_t t : hwy::SupportedAndGeneratedTargets()) {
    if (target != hwy::TargetName(t)) continue;
    return RT3_DISPATCH_FOR_TARGET(GetGemmKernels, t)();
  }
  throw std::invalid_argument("DenseLinear: SIMD target '" + target + "' is not available here");
}
}  // namespace

DenseLinear::DenseLinear(const float* W, const float* bias, int64_t out_features, int64_t in_features,
                         const std::string& target)
    : DenseLinear(W, bias, out_features, in_features) {
  impl_->g = KernelsForTarget(target);
  impl_->pack(W, bias);
}

DenseLinear::DenseLinear(const float* W, const float* bias, int64_t out_features, int64_t in_features)
    : impl_(new Impl) {
  if (out_features < 0 || in_features < 0) throw std::invalid_argument("DenseLinear: negative shape");
  if ((W == nullptr) && out_features > 0 && in_features > 0) throw std::invalid_argument("DenseLinear: W is null");
  Impl& I = *impl_;
  I.out = out_features;
  I.in = in_features;
  I.g = HWY_DYNAMIC_DISPATCH(GetGemmKernels)();  // the one dispatch decision
  I.pack(W, bias);
}

void DenseLinear::Impl::pack(const float* W, const float* bias_in) {
  Impl& I = *this;
  const int64_t out_features = out, in_features = in;
  const int64_t nr = I.g->nr;
  // run_block's ragged-N stack tile holds kMaxNR columns (any SVE width fits; RVV is not built).
  if (nr > kMaxNR || I.g->mr > kMaxMR) throw std::invalid_argument("DenseLinear: vectors wider than supported");
  I.panels = (out_features + nr - 1) / nr;
  I.packed = format::AlignedBuffer(sizeof(float) * static_cast<size_t>(I.panels * in_features * nr));
  I.bias = format::AlignedBuffer(sizeof(float) * static_cast<size_t>(std::max<int64_t>(1, I.panels * nr)));
  float* P = reinterpret_cast<float*>(I.packed.data());
  float* B = reinterpret_cast<float*>(I.bias.data());
  std::memset(P, 0, I.packed.size());
  std::memset(B, 0, I.bias.size());
  for (int64_t p = 0; p < I.panels; ++p) {
    float* panel = P + p * in_features * nr;
    for (int64_t j = 0; j < nr && p * nr + j < out_features; ++j) {
      const float* wrow = W + (p * nr + j) * in_features;
      for (int64_t k = 0; k < in_features; ++k) panel[k * nr + j] = wrow[k];
    }
  }
  if (bias_in) std::memcpy(B, bias_in, sizeof(float) * static_cast<size_t>(out_features));
  I.name = std::string("hwy-") + I.g->target + " " + std::to_string(I.g->mr) + "x" + std::to_string(nr);
}

DenseLinear::~DenseLinear() = default;
DenseLinear::DenseLinear(DenseLinear&&) noexcept = default;
DenseLinear& DenseLinear::operator=(DenseLinear&&) noexcept = default;

int64_t DenseLinear::in_features() const { return impl_->in; }
int64_t DenseLinear::out_features() const { return impl_->out; }
size_t DenseLinear::packed_bytes() const { return impl_->packed.size() + impl_->bias.size(); }
const char* DenseLinear::kernel_name() const { return impl_->name.c_str(); }

void DenseLinear::forward(const float* x, int64_t m, float* y, ThreadPool* pool) const {
  const Impl& I = *impl_;
  if (m <= 0 || I.out == 0) return;
  const int64_t mr = I.g->mr, nr = I.g->nr;
  // Few rows: one pass over the weights, no k-blocking (nothing to reuse). Many rows: k-blocks
  // so a panel slice stays in L1 across the MR-row tiles of an M block.
  const bool small_m = m <= mr;
  const int64_t kc = small_m ? std::max<int64_t>(I.in, 1) : I.g->kc;
  const int64_t mc = small_m ? mr : mr * kMcTiles;
  const int64_t mblocks = (m + mc - 1) / mc;
  const int64_t tasks = mblocks * I.panels;
  auto run = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1;) {
      const int64_t mb = t / I.panels, p0 = t % I.panels;
      const int64_t p1 = std::min(I.panels, p0 + (t1 - t));
      const int64_t r0 = mb * mc;
      I.run_block(x, r0, std::min(m, r0 + mc), p0, p1, kc, y);
      t += p1 - p0;
    }
  };
  const int64_t item_flops = 2 * std::min(m, mc) * std::max<int64_t>(I.in, 1) * nr;
  const int64_t min_chunk = std::max<int64_t>(1, kMinFlopsPerChunk / item_flops);
  if (pool && pool->size() > 1 && tasks > min_chunk) {
    pool->parallel_for(tasks, run, min_chunk);
  } else {
    run(0, tasks);
  }
}

}  // namespace kernels
}  // namespace rt3
#endif  // HWY_ONCE
