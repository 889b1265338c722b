// Dense fp32 kernels and the thread pool, XNNPACK-Tester style: a builder per kernel that
// checks the fast path against the plain reference on the shape it describes.
//
// Tolerances (why they hold):
// - linear: |y - ref| <= 1e-5 * (sum_k |x_k W_nk| + |b_n|) + 1e-6. The reference sums in double;
//   ours in float with FMA, in k-blocks of KC (<= 1024) split over up to 4 accumulator sets. Worst
//   case rounding error of such blocked summation is ~(K/KC + KC/U) * 2^-24 * sum|x w|; the
//   errors are random-signed, so the typical error is ~sqrt of that count * 2^-24 (< 1e-6).
// - attention / softmax / layer_norm: outputs are O(1) (convex combinations of v, probabilities,
//   normalised values), so an absolute + relative 1e-5 bound applies; Exp is ~1 ulp.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runtime/kernels/dense_linear.h"
#include "runtime/kernels/ops.h"
#include "runtime/threads/thread_pool.h"

namespace rt3 {
namespace kernels {
namespace {

std::vector<float> RandomVec(std::mt19937& rng, size_t n, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// ---------------------------------------------------------------------------------------------
// ThreadPool

TEST(ThreadPool, CoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {1, 2, 3, 7, 64, 1000, 12345}) {
      for (int64_t min_chunk : {1, 2, 5, 100}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<int> chunks{0};
        std::mutex mu;
        bool chunk_ok = true;
        pool.parallel_for(
            n,
            [&](int64_t b, int64_t e) {
              chunks.fetch_add(1);
              if (!(b < e) || (n >= min_chunk && e - b < min_chunk)) {
                std::lock_guard<std::mutex> lk(mu);
                chunk_ok = false;
              }
              for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
            },
            min_chunk);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "n=" << n << " i=" << i;
        EXPECT_TRUE(chunk_ok) << "n=" << n << " min_chunk=" << min_chunk;
        EXPECT_LE(chunks.load(), threads);
        EXPECT_GE(chunks.load(), 1);
      }
    }
  }
}

TEST(ThreadPool, ZeroItemsDoesNothing) {
  ThreadPool pool(2);
  int calls = 0;
  pool.parallel_for(0, [&](int64_t, int64_t) { ++calls; });
  pool.parallel_for(-5, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ThreadPool, OneThreadRunsOnCaller) {
  ThreadPool pool(1);
  const auto me = std::this_thread::get_id();
  int calls = 0;
  pool.parallel_for(100, [&](int64_t b, int64_t e) {
    EXPECT_EQ(std::this_thread::get_id(), me);
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 100);
    ++calls;
  });
  EXPECT_EQ(calls, 1);
}

TEST(ThreadPool, UsesWorkersAndCaller) {
  ThreadPool pool(2);
  std::set<std::thread::id> ids;
  std::mutex mu;
  // Each chunk waits a little so both participants surely take one.
  for (int rep = 0; rep < 20 && ids.size() < 2; ++rep) {
    pool.parallel_for(2, [&](int64_t, int64_t) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      std::lock_guard<std::mutex> lk(mu);
      ids.insert(std::this_thread::get_id());
    });
  }
  EXPECT_EQ(ids.size(), 2u);
}

TEST(ThreadPool, ManySerialCalls) {
  ThreadPool pool(3);
  int64_t total = 0;
  for (int rep = 0; rep < 5000; ++rep) {
    std::atomic<int64_t> sum{0};
    pool.parallel_for(37, [&](int64_t b, int64_t e) {
      int64_t s = 0;
      for (int64_t i = b; i < e; ++i) s += i;
      sum.fetch_add(s);
    });
    total += sum.load();
  }
  EXPECT_EQ(total, int64_t{5000} * (36 * 37 / 2));
}

TEST(ThreadPool, NestedCallRunsSeriallyWithoutDeadlock) {
  ThreadPool pool(2);
  std::vector<std::atomic<int>> hits(64 * 10);
  pool.parallel_for(64, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      pool.parallel_for(10, [&](int64_t b2, int64_t e2) {
        for (int64_t j = b2; j < e2; ++j) hits[static_cast<size_t>(i * 10 + j)].fetch_add(1);
      });
    }
  });
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
}

