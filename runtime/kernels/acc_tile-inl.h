// Register tiles of accumulators that also compile for SVE. Included by the kernels inside their
// per-target code (Highway's -inl.h convention: re-included once per target by foreach_target).
//
// Why: SVE (and RVV) vector types are sizeless, and C++ forbids arrays of them, class members of
// them and lambda captures of them, so a tile cannot be `V acc[U][R][NV]`. A kernel declares its
// accumulators as plain named locals (RT3_ACC_DECLARE) and hands them to the always-inline helpers
// below as a pack of references; Reg<I>(acc...) is the I-th. After inlining, every reference is to
// a local whose address never escapes, so GCC keeps each accumulator in a register, exactly as it
// did with the fully unrolled array (the AVX-512 disassembly of the hot loops is unchanged:
// docs/kernels.md). Unused declared registers are dead code and vanish.
//
// Layout: the accumulator of set u, row r, vector v of a tile of R rows x NV vectors is index
// (u * R + r) * NV + v. Sets are independent partial sums over k that hide the FMA latency when
// R * NV is small; FoldSets adds sets 1..U-1 into set 0, in that order (the summation order of the
// array version, so results are bit-identical to it).
#if defined(RT3_KERNELS_ACC_TILE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef RT3_KERNELS_ACC_TILE_INL_H_
#undef RT3_KERNELS_ACC_TILE_INL_H_
#else
#define RT3_KERNELS_ACC_TILE_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include <hwy/highway.h>

// NAME0 .. NAME15 (and .. NAME23), zero-initialised; the matching argument lists.
#ifndef RT3_ACC_DECLARE16
#define RT3_ACC_DECLARE16(V, d, NAME)                                                                         \
  V NAME##0 = hn::Zero(d), NAME##1 = hn::Zero(d), NAME##2 = hn::Zero(d), NAME##3 = hn::Zero(d),             \
    NAME##4 = hn::Zero(d), NAME##5 = hn::Zero(d), NAME##6 = hn::Zero(d), NAME##7 = hn::Zero(d),             \
    NAME##8 = hn::Zero(d), NAME##9 = hn::Zero(d), NAME##10 = hn::Zero(d), NAME##11 = hn::Zero(d),           \
    NAME##12 = hn::Zero(d), NAME##13 = hn::Zero(d), NAME##14 = hn::Zero(d), NAME##15 = hn::Zero(d)
#define RT3_ACC16(NAME)                                                                                      \
  NAME##0, NAME##1, NAME##2, NAME##3, NAME##4, NAME##5, NAME##6, NAME##7, NAME##8, NAME##9, NAME##10,       \
      NAME##11, NAME##12, NAME##13, NAME##14, NAME##15
#define RT3_ACC_DECLARE24(V, d, NAME)                                                                         \
  RT3_ACC_DECLARE16(V, d, NAME);                                                                             \
  V NAME##16 = hn::Zero(d), NAME##17 = hn::Zero(d), NAME##18 = hn::Zero(d), NAME##19 = hn::Zero(d),         \
    NAME##20 = hn::Zero(d), NAME##21 = hn::Zero(d), NAME##22 = hn::Zero(d), NAME##23 = hn::Zero(d)
#define RT3_ACC24(NAME) \
  RT3_ACC16(NAME), NAME##16, NAME##17, NAME##18, NAME##19, NAME##20, NAME##21, NAME##22, NAME##23
#endif

HWY_BEFORE_NAMESPACE();
namespace rt3 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The I-th of the accumulators (a compile-time pick, no code).
template <size_t I, class V, class... Vs>
HWY_INLINE V& Reg(V& first, Vs&... rest) {
  static_assert(I <= sizeof...(Vs), "accumulator index past the declared registers");
  if constexpr (I == 0) {
    return first;
  } else {
    return Reg<I - 1>(rest...);
  }
}

// Set 0 = w0 (and w1 for vector 1) in every row: the bias, broadcast down the rows.
template <int R, int NV, int r = 0, class V, class... Vs>
HWY_INLINE void SetRows(V w0, V w1, Vs&... acc) {
  if constexpr (r < R) {
    Reg<r * NV>(acc...) = w0;
    if constexpr (NV == 2) Reg<r * NV + 1>(acc...) = w1;
    SetRows<R, NV, r + 1>(w0, w1, acc...);
  }
}

