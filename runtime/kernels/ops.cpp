// Row-wise Transformer ops (layer_norm, gelu, relu, add, softmax, attention), SIMD through
// Highway with dynamic dispatch: one source compiled per target; the table of function pointers
// for the best target is resolved once per process (first use) and kept in a static.
// Plain references live in reference.cpp.
#include "runtime/kernels/ops.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/threads/thread_pool.h"

#ifndef RT3_OPS_SHARED
#define RT3_OPS_SHARED
namespace rt3 {
namespace kernels {
namespace ops_detail {
struct OpsTable {
  void (*layer_norm_row)(float* x, int64_t dim, const float* gamma, const float* beta, float eps);
  void (*gelu)(float* x, int64_t n);
  void (*relu)(float* x, int64_t n);
  void (*erf)(float* x, int64_t n);
  void (*add)(float* y, const float* x, int64_t n);
  void (*softmax_row)(float* x, int64_t n);
  // One (head, query) row of attention; scores: >= tk floats.
  void (*attention_row)(const float* q, const float* k, const float* v, int64_t ld_kv, int64_t tk, int64_t dh,
                        const uint8_t* key_valid, int64_t kmax, float* out, float* scores);
  const char* target;
};
}  // namespace ops_detail
}  // namespace kernels
}  // namespace rt3
#endif

// Targets: runtime/kernels/simd_targets.h. SVE is among them: the element-wise ops are structs that
// take their vectors as arguments (see MapInPlace), no lambda captures a vector.
#include "runtime/kernels/simd_targets.h"
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "runtime/kernels/ops.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

HWY_BEFORE_NAMESPACE();
namespace rt3 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;

// x[i] = Op::Apply(d, x[i], args...) on x[0, n): full vectors in place, the tail through a
// padded buffer so the tail sees exactly the same arithmetic as the body. Op is a struct with a
// static Apply, and its constant vectors (set up once, outside the loop) are passed as arguments,
// not captured by a lambda: SVE vector types are sizeless and cannot be captured.
template <class Op, class... Args>
HWY_INLINE void MapInPlace(float* HWY_RESTRICT x, int64_t n, Args... args) {
  const D d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + L <= n; i += L) hn::StoreU(Op::Apply(d, hn::LoadU(d, x + i), args...), d, x + i);
  if (i < n) {
    static_assert(hn::MaxLanes(D()) <= 64, "the tail buffer holds 64 lanes (2048-bit SVE)");
    alignas(64) float buf[64] = {};
    std::memcpy(buf, x + i, sizeof(float) * static_cast<size_t>(n - i));
    hn::Store(Op::Apply(d, hn::Load(d, buf), args...), d, buf);
    std::memcpy(x + i, buf, sizeof(float) * static_cast<size_t>(n - i));
  }
}

// erf(x) as x * P(x^2) / Q(x^2) on [-4, 4] (|erf| rounds to 1 beyond). Coefficients: the
// rational approximation published with Eigen (generic_fast_erf_float); measured error vs
// std::erf: see tests/runtime/test_kernels.cpp (KernelsGelu.ErfAccuracy) and docs/kernels.md.
HWY_INLINE V Erf(D d, V x) {
  x = hn::Min(hn::Max(x, hn::Set(d, -4.0f)), hn::Set(d, 4.0f));
  const V x2 = hn::Mul(x, x);
  V p = hn::Set(d, -2.72614225801306e-10f);
  p = hn::MulAdd(p, x2, hn::Set(d, 2.77068142495902e-08f));
  p = hn::MulAdd(p, x2, hn::Set(d, -2.10102402082508e-06f));
  p = hn::MulAdd(p, x2, hn::Set(d, -5.69250639462346e-05f));
  p = hn::MulAdd(p, x2, hn::Set(d, -7.34990630326855e-04f));
  p = hn::MulAdd(p, x2, hn::Set(d, -2.95459980854025e-03f));
  p = hn::MulAdd(p, x2, hn::Set(d, -1.60960333262415e-02f));
  p = hn::Mul(p, x);
  V q = hn::Set(d, -1.45660718464996e-05f);
  q = hn::MulAdd(q, x2, hn::Set(d, -2.13374055278905e-04f));
  q = hn::MulAdd(q, x2, hn::Set(d, -1.68282697438203e-03f));
  q = hn::MulAdd(q, x2, hn::Set(d, -7.37332916720468e-03f));
  q = hn::MulAdd(q, x2, hn::Set(d, -1.42647390514189e-02f));
  return hn::Div(p, q);
}

