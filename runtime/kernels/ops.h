#pragma once
// Row-wise operations of a Transformer forward pass, each with a *_ref plain-loop twin used by
// the tests. All work in place on row-major fp32 buffers unless an output is given.
#include <cstdint>

namespace rt3 {
class ThreadPool;

namespace kernels {

// x[r][:] = (x - mean) / sqrt(var + eps) * gamma + beta, per row of length dim (biased variance,
// as torch.nn.LayerNorm).
void layer_norm(float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps);
void layer_norm_ref(float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps);

// Exact GELU: 0.5 x (1 + erf(x / sqrt 2)), as torch.nn.functional.gelu and HF's "gelu".
void gelu(float* x, int64_t n);
void gelu_ref(float* x, int64_t n);
void relu(float* x, int64_t n);
// The vectorised erf gelu uses (rational approximation on [-4, 4]); exposed so tests can measure
// its error against std::erf.
void erf_approx(float* x, int64_t n);

// Highway target the ops above run on in this process (e.g. "AVX3", "SVE2"), chosen once at
// first use; for logs and benches.
const char* ops_target();

// y += x (residual connections).
void add_inplace(float* y, const float* x, int64_t n);

// Softmax over each row of length cols (max-subtracted, in place).
void softmax_rows(float* x, int64_t rows, int64_t cols);
void softmax_rows_ref(float* x, int64_t rows, int64_t cols);

// Multi-head scaled dot-product attention for one sequence.
//   q: [tq, heads * dh] (row t holds all heads), k, v: [tk, heads * dh] with row stride ld_kv
//   (floats between rows, >= heads * dh; lets a KV cache with spare capacity be read in place).
//   out: [tq, heads * dh].
//   key_valid: tk flags (1 = attend, 0 = padding) or null for all valid.
//   causal_offset >= 0: query i (0-based within q) is at absolute position causal_offset + i
//   and sees keys 0 .. causal_offset + i only; < 0: no causal mask.
//   Scores use scale 1/sqrt(dh) applied to q before the product (as HF DistilBERT). Masked keys
//   get the lowest float before softmax (as HF), so a row with no valid key averages v evenly.
// scratch: at least attention_scratch_floats(tq, tk, pool threads) floats.
int64_t attention_scratch_floats(int64_t tq, int64_t tk, int threads);
void attention(const float* q, const float* k, const float* v, int64_t ld_kv, int64_t tq, int64_t tk, int64_t heads,
               int64_t dh, const uint8_t* key_valid, int64_t causal_offset, float* out, float* scratch,
               ThreadPool* pool);
void attention_ref(const float* q, const float* k, const float* v, int64_t ld_kv, int64_t tq, int64_t tk,
                   int64_t heads, int64_t dh, const uint8_t* key_valid, int64_t causal_offset, float* out);

}  // namespace kernels
}  // namespace rt3