// Set 0 row r = y[r * ldy .. + NV * lanes) (unaligned).
template <int R, int NV, int r = 0, class D, class... Vs>
HWY_INLINE void LoadRows(D d, const float* HWY_RESTRICT y, int64_t ldy, Vs&... acc) {
  if constexpr (r < R) {
    const size_t L = hn::Lanes(d);
    Reg<r * NV>(acc...) = hn::LoadU(d, y + r * ldy);
    if constexpr (NV == 2) Reg<r * NV + 1>(acc...) = hn::LoadU(d, y + r * ldy + L);
    LoadRows<R, NV, r + 1>(d, y, ldy, acc...);
  }
}

// y[r * ldy .. + NV * lanes) = set 0 row r (unaligned).
template <int R, int NV, int r = 0, class D, class... Vs>
HWY_INLINE void StoreRows(D d, float* HWY_RESTRICT y, int64_t ldy, Vs&... acc) {
  if constexpr (r < R) {
    const size_t L = hn::Lanes(d);
    hn::StoreU(Reg<r * NV>(acc...), d, y + r * ldy);
    if constexpr (NV == 2) hn::StoreU(Reg<r * NV + 1>(acc...), d, y + r * ldy + L);
    StoreRows<R, NV, r + 1>(d, y, ldy, acc...);
  }
}

// Set u row r += x[r * ldx + col] * (w0, w1): one broadcast per row, NV FMAs.
template <int u, int R, int NV, int r = 0, class D, class V, class... Vs>
HWY_INLINE void FmaRows(D d, const float* HWY_RESTRICT x, int64_t ldx, int64_t col, V w0, V w1, Vs&... acc) {
  if constexpr (r < R) {
    constexpr size_t i = static_cast<size_t>((u * R + r) * NV);
    const V xr = hn::Set(d, x[r * ldx + col]);
    Reg<i>(acc...) = hn::MulAdd(xr, w0, Reg<i>(acc...));
    if constexpr (NV == 2) Reg<i + 1>(acc...) = hn::MulAdd(xr, w1, Reg<i + 1>(acc...));
    FmaRows<u, R, NV, r + 1>(d, x, ldx, col, w0, w1, acc...);
  }
}

// One k step into set u: the NV weight vectors at w (aligned) against column col of the R rows
// of x (rows ldx floats apart). The caller picks how the column is addressed (a base pointer
// and col = k, or a column pointer and col = 0): GCC keeps that form in the loop's addressing.
template <int u, int R, int NV, class D, class... Vs>
HWY_INLINE void ColumnStep(D d, const float* HWY_RESTRICT x, int64_t ldx, int64_t col, const float* HWY_RESTRICT w,
                           Vs&... acc) {
  static_assert(NV == 1 || NV == 2, "one or two vectors per row");
  using V = hn::Vec<D>;
  const V w0 = hn::Load(d, w);
  if constexpr (NV == 2) {
    const V w1 = hn::Load(d, w + hn::Lanes(d));
    FmaRows<u, R, NV>(d, x, ldx, col, w0, w1, acc...);
  } else {
    FmaRows<u, R, NV>(d, x, ldx, col, w0, w0, acc...);
  }
}

// Set 0 += set 1, then += set 2, ... (flat index j over sets 1..U-1, in order).
template <int U, int R, int NV, int j = R * NV, class D, class... Vs>
HWY_INLINE void FoldSets(D d, Vs&... acc) {
  if constexpr (j < U * R * NV) {
    constexpr size_t dst = static_cast<size_t>(j % (R * NV)), src = static_cast<size_t>(j);
    Reg<dst>(acc...) = hn::Add(Reg<dst>(acc...), Reg<src>(acc...));
    FoldSets<U, R, NV, j + 1>(d, acc...);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace rt3
HWY_AFTER_NAMESPACE();

#endif  // RT3_KERNELS_ACC_TILE_INL_H_ per target