struct GeluOp {
  static HWY_INLINE V Apply(D d, V v, V half, V one, V rsqrt2) {
    return hn::Mul(hn::Mul(half, v), hn::Add(one, Erf(d, hn::Mul(v, rsqrt2))));
  }
};

void GeluImpl(float* x, int64_t n) {
  const D d;
  const V half = hn::Set(d, 0.5f), one = hn::Set(d, 1.0f), rsqrt2 = hn::Set(d, 0.70710678118654752f);
  MapInPlace<GeluOp>(x, n, half, one, rsqrt2);
}

struct ErfOp {
  static HWY_INLINE V Apply(D d, V v) { return Erf(d, v); }
};

void ErfImpl(float* x, int64_t n) { MapInPlace<ErfOp>(x, n); }

struct ReluOp {
  static HWY_INLINE V Apply(D, V v, V zero) { return hn::Max(v, zero); }
};

void ReluImpl(float* x, int64_t n) {
  const D d;
  MapInPlace<ReluOp>(x, n, hn::Zero(d));
}

void AddImpl(float* HWY_RESTRICT y, const float* HWY_RESTRICT x, int64_t n) {
  const D d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + L <= n; i += L) hn::StoreU(hn::Add(hn::LoadU(d, y + i), hn::LoadU(d, x + i)), d, y + i);
  for (; i < n; ++i) y[i] += x[i];
}

HWY_INLINE float Sum(const float* HWY_RESTRICT x, int64_t n) {
  const D d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  V a0 = hn::Zero(d), a1 = hn::Zero(d);
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    a0 = hn::Add(a0, hn::LoadU(d, x + i));
    a1 = hn::Add(a1, hn::LoadU(d, x + i + L));
  }
  for (; i + L <= n; i += L) a0 = hn::Add(a0, hn::LoadU(d, x + i));
  float s = hn::GetLane(hn::SumOfLanes(d, hn::Add(a0, a1)));
  for (; i < n; ++i) s += x[i];
  return s;
}

// Corrected two-pass mean/variance (Chan, Golub, LeVeque): the second pass also sums the
// deviations, which removes the rounding error of the first-pass mean (matters for rows with a
// large offset and a small spread).
void LayerNormRowImpl(float* HWY_RESTRICT x, int64_t dim, const float* HWY_RESTRICT gamma,
                      const float* HWY_RESTRICT beta, float eps) {
  if (dim <= 0) return;
  const D d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const float mean0 = Sum(x, dim) / static_cast<float>(dim);
  const V m0 = hn::Set(d, mean0);
  V s1 = hn::Zero(d), s2 = hn::Zero(d);
  int64_t i = 0;
  for (; i + L <= dim; i += L) {
    const V dv = hn::Sub(hn::LoadU(d, x + i), m0);
    s1 = hn::Add(s1, dv);
    s2 = hn::MulAdd(dv, dv, s2);
  }
  float sd = hn::GetLane(hn::SumOfLanes(d, s1));
  float sd2 = hn::GetLane(hn::SumOfLanes(d, s2));
  for (; i < dim; ++i) {
    const float dv = x[i] - mean0;
    sd += dv;
    sd2 += dv * dv;
  }
  const float inv_n = 1.0f / static_cast<float>(dim);
  const float corr = sd * inv_n;  // mean = mean0 + corr, kept as a pair: x - mean0 is exact-ish
  const float var = std::max(0.0f, (sd2 - sd * corr) * inv_n);
  const float inv = 1.0f / std::sqrt(var + eps);
  const V vc = hn::Set(d, corr), vinv = hn::Set(d, inv);
  i = 0;
  for (; i + L <= dim; i += L) {
    V y = hn::Mul(hn::Sub(hn::Sub(hn::LoadU(d, x + i), m0), vc), vinv);
    if (gamma) y = hn::Mul(y, hn::LoadU(d, gamma + i));
    if (beta) y = hn::Add(y, hn::LoadU(d, beta + i));
    hn::StoreU(y, d, x + i);
  }
  for (; i < dim; ++i) {
    float y = ((x[i] - mean0) - corr) * inv;
    if (gamma) y *= gamma[i];
    if (beta) y += beta[i];
    x[i] = y;
  }
}

HWY_INLINE float Max(const float* HWY_RESTRICT x, int64_t n) {
  const D d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  V m = hn::Set(d, -std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + L <= n; i += L) m = hn::Max(m, hn::LoadU(d, x + i));
  float r = hn::GetLane(hn::MaxOfLanes(d, m));
  for (; i < n; ++i) r = std::max(r, x[i]);
  return r;
}

