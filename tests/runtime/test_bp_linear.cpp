// Block-pruned Linear (runtime/kernels/bp_linear.h): the storage form (bp_pack / bp_unpack /
// bp_validate) and BpLinear::forward against linear_ref on the masked dense weight, for every
// SIMD target compiled in (XNNPACK-Tester style: a builder describes one case).
//
// Tolerance: |y - ref| <= 1e-6 + 1e-5 * sqrt(kept) * rms, rms = root mean square of the kept
// terms x_k W_nk and the bias, i.e. 1e-5 * sqrt(sum of squared terms). Float FMA summation of
// `kept` random-signed terms errs by ~2^-24 * sqrt(kept) * |partial sums| ~ 6e-8 * sqrt(sum of
// squares) typically, so the bound has > 100x margin; a single missing or doubled term (size
// ~ rms = sqrt(sum of squares / kept)) is >= sqrt(sum of squares) / 55 for kept <= 3072, far
// above the bound, so the check can fail.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runtime/format/aligned_buffer.h"
#include "runtime/kernels/bp_linear.h"
#include "runtime/kernels/dense_linear.h"
#include "runtime/threads/thread_pool.h"

namespace rt3 {
namespace kernels {
namespace {

std::vector<float> RandomVec(std::mt19937& rng, size_t n) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Dense W[out][in] with whole groups (block of block_rows rows x one column) zeroed with
// probability `sparsity` (0: none, 1: all).
std::vector<float> RandomGroupPrunedWeight(std::mt19937& rng, int64_t out, int64_t in, int64_t block_rows,
                                           double sparsity) {
  std::vector<float> W = RandomVec(rng, static_cast<size_t>(out * in));
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int64_t r0 = 0; r0 < out; r0 += block_rows) {
    for (int64_t k = 0; k < in; ++k) {
      if (sparsity > 0 && (sparsity >= 1 || u(rng) < sparsity)) {
        for (int64_t r = r0; r < std::min(out, r0 + block_rows); ++r) W[static_cast<size_t>(r * in + k)] = 0.0f;
      }
    }
  }
  return W;
}

class BpTester {
 public:
  BpTester& m(int64_t v) { m_ = v; return *this; }
  BpTester& in(int64_t v) { in_ = v; return *this; }
  BpTester& out(int64_t v) { out_ = v; return *this; }
  BpTester& block_rows(int64_t v) { br_ = v; return *this; }
  BpTester& sparsity(double v) { sparsity_ = v; return *this; }
  BpTester& bias(bool v) { bias_ = v; return *this; }
  BpTester& threads(int v) { threads_ = v; return *this; }
  BpTester& scratch(bool v) { scratch_ = v; return *this; }
  BpTester& seed(uint32_t v) { seed_ = v; return *this; }
  BpTester& target(const std::string& v) { target_ = v; return *this; }  // "" = best for this CPU

  void Test() const {
    std::mt19937 rng(seed_ ^ static_cast<uint32_t>(m_ * 7919 + in_ * 104729 + out_ * 31 + br_ * 17 + threads_));
    const auto x = RandomVec(rng, static_cast<size_t>(m_ * in_));
    const auto Wd = RandomGroupPrunedWeight(rng, out_, in_, br_, sparsity_);
    const auto b = RandomVec(rng, static_cast<size_t>(out_));
    const float* bp = bias_ ? b.data() : nullptr;
    const BpWeights w = bp_pack(Wd.data(), out_, in_, br_);
    ASSERT_NO_THROW(bp_validate(w));
    const std::vector<float> Wm = bp_unpack(w);
    ASSERT_EQ(Wm, Wd);  // the random values are never 0, so the mask round-trips exactly
    std::vector<float> ref(static_cast<size_t>(m_ * out_)), y(static_cast<size_t>(m_ * out_), std::nanf(""));
    linear_ref(x.data(), m_, in_, Wm.data(), bp, out_, ref.data());
    BpLinear lin = target_.empty() ? BpLinear(w, bp) : BpLinear(w, bp, target_);
    ASSERT_EQ(lin.in_features(), in_);
    ASSERT_EQ(lin.out_features(), out_);
    ASSERT_EQ(lin.nonzeros(), w.nonzeros());
    ThreadPool pool(threads_);
    ThreadPool* P = threads_ > 1 ? &pool : nullptr;
    format::AlignedBuffer scratch(sizeof(float) * std::max<size_t>(1, lin.scratch_floats(m_)));
    float* S = scratch_ ? reinterpret_cast<float*>(scratch.data()) : nullptr;
    lin.forward(x.data(), m_, y.data(), P, S);
    for (int64_t i = 0; i < m_; ++i) {
      for (int64_t j = 0; j < out_; ++j) {
        double sq = bias_ ? double(b[static_cast<size_t>(j)]) * b[static_cast<size_t>(j)] : 0.0;
        for (int64_t k = 0; k < in_; ++k) {
          const double t = double(x[static_cast<size_t>(i * in_ + k)]) * Wm[static_cast<size_t>(j * in_ + k)];
          sq += t * t;
        }
        const float got = y[static_cast<size_t>(i * out_ + j)], want = ref[static_cast<size_t>(i * out_ + j)];
        ASSERT_NEAR(got, want, 1e-6 + 1e-5 * std::sqrt(sq))
            << "m=" << m_ << " in=" << in_ << " out=" << out_ << " block_rows=" << br_ << " s=" << sparsity_
            << " bias=" << bias_ << " threads=" << threads_ << " scratch=" << scratch_ << " at (" << i << "," << j
            << ") kernel " << lin.kernel_name();
      }
    }
    // A second forward into a dirty buffer gives the same bits (no state, no accumulation).
    std::vector<float> y2(y.size(), 123.0f);
    lin.forward(x.data(), m_, y2.data(), P, S);
    ASSERT_EQ(0, std::memcmp(y.data(), y2.data(), sizeof(float) * y.size()))
        << "m=" << m_ << " in=" << in_ << " out=" << out_ << " block_rows=" << br_;
  }

