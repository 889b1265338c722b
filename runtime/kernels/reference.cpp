// Plain-loop references for every kernel in dense_linear.h and ops.h. Deliberately simple: the
// fast paths are tested against these, so they favour obviousness over speed. Sums accumulate
// in double where that makes the reference a better yardstick at no cost in clarity.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "runtime/kernels/dense_linear.h"
#include "runtime/kernels/ops.h"

namespace rt3 {
namespace kernels {

void linear_ref(const float* x, int64_t m, int64_t in_features, const float* W, const float* bias,
                int64_t out_features, float* y) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t n = 0; n < out_features; ++n) {
      double acc = bias ? bias[n] : 0.0;
      for (int64_t k = 0; k < in_features; ++k) acc += double(x[i * in_features + k]) * W[n * in_features + k];
      y[i * out_features + n] = static_cast<float>(acc);
    }
  }
}

void layer_norm_ref(float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * dim;
    double mean = 0;
    for (int64_t i = 0; i < dim; ++i) mean += row[i];
    mean /= double(dim);
    double var = 0;
    for (int64_t i = 0; i < dim; ++i) var += (row[i] - mean) * (row[i] - mean);
    var /= double(dim);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < dim; ++i) {
      row[i] = static_cast<float>((row[i] - mean) * inv * (gamma ? gamma[i] : 1.0f) + (beta ? beta[i] : 0.0f));
    }
  }
}

void gelu_ref(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}

void softmax_rows_ref(float* x, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t c = 0; c < cols; ++c) mx = std::max(mx, row[c]);
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += std::exp(double(row[c]) - mx);
    for (int64_t c = 0; c < cols; ++c) row[c] = static_cast<float>(std::exp(double(row[c]) - mx) / sum);
  }
}

void attention_ref(const float* q, const float* k, const float* v, int64_t ld_kv, int64_t tq, int64_t tk,
                   int64_t heads, int64_t dh, const uint8_t* key_valid, int64_t causal_offset, float* out) {
  const int64_t width = heads * dh;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  std::vector<float> scores(static_cast<size_t>(tk));
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < tq; ++i) {
      const float* qi = q + i * width + h * dh;
      for (int64_t j = 0; j < tk; ++j) {
        const bool causal_ok = causal_offset < 0 || j <= causal_offset + i;
        const bool valid = (!key_valid || key_valid[j]) && causal_ok;
        if (!valid) {
          scores[j] = std::numeric_limits<float>::lowest();
          continue;
        }
        double s = 0;
        for (int64_t d = 0; d < dh; ++d) s += double(qi[d] * scale) * k[j * ld_kv + h * dh + d];
        scores[j] = static_cast<float>(s);
      }
      softmax_rows_ref(scores.data(), 1, tk);
      float* oi = out + i * width + h * dh;
      for (int64_t d = 0; d < dh; ++d) {
        double acc = 0;
        for (int64_t j = 0; j < tk; ++j) acc += double(scores[j]) * v[j * ld_kv + h * dh + d];
        oi[d] = static_cast<float>(acc);
      }
    }
  }
}

}  // namespace kernels
}  // namespace rt3
