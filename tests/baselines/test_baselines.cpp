// The bench-only baselines (bench/baselines) against rt3::kernels::linear_ref: oneDNN dense
// matmul and XNNPACK's sparse 1x1 convolution, on small random shapes (ragged sizes, m = 1 and
// m > 1, 1 and 2 threads), XNNPACK also on group-pruned weights from bench/baselines/kernel_case.h.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "bench/baselines/kernel_case.h"
#include "bench/baselines/onednn_matmul.h"
#include "bench/baselines/xnnpack_spmm.h"
#include "runtime/kernels/dense_linear.h"

namespace {

using rt3::bench::Shape;

struct Case {
  int64_t out, in, m;
};
const Case kCases[] = {{1, 1, 1}, {7, 5, 1}, {16, 16, 3}, {33, 17, 5}, {64, 96, 1}, {96, 64, 32}, {40, 130, 37}};

std::vector<float> reference(const rt3::bench::DenseCase& c, const std::vector<float>& w, bool with_bias) {
  std::vector<float> y(static_cast<size_t>(c.m * c.shape.out));
  rt3::kernels::linear_ref(c.x.data(), c.m, c.shape.in, w.data(), with_bias ? c.bias.data() : nullptr, c.shape.out,
                           y.data());
  return y;
}

TEST(OnednnMatmul, MatchesReference) {
  uint64_t seed = 1;
  for (const auto& k : kCases) {
    for (int threads : {1, 2}) {
      for (bool with_bias : {true, false}) {
        const auto c = rt3::bench::make_dense_case({k.out, k.in}, k.m, seed++);
        rt3::baselines::OnednnMatmul mm(c.w.data(), with_bias ? c.bias.data() : nullptr, k.out, k.in, k.m, threads);
        std::vector<float> y(static_cast<size_t>(k.m * k.out), -7.0f);
        for (int rep = 0; rep < 2; ++rep) {  // a second run reuses the primitive
          mm.run(c.x.data(), y.data());
          const auto ref = reference(c, c.w, with_bias);
          EXPECT_LT(rt3::bench::max_rel_error(y.data(), ref.data(), y.size()), 1e-5)
              << k.out << "x" << k.in << " m=" << k.m << " threads=" << threads << " bias=" << with_bias;
        }
      }
    }
  }
}

TEST(OnednnMatmul, RejectsBadSizes) {
  const float w = 1.0f;
  EXPECT_THROW(rt3::baselines::OnednnMatmul(&w, nullptr, 0, 1, 1, 1), std::invalid_argument);
  EXPECT_THROW(rt3::baselines::OnednnMatmul(&w, nullptr, 1, 1, 1, 0), std::invalid_argument);
}

TEST(XnnpackSpmm, MatchesReferenceDense) {
  uint64_t seed = 100;
  for (const auto& k : kCases) {
    for (int threads : {1, 2}) {
      const auto c = rt3::bench::make_dense_case({k.out, k.in}, k.m, seed++);
      rt3::baselines::XnnpackSpmm sp(c.w.data(), c.bias.data(), k.out, k.in, k.m, threads);
      std::vector<float> y(static_cast<size_t>(k.m * k.out), -7.0f);
      sp.run(c.x.data(), y.data());
      const auto ref = reference(c, c.w, true);
      EXPECT_LT(rt3::bench::max_rel_error(y.data(), ref.data(), y.size()), 1e-5)
          << k.out << "x" << k.in << " m=" << k.m << " threads=" << threads;
    }
  }
}

TEST(XnnpackSpmm, MatchesReferencePruned) {
  uint64_t seed = 200;
  for (const auto& k : kCases) {
    for (double s : {0.0, 0.5, 0.9, 0.99}) {
      for (int64_t block_rows : {1, 4, 16}) {
        const auto c = rt3::bench::make_dense_case({k.out, k.in}, k.m, seed++);
        const auto wm = rt3::bench::group_masked(c.w, c.shape, block_rows, s, seed);
        for (int threads : {1, 2}) {
          for (bool with_bias : {true, false}) {
            rt3::baselines::XnnpackSpmm sp(wm.data(), with_bias ? c.bias.data() : nullptr, k.out, k.in, k.m, threads);
            std::vector<float> y(static_cast<size_t>(k.m * k.out), -7.0f);
            sp.run(c.x.data(), y.data());
            const auto ref = reference(c, wm, with_bias);
            EXPECT_LT(rt3::bench::max_rel_error(y.data(), ref.data(), y.size()), 1e-5)
                << k.out << "x" << k.in << " m=" << k.m << " s=" << s << " block_rows=" << block_rows
                << " threads=" << threads;
          }
        }
      }
    }
  }
}

TEST(XnnpackSpmm, RunChwIsTheOperatorAlone) {
  const auto c = rt3::bench::make_dense_case({24, 40}, 9, 7);
  const auto wm = rt3::bench::group_masked(c.w, c.shape, 4, 0.7, 8);
  rt3::baselines::XnnpackSpmm sp(wm.data(), c.bias.data(), 24, 40, 9, 1);
  for (int64_t r = 0; r < 9; ++r) {
    for (int64_t k = 0; k < 40; ++k) sp.input_chw()[k * 9 + r] = c.x[static_cast<size_t>(r * 40 + k)];
  }
  sp.run_chw();
  const auto ref = reference(c, wm, true);
  for (int64_t r = 0; r < 9; ++r) {
    for (int64_t n = 0; n < 24; ++n) {
      EXPECT_NEAR(sp.output_chw()[n * 9 + r], ref[static_cast<size_t>(r * 24 + n)], 1e-4);
    }
  }
}

TEST(KernelCase, GroupMaskKeepsExactlyTheChosenGroups) {
  const Shape shape{37, 11};
  const auto c = rt3::bench::make_dense_case(shape, 1, 3);
  for (double s : {0.0, 0.3, 0.8, 0.95}) {
    const auto wm = rt3::bench::group_masked(c.w, shape, 16, s, 4);
    int64_t kept = 0;
    for (int64_t b = 0; b < 3; ++b) {
      for (int64_t col = 0; col < shape.in; ++col) {
        const int64_t r1 = std::min<int64_t>(shape.out, (b + 1) * 16);
        const bool first = wm[static_cast<size_t>(b * 16 * shape.in + col)] != 0.0f;
        for (int64_t r = b * 16; r < r1; ++r) {  // a group is all kept or all zero
          EXPECT_EQ(wm[static_cast<size_t>(r * shape.in + col)] != 0.0f, first);
        }
        kept += first;
      }
    }
    EXPECT_EQ(kept, rt3::bench::kept_groups(shape, 16, s));
  }
}

TEST(KernelCase, ParsersRejectBadInput) {
  EXPECT_EQ(rt3::bench::parse_shapes("256x128, 3x4").size(), 2u);
  EXPECT_EQ(rt3::bench::parse_shapes("256x128")[0].in, 128);
  EXPECT_THROW(rt3::bench::parse_shapes("12"), std::invalid_argument);
  EXPECT_THROW(rt3::bench::parse_shapes("12x"), std::invalid_argument);
  EXPECT_THROW(rt3::bench::parse_shapes("0x4"), std::invalid_argument);
  EXPECT_THROW(rt3::bench::parse_shapes("4x4,"), std::invalid_argument);
  EXPECT_THROW(rt3::bench::parse_sparsities("1.5"), std::invalid_argument);
  EXPECT_THROW(rt3::bench::parse_sparsities("1"), std::invalid_argument);
  EXPECT_THROW(rt3::bench::parse_sparsities("0.5x"), std::invalid_argument);
  EXPECT_EQ(rt3::bench::parse_sparsities("0,0.5").size(), 2u);
  EXPECT_THROW(rt3::bench::parse_ints("1,-2", "--m", 100), std::invalid_argument);
}

}  // namespace
