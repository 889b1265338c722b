// Which SIMD target the kernels pick by themselves (no explicit target): every kernel must run the
// best target compiled for this CPU, the first of dense_linear_targets(). On an SVE CPU (qemu
// -cpu max,sve-max-vq=N in tests/tools/aarch64_qemu.sh) that is an SVE target, not NEON: this is
// the test that shows the SVE code paths are the ones that run there. The numerics of every
// target are checked by the EverySimdTarget / EveryTarget tests of each kernel.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "runtime/kernels/bp_linear.h"
#include "runtime/kernels/dense_linear.h"
#include "runtime/kernels/ops.h"
#include "runtime/kernels/pattern_linear.h"

namespace rt3 {
namespace kernels {
namespace {

// kernel_name() is "<kind>hwy-<TARGET> <shape>": true when its target is `target` exactly.
bool NamesTarget(const std::string& name, const std::string& target) {
  return name.find("hwy-" + target + " ") != std::string::npos;
}

TEST(KernelsDispatch, EveryKernelRunsTheBestTarget) {
  const std::vector<std::string> targets = dense_linear_targets();
  ASSERT_FALSE(targets.empty());
  const std::string& best = targets[0];

  const int64_t n = 32;
  std::vector<float> W(static_cast<size_t>(n * n), 1.0f);
  const DenseLinear dense(W.data(), nullptr, n, n);
  const BpLinear bp(bp_pack(W.data(), n, n, 16), nullptr);
  PatternWeights p;
  p.out_features = p.in_features = n;
  p.n_patterns = 1;
  p.patterns.assign(16, 1);
  p.tile_pattern.assign(4, 0);  // 2 x 2 tiles of 16 x 16, all keeping every column
  const PatternLinear pattern(W.data(), nullptr, p);

  std::printf("dispatch %s: dense %s, bp %s, pattern %s, ops %s\n", best.c_str(), dense.kernel_name(),
              bp.kernel_name(), pattern.kernel_name(), ops_target());
  EXPECT_TRUE(NamesTarget(dense.kernel_name(), best)) << dense.kernel_name();
  EXPECT_TRUE(NamesTarget(bp.kernel_name(), best)) << bp.kernel_name();
  EXPECT_TRUE(NamesTarget(pattern.kernel_name(), best)) << pattern.kernel_name();
  EXPECT_EQ(std::string(ops_target()), best);
}

}  // namespace
}  // namespace kernels
}  // namespace rt3