TEST(ThreadPool, TwoCallerThreadsShareOnePool) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  auto body = [&] {
    for (int rep = 0; rep < 500; ++rep) {
      pool.parallel_for(100, [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
    }
  };
  std::thread t1(body), t2(body);
  t1.join();
  t2.join();
  EXPECT_EQ(total.load(), 2 * 500 * 100);
}

TEST(ThreadPool, ExceptionPropagatesAndPoolStaysUsable) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    EXPECT_THROW(pool.parallel_for(100,
                                   [&](int64_t b, int64_t e) {
                                     if (b <= 50 && 50 < e) throw std::runtime_error("boom");
                                   }),
                 std::runtime_error);
    // Every chunk throws: exactly one exception reaches the caller.
    EXPECT_THROW(pool.parallel_for(100, [&](int64_t, int64_t) { throw std::logic_error("all"); }),
                 std::logic_error);
    std::atomic<int64_t> n{0};
    pool.parallel_for(1000, [&](int64_t b, int64_t e) { n.fetch_add(e - b); });
    EXPECT_EQ(n.load(), 1000);
  }
}

TEST(ThreadPool, RejectsZeroThreads) { EXPECT_THROW(ThreadPool(0), std::invalid_argument); }

TEST(ThreadPool, ConstructDestroyRepeatedly) {
  for (int i = 0; i < 200; ++i) {
    ThreadPool pool(1 + i % 4);
    if (i % 2) {
      std::atomic<int> n{0};
      pool.parallel_for(10, [&](int64_t b, int64_t e) { n.fetch_add(static_cast<int>(e - b)); });
      ASSERT_EQ(n.load(), 10);
    }
  }
}

TEST(ThreadPool, WorkersWakeAfterSleeping) {
  ThreadPool pool(2);
  for (int rep = 0; rep < 3; ++rep) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // workers go from spinning to sleeping
    std::atomic<int> n{0};
    pool.parallel_for(8, [&](int64_t b, int64_t e) { n.fetch_add(static_cast<int>(e - b)); });
    EXPECT_EQ(n.load(), 8);
  }
}

// ---------------------------------------------------------------------------------------------
// DenseLinear

class LinearTester {
 public:
  LinearTester& m(int64_t v) { m_ = v; return *this; }
  LinearTester& k(int64_t v) { k_ = v; return *this; }
  LinearTester& n(int64_t v) { n_ = v; return *this; }
  LinearTester& bias(bool v) { bias_ = v; return *this; }
  LinearTester& threads(int v) { threads_ = v; return *this; }
  LinearTester& seed(uint32_t v) { seed_ = v; return *this; }
  LinearTester& target(const std::string& v) { target_ = v; return *this; }  // "" = best for this CPU

  void Test() const {
    std::mt19937 rng(seed_ ^ static_cast<uint32_t>(m_ * 7919 + k_ * 104729 + n_ * 31 + threads_));
    const auto x = RandomVec(rng, static_cast<size_t>(m_ * k_));
    const auto W = RandomVec(rng, static_cast<size_t>(n_ * k_));
    const auto b = RandomVec(rng, static_cast<size_t>(n_));
    const float* bp = bias_ ? b.data() : nullptr;
    std::vector<float> ref(static_cast<size_t>(m_ * n_)), y(static_cast<size_t>(m_ * n_), std::nanf(""));
    linear_ref(x.data(), m_, k_, W.data(), bp, n_, ref.data());
    DenseLinear lin = target_.empty() ? DenseLinear(W.data(), bp, n_, k_) : DenseLinear(W.data(), bp, n_, k_, target_);
    ASSERT_EQ(lin.in_features(), k_);
    ASSERT_EQ(lin.out_features(), n_);
    ThreadPool pool(threads_);
    lin.forward(x.data(), m_, y.data(), threads_ > 1 ? &pool : nullptr);
    for (int64_t i = 0; i < m_; ++i) {
      for (int64_t j = 0; j < n_; ++j) {
        double mag = bias_ ? std::fabs(b[static_cast<size_t>(j)]) : 0.0;
        for (int64_t kk = 0; kk < k_; ++kk) mag += std::fabs(double(x[i * k_ + kk]) * W[j * k_ + kk]);
        const float got = y[static_cast<size_t>(i * n_ + j)], want = ref[static_cast<size_t>(i * n_ + j)];
        ASSERT_NEAR(got, want, 1e-5 * mag + 1e-6)
            << "m=" << m_ << " k=" << k_ << " n=" << n_ << " bias=" << bias_ << " threads=" << threads_ << " at ("
            << i << "," << j << ") kernel " << lin.kernel_name();
      }
    }
    // A second forward into the same buffer gives the same bits (no state, no accumulation).
    std::vector<float> y2(y.size(), 123.0f);
    lin.forward(x.data(), m_, y2.data(), threads_ > 1 ? &pool : nullptr);
    ASSERT_EQ(0, std::memcmp(y.data(), y2.data(), sizeof(float) * y.size()));
  }

