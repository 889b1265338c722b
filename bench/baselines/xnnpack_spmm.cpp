// XNNPACK sparse 1x1-convolution baseline (see xnnpack_spmm.h).
#include "bench/baselines/xnnpack_spmm.h"

#include <pthreadpool.h>
#include <xnnpack.h>

#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace rt3::baselines {

namespace {

const char* status_name(xnn_status s) {
  switch (s) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid_parameter";
    case xnn_status_invalid_state: return "invalid_state";
    case xnn_status_unsupported_parameter: return "unsupported_parameter";
    case xnn_status_unsupported_hardware: return "unsupported_hardware";
    case xnn_status_out_of_memory: return "out_of_memory";
  }
  return "unknown";
}

void check(xnn_status s, const char* call) {
  if (s != xnn_status_success) {
    throw std::runtime_error(std::string("XNNPACK ") + call + " failed: xnn_status_" + status_name(s));
  }
}

void init_once() {
  static std::once_flag flag;
  static xnn_status status = xnn_status_uninitialized;
  std::call_once(flag, [] { status = xnn_initialize(nullptr); });
  check(status, "xnn_initialize");
}

// dst[c][r] = src[r][c] for a rows x cols src, in tiles so both sides stay in cache.
void transpose(const float* src, int64_t rows, int64_t cols, float* dst) {
  constexpr int64_t T = 32;
  for (int64_t r0 = 0; r0 < rows; r0 += T) {
    const int64_t r1 = r0 + T < rows ? r0 + T : rows;
    for (int64_t c0 = 0; c0 < cols; c0 += T) {
      const int64_t c1 = c0 + T < cols ? c0 + T : cols;
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t c = c0; c < c1; ++c) dst[c * rows + r] = src[r * cols + c];
      }
    }
  }
}

}  // namespace

struct XnnpackSpmm::Impl {
  int64_t m = 0, out = 0, in = 0;
  int threads = 1;
  pthreadpool_t pool = nullptr;
  xnn_operator_t op = nullptr;
  std::vector<float> xt, yt;  // [in][m], [out][m]
  ~Impl() {
    if (op) xnn_delete_operator(op);
    if (pool) pthreadpool_destroy(pool);
  }
};

XnnpackSpmm::XnnpackSpmm(const float* W, const float* bias, int64_t out_features, int64_t in_features, int64_t m,
                         int threads)
    : impl_(std::make_unique<Impl>()) {
  if (out_features <= 0 || in_features <= 0 || m <= 0 || threads < 1) {
    throw std::invalid_argument("XnnpackSpmm: sizes and threads must be positive");
  }
  init_once();
  Impl& p = *impl_;
  p.m = m;
  p.out = out_features;
  p.in = in_features;
  p.threads = threads;
  if (threads > 1) {
    p.pool = pthreadpool_create(static_cast<size_t>(threads));
    if (!p.pool) throw std::runtime_error("pthreadpool_create(" + std::to_string(threads) + ") failed");
  }
  std::vector<float> zeros;
  if (!bias) {
    zeros.assign(static_cast<size_t>(out_features), 0.0f);
    bias = zeros.data();
  }
  // 1x1 kernel, stride 1, no padding, one group, NCHW input: XNNPACK's SpMM path (for any other
  // 1x1 NCHW configuration it has no other path; create fails on CPUs without SpMM kernels).
  check(xnn_create_convolution2d_nchw_f32(
            /*padding t,r,b,l*/ 0, 0, 0, 0, /*kernel h,w*/ 1, 1, /*subsampling*/ 1, 1, /*dilation*/ 1, 1,
            /*groups*/ 1, static_cast<size_t>(in_features), static_cast<size_t>(out_features),
            /*input_channel_stride*/ static_cast<size_t>(in_features),
            /*output_channel_stride*/ static_cast<size_t>(out_features), W, bias, -INFINITY, INFINITY,
            /*flags*/ 0, &p.op),
        "xnn_create_convolution2d_nchw_f32 (1x1 SpMM)");
  p.xt.assign(static_cast<size_t>(in_features * m), 0.0f);
  p.yt.assign(static_cast<size_t>(out_features * m), 0.0f);
  check(xnn_setup_convolution2d_nchw_f32(p.op, /*batch*/ 1, /*height*/ 1, /*width*/ static_cast<size_t>(m), p.xt.data(),
                                         p.yt.data(), p.pool),
        "xnn_setup_convolution2d_nchw_f32");
}

XnnpackSpmm::~XnnpackSpmm() = default;
XnnpackSpmm::XnnpackSpmm(XnnpackSpmm&&) noexcept = default;
XnnpackSpmm& XnnpackSpmm::operator=(XnnpackSpmm&&) noexcept = default;

void XnnpackSpmm::run(const float* x, float* y) {
  Impl& p = *impl_;
  if (p.m == 1) {
    std::memcpy(p.xt.data(), x, sizeof(float) * static_cast<size_t>(p.in));
  } else {
    transpose(x, p.m, p.in, p.xt.data());
  }
  check(xnn_run_operator(p.op, p.pool), "xnn_run_operator");
  if (p.m == 1) {
    std::memcpy(y, p.yt.data(), sizeof(float) * static_cast<size_t>(p.out));
  } else {
    transpose(p.yt.data(), p.out, p.m, y);
  }
}

void XnnpackSpmm::run_chw() { check(xnn_run_operator(impl_->op, impl_->pool), "xnn_run_operator"); }
float* XnnpackSpmm::input_chw() { return impl_->xt.data(); }
const float* XnnpackSpmm::output_chw() const { return impl_->yt.data(); }
int64_t XnnpackSpmm::m() const { return impl_->m; }
int XnnpackSpmm::threads() const { return impl_->threads; }

}  // namespace rt3::baselines
