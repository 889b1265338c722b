#pragma once
// Bench-only baseline: XNNPACK's sparse inference path, the one mobile apps get from TFLite's
// XNNPACK delegate with sparse weights: a 1x1 convolution in NCHW layout, which XNNPACK runs as
// sparse weights x dense activations (SpMM over the nonzero weights only, zeros skipped).
// Debian 12 libxnnpack 0.0~git20220216 + libpthreadpool. Never linked into rt3_runtime.
//
// Mapping: input tensor [N=1][C=in][H=1][W=m] (activations transposed: x^T, in x m), kernel
// [out][in][1][1] = W as given (PyTorch layout), output [1][out][1][m] = y^T.
// Our x is [m][in] row-major, so run() transposes x into the operator's input buffer, runs the
// operator, and transposes the result back into y: both transposes are part of run() (a
// Transformer's other ops want [m][...] rows, so an app would pay them too). run_chw() runs the
// operator alone on input_chw()/output_chw(), the cost for an app whose activations already are
// channel-major. For m == 1 both layouts are the same vector (a copy instead of a transpose).
// The operator is created and set up once (weights packed into XNNPACK's sparse format there);
// run() never allocates.
// Threads: a pthreadpool of `threads` threads (none for threads == 1), created with the object.
// XNN_FLAG_YIELD_WORKERS is not set: workers spin briefly between runs, as in an app's
// inference loop.
#include <cstdint>
#include <memory>
#include <string>

namespace rt3::baselines {

class XnnpackSpmm {
 public:
  // Throws std::runtime_error naming the XNNPACK call and status if it fails,
  // std::invalid_argument for non-positive sizes.
  XnnpackSpmm(const float* W, const float* bias, int64_t out_features, int64_t in_features, int64_t m, int threads);
  ~XnnpackSpmm();
  XnnpackSpmm(XnnpackSpmm&&) noexcept;
  XnnpackSpmm& operator=(XnnpackSpmm&&) noexcept;

  // x: [m][in], y: [m][out] (transposes included).
  void run(const float* x, float* y);
  // The operator alone: reads input_chw() ([in][m]), writes output_chw() ([out][m]).
  void run_chw();
  float* input_chw();
  const float* output_chw() const;

  int64_t m() const;
  int threads() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rt3::baselines