 private:
  int64_t m_ = 1, k_ = 1, n_ = 1;
  bool bias_ = true;
  int threads_ = 1;
  uint32_t seed_ = 1;
  std::string target_;
};

TEST(KernelsDenseLinear, KernelNameAndPackedBytes) {
  std::vector<float> W(33 * 17, 1.0f);
  DenseLinear lin(W.data(), nullptr, 33, 17);
  EXPECT_NE(std::string(lin.kernel_name()), "");
  EXPECT_GE(lin.packed_bytes(), sizeof(float) * 33 * 17);
  std::printf("DenseLinear kernel: %s, packed %zu bytes for 33x17\n", lin.kernel_name(), lin.packed_bytes());
}

TEST(KernelsDenseLinear, M1) {
  for (int threads : {1, 2})
    for (bool bias : {true, false})
      for (int64_t k : {1, 2, 3, 15, 16, 17, 31, 64, 100, 256, 768})
        for (int64_t n : {1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257})
          LinearTester().m(1).k(k).n(n).bias(bias).threads(threads).Test();
}

TEST(KernelsDenseLinear, SmallM) {
  for (int threads : {1, 2})
    for (bool bias : {true, false})
      for (int64_t m = 2; m <= 13; ++m)
        for (int64_t k : {1, 5, 16, 33, 130})
          for (int64_t n : {1, 7, 32, 47, 96})
            LinearTester().m(m).k(k).n(n).bias(bias).threads(threads).Test();
}

TEST(KernelsDenseLinear, LargeM) {
  for (int threads : {1, 2})
    for (bool bias : {true, false})
      for (int64_t m : {24, 25, 128, 193, 200})
        for (int64_t k : {1, 63, 257, 300, 1025})
          for (int64_t n : {1, 31, 65, 130})
            LinearTester().m(m).k(k).n(n).bias(bias).threads(threads).Test();
}

TEST(KernelsDenseLinear, ModelShapes) {
  for (int threads : {1, 2})
    for (int64_t m : {1, 7, 128})
      for (auto kn : {std::pair<int64_t, int64_t>{256, 256}, {256, 1024}, {1024, 256}, {768, 768}, {768, 3072}, {3072, 768}})
        LinearTester().m(m).k(kn.first).n(kn.second).bias(true).threads(threads).Test();
}

TEST(KernelsDenseLinear, RandomShapes) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> dm(1, 70), dk(1, 700), dn(1, 300);
  for (int rep = 0; rep < 60; ++rep) {
    LinearTester().m(dm(rng)).k(dk(rng)).n(dn(rng)).bias(rep % 2 == 0).threads(1 + rep % 3).seed(rep).Test();
  }
}

