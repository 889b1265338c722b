// DenseLinear vs linear_ref vs BLIS (cblas_sgemm / cblas_sgemv) on Transformer layer shapes.
//   y[M][N] = x[M][K] W[N][K]^T (+ bias)      shapes are (out x in) = (N x K)
// Counters: GFLOPS = 2*M*N*K / time; for M = 1 also GBps = weight bytes read / time.
//   ./bench_dense --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "runtime/kernels/dense_linear.h"
#include "runtime/threads/thread_pool.h"

#ifdef RT3_HAVE_BLIS
// Debian's libblis4-openmp has no header package installed here; these are the standard CBLAS
// prototypes (enum values as in cblas.h).
extern "C" {
enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112, CblasConjTrans = 113 };
void cblas_sgemm(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int M, int N, int K, float alpha,
                 const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc);
void cblas_sgemv(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, int M, int N, float alpha, const float* A, int lda,
                 const float* X, int incX, float beta, float* Y, int incY);
void bli_thread_set_num_threads(long n);
}
#endif

namespace {

struct Problem {
  int64_t m, n, k;
  std::vector<float> x, w, b, y;
  Problem(int64_t m_, int64_t n_, int64_t k_) : m(m_), n(n_), k(k_) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> d(-1, 1);
    x.resize(static_cast<size_t>(m * k));
    w.resize(static_cast<size_t>(n * k));
    b.resize(static_cast<size_t>(n));
    y.resize(static_cast<size_t>(m * n));
    for (auto& v : x) v = d(rng);
    for (auto& v : w) v = d(rng);
    for (auto& v : b) v = d(rng);
  }
};

void SetCounters(benchmark::State& st, const Problem& p) {
  st.counters["GFLOPS"] = benchmark::Counter(2.0 * p.m * p.n * p.k * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  if (p.m == 1) {
    st.counters["GBps"] = benchmark::Counter(4.0 * p.n * p.k * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  }
}

// Args: M, N (out), K (in), threads
void BM_Ours(benchmark::State& st) {
  Problem p(st.range(0), st.range(1), st.range(2));
  const int threads = static_cast<int>(st.range(3));
  rt3::kernels::DenseLinear lin(p.w.data(), p.b.data(), p.n, p.k);
  rt3::ThreadPool pool(threads);
  for (auto _ : st) {
    lin.forward(p.x.data(), p.m, p.y.data(), threads > 1 ? &pool : nullptr);
    benchmark::DoNotOptimize(p.y.data());
    benchmark::ClobberMemory();
  }
  st.SetLabel(lin.kernel_name());
  SetCounters(st, p);
}

void BM_Ref(benchmark::State& st) {
  Problem p(st.range(0), st.range(1), st.range(2));
  for (auto _ : st) {
    rt3::kernels::linear_ref(p.x.data(), p.m, p.k, p.w.data(), p.b.data(), p.n, p.y.data());
    benchmark::DoNotOptimize(p.y.data());
    benchmark::ClobberMemory();
  }
  SetCounters(st, p);
}

#ifdef RT3_HAVE_BLIS
void BM_BlisSgemm(benchmark::State& st) {
  Problem p(st.range(0), st.range(1), st.range(2));
  bli_thread_set_num_threads(st.range(3));
  for (auto _ : st) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(p.m), static_cast<int>(p.n),
                static_cast<int>(p.k), 1.0f, p.x.data(), static_cast<int>(p.k), p.w.data(), static_cast<int>(p.k), 0.0f,
                p.y.data(), static_cast<int>(p.n));
    benchmark::DoNotOptimize(p.y.data());
    benchmark::ClobberMemory();
  }
  SetCounters(st, p);
}

void BM_BlisSgemv(benchmark::State& st) {  // M = 1 only
  Problem p(1, st.range(1), st.range(2));
  bli_thread_set_num_threads(st.range(3));
  for (auto _ : st) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(p.n), static_cast<int>(p.k), 1.0f, p.w.data(),
                static_cast<int>(p.k), p.x.data(), 1, 0.0f, p.y.data(), 1);
    benchmark::DoNotOptimize(p.y.data());
    benchmark::ClobberMemory();
  }
  SetCounters(st, p);
}
#endif

// Round trip of one parallel_for with an empty body: the pool's fixed cost per kernel call.
void BM_PoolRoundTrip(benchmark::State& st) {
  rt3::ThreadPool pool(static_cast<int>(st.range(0)));
  for (auto _ : st) {
    pool.parallel_for(pool.size(), [](int64_t b, int64_t e) { benchmark::DoNotOptimize(b + e); });
  }
}
BENCHMARK(BM_PoolRoundTrip)->ArgName("T")->Arg(1)->Arg(2)->UseRealTime();

// (out, in) shapes of the DistilBERT / LM layers.
const int64_t kShapes[][2] = {{256, 256}, {1024, 256}, {256, 1024}, {768, 768}, {3072, 768}, {768, 3072}};

// Registered shape by shape so ours and BLIS run next to each other (machine noise hits both
// alike); --benchmark_enable_random_interleaving=true shuffles repetitions further.
int RegisterAll() {
  for (int64_t m : {1, 128}) {
    for (int t : {1, 2}) {
      for (const auto& s : kShapes) {
        const std::vector<int64_t> args = {m, s[0], s[1], t};
        auto reg = [&](const char* name, void (*fn)(benchmark::State&)) {
          benchmark::RegisterBenchmark(name, fn)->ArgNames({"M", "N", "K", "T"})->Args(args)->UseRealTime();
        };
        reg("BM_Ours", BM_Ours);
#ifdef RT3_HAVE_BLIS
        reg("BM_BlisSgemm", BM_BlisSgemm);
        if (m == 1) reg("BM_BlisSgemv", BM_BlisSgemv);
#endif
        if (t == 1) {
          benchmark::RegisterBenchmark("BM_Ref", BM_Ref)
              ->ArgNames({"M", "N", "K", "T"})
              ->Args(args)
              ->UseRealTime()
              ->MinTime(0.05);
        }
      }
    }
  }
  return 0;
}
const int kRegistered = RegisterAll();

}  // namespace

BENCHMARK_MAIN();
