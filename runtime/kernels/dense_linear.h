#pragma once
// Dense fp32 Linear, PyTorch layout: W[out_features][in_features], bias[out_features] (optional).
//   y[m][n] = sum_k x[m][k] * W[n][k] + bias[n]      (x: [m, in] row-major, y: [m, out])
// The weights are packed once, at load, into the layout the fastest kernel for this CPU wants
// (chosen once, at construction, from the CPU's features via Highway's dynamic dispatch);
// forward() never repacks. linear_ref is the plain loop every fast path is tested against.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rt3 {
class ThreadPool;

namespace kernels {

void linear_ref(const float* x, int64_t m, int64_t in_features, const float* W, const float* bias,
                int64_t out_features, float* y);

// SIMD targets compiled into this binary that this CPU supports, best first (e.g. "AVX3",
// "AVX2", "SSE4", "SCALAR"). For tests and benches.
std::vector<std::string> dense_linear_targets();

class DenseLinear {
 public:
  DenseLinear(const float* W, const float* bias, int64_t out_features, int64_t in_features);
  // Test/bench only: use the named target's kernels instead of the best one (throws
  // std::invalid_argument if it is not in dense_linear_targets()). Not thread-safe with respect to
  // other Highway dispatch decisions being made at the same moment.
  DenseLinear(const float* W, const float* bias, int64_t out_features, int64_t in_features,
              const std::string& target);
  ~DenseLinear();
  DenseLinear(DenseLinear&&) noexcept;
  DenseLinear& operator=(DenseLinear&&) noexcept;

  // pool may be null (single thread). x and y must not alias.
  void forward(const float* x, int64_t m, float* y, ThreadPool* pool) const;

  int64_t in_features() const;
  int64_t out_features() const;
  size_t packed_bytes() const;     // memory held for the packed weights and bias
  const char* kernel_name() const;  // e.g. "hwy-AVX3 6x32", for logs and benches

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kernels
}  // namespace rt3
