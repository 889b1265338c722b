// Block-pruned Linear (BpLinear) and pattern-pruned Linear (PatternLinear) vs dense (DenseLinear,
// oneDNN) vs XNNPACK's sparse 1x1 convolution, Google Benchmark version of `rt3 bench kernels`
// (same cases, from bench/baselines/kernel_case.h). Shapes are (out x in); sparsity in percent of
// groups pruned (group = block_rows x 1, block_rows = 16) for BP, of tile columns removed
// (round(s * 16) of 16, 16x16 tiles, 4 random patterns per set) for BM_Pattern.
// Counters: GFLOPS = 2*M*out*in / time (dense-equivalent), GFLOPSnz = 2*M*nonzeros / time.
//   ./bench_bp --benchmark_filter='M:128/.*/T:1' --benchmark_repetitions=5
//              --benchmark_report_aggregates_only=true --benchmark_enable_random_interleaving=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "bench/baselines/kernel_case.h"
#include "runtime/kernels/bp_linear.h"
#include "runtime/kernels/dense_linear.h"
#include "runtime/kernels/pattern_linear.h"
#include "runtime/threads/thread_pool.h"
#ifdef RT3_HAVE_BASELINES
#include "bench/baselines/onednn_matmul.h"
#include "bench/baselines/xnnpack_spmm.h"
#endif