 private:
  int64_t m_ = 1, in_ = 1, out_ = 1, br_ = 16;
  double sparsity_ = 0.5;
  bool bias_ = true;
  int threads_ = 1;
  bool scratch_ = false;
  uint32_t seed_ = 1;
  std::string target_;
};

// ---------------------------------------------------------------------------------------------
// Storage form

TEST(BpPack, RoundTripsRandomMasks) {
  std::mt19937 rng(7);
  for (int64_t br : {1, 4, 16, 32}) {
    for (double s : {0.0, 0.3, 0.9, 1.0}) {
      for (auto shape : {std::pair<int64_t, int64_t>{1, 1}, {5, 3}, {37, 19}, {64, 40}}) {
        const auto W = RandomGroupPrunedWeight(rng, shape.first, shape.second, br, s);
        const BpWeights w = bp_pack(W.data(), shape.first, shape.second, br);
        ASSERT_NO_THROW(bp_validate(w));
        EXPECT_EQ(w.n_blocks(), (shape.first + br - 1) / br);
        const auto back = bp_unpack(w);
        ASSERT_EQ(back, W) << "br=" << br << " s=" << s;
        const BpWeights w2 = bp_pack(back.data(), shape.first, shape.second, br);
        EXPECT_EQ(w2.block_ptr, w.block_ptr);
        EXPECT_EQ(w2.cols, w.cols);
        EXPECT_EQ(w2.values, w.values);
        EXPECT_EQ(w.storage_bytes(), 4 * (w.values.size() + w.cols.size() + w.block_ptr.size()));
        if (s == 0.0) {
          EXPECT_EQ(w.nonzeros(), shape.first * shape.second);
        }
        if (s == 1.0) {
          EXPECT_EQ(w.nonzeros(), 0);
        }
      }
    }
  }
}

TEST(BpPack, LayoutMatchesHeader) {
  // out = 5, block_rows = 2: blocks {0,1}, {2,3}, {4}.
  const int64_t out = 5, in = 4;
  std::vector<float> W(out * in, 0.0f);
  auto at = [&](int64_t r, int64_t c) -> float& { return W[static_cast<size_t>(r * in + c)]; };
  at(0, 1) = 1; at(1, 1) = 2; at(0, 3) = 3;  // block 0 keeps cols 1 and 3 (col 3 only in row 0)
  at(3, 0) = 4;                              // block 1 keeps col 0
  at(4, 2) = 5; at(4, 3) = 6;                // block 2 (one row) keeps cols 2, 3
  const BpWeights w = bp_pack(W.data(), out, in, 2);
  EXPECT_EQ(w.block_ptr, (std::vector<int32_t>{0, 2, 3, 5}));
  EXPECT_EQ(w.cols, (std::vector<int32_t>{1, 3, 0, 2, 3}));
  EXPECT_EQ(w.values, (std::vector<float>{1, 2, 3, 0, 0, 4, 5, 6}));
}

TEST(BpPack, KeepsGroupWithOneNonzero) {
  std::vector<float> W(32 * 8, 0.0f);
  W[static_cast<size_t>(17 * 8 + 5)] = 0.25f;  // row 17 = block 1 (rows 16..31), column 5
  const BpWeights w = bp_pack(W.data(), 32, 8, 16);
  EXPECT_EQ(w.block_ptr, (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(w.cols, (std::vector<int32_t>{5}));
  ASSERT_EQ(w.values.size(), 16u);
  for (int r = 0; r < 16; ++r) EXPECT_EQ(w.values[static_cast<size_t>(r)], r == 1 ? 0.25f : 0.0f);
  EXPECT_EQ(bp_unpack(w), W);
}

TEST(BpPack, RejectsBadArguments) {
  std::vector<float> W(4, 1.0f);
  EXPECT_THROW(bp_pack(W.data(), 2, 2, 0), std::invalid_argument);
  EXPECT_THROW(bp_pack(W.data(), 2, 2, -1), std::invalid_argument);
  EXPECT_THROW(bp_pack(W.data(), 0, 2, 1), std::invalid_argument);
  EXPECT_THROW(bp_pack(W.data(), 2, 0, 1), std::invalid_argument);
  EXPECT_THROW(bp_pack(W.data(), -2, 2, 1), std::invalid_argument);
  EXPECT_THROW(bp_pack(nullptr, 2, 2, 1), std::invalid_argument);
}

BpWeights SmallValid() {
  // out = 5, in = 4, block_rows = 2 (as in LayoutMatchesHeader).
  BpWeights w;
  w.out_features = 5;
  w.in_features = 4;
  w.block_rows = 2;
  w.block_ptr = {0, 2, 3, 5};
  w.cols = {1, 3, 0, 2, 3};
  w.values = {1, 2, 3, 0, 0, 4, 5, 6};
  return w;
}

TEST(BpValidate, AcceptsValidAndEmpty) {
  EXPECT_NO_THROW(bp_validate(SmallValid()));
  BpWeights empty = SmallValid();
  empty.block_ptr = {0, 0, 0, 0};
  empty.cols.clear();
  empty.values.clear();
  EXPECT_NO_THROW(bp_validate(empty));
  EXPECT_EQ(bp_unpack(empty), std::vector<float>(20, 0.0f));
}

TEST(BpValidate, RejectsMalformed) {
  struct Case {
    const char* what;
    void (*mutate)(BpWeights&);
  };
  const Case cases[] = {
      {"negative out", [](BpWeights& w) { w.out_features = -5; }},
      {"negative in", [](BpWeights& w) { w.in_features = -4; }},
      {"block_rows 0", [](BpWeights& w) { w.block_rows = 0; }},
      {"block_rows negative", [](BpWeights& w) { w.block_rows = -2; }},
      {"block_ptr too short", [](BpWeights& w) { w.block_ptr.pop_back(); }},
      {"block_ptr too long", [](BpWeights& w) { w.block_ptr.push_back(5); }},
      {"block_ptr empty", [](BpWeights& w) { w.block_ptr.clear(); }},
      {"block_ptr not from 0", [](BpWeights& w) { w.block_ptr[0] = 1; }},
      {"block_ptr decreasing", [](BpWeights& w) { w.block_ptr = {0, 3, 2, 5}; }},
      {"block_ptr negative", [](BpWeights& w) { w.block_ptr = {0, -1, 3, 5}; }},
      {"block_ptr past cols", [](BpWeights& w) { w.block_ptr = {0, 2, 3, 6}; }},
      {"block_ptr short of cols", [](BpWeights& w) { w.block_ptr = {0, 2, 3, 4}; }},
      {"column negative", [](BpWeights& w) { w.cols[0] = -1; }},
      {"column == in", [](BpWeights& w) { w.cols[1] = 4; }},
      {"column huge", [](BpWeights& w) { w.cols[4] = std::numeric_limits<int32_t>::max(); }},
      {"columns descending", [](BpWeights& w) { w.cols[0] = 3; w.cols[1] = 1; }},
      {"columns repeated", [](BpWeights& w) { w.cols[3] = 3; }},
      {"values too few", [](BpWeights& w) { w.values.pop_back(); }},
      {"values too many", [](BpWeights& w) { w.values.push_back(1); }},
      {"in too large for int32", [](BpWeights& w) { w.in_features = int64_t{1} << 40; }},
      {"out overflows n_blocks", [](BpWeights& w) { w.out_features = std::numeric_limits<int64_t>::max(); }},
      {"block_rows huge", [](BpWeights& w) { w.block_rows = std::numeric_limits<int64_t>::max(); }},
  };
  for (const Case& c : cases) {
    BpWeights w = SmallValid();
    c.mutate(w);
    EXPECT_THROW(bp_validate(w), std::invalid_argument) << c.what;
    EXPECT_THROW(bp_unpack(w), std::invalid_argument) << c.what;
    EXPECT_THROW(BpLinear(w, nullptr), std::invalid_argument) << c.what;
  }
}

TEST(BpValidate, RejectsOverflowingValueCount) {
  // One block of 2^62 rows keeping 4 columns: kept * rows overflows int64.
  BpWeights w;
  w.out_features = int64_t{1} << 62;
  w.in_features = 4;
  w.block_rows = int64_t{1} << 62;
  w.block_ptr = {0, 4};
  w.cols = {0, 1, 2, 3};
  w.values = {1, 2, 3, 4};
  EXPECT_THROW(bp_validate(w), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// BpLinear

TEST(BpLinear, KernelNameAndSizes) {
  std::mt19937 rng(3);
  const auto W = RandomGroupPrunedWeight(rng, 48, 40, 16, 0.5);
  const BpWeights w = bp_pack(W.data(), 48, 40, 16);
  BpLinear lin(w, nullptr);
  EXPECT_EQ(lin.nonzeros(), w.nonzeros());
  EXPECT_GE(lin.packed_bytes(), sizeof(float) * static_cast<size_t>(w.nonzeros()));
  EXPECT_NE(std::string(lin.kernel_name()).find("b16"), std::string::npos);
  std::printf("BpLinear kernel: %s, %ld nonzeros, packed %zu bytes, storage %zu bytes\n", lin.kernel_name(),
              static_cast<long>(lin.nonzeros()), lin.packed_bytes(), w.storage_bytes());
}

TEST(BpLinear, M1) {
  for (int64_t br : {1, 4, 16, 32}) {
    for (double s : {0.0, 0.5, 0.9}) {
      BpTester().m(1).out(100).in(70).block_rows(br).sparsity(s).Test();
      BpTester().m(1).out(256).in(256).block_rows(br).sparsity(s).bias(false).Test();
    }
  }
}

TEST(BpLinear, OddMAndRaggedShapes) {
  for (int64_t m : {1, 2, 3, 7, 13, 128, 130}) {
    for (auto shape : {std::pair<int64_t, int64_t>{40, 1}, {7, 33}, {37, 300}, {64, 64}, {16, 600}}) {
      for (bool bias : {false, true}) {
        BpTester().m(m).out(shape.first).in(shape.second).sparsity(0.5).bias(bias).Test();
      }
    }
  }
}

TEST(BpLinear, SparsitiesAndBlockRows) {
  for (int64_t br : {1, 4, 16, 32}) {
    for (double s : {0.0, 0.3, 0.5, 0.9, 1.0}) {
      for (int64_t m : {1, 3, 26}) {
        BpTester().m(m).out(70).in(270).block_rows(br).sparsity(s).Test();
      }
    }
  }
}

TEST(BpLinear, ThreadsAndScratch) {
  for (int threads : {1, 2}) {
    for (bool scratch : {false, true}) {
      for (int64_t m : {1, 5, 128}) {
        for (double s : {0.0, 0.5, 0.9}) {
          BpTester().m(m).out(300).in(520).sparsity(s).threads(threads).scratch(scratch).Test();
        }
        BpTester().m(m).out(1024).in(256).sparsity(0.7).threads(threads).scratch(scratch).Test();
      }
    }
  }
}

// in > 512 spans several k-blocks (the M > 1 loop adds one k-block at a time); in % 1024 == 0
// takes the copied-x path (rows 4 KiB apart), other widths read x in place.
TEST(BpLinear, KBlocksAndCopiedX) {
  for (int64_t in : {511, 512, 513, 1024, 1100, 2048}) {
    for (int64_t m : {1, 2, 17, 40}) {
      for (double s : {0.0, 0.5, 0.9}) {
        BpTester().m(m).out(37).in(in).sparsity(s).bias(m % 2 == 0).Test();
      }
    }
    BpTester().m(9).out(20).in(in).block_rows(32).sparsity(0.3).threads(2).Test();
  }
}

TEST(BpLinear, RandomShapes) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int64_t> dim(1, 200), mm(1, 40), brs(0, 3);
  const int64_t block_rows[] = {1, 4, 16, 32};
  const double sparsities[] = {0.0, 0.3, 0.5, 0.9, 1.0};
  for (int i = 0; i < 40; ++i) {
    BpTester()
        .m(mm(rng))
        .out(dim(rng))
        .in(dim(rng))
        .block_rows(block_rows[brs(rng)])
        .sparsity(sparsities[static_cast<size_t>(i) % 5])
        .bias(i % 2 == 0)
        .threads(1 + i % 2)
        .scratch(i % 3 == 0)
        .seed(static_cast<uint32_t>(i))
        .Test();
  }
}

TEST(BpLinear, EverySimdTarget) {
  const auto targets = dense_linear_targets();
  ASSERT_FALSE(targets.empty());
  for (const auto& t : targets) {
    std::mt19937 rng(5);
    const auto W = RandomGroupPrunedWeight(rng, 5, 3, 4, 0.0);
    const std::string name = BpLinear(bp_pack(W.data(), 5, 3, 4), nullptr, t).kernel_name();
    std::printf("target %s: %s\n", t.c_str(), name.c_str());
    EXPECT_EQ(name.rfind("bp-hwy-" + t + " ", 0), 0u) << name;  // the table of that target, not another
    for (int64_t br : {1, 4, 16, 32}) {
      for (int64_t m : {1, 2, 7, 30}) {
        for (double s : {0.0, 0.5, 1.0}) {
          BpTester().target(t).m(m).out(75).in(290).block_rows(br).sparsity(s).threads(1 + m % 2).Test();
        }
      }
      BpTester().target(t).m(13).out(33).in(1).block_rows(br).sparsity(0.3).bias(false).Test();
      BpTester().target(t).m(3).out(3).in(40).block_rows(br).sparsity(0.3).Test();
      BpTester().target(t).m(5).out(20).in(1024).block_rows(br).sparsity(0.5).Test();
    }
  }
  std::vector<float> W(4, 1.0f);
  EXPECT_THROW(BpLinear(bp_pack(W.data(), 2, 2, 1), nullptr, "NO_SUCH_TARGET"), std::invalid_argument);
}

TEST(BpLinear, ConcurrentForwardOnOneObject) {
  std::mt19937 rng(21);
  const int64_t out = 200, in = 300, m = 20;
  const auto W = RandomGroupPrunedWeight(rng, out, in, 16, 0.6);
  const auto b = RandomVec(rng, out);
  const BpLinear lin(bp_pack(W.data(), out, in, 16), b.data());
  const auto x = RandomVec(rng, static_cast<size_t>(m * in));
  std::vector<float> want(static_cast<size_t>(m * out));
  lin.forward(x.data(), m, want.data(), nullptr);
  std::vector<std::vector<float>> got(4, std::vector<float>(want.size()));
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      ThreadPool pool(t % 2 == 0 ? 1 : 2);  // each caller its own pool (or none)
      for (int rep = 0; rep < 20; ++rep) lin.forward(x.data(), m, got[t].data(), t % 2 == 0 ? nullptr : &pool);
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& g : got) EXPECT_EQ(0, std::memcmp(g.data(), want.data(), sizeof(float) * want.size()));
}

TEST(BpLinear, ZeroRowsMoveAndEmptyWeights) {
  std::mt19937 rng(9);
  const auto W = RandomGroupPrunedWeight(rng, 40, 24, 16, 0.5);
  const auto b = RandomVec(rng, 40);
  BpLinear a(bp_pack(W.data(), 40, 24, 16), b.data());
  std::vector<float> y(40, 7.0f);
  a.forward(nullptr, 0, y.data(), nullptr);  // m = 0: nothing read or written
  for (float v : y) EXPECT_EQ(v, 7.0f);
  BpLinear moved(std::move(a));
  EXPECT_EQ(moved.out_features(), 40);
  const auto x = RandomVec(rng, 24);
  moved.forward(x.data(), 1, y.data(), nullptr);
  std::vector<float> ref(40);
  linear_ref(x.data(), 1, 24, W.data(), b.data(), 40, ref.data());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], ref[i], 1e-5);

  // Storage with no kept group and zero output rows (as a file may hold): y = bias / nothing.
  BpWeights none;
  none.out_features = 3;
  none.in_features = 5;
  none.block_rows = 2;
  none.block_ptr = {0, 0, 0};
  BpLinear lin(none, b.data());
  std::vector<float> y2(6, 0.0f);
  const auto x2 = RandomVec(rng, 10);
  lin.forward(x2.data(), 2, y2.data(), nullptr);
  for (int r = 0; r < 2; ++r) {
    for (int j = 0; j < 3; ++j) EXPECT_EQ(y2[static_cast<size_t>(r * 3 + j)], b[static_cast<size_t>(j)]);
  }
  BpWeights zero_out;
  zero_out.out_features = 0;
  zero_out.in_features = 5;
  zero_out.block_ptr = {0};
  BpLinear z(zero_out, nullptr);
  z.forward(x2.data(), 2, y2.data(), nullptr);
  EXPECT_EQ(z.out_features(), 0);
}

}  // namespace
}  // namespace kernels
}  // namespace rt3
