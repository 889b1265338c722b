#pragma once
// Bench-only baseline: dense fp32 Linear y = x W^T + b with oneDNN's matmul primitive
// (Debian 12 libdnnl 2.6, OpenMP runtime). Never linked into rt3_runtime.
//   x: [m][in] row-major, W: [out][in] (PyTorch layout), bias: [out] or null, y: [m][out].
// Set-up (once, in the constructor): the weights are described to oneDNN as a {in, out} matrix
// in format "ba" (that is W^T without copying), the primitive is created with format_tag::any
// for the weights so oneDNN picks its preferred (blocked) layout, and W is reordered into that
// layout once. run() only executes the primitive: no allocation, no reorder.
// Threads: oneDNN's OpenMP build sizes its parallel regions from omp_get_max_threads() of the
// calling thread; the constructor and run() set it with omp_set_num_threads(threads) (run() only
// when it changed, e.g. because another OnednnMatmul with another count ran on this thread).
#include <cstdint>
#include <memory>
#include <string>

namespace rt3::baselines {

class OnednnMatmul {
 public:
  // Throws std::runtime_error (with oneDNN's message) if oneDNN cannot create the primitive,
  // std::invalid_argument for non-positive sizes.
  OnednnMatmul(const float* W, const float* bias, int64_t out_features, int64_t in_features, int64_t m, int threads);
  ~OnednnMatmul();
  OnednnMatmul(OnednnMatmul&&) noexcept;
  OnednnMatmul& operator=(OnednnMatmul&&) noexcept;

  // x: [m][in], y: [m][out] for the m given at construction.
  void run(const float* x, float* y);

  int64_t m() const;
  int threads() const;
  std::string impl_name() const;  // oneDNN's implementation, e.g. "brg:avx512_core"

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// oneDNN's version string, e.g. "2.6.3".
std::string onednn_version();

}  // namespace rt3::baselines