struct ExpSubOp {
  static HWY_INLINE V Apply(D d, V v, V vmx, V lo) { return hn::Exp(d, hn::Max(hn::Sub(v, vmx), lo)); }
};

// x[i] = exp(x[i] - mx), returns the sum. Arguments are clamped at -100 (exp < 4e-44): keeps
// Highway's Exp inside its valid range when x holds the lowest float (masked scores).
HWY_INLINE float ExpSub(float* HWY_RESTRICT x, int64_t n, float mx) {
  const D d;
  MapInPlace<ExpSubOp>(x, n, hn::Set(d, mx), hn::Set(d, -100.0f));
  return Sum(x, n);
}

struct ScaleOp {
  static HWY_INLINE V Apply(D, V v, V vs) { return hn::Mul(v, vs); }
};

HWY_INLINE void Scale(float* HWY_RESTRICT x, int64_t n, float s) {
  const D d;
  MapInPlace<ScaleOp>(x, n, hn::Set(d, s));
}

void SoftmaxRowImpl(float* x, int64_t n) {
  if (n <= 0) return;
  const float mx = Max(x, n);
  const float sum = ExpSub(x, n, mx);
  Scale(x, n, 1.0f / sum);
}

HWY_INLINE float Dot(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, int64_t n) {
  const D d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  V a0 = hn::Zero(d), a1 = hn::Zero(d);
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    a0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), a0);
    a1 = hn::MulAdd(hn::LoadU(d, a + i + L), hn::LoadU(d, b + i + L), a1);
  }
  for (; i + L <= n; i += L) a0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), a0);
  float s = hn::GetLane(hn::SumOfLanes(d, hn::Add(a0, a1)));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// out[0, dh) = inv_sum * sum_{j < kmax, valid} p[j] * v[j * ld + .]
void WeightedSum(const float* HWY_RESTRICT p, const float* HWY_RESTRICT v, int64_t ld, int64_t kmax,
                 const uint8_t* valid, int64_t dh, float inv_sum, float* HWY_RESTRICT out) {
  const D d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const V vs = hn::Set(d, inv_sum);
  int64_t d0 = 0;
  for (; d0 + 4 * L <= dh; d0 += 4 * L) {
    V a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
    for (int64_t j = 0; j < kmax; ++j) {
      if (valid && !valid[j]) continue;
      const V pj = hn::Set(d, p[j]);
      const float* vj = v + j * ld + d0;
      a0 = hn::MulAdd(pj, hn::LoadU(d, vj), a0);
      a1 = hn::MulAdd(pj, hn::LoadU(d, vj + L), a1);
      a2 = hn::MulAdd(pj, hn::LoadU(d, vj + 2 * L), a2);
      a3 = hn::MulAdd(pj, hn::LoadU(d, vj + 3 * L), a3);
    }
    hn::StoreU(hn::Mul(a0, vs), d, out + d0);
    hn::StoreU(hn::Mul(a1, vs), d, out + d0 + L);
    hn::StoreU(hn::Mul(a2, vs), d, out + d0 + 2 * L);
    hn::StoreU(hn::Mul(a3, vs), d, out + d0 + 3 * L);
  }
  for (; d0 + L <= dh; d0 += L) {
    V a0 = hn::Zero(d);
    for (int64_t j = 0; j < kmax; ++j) {
      if (valid && !valid[j]) continue;
      a0 = hn::MulAdd(hn::Set(d, p[j]), hn::LoadU(d, v + j * ld + d0), a0);
    }
    hn::StoreU(hn::Mul(a0, vs), d, out + d0);
  }
  for (; d0 < dh; ++d0) {
    float a = 0;
    for (int64_t j = 0; j < kmax; ++j) {
      if (valid && !valid[j]) continue;
      a += p[j] * v[j * ld + d0];
    }
    out[d0] = a * inv_sum;
  }
}