TEST(KernelsDenseLinear, EverySimdTarget) {
  // Every kernel table this binary carries for this CPU (e.g. AVX3 12x32, AVX2 6x16, SSE4 6x8,
  // SCALAR 4x2), on edge shapes: ragged M against each MR, ragged N against each NR, k-blocking.
  const auto targets = dense_linear_targets();
  ASSERT_FALSE(targets.empty());
  for (const auto& t : targets) {
    std::vector<float> W(5 * 3, 1.0f);
    const std::string name = DenseLinear(W.data(), nullptr, 5, 3, t).kernel_name();
    std::printf("target %s: %s\n", t.c_str(), name.c_str());
    EXPECT_EQ(name.rfind("hwy-" + t + " ", 0), 0u) << name;  // the table of that target, not another
    for (int threads : {1, 2})
      for (int64_t m : {1, 2, 3, 5, 6, 7, 12, 13, 100})
        for (auto kn : {std::pair<int64_t, int64_t>{1, 1}, {7, 9}, {33, 64}, {300, 17}, {1100, 40}})
          LinearTester().m(m).k(kn.first).n(kn.second).bias(m % 2 == 1).threads(threads).target(t).Test();
  }
  std::vector<float> W(4, 1.0f);
  EXPECT_THROW(DenseLinear(W.data(), nullptr, 2, 2, "NO_SUCH_TARGET"), std::invalid_argument);
}

TEST(KernelsDenseLinear, ZeroRowsAndMove) {
  std::mt19937 rng(3);
  const auto W = RandomVec(rng, 40 * 24);
  const auto b = RandomVec(rng, 40);
  const auto x = RandomVec(rng, 3 * 24);
  DenseLinear a(W.data(), b.data(), 40, 24);
  std::vector<float> y(3 * 40, 7.0f), ref(3 * 40);
  a.forward(x.data(), 0, y.data(), nullptr);
  EXPECT_EQ(y[0], 7.0f);
  DenseLinear moved(std::move(a));
  moved.forward(x.data(), 3, y.data(), nullptr);
  linear_ref(x.data(), 3, 24, W.data(), b.data(), 40, ref.data());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], ref[i], 1e-5);
}

// ---------------------------------------------------------------------------------------------
// Element-wise and row-wise ops

TEST(KernelsGelu, MatchesReference) {
  std::mt19937 rng(5);
  for (int64_t n : {0, 1, 3, 15, 16, 17, 100, 1027}) {
    auto x = RandomVec(rng, static_cast<size_t>(n), -8.0f, 8.0f);
    auto r = x;
    gelu(x.data(), n);
    gelu_ref(r.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_NEAR(x[static_cast<size_t>(i)], r[static_cast<size_t>(i)], 2e-6f * std::max(1.0f, std::fabs(r[static_cast<size_t>(i)])))
          << "n=" << n << " i=" << i;
    }
  }
}

TEST(KernelsGelu, ErfAccuracy) {
  // gelu against the exact (double) gelu, for ours and for gelu_ref (float std::erf). For x < 0
  // 1 + erf(x / sqrt 2) cancels in float for both (erf is ~1 ulp-at-1 accurate, the sum is
  // small), so the relative error grows there; beyond x = -3 both are absolute-error only.
  std::vector<float> xs;
  for (float x = -3.0f; x <= 8.0f; x += 1.0f / 4096) xs.push_back(x);
  for (float x = 1e-6f; x < 1.0f; x *= 1.01f) xs.push_back(x);
  auto y = xs, r = xs;
  gelu(y.data(), static_cast<int64_t>(y.size()));
  gelu_ref(r.data(), static_cast<int64_t>(r.size()));
  double max_rel = 0, max_abs = 0, ref_rel = 0, ref_abs = 0, max_rel_pos = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double x = xs[i];
    if (x == 0) continue;
    const double exact = 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    max_abs = std::max(max_abs, std::fabs(y[i] - exact));
    max_rel = std::max(max_rel, std::fabs(y[i] - exact) / std::fabs(exact));
    ref_abs = std::max(ref_abs, std::fabs(r[i] - exact));
    ref_rel = std::max(ref_rel, std::fabs(r[i] - exact) / std::fabs(exact));
    if (x > 0) max_rel_pos = std::max(max_rel_pos, std::fabs(y[i] - exact) / std::fabs(exact));
  }
  std::printf("gelu vs exact on [-3, 8]: ours max rel %.3g (x > 0: %.3g), max abs %.3g; gelu_ref max rel %.3g, max abs %.3g\n",
              max_rel, max_rel_pos, max_abs, ref_rel, ref_abs);
  EXPECT_LT(max_rel_pos, 5e-7);
  EXPECT_LT(max_abs, 1e-6);
  EXPECT_LT(max_rel, 1e-4);
}