namespace {

namespace kb = rt3::bench;
constexpr int64_t kBlockRows = 16;
constexpr kb::Shape kPatternTile = {16, 16};
constexpr int64_t kPatternsPerSet = 4;

// Args: M, out, in, threads, sparsity percent (0 for the dense variants).
struct Setup {
  kb::DenseCase c;
  int threads;
  double sparsity;
  std::vector<float> w;  // masked when sparsity > 0
  std::vector<float> y;
  std::unique_ptr<rt3::ThreadPool> pool;
  explicit Setup(const benchmark::State& st)
      : c(kb::make_dense_case({st.range(1), st.range(2)}, st.range(0), 1)),
        threads(static_cast<int>(st.range(3))),
        sparsity(static_cast<double>(st.range(4)) / 100.0) {
    w = sparsity > 0 ? kb::group_masked(c.w, c.shape, kBlockRows, sparsity, 2) : c.w;
    y.resize(static_cast<size_t>(c.m * c.shape.out));
    if (threads > 1) pool = std::make_unique<rt3::ThreadPool>(threads);
  }
  void counters(benchmark::State& st, double nonzeros) const {
    const double m = static_cast<double>(c.m);
    st.counters["GFLOPS"] = benchmark::Counter(2e-9 * m * static_cast<double>(c.shape.out * c.shape.in),
                                               benchmark::Counter::kIsIterationInvariantRate);
    st.counters["GFLOPSnz"] = benchmark::Counter(2e-9 * m * nonzeros, benchmark::Counter::kIsIterationInvariantRate);
  }
};

void BM_Dense(benchmark::State& st) {
  Setup s(st);
  rt3::kernels::DenseLinear lin(s.w.data(), s.c.bias.data(), s.c.shape.out, s.c.shape.in);
  for (auto _ : st) {
    lin.forward(s.c.x.data(), s.c.m, s.y.data(), s.pool.get());
    benchmark::DoNotOptimize(s.y.data());
    benchmark::ClobberMemory();
  }
  st.SetLabel(lin.kernel_name());
  s.counters(st, static_cast<double>(s.c.shape.out * s.c.shape.in));
}

void BM_Bp(benchmark::State& st) {
  Setup s(st);
  const auto bw = rt3::kernels::bp_pack(s.w.data(), s.c.shape.out, s.c.shape.in, kBlockRows);
  rt3::kernels::BpLinear lin(bw, s.c.bias.data());
  std::vector<float> scratch(lin.scratch_floats(s.c.m) + 16);
  float* sp = scratch.data();
  while (reinterpret_cast<uintptr_t>(sp) % 64) ++sp;  // 64-byte aligned, as forward() asks
  for (auto _ : st) {
    lin.forward(s.c.x.data(), s.c.m, s.y.data(), s.pool.get(), sp);
    benchmark::DoNotOptimize(s.y.data());
    benchmark::ClobberMemory();
  }
  st.SetLabel(lin.kernel_name());
  s.counters(st, static_cast<double>(bw.nonzeros()));
}

// The dense W masked by a random pattern set (s.w is the group-masked W, unused here).
void BM_Pattern(benchmark::State& st) {
  Setup s(st);
  const auto pw = kb::random_pattern_set(s.c.shape, kPatternTile, kPatternsPerSet, s.sparsity, 3);
  rt3::kernels::PatternLinear lin(s.c.w.data(), s.c.bias.data(), pw);
  for (auto _ : st) {
    lin.forward(s.c.x.data(), s.c.m, s.y.data(), s.pool.get());
    benchmark::DoNotOptimize(s.y.data());
    benchmark::ClobberMemory();
  }
  st.SetLabel(lin.kernel_name());
  s.counters(st, static_cast<double>(lin.kept_weights()));
}

#ifdef RT3_HAVE_BASELINES
void BM_Onednn(benchmark::State& st) {
  Setup s(st);
  rt3::baselines::OnednnMatmul mm(s.w.data(), s.c.bias.data(), s.c.shape.out, s.c.shape.in, s.c.m, s.threads);
  for (auto _ : st) {
    mm.run(s.c.x.data(), s.y.data());
    benchmark::DoNotOptimize(s.y.data());
    benchmark::ClobberMemory();
  }
  st.SetLabel(mm.impl_name());
  s.counters(st, static_cast<double>(s.c.shape.out * s.c.shape.in));
}

// With the x / y transposes ([m][in] <-> channel-major), as an app with row-major activations.
void BM_Xnnpack(benchmark::State& st) {
  Setup s(st);
  rt3::baselines::XnnpackSpmm sp(s.w.data(), s.c.bias.data(), s.c.shape.out, s.c.shape.in, s.c.m, s.threads);
  for (auto _ : st) {
    sp.run(s.c.x.data(), s.y.data());
    benchmark::DoNotOptimize(s.y.data());
    benchmark::ClobberMemory();
  }
  const auto bw = rt3::kernels::bp_pack(s.w.data(), s.c.shape.out, s.c.shape.in, kBlockRows);
  s.counters(st, static_cast<double>(bw.nonzeros()));
}

// The SpMM operator alone (activations already channel-major).
void BM_XnnpackChw(benchmark::State& st) {
  Setup s(st);
  rt3::baselines::XnnpackSpmm sp(s.w.data(), s.c.bias.data(), s.c.shape.out, s.c.shape.in, s.c.m, s.threads);
  for (auto _ : st) {
    sp.run_chw();
    benchmark::ClobberMemory();
  }
  const auto bw = rt3::kernels::bp_pack(s.w.data(), s.c.shape.out, s.c.shape.in, kBlockRows);
  s.counters(st, static_cast<double>(bw.nonzeros()));
}
#endif

// The default grid of `rt3 bench kernels`: (out, in) of the DistilBERT / LM layers.
const int64_t kShapes[][2] = {{256, 256}, {1024, 256}, {256, 1024}, {768, 768}, {3072, 768}, {768, 3072}};
const int64_t kSparsityPercent[] = {50, 70, 80, 90};

int RegisterAll() {
  for (int64_t m : {1, 128}) {
    for (int64_t t : {1, 2}) {
      for (const auto& s : kShapes) {
        auto reg = [&](const char* name, void (*fn)(benchmark::State&), int64_t sp) {
          benchmark::RegisterBenchmark(name, fn)
              ->ArgNames({"M", "N", "K", "T", "S"})
              ->Args({m, s[0], s[1], t, sp})
              ->UseRealTime();
        };
        reg("BM_Dense", BM_Dense, 0);
#ifdef RT3_HAVE_BASELINES
        reg("BM_Onednn", BM_Onednn, 0);
#endif
        for (int64_t sp : kSparsityPercent) {
          reg("BM_Bp", BM_Bp, sp);
          reg("BM_Pattern", BM_Pattern, sp);
#ifdef RT3_HAVE_BASELINES
          reg("BM_Xnnpack", BM_Xnnpack, sp);
          reg("BM_XnnpackChw", BM_XnnpackChw, sp);
#endif
        }
      }
    }
  }
  return 0;
}
const int kRegistered = RegisterAll();

}  // namespace

BENCHMARK_MAIN();
