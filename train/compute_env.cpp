#include "train/compute_env.h"

#include "train/cpu_block_cache.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace rt3::train {

void init_compute(int threads) {
  if (threads < 1) threads = 1;
  const std::string n = std::to_string(threads);
  // BLIS reads BLIS_NUM_THREADS when it initialises (first BLAS call), so this still takes
  // effect; a value the user set wins. OpenMP (libgomp) read its environment at load time, so
  // LibTorch's pool is sized through set_num_threads instead. OPENBLAS_* is never touched.
  setenv("BLIS_NUM_THREADS", n.c_str(), /*overwrite=*/0);
  torch::set_num_threads(threads);
  install_cpu_block_cache();
}

BlasInfo loaded_blas() {
  {
    torch::NoGradGuard g;
    auto a = torch::ones({8, 8});
    (void)torch::mm(a, a);
  }
  BlasInfo info;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  const char* keys[] = {"blis", "openblas", "libmkl", "libblas"};
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    for (const char* k : keys) {
      if (path.find(k) == std::string::npos) continue;
      // Prefer the first hit for the most specific key (a BLIS libblas.so.3 lives under blis-*/).
      if (info.library_path.empty()) info.library_path = path;
    }
  }
  const std::string& p = info.library_path;
  if (p.find("blis") != std::string::npos) info.name = "BLIS";
  else if (p.find("openblas") != std::string::npos) info.name = "OpenBLAS";
  else if (p.find("mkl") != std::string::npos) info.name = "MKL";
  else if (p.find("/blas/") != std::string::npos) info.name = "reference BLAS";
  else info.name = p.empty() ? "none found" : "unknown";
  return info;
}

SgemmMeasurement measure_torch_sgemm(int n, int threads, int reps) {
  torch::NoGradGuard g;
  torch::manual_seed(0);
  auto a = torch::randn({n, n}), b = torch::randn({n, n});
  for (int i = 0; i < 2; ++i) (void)torch::mm(a, b);  // warm-up: thread pool, caches, packing buffers
  std::vector<double> gflops;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto c = torch::mm(a, b);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    gflops.push_back(2.0 * n * double(n) * n / s / 1e9);
  }
  std::sort(gflops.begin(), gflops.end());
  SgemmMeasurement m;
  m.n = n;
  m.threads = threads;
  m.reps = reps;
  m.median_gflops = gflops[gflops.size() / 2];
  m.best_gflops = gflops.back();
  return m;
}

}  // namespace rt3::train