TEST(KernelsGelu, ErfVsStdErf) {
  // Relative error of the vectorised erf against std::erf (double), over a dense sweep plus a
  // geometric sweep towards 0 (where a relative bound is hardest).
  std::vector<float> xs;
  for (float x = -6.0f; x <= 6.0f; x += 1.0f / 8192) xs.push_back(x);
  for (float x = 1e-30f; x < 1.0f; x *= 1.003f) {
    xs.push_back(x);
    xs.push_back(-x);
  }
  auto y = xs;
  erf_approx(y.data(), static_cast<int64_t>(y.size()));
  double max_rel = 0, max_abs = 0;
  float worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double exact = std::erf(double(xs[i]));
    if (exact == 0) continue;
    const double abs_err = std::fabs(y[i] - exact), rel = abs_err / std::fabs(exact);
    max_abs = std::max(max_abs, abs_err);
    if (rel > max_rel) {
      max_rel = rel;
      worst = xs[i];
    }
  }
  std::printf("erf_approx vs std::erf (double): max rel %.3g at x=%g, max abs %.3g (float ulp at 1 = 5.96e-8)\n",
              max_rel, worst, max_abs);
  EXPECT_LT(max_rel, 5e-7);
}

TEST(KernelsRelu, MatchesLoop) {
  std::mt19937 rng(6);
  for (int64_t n : {0, 1, 5, 16, 33, 1000}) {
    auto x = RandomVec(rng, static_cast<size_t>(n));
    auto r = x;
    relu(x.data(), n);
    for (auto& v : r) v = std::max(v, 0.0f);
    EXPECT_EQ(x, r);
  }
}

TEST(KernelsAdd, MatchesLoop) {
  std::mt19937 rng(7);
  for (int64_t n : {0, 1, 5, 16, 33, 1000}) {
    auto y = RandomVec(rng, static_cast<size_t>(n));
    const auto x = RandomVec(rng, static_cast<size_t>(n));
    auto r = y;
    add_inplace(y.data(), x.data(), n);
    for (size_t i = 0; i < r.size(); ++i) r[i] += x[i];
    EXPECT_EQ(y, r);
  }
}

void CheckLayerNorm(std::mt19937& rng, int64_t rows, int64_t dim, float offset, float spread, bool affine, float tol) {
  auto x = RandomVec(rng, static_cast<size_t>(rows * dim), -spread, spread);
  for (auto& v : x) v += offset;
  const auto g = RandomVec(rng, static_cast<size_t>(dim), 0.5f, 1.5f);
  const auto b = RandomVec(rng, static_cast<size_t>(dim));
  auto r = x;
  layer_norm(x.data(), rows, dim, affine ? g.data() : nullptr, affine ? b.data() : nullptr, 1e-5f);
  layer_norm_ref(r.data(), rows, dim, affine ? g.data() : nullptr, affine ? b.data() : nullptr, 1e-5f);
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_NEAR(x[i], r[i], tol * std::max(1.0f, std::fabs(r[i])))
        << "rows=" << rows << " dim=" << dim << " offset=" << offset << " spread=" << spread << " i=" << i;
  }
}

TEST(KernelsLayerNorm, MatchesReference) {
  std::mt19937 rng(8);
  for (int64_t dim : {1, 2, 15, 16, 17, 64, 100, 768, 1031})
    for (bool affine : {true, false}) CheckLayerNorm(rng, 3, dim, 0.0f, 1.0f, affine, 1e-5f);
}

TEST(KernelsLayerNorm, LargeMagnitudes) {
  std::mt19937 rng(9);
  for (int64_t dim : {17, 768}) {
    CheckLayerNorm(rng, 4, dim, 0.0f, 1e4f, true, 1e-5f);     // large spread
    CheckLayerNorm(rng, 4, dim, 0.0f, 1e-4f, true, 2e-4f);    // tiny spread: eps dominates var
    CheckLayerNorm(rng, 4, dim, 1e4f, 1.0f, true, 1e-4f);     // large offset, small spread
    CheckLayerNorm(rng, 4, dim, -3e3f, 50.0f, false, 1e-5f);
  }
}

