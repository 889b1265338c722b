// oneDNN dense matmul baseline (see onednn_matmul.h).
#include "bench/baselines/onednn_matmul.h"

#include <omp.h>

#include <dnnl.hpp>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace rt3::baselines {

namespace {
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

void set_threads(int threads) {
  if (omp_get_max_threads() != threads) omp_set_num_threads(threads);
}
}  // namespace

struct OnednnMatmul::Impl {
  int64_t m = 0, out = 0, in = 0;
  int threads = 1;
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
  dnnl::memory src, weights, bias, dst;
  std::unordered_map<int, dnnl::memory> args;
};

OnednnMatmul::OnednnMatmul(const float* W, const float* bias, int64_t out_features, int64_t in_features, int64_t m,
                           int threads)
    : impl_(std::make_unique<Impl>()) {
  if (out_features <= 0 || in_features <= 0 || m <= 0 || threads < 1) {
    throw std::invalid_argument("OnednnMatmul: sizes and threads must be positive");
  }
  Impl& p = *impl_;
  p.m = m;
  p.out = out_features;
  p.in = in_features;
  p.threads = threads;
  set_threads(threads);
  try {
    const dnnl::memory::dims src_dims = {m, in_features}, w_dims = {in_features, out_features},
                             b_dims = {1, out_features}, dst_dims = {m, out_features};
    const dnnl::memory::desc src_md(src_dims, dt::f32, tag::ab);
    const dnnl::memory::desc w_user_md(w_dims, dt::f32, tag::ba);  // W[out][in] == (W^T in "ba")
    const dnnl::memory::desc w_any_md(w_dims, dt::f32, tag::any);
    const dnnl::memory::desc b_md(b_dims, dt::f32, tag::ab);
    const dnnl::memory::desc dst_md(dst_dims, dt::f32, tag::ab);
    p.pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(src_md, w_any_md, b_md, dst_md), p.eng);
    p.prim = dnnl::matmul(p.pd);

    // Weights: reorder once from the user layout into the one the primitive chose.
    dnnl::memory w_user(w_user_md, p.eng, const_cast<float*>(W));
    if (p.pd.weights_desc() != w_user_md) {
      p.weights = dnnl::memory(p.pd.weights_desc(), p.eng);
      dnnl::reorder(w_user, p.weights).execute(p.strm, w_user, p.weights);
      p.strm.wait();
    } else {
      p.weights = dnnl::memory(w_user_md, p.eng);
      std::copy(W, W + in_features * out_features, static_cast<float*>(p.weights.get_data_handle()));
    }
    p.bias = dnnl::memory(b_md, p.eng);
    float* bp = static_cast<float*>(p.bias.get_data_handle());
    for (int64_t n = 0; n < out_features; ++n) bp[n] = bias ? bias[n] : 0.0f;
    // src/dst wrap the caller's buffers: run() swaps the handles, it never copies.
    p.src = dnnl::memory(src_md, p.eng, DNNL_MEMORY_NONE);
    p.dst = dnnl::memory(dst_md, p.eng, DNNL_MEMORY_NONE);
    p.args = {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_BIAS, p.bias}, {DNNL_ARG_DST, p.dst}};
  } catch (const dnnl::error& e) {
    throw std::runtime_error(std::string("oneDNN matmul ") + std::to_string(m) + "x" + std::to_string(in_features) +
                             " * " + std::to_string(in_features) + "x" + std::to_string(out_features) +
                             ": " + e.what() + " (status " + std::to_string(static_cast<int>(e.status)) + ")");
  }
}

OnednnMatmul::~OnednnMatmul() = default;
OnednnMatmul::OnednnMatmul(OnednnMatmul&&) noexcept = default;
OnednnMatmul& OnednnMatmul::operator=(OnednnMatmul&&) noexcept = default;

void OnednnMatmul::run(const float* x, float* y) {
  Impl& p = *impl_;
  set_threads(p.threads);
  try {
    p.src.set_data_handle(const_cast<float*>(x));
    p.dst.set_data_handle(y);
    p.prim.execute(p.strm, p.args);
    p.strm.wait();
  } catch (const dnnl::error& e) {
    throw std::runtime_error(std::string("oneDNN matmul execute: ") + e.what());
  }
}

int64_t OnednnMatmul::m() const { return impl_->m; }
int OnednnMatmul::threads() const { return impl_->threads; }
std::string OnednnMatmul::impl_name() const { return impl_->pd.impl_info_str(); }

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

}  // namespace rt3::baselines
