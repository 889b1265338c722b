#pragma once
// Process-wide compute setup for training: thread counts and which BLAS LibTorch really uses.
// Torch-free header (the CLI calls it).
#include <string>

namespace rt3::train {

// Sets the thread count for LibTorch and for BLIS/OpenMP and installs the CPU block cache
// (train/cpu_block_cache.h). Call once, early, before any matmul: BLIS reads BLIS_NUM_THREADS
// when it initialises. Variables the user already set are kept.
void init_compute(int threads);

struct BlasInfo {
  std::string library_path;  // the libblas/blis/openblas/mkl object mapped into this process
  std::string name;          // "BLIS", "OpenBLAS", "reference BLAS", "MKL" or "unknown"
};
// Reads /proc/self/maps after forcing one matmul, so the BLAS is really loaded.
BlasInfo loaded_blas();

struct SgemmMeasurement {
  int n = 0;
  int threads = 0;
  int reps = 0;
  double median_gflops = 0.0;
  double best_gflops = 0.0;
};
// Square n x n x n fp32 matmul through LibTorch (the path training uses); median over reps.
SgemmMeasurement measure_torch_sgemm(int n, int threads, int reps);

}  // namespace rt3::train