void CheckSoftmax(std::vector<float> x, int64_t rows, int64_t cols) {
  auto r = x;
  softmax_rows(x.data(), rows, cols);
  softmax_rows_ref(r.data(), rows, cols);
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_NEAR(x[i], r[i], 1e-5f * r[i] + 1e-7f) << "rows=" << rows << " cols=" << cols << " i=" << i;
  }
}

TEST(KernelsSoftmax, MatchesReference) {
  std::mt19937 rng(10);
  for (int64_t cols : {1, 2, 15, 16, 17, 128, 1000})
    CheckSoftmax(RandomVec(rng, static_cast<size_t>(3 * cols), -5.0f, 5.0f), 3, cols);
}

TEST(KernelsSoftmax, LargeMagnitudesAndMaskedEntries) {
  std::mt19937 rng(11);
  for (int64_t cols : {7, 64, 129}) {
    CheckSoftmax(RandomVec(rng, static_cast<size_t>(2 * cols), -1e4f, 1e4f), 2, cols);
    CheckSoftmax(RandomVec(rng, static_cast<size_t>(2 * cols), 1e30f, 1e30f + 1e25f), 2, cols);
    auto x = RandomVec(rng, static_cast<size_t>(2 * cols), -50.0f, 50.0f);
    for (size_t i = 0; i < x.size(); i += 3) x[i] = std::numeric_limits<float>::lowest();
    CheckSoftmax(x, 2, cols);
    std::vector<float> all_low(static_cast<size_t>(cols), std::numeric_limits<float>::lowest());
    CheckSoftmax(all_low, 1, cols);  // uniform
  }
}

// ---------------------------------------------------------------------------------------------
// Attention

class AttentionTester {
 public:
  AttentionTester& tq(int64_t v) { tq_ = v; return *this; }
  AttentionTester& tk(int64_t v) { tk_ = v; return *this; }
  AttentionTester& heads(int64_t v) { heads_ = v; return *this; }
  AttentionTester& dh(int64_t v) { dh_ = v; return *this; }
  AttentionTester& ld_extra(int64_t v) { ld_extra_ = v; return *this; }
  AttentionTester& causal_offset(int64_t v) { causal_ = v; return *this; }
  AttentionTester& padding(double v) { pad_ = v; return *this; }  // fraction of padded keys
  AttentionTester& all_padded(bool v) { all_padded_ = v; return *this; }
  AttentionTester& threads(int v) { threads_ = v; return *this; }

