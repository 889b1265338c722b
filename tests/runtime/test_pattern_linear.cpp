// Pattern-pruned Linear (runtime/kernels/pattern_linear.h): the storage form (pattern_validate,
// pattern_apply, kept_weights, sparsity) and PatternLinear::forward against linear_ref on
// pattern_apply(W, p), for every SIMD target compiled in (a builder describes one case).
//
// The kernel has two paths: sets whose patterns all keep the same count K (fixed-K kernels, used
// for m tiles of 1 row and of the most rows, i.e. m = 1, 16, 128 on AVX-512) and mixed counts
// (jump into unrolled steps; every other m tile). The cases below cover both, ragged last row
// and column tiles, in < tile_cols, out < tile_rows, k-blocks (in > 512) and the copied-x path
// (in % 1024 == 0).
//
// Tolerance as test_bp_linear.cpp: |y - ref| <= 1e-6 + 1e-5 * sqrt(sum of squared terms), > 100x
// the float summation error, while one missing or doubled term (>= sqrt(sum sq) / 55 for
// kept <= 3072) is far above it, so a wrong column, row or pattern fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runtime/kernels/dense_linear.h"
#include "runtime/kernels/pattern_linear.h"
#include "runtime/threads/thread_pool.h"

namespace rt3 {
namespace kernels {
namespace {

std::vector<float> RandomVec(std::mt19937& rng, size_t n) {
  std::uniform_real_distribution<float> dist(0.1f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = (rng() & 1) ? dist(rng) : -dist(rng);  // never 0: masks are exact
  return v;
}

// A random set of n_patterns patterns; pattern i prunes prune[i % prune.size()] of tile_cols
// columns (0 = all kept, tile_cols = all pruned); tiles pick patterns at random.
PatternWeights RandomSet(std::mt19937& rng, int64_t out, int64_t in, int64_t tr, int64_t tc, int64_t n_patterns,
                         const std::vector<int64_t>& prune) {
  PatternWeights p;
  p.out_features = out;
  p.in_features = in;
  p.tile_rows = tr;
  p.tile_cols = tc;
  p.n_patterns = n_patterns;
  for (int64_t i = 0; i < n_patterns; ++i) {
    const int64_t pn = std::clamp<int64_t>(prune[static_cast<size_t>(i) % prune.size()], 0, tc);
    std::vector<uint8_t> e(static_cast<size_t>(tc), 1);
    for (int64_t j = 0; j < pn; ++j) e[static_cast<size_t>(j)] = 0;
    std::shuffle(e.begin(), e.end(), rng);
    p.patterns.insert(p.patterns.end(), e.begin(), e.end());
  }
  p.tile_pattern.resize(static_cast<size_t>(p.n_row_tiles() * p.n_col_tiles()));
  for (auto& t : p.tile_pattern) t = static_cast<uint8_t>(rng() % static_cast<uint32_t>(n_patterns));
  return p;
}

class PatternTester {
 public:
  PatternTester& m(int64_t v) { m_ = v; return *this; }
  PatternTester& in(int64_t v) { in_ = v; return *this; }
  PatternTester& out(int64_t v) { out_ = v; return *this; }
  PatternTester& tile(int64_t r, int64_t c) { tr_ = r; tc_ = c; return *this; }
  PatternTester& patterns(int64_t n) { np_ = n; return *this; }
  PatternTester& prune(std::vector<int64_t> v) { prune_ = std::move(v); return *this; }
  PatternTester& bias(bool v) { bias_ = v; return *this; }
  PatternTester& threads(int v) { threads_ = v; return *this; }
  PatternTester& seed(uint32_t v) { seed_ = v; return *this; }
  PatternTester& target(const std::string& v) { target_ = v; return *this; }  // "" = best

  void Test() const {
    std::mt19937 rng(seed_ ^ static_cast<uint32_t>(m_ * 7919 + in_ * 104729 + out_ * 31 + tr_ * 17 + tc_ * 3 + np_));
    const auto x = RandomVec(rng, static_cast<size_t>(m_ * in_));
    const auto W = RandomVec(rng, static_cast<size_t>(out_ * in_));
    const auto b = RandomVec(rng, static_cast<size_t>(out_));
    const float* bp = bias_ ? b.data() : nullptr;
    const PatternWeights p = RandomSet(rng, out_, in_, tr_, tc_, np_, prune_);
    ASSERT_NO_THROW(pattern_validate(p));
    const std::vector<float> Wm = pattern_apply(W.data(), p);
    int64_t nz = 0;
    for (float v : Wm) nz += v != 0.0f;
    ASSERT_EQ(p.kept_weights(), nz);
    std::vector<float> ref(static_cast<size_t>(m_ * out_)), y(static_cast<size_t>(m_ * out_), std::nanf(""));
    linear_ref(x.data(), m_, in_, Wm.data(), bp, out_, ref.data());
    PatternLinear lin = target_.empty() ? PatternLinear(W.data(), bp, p) : PatternLinear(W.data(), bp, p, target_);
    ASSERT_EQ(lin.in_features(), in_);
    ASSERT_EQ(lin.out_features(), out_);
    ASSERT_EQ(lin.kept_weights(), nz);
    ThreadPool pool(threads_);
    ThreadPool* P = threads_ > 1 ? &pool : nullptr;
    lin.forward(x.data(), m_, y.data(), P);
    for (int64_t i = 0; i < m_; ++i) {
      for (int64_t j = 0; j < out_; ++j) {
        double sq = bias_ ? double(b[static_cast<size_t>(j)]) * b[static_cast<size_t>(j)] : 0.0;
        for (int64_t k = 0; k < in_; ++k) {
          const double t = double(x[static_cast<size_t>(i * in_ + k)]) * Wm[static_cast<size_t>(j * in_ + k)];
          sq += t * t;
        }
        const float got = y[static_cast<size_t>(i * out_ + j)], want = ref[static_cast<size_t>(i * out_ + j)];
        ASSERT_NEAR(got, want, 1e-6 + 1e-5 * std::sqrt(sq))
            << "m=" << m_ << " in=" << in_ << " out=" << out_ << " tile=" << tr_ << "x" << tc_
            << " patterns=" << np_ << " bias=" << bias_ << " threads=" << threads_ << " at (" << i << "," << j
            << ") kernel " << lin.kernel_name();
      }
    }
    // A second forward into a dirty buffer gives the same bits (no state, no accumulation).
    std::vector<float> y2(y.size(), 123.0f);
    lin.forward(x.data(), m_, y2.data(), P);
    ASSERT_EQ(0, std::memcmp(y.data(), y2.data(), sizeof(float) * y.size()))
        << "m=" << m_ << " in=" << in_ << " out=" << out_ << " tile=" << tr_ << "x" << tc_;
  }

 private:
  int64_t m_ = 1, in_ = 1, out_ = 1, tr_ = 16, tc_ = 16, np_ = 4;
  std::vector<int64_t> prune_ = {8};
  bool bias_ = true;
  int threads_ = 1;
  uint32_t seed_ = 1;
  std::string target_;
};

const std::vector<std::pair<int64_t, int64_t>> kTiles = {{16, 16}, {16, 8}, {32, 8}, {4, 4}, {1, 1}};
const std::vector<int64_t> kMs = {1, 2, 3, 7, 16, 17, 128, 130};

// Pruning-number lists for a tile of tc columns: uniform sets (fixed-K kernels) and mixed sets
// with all-kept and all-pruned patterns (generic kernels).
std::vector<std::vector<int64_t>> PruneLists(int64_t tc) {
  return {{tc / 2}, {tc - tc / 8 - 1 > 0 ? tc - tc / 8 - 1 : 0}, {0}, {tc}, {0, tc, tc / 2, tc - 1}, {tc * 5 / 8, 1}};
}

// ---------------------------------------------------------------------------------------------
// Forward

TEST(PatternLinear, MatchesReferenceOnRandomShapes) {
  std::mt19937 rng(11);
  for (auto [tr, tc] : kTiles) {
    for (const auto& prune : PruneLists(tc)) {
      for (int64_t m : kMs) {
        // Ragged rows and columns, and a case with whole tiles only.
        const int64_t out = std::uniform_int_distribution<int64_t>(1, 3 * tr + 5)(rng);
        const int64_t in = m >= 128 ? 2 * tc : std::uniform_int_distribution<int64_t>(1, 5 * tc + 3)(rng);
        const int64_t np = std::uniform_int_distribution<int64_t>(1, 8)(rng);
        PatternTester().m(m).out(out).in(in).tile(tr, tc).patterns(np).prune(prune).bias(m % 2 == 1).Test();
        if (HasFatalFailure()) return;
      }
      PatternTester().m(16).out(2 * tr).in(4 * tc).tile(tr, tc).patterns(3).prune(prune).Test();
      if (HasFatalFailure()) return;
    }
  }
}

TEST(PatternLinear, SmallerThanOneTile) {
  for (auto [tr, tc] : kTiles) {
    for (int64_t m : {1, 3, 16}) {
      // in < tile_cols and out < tile_rows (when the tile allows it): one ragged tile.
      PatternTester().m(m).out(std::max<int64_t>(1, tr - 1)).in(std::max<int64_t>(1, tc - 3)).tile(tr, tc)
          .patterns(2).prune({tc / 2, 1}).Test();
      PatternTester().m(m).out(std::max<int64_t>(1, tr / 2)).in(std::max<int64_t>(1, tc / 2)).tile(tr, tc)
          .patterns(1).prune({tc / 4}).bias(false).Test();
      if (HasFatalFailure()) return;
    }
  }
}

TEST(PatternLinear, KBlocksAndCopiedX) {
  // in > 512: several k-blocks; in % 1024 == 0: x copied to the 2 KiB stride buffer; ragged
  // last column tile in the last k-block.
  for (int64_t in : {1024, 1100, 2048}) {
    for (int64_t m : {1, 16, 17, 128}) {
      for (auto [tr, tc] : {std::pair<int64_t, int64_t>{16, 16}, {32, 8}}) {
        PatternTester().m(m).out(40).in(in).tile(tr, tc).patterns(8).prune({tc * 3 / 4}).Test();
        PatternTester().m(m).out(33).in(in).tile(tr, tc).patterns(5).prune({0, tc, tc / 2}).bias(false).Test();
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST(PatternLinear, WideTiles) {
  // More than 16 kept columns per tile (the 16-step blocks), tiles wider than a k-block.
  PatternTester().m(3).out(20).in(100).tile(16, 40).patterns(3).prune({5, 0, 39}).Test();
  PatternTester().m(16).out(20).in(1500).tile(8, 700).patterns(2).prune({100, 0}).Test();
  PatternTester().m(1).out(64).in(300).tile(64, 64).patterns(4).prune({32}).Test();
  PatternTester().m(130).out(50).in(70).tile(48, 33).patterns(4).prune({3, 17}).Test();
}

TEST(PatternLinear, TwoThreads) {
  for (auto [tr, tc] : kTiles) {
    for (int64_t m : {1, 7, 128}) {
      PatternTester().m(m).out(8 * tr + 3).in(6 * tc + 1).tile(tr, tc).patterns(6).prune({tc / 2}).threads(2).Test();
      PatternTester().m(m).out(200).in(257).tile(tr, tc).patterns(8).prune({0, tc, 1}).threads(2).Test();
      if (HasFatalFailure()) return;
    }
  }
}

TEST(PatternLinear, EveryTarget) {
  for (const std::string& t : dense_linear_targets()) {
    for (auto [tr, tc] : kTiles) {
      for (int64_t m : {1, 3, 16, 17}) {
        PatternTester().target(t).m(m).out(2 * tr + 1).in(3 * tc + 2).tile(tr, tc).patterns(4).prune({tc / 2})
            .Test();
        PatternTester().target(t).m(m).out(tr + 5).in(2 * tc + 3).tile(tr, tc).patterns(5)
            .prune({0, tc, tc - 1}).bias(false).Test();
        if (HasFatalFailure()) return;
      }
    }
    PatternTester().target(t).m(130).out(37).in(1024).tile(16, 16).patterns(8).prune({13}).Test();
    PatternTester().target(t).m(128).out(64).in(600).tile(32, 8).patterns(3).prune({6, 2}).threads(2).Test();
    if (HasFatalFailure()) return;
  }
}

TEST(PatternLinear, TargetOverride) {
  std::vector<float> W(16 * 16, 1.0f);
  std::mt19937 rng(3);
  const PatternWeights p = RandomSet(rng, 16, 16, 16, 16, 1, {8});
  for (const std::string& t : dense_linear_targets()) {
    PatternLinear lin(W.data(), nullptr, p, t);
    // "hwy-SVE " must not pass for an SVE2 kernel: match the whole target name.
    EXPECT_NE(std::string(lin.kernel_name()).find("hwy-" + t + " "), std::string::npos) << lin.kernel_name();
    EXPECT_NE(std::string(lin.kernel_name()).find("16x16"), std::string::npos) << lin.kernel_name();
  }
  EXPECT_THROW(PatternLinear(W.data(), nullptr, p, "NO_SUCH_TARGET"), std::invalid_argument);
}

TEST(PatternLinear, ConcurrentForwardOnOneObject) {
  std::mt19937 rng(5);
  const int64_t out = 96, in = 200, m = 16;
  const auto W = RandomVec(rng, static_cast<size_t>(out * in));
  const auto b = RandomVec(rng, static_cast<size_t>(out));
  const PatternWeights p = RandomSet(rng, out, in, 16, 16, 6, {11, 13});
  const PatternLinear lin(W.data(), b.data(), p);
  std::vector<std::vector<float>> xs, want;
  for (int t = 0; t < 4; ++t) {
    xs.push_back(RandomVec(rng, static_cast<size_t>(m * in)));
    want.emplace_back(static_cast<size_t>(m * out));
    lin.forward(xs.back().data(), m, want.back().data(), nullptr);
  }
  std::vector<int> bad(4, 0);
  std::vector<std::thread> th;
  for (int t = 0; t < 4; ++t) {
    th.emplace_back([&, t] {
      ThreadPool pool(t % 2 == 0 ? 1 : 2);
      std::vector<float> y(static_cast<size_t>(m * out));
      for (int rep = 0; rep < 50; ++rep) {
        const int64_t mm = rep % 2 == 0 ? m : 1;
        lin.forward(xs[static_cast<size_t>(t)].data(), mm, y.data(), t % 2 == 0 ? nullptr : &pool);
        if (std::memcmp(y.data(), want[static_cast<size_t>(t)].data(), sizeof(float) * static_cast<size_t>(mm * out)) != 0) {
          // m = 1 takes the R = 1 kernel: same terms, maybe another summation order.
          for (int64_t j = 0; j < mm * out; ++j) {
            if (std::fabs(y[static_cast<size_t>(j)] - want[static_cast<size_t>(t)][static_cast<size_t>(j)]) > 1e-3f) {
              ++bad[static_cast<size_t>(t)];
            }
          }
        }
      }
    });
  }
  for (auto& t : th) t.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(bad[static_cast<size_t>(t)], 0) << "thread " << t;
}

TEST(PatternLinear, MovesAndReportsSizes) {
  std::mt19937 rng(9);
  const auto W = RandomVec(rng, 64 * 48);
  const PatternWeights p = RandomSet(rng, 64, 48, 16, 16, 4, {12});
  PatternLinear a(W.data(), nullptr, p);
  EXPECT_EQ(a.kept_weights(), p.kept_weights());
  EXPECT_EQ(a.kept_weights(), 64 * 48 / 4);
  EXPECT_GE(a.packed_bytes(), sizeof(float) * static_cast<size_t>(a.kept_weights()) + p.tile_pattern.size());
  PatternLinear b = std::move(a);
  EXPECT_EQ(b.out_features(), 64);
  std::vector<float> x = RandomVec(rng, 48), y(64), ref(64);
  b.forward(x.data(), 1, y.data(), nullptr);
  const auto Wm = pattern_apply(W.data(), p);
  linear_ref(x.data(), 1, 48, Wm.data(), nullptr, 64, ref.data());
  for (int j = 0; j < 64; ++j) EXPECT_NEAR(y[static_cast<size_t>(j)], ref[static_cast<size_t>(j)], 1e-4);
  b.forward(x.data(), 0, y.data(), nullptr);  // m = 0: nothing to do
}

// ---------------------------------------------------------------------------------------------
// Storage form

TEST(PatternWeights, ApplyMatchesHandExample) {
  // out = 3, in = 5, tile 2 x 3: row tiles {0,1}, {2}; column tiles {0,1,2}, {3,4} (ragged:
  // uses the first 2 entries of its pattern).
  PatternWeights p;
  p.out_features = 3;
  p.in_features = 5;
  p.tile_rows = 2;
  p.tile_cols = 3;
  p.n_patterns = 2;
  p.patterns = {1, 0, 1, /**/ 0, 1, 1};
  p.tile_pattern = {0, 1, /**/ 1, 0};
  std::vector<float> W(15);
  for (int i = 0; i < 15; ++i) W[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  const auto Wm = pattern_apply(W.data(), p);
  const std::vector<float> want = {1, 0, 3, 0, 5,  //
                                   6, 0, 8, 0, 10,  //
                                   0, 12, 13, 14, 0};
  EXPECT_EQ(Wm, want);
  EXPECT_EQ(p.kept_weights(), 2 * 3 + 3);
  EXPECT_DOUBLE_EQ(p.sparsity(), 1.0 - 9.0 / 15.0);
  EXPECT_EQ(p.storage_bytes(), 6u + 4u);
  EXPECT_EQ(p.n_row_tiles(), 2);
  EXPECT_EQ(p.n_col_tiles(), 2);
}

TEST(PatternWeights, KeptAndSparsityExactOnRaggedShapes) {
  std::mt19937 rng(21);
  for (auto [tr, tc] : kTiles) {
    for (int rep = 0; rep < 6; ++rep) {
      const int64_t out = std::uniform_int_distribution<int64_t>(1, 4 * tr + 3)(rng);
      const int64_t in = std::uniform_int_distribution<int64_t>(1, 4 * tc + 3)(rng);
      const PatternWeights p = RandomSet(rng, out, in, tr, tc, 1 + rep, {0, tc, tc / 3, tc - 1});
      const std::vector<float> ones(static_cast<size_t>(out * in), 1.0f);
      const auto Wm = pattern_apply(ones.data(), p);
      int64_t kept = 0;
      for (float v : Wm) kept += v != 0.0f;
      EXPECT_EQ(p.kept_weights(), kept) << out << "x" << in << " tile " << tr << "x" << tc;
      EXPECT_DOUBLE_EQ(p.sparsity(), 1.0 - static_cast<double>(kept) / static_cast<double>(out * in));
    }
  }
}

PatternWeights SmallValidSet() {
  PatternWeights p;
  p.out_features = 5;
  p.in_features = 7;
  p.tile_rows = 2;
  p.tile_cols = 4;
  p.n_patterns = 2;
  p.patterns = {1, 0, 1, 0, /**/ 0, 1, 1, 1};
  p.tile_pattern = {0, 1, 1, 0, 0, 0};  // 3 x 2 tiles
  return p;
}

TEST(PatternValidate, AcceptsValidAndEmpty) {
  EXPECT_NO_THROW(pattern_validate(SmallValidSet()));
  PatternWeights e;
  e.n_patterns = 0;
  EXPECT_NO_THROW(pattern_validate(e));
  EXPECT_EQ(e.kept_weights(), 0);
  EXPECT_EQ(e.sparsity(), 0.0);
}

TEST(PatternValidate, RejectsEachViolation) {
  auto expect_bad = [](const char* what, auto mutate) {
    PatternWeights p = SmallValidSet();
    mutate(p);
    EXPECT_THROW(pattern_validate(p), std::invalid_argument) << what;
    const bool small = p.out_features >= 0 && p.in_features >= 0 &&
                       (p.in_features == 0 || p.out_features <= 1000 / p.in_features);
    std::vector<float> W(small ? static_cast<size_t>(p.out_features * p.in_features) : 0);
    if (small) {
      EXPECT_THROW(PatternLinear(W.data(), nullptr, p), std::invalid_argument) << what;
      EXPECT_THROW(pattern_apply(W.data(), p), std::invalid_argument) << what;
    }
  };
  expect_bad("patterns too short", [](PatternWeights& p) { p.patterns.pop_back(); });
  expect_bad("patterns too long", [](PatternWeights& p) { p.patterns.push_back(0); });
  expect_bad("tile_pattern too short", [](PatternWeights& p) { p.tile_pattern.pop_back(); });
  expect_bad("tile_pattern too long", [](PatternWeights& p) { p.tile_pattern.push_back(0); });
  expect_bad("entry 2", [](PatternWeights& p) { p.patterns[5] = 2; });
  expect_bad("entry 255", [](PatternWeights& p) { p.patterns[0] = 255; });
  expect_bad("id == n_patterns", [](PatternWeights& p) { p.tile_pattern[3] = 2; });
  expect_bad("id 255", [](PatternWeights& p) { p.tile_pattern[0] = 255; });
  expect_bad("tile_rows 0", [](PatternWeights& p) { p.tile_rows = 0; });
  expect_bad("tile_cols 0", [](PatternWeights& p) { p.tile_cols = 0; p.patterns.clear(); });
  expect_bad("tile_rows > 4096", [](PatternWeights& p) { p.tile_rows = 4097; p.tile_pattern = {0, 1}; });
  expect_bad("tile_cols > 4096", [](PatternWeights& p) {
    p.tile_cols = 4097;
    p.patterns.assign(2 * 4097, 0);
    p.tile_pattern = {0, 1, 0};
  });
  expect_bad("negative rows", [](PatternWeights& p) { p.out_features = -1; });
  expect_bad("negative cols", [](PatternWeights& p) { p.in_features = -7; });
  expect_bad("negative n_patterns", [](PatternWeights& p) { p.n_patterns = -1; });
  expect_bad("out * in overflows", [](PatternWeights& p) {
    p.out_features = std::numeric_limits<int64_t>::max() / 4;
    p.in_features = 1000;
  });
  expect_bad("in does not fit int32", [](PatternWeights& p) { p.in_features = int64_t{1} << 32; p.out_features = 1; });
  expect_bad("n_patterns * tile_cols overflows", [](PatternWeights& p) {
    p.n_patterns = std::numeric_limits<int64_t>::max() / 2;
  });
  // And the messages name the violation.
  PatternWeights p = SmallValidSet();
  p.patterns[5] = 2;
  try {
    pattern_validate(p);
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("expected 0 or 1"), std::string::npos) << e.what();
  }
}

TEST(PatternValidate, NullWeightsRejected) {
  const PatternWeights p = SmallValidSet();
  EXPECT_THROW(PatternLinear(nullptr, nullptr, p), std::invalid_argument);
  EXPECT_THROW(pattern_apply(nullptr, p), std::invalid_argument);
}

}  // namespace
}  // namespace kernels
}  // namespace rt3