void AttentionRowImpl(const float* q, const float* k, const float* v, int64_t ld_kv, int64_t tk, int64_t dh,
                      const uint8_t* key_valid, int64_t kmax, float* out, float* scores) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  float mx = -std::numeric_limits<float>::infinity();
  bool any = false;
  for (int64_t j = 0; j < kmax; ++j) {
    if (key_valid && !key_valid[j]) {
      scores[j] = std::numeric_limits<float>::lowest();
      continue;
    }
    const float s = Dot(q, k + j * ld_kv, dh) * scale;
    scores[j] = s;
    mx = std::max(mx, s);
    any = true;
  }
  if (!any) {
    // Every key masked: HF's softmax over all-equal (lowest) scores averages v over all tk keys.
    std::fill(scores, scores + tk, 1.0f);
    WeightedSum(scores, v, ld_kv, tk, nullptr, dh, 1.0f / static_cast<float>(tk), out);
    return;
  }
  const float sum = ExpSub(scores, kmax, mx);  // masked entries become ~0 and are skipped below
  float valid_sum = sum;
  if (key_valid) {  // subtract the (tiny) contributions of masked entries exactly
    valid_sum = 0;
    for (int64_t j = 0; j < kmax; ++j) valid_sum += key_valid[j] ? scores[j] : 0.0f;
  }
  WeightedSum(scores, v, ld_kv, kmax, key_valid, dh, 1.0f / valid_sum, out);
}

const ops_detail::OpsTable* GetOpsTable() {
  static const ops_detail::OpsTable kTable = {&LayerNormRowImpl, &GeluImpl,         &ReluImpl, &ErfImpl,
                                              &AddImpl,          &SoftmaxRowImpl,   &AttentionRowImpl,
                                              hwy::TargetName(HWY_TARGET)};
  return &kTable;
}

}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace rt3
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace rt3 {
namespace kernels {
HWY_EXPORT(GetOpsTable);

namespace {
const ops_detail::OpsTable& Ops() {
  static const ops_detail::OpsTable* t = HWY_DYNAMIC_DISPATCH(GetOpsTable)();  // chosen once
  return *t;
}
constexpr int64_t kScoreAlign = 16;
int64_t ScoreStride(int64_t tk) { return (std::max<int64_t>(tk, 1) + kScoreAlign - 1) / kScoreAlign * kScoreAlign; }
}  // namespace

void layer_norm(float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps) {
  const auto& t = Ops();
  for (int64_t r = 0; r < rows; ++r) t.layer_norm_row(x + r * dim, dim, gamma, beta, eps);
}

const char* ops_target() { return Ops().target; }
void gelu(float* x, int64_t n) { Ops().gelu(x, n); }
void relu(float* x, int64_t n) { Ops().relu(x, n); }
void erf_approx(float* x, int64_t n) { Ops().erf(x, n); }
void add_inplace(float* y, const float* x, int64_t n) { Ops().add(y, x, n); }

void softmax_rows(float* x, int64_t rows, int64_t cols) {
  const auto& t = Ops();
  for (int64_t r = 0; r < rows; ++r) t.softmax_row(x + r * cols, cols);
}

int64_t attention_scratch_floats(int64_t tq, int64_t tk, int threads) {
  (void)tq;
  return static_cast<int64_t>(std::max(threads, 1)) * ScoreStride(tk);
}

void attention(const float* q, const float* k, const float* v, int64_t ld_kv, int64_t tq, int64_t tk, int64_t heads,
               int64_t dh, const uint8_t* key_valid, int64_t causal_offset, float* out, float* scratch,
               ThreadPool* pool) {
  if (tq <= 0 || heads <= 0) return;
  const int64_t width = heads * dh;
  if (tk <= 0) {  // nothing to attend to: the (empty) weighted sum is zero
    std::fill(out, out + tq * width, 0.0f);
    return;
  }
  const auto& t = Ops();
  const int64_t stride = ScoreStride(tk);
  std::atomic<int> next_slot{0};
  // Items are (query row, head) pairs, row-major so a chunk writes contiguous output.
  auto run = [&](int64_t b, int64_t e) {
    float* scores = scratch + static_cast<int64_t>(next_slot.fetch_add(1, std::memory_order_relaxed)) * stride;
    for (int64_t it = b; it < e; ++it) {
      const int64_t i = it / heads, h = it % heads;
      const int64_t kmax = causal_offset < 0 ? tk : std::min(tk, causal_offset + i + 1);
      t.attention_row(q + i * width + h * dh, k + h * dh, v + h * dh, ld_kv, tk, dh, key_valid, kmax,
                      out + i * width + h * dh, scores);
    }
  };
  const int64_t items = tq * heads;
  const int64_t item_flops = 4 * std::max<int64_t>(tk, 1) * std::max<int64_t>(dh, 1);
  const int64_t min_chunk = std::max<int64_t>(1, (int64_t{1} << 15) / item_flops);
  if (pool && pool->size() > 1 && items > min_chunk) {
    pool->parallel_for(items, run, min_chunk);
  } else {
    run(0, items);
  }
}

}  // namespace kernels
}  // namespace rt3
#endif  // HWY_ONCE