  void Test() const {
    std::mt19937 rng(static_cast<uint32_t>(tq_ * 131 + tk_ * 17 + heads_ * 7 + dh_ + threads_ * 1000 + causal_));
    const int64_t width = heads_ * dh_, ld = width + ld_extra_;
    const auto q = RandomVec(rng, static_cast<size_t>(tq_ * width), -2.0f, 2.0f);
    auto k = RandomVec(rng, static_cast<size_t>(tk_ * ld), -2.0f, 2.0f);
    auto v = RandomVec(rng, static_cast<size_t>(tk_ * ld));
    // Spare KV-cache columns are never read: poison them.
    for (int64_t j = 0; j < tk_; ++j)
      for (int64_t c = width; c < ld; ++c) k[j * ld + c] = v[j * ld + c] = std::nanf("");
    std::vector<uint8_t> valid(static_cast<size_t>(tk_), 1);
    std::bernoulli_distribution coin(pad_);
    bool use_mask = pad_ > 0 || all_padded_;
    for (auto& f : valid) f = all_padded_ ? 0 : (coin(rng) ? 0 : 1);
    if (pad_ > 0 && !all_padded_) valid[0] = 1;
    std::vector<float> out(static_cast<size_t>(tq_ * width), std::nanf("")), ref(out.size());
    attention_ref(q.data(), k.data(), v.data(), ld, tq_, tk_, heads_, dh_, use_mask ? valid.data() : nullptr, causal_,
                  ref.data());
    ThreadPool pool(threads_);
    std::vector<float> scratch(static_cast<size_t>(attention_scratch_floats(tq_, tk_, threads_)), std::nanf(""));
    attention(q.data(), k.data(), v.data(), ld, tq_, tk_, heads_, dh_, use_mask ? valid.data() : nullptr, causal_,
              out.data(), scratch.data(), threads_ > 1 ? &pool : nullptr);
    for (size_t i = 0; i < out.size(); ++i) {
      ASSERT_NEAR(out[i], ref[i], 1e-5f * std::max(1.0f, std::fabs(ref[i])))
          << "tq=" << tq_ << " tk=" << tk_ << " heads=" << heads_ << " dh=" << dh_ << " ld_extra=" << ld_extra_
          << " causal=" << causal_ << " pad=" << pad_ << " all_padded=" << all_padded_ << " threads=" << threads_
          << " i=" << i;
    }
    if (use_mask && !all_padded_ && causal_ < 0) {
      // Padded keys are never read either (the reference multiplies them by 0, so it can't take
      // NaN there; the fast path must give the same answer with them poisoned).
      auto k2 = k, v2 = v;
      for (int64_t j = 0; j < tk_; ++j)
        if (!valid[static_cast<size_t>(j)])
          for (int64_t c = 0; c < ld; ++c) k2[j * ld + c] = v2[j * ld + c] = std::nanf("");
      std::vector<float> out2(out.size());
      attention(q.data(), k2.data(), v2.data(), ld, tq_, tk_, heads_, dh_, valid.data(), causal_, out2.data(),
                scratch.data(), threads_ > 1 ? &pool : nullptr);
      ASSERT_EQ(0, std::memcmp(out.data(), out2.data(), sizeof(float) * out.size()));
    }
  }

 private:
  int64_t tq_ = 1, tk_ = 1, heads_ = 1, dh_ = 8, ld_extra_ = 0, causal_ = -1;
  double pad_ = 0;
  bool all_padded_ = false;
  int threads_ = 1;
};

TEST(KernelsAttention, Encoder) {
  for (int threads : {1, 2})
    for (int64_t t : {1, 2, 5, 16, 33, 128})
      for (int64_t dh : {1, 8, 17, 64})
        AttentionTester().tq(t).tk(t).heads(3).dh(dh).threads(threads).Test();
}

TEST(KernelsAttention, PaddingMask) {
  for (int threads : {1, 2})
    for (int64_t t : {3, 16, 50})
      for (double pad : {0.2, 0.6})
        AttentionTester().tq(t).tk(t).heads(2).dh(32).padding(pad).threads(threads).Test();
}

TEST(KernelsAttention, FullyMaskedRowsAverageV) {
  for (int threads : {1, 2}) {
    AttentionTester().tq(4).tk(9).heads(2).dh(16).all_padded(true).threads(threads).Test();
    AttentionTester().tq(4).tk(9).heads(2).dh(16).all_padded(true).causal_offset(0).threads(threads).Test();
  }
}

TEST(KernelsAttention, CausalPrefillAndDecode) {
  for (int threads : {1, 2})
    for (int64_t dh : {16, 64}) {
      AttentionTester().tq(20).tk(20).heads(4).dh(dh).causal_offset(0).threads(threads).Test();
      for (int64_t tk : {1, 2, 17, 100}) {  // KV-cache decode: one new query at the end
        AttentionTester().tq(1).tk(tk).heads(4).dh(dh).causal_offset(tk - 1).ld_extra(3 * dh).threads(threads).Test();
      }
      // A chunk of new queries appended to a cache.
      AttentionTester().tq(5).tk(12).heads(3).dh(dh).causal_offset(7).ld_extra(5).threads(threads).Test();
      AttentionTester().tq(5).tk(12).heads(3).dh(dh).causal_offset(7).padding(0.3).threads(threads).Test();
    }
}

TEST(KernelsAttention, StridedKvCache) {
  for (int threads : {1, 2})
    AttentionTester().tq(7).tk(31).heads(5).dh(24).ld_extra(100).padding(0.25).threads(threads).Test();
}

}  // namespace
}  // namespace kernels
}  // namespace rt3
