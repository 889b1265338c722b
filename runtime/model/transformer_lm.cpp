#include "runtime/model/transformer_lm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "runtime/format/bundle.h"
#include "runtime/kernels/ops.h"
#include "runtime/model/load_linear.h"
#include "runtime/threads/thread_pool.h"

namespace rt3::models {
namespace {

std::vector<float> copy_weight(const format::Bundle& b, const std::string& name, size_t count) {
  const float* p = b.weight(name);
  return std::vector<float>(p, p + count);
}


}  // namespace

TransformerLm::TransformerLm(const format::Bundle& b) : config_(b.lm_config()) {
  const LmConfig& c = config_;
  const size_t D = static_cast<size_t>(c.d_model);
  tok_emb_ = copy_weight(b, "tok_emb.weight", static_cast<size_t>(c.vocab_size) * D);
  pos_emb_ = copy_weight(b, "pos_emb.weight", static_cast<size_t>(c.max_len) * D);
  layers_.reserve(static_cast<size_t>(c.n_layers));
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    layers_.push_back(Layer{copy_weight(b, p + "ln1.weight", D), copy_weight(b, p + "ln1.bias", D),
                            copy_weight(b, p + "ln2.weight", D), copy_weight(b, p + "ln2.bias", D),
                            load_linear(b, p + "attention.q_lin", c.d_model, c.d_model),
                            load_linear(b, p + "attention.k_lin", c.d_model, c.d_model),
                            load_linear(b, p + "attention.v_lin", c.d_model, c.d_model),
                            load_linear(b, p + "attention.out_lin", c.d_model, c.d_model),
                            load_linear(b, p + "ffn.lin1", c.d_ff, c.d_model),
                            load_linear(b, p + "ffn.lin2", c.d_model, c.d_ff)});
  }
  ln_f_w_ = copy_weight(b, "ln_f.weight", D);
  ln_f_b_ = copy_weight(b, "ln_f.bias", D);
  // The tied head packs its own copy of tok_emb (the embedding lookup keeps the plain one).
  const float* head_w = c.tie_weights ? tok_emb_.data() : b.weight("head.weight");
  head_ = std::make_unique<kernels::DenseLinear>(head_w, nullptr, c.vocab_size, c.d_model);
}

TransformerLm::~TransformerLm() = default;

LmState TransformerLm::new_state(int threads) const {
  const LmConfig& c = config_;
  const size_t cap = static_cast<size_t>(c.max_len), D = static_cast<size_t>(c.d_model);
  LmState s;
  s.capacity_ = c.max_len;
  s.k_cache.assign(static_cast<size_t>(c.n_layers) * cap * D, 0.0f);
  s.v_cache.assign(static_cast<size_t>(c.n_layers) * cap * D, 0.0f);
  s.x.assign(cap * D, 0.0f);
  s.h.assign(cap * D, 0.0f);
  s.q.assign(cap * D, 0.0f);
  s.ctx.assign(cap * D, 0.0f);
  s.ff.assign(cap * static_cast<size_t>(c.d_ff), 0.0f);
  size_t lin = 0;
  for (const Layer& L : layers_)
    for (const kernels::Linear* l : {&L.q, &L.k, &L.v, &L.out, &L.lin1, &L.lin2})
      lin = std::max(lin, l->scratch_floats(c.max_len));
  s.linear_scratch = format::AlignedBuffer(lin * sizeof(float));
  s.attn_scratch.assign(static_cast<size_t>(kernels::attention_scratch_floats(c.max_len, c.max_len, std::max(1, threads))),
                        0.0f);
  return s;
}

std::vector<const kernels::Linear*> TransformerLm::prunable_linears() const {
  std::vector<const kernels::Linear*> out;
  for (const Layer& L : layers_)
    for (const kernels::Linear* l : {&L.q, &L.k, &L.v, &L.out, &L.lin1, &L.lin2}) out.push_back(l);
  return out;
}

void TransformerLm::forward(LmState& st, const int32_t* ids, int64_t n, float* logits, bool all_logits,
                            ThreadPool* pool, int variant) const {
  const LmConfig& c = config_;
  if (n < 1) throw std::invalid_argument("TransformerLm: forward of " + std::to_string(n) + " tokens");
  if (st.capacity_ != c.max_len || st.x.empty())
    throw std::invalid_argument("TransformerLm: state was not made by this model's new_state()");
  const int64_t pos = st.length_;
  if (pos + n > st.capacity_)
    throw std::length_error("TransformerLM: " + std::to_string(pos) + " cached + " + std::to_string(n) +
                            " new tokens exceed the context length (max_len) " + std::to_string(st.capacity_));
  const int threads = pool ? pool->size() : 1;
  if (static_cast<int64_t>(st.attn_scratch.size()) < kernels::attention_scratch_floats(pos + n, pos + n, threads))
    throw std::invalid_argument("TransformerLm: state scratch was sized for fewer threads than the pool has");
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= c.vocab_size)
      throw std::out_of_range("TransformerLM: token id " + std::to_string(ids[i]) + " outside the vocab [0, " +
                              std::to_string(c.vocab_size) + ")");

  const int64_t D = c.d_model, F = c.d_ff, H = c.n_heads, cap = st.capacity_;
  const float eps = static_cast<float>(c.layer_norm_eps);
  float* x = st.x.data();
  float* h = st.h.data();
  float* q = st.q.data();
  float* ctx = st.ctx.data();
  float* ff = st.ff.data();
  float* ls = reinterpret_cast<float*>(st.linear_scratch.data());

  for (int64_t i = 0; i < n; ++i) {
    const float* te = tok_emb_.data() + static_cast<size_t>(ids[i]) * D;
    const float* pe = pos_emb_.data() + static_cast<size_t>(pos + i) * D;
    for (int64_t d = 0; d < D; ++d) x[i * D + d] = te[d] + pe[d];
  }
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& L = layers_[l];
    float* kc = st.k_cache.data() + l * static_cast<size_t>(cap * D);
    float* vc = st.v_cache.data() + l * static_cast<size_t>(cap * D);
    // x += attn(ln1(x)), causal over the cache plus the new rows.
    std::memcpy(h, x, sizeof(float) * n * D);
    kernels::layer_norm(h, n, D, L.ln1_w.data(), L.ln1_b.data(), eps);
    L.q.forward(h, n, q, pool, ls, variant);
    L.k.forward(h, n, kc + pos * D, pool, ls, variant);
    L.v.forward(h, n, vc + pos * D, pool, ls, variant);
    kernels::attention(q, kc, vc, D, n, pos + n, H, D / H, nullptr, pos, ctx, st.attn_scratch.data(), pool);
    L.out.forward(ctx, n, h, pool, ls, variant);
    kernels::add_inplace(x, h, n * D);
    // x += lin2(gelu(lin1(ln2(x)))).
    std::memcpy(h, x, sizeof(float) * n * D);
    kernels::layer_norm(h, n, D, L.ln2_w.data(), L.ln2_b.data(), eps);
    L.lin1.forward(h, n, ff, pool, ls, variant);
    kernels::gelu(ff, n * F);
    L.lin2.forward(ff, n, h, pool, ls, variant);
    kernels::add_inplace(x, h, n * D);
  }
  const int64_t rows = all_logits ? n : 1;
  std::memcpy(h, x + (n - rows) * D, sizeof(float) * rows * D);
  kernels::layer_norm(h, rows, D, ln_f_w_.data(), ln_f_b_.data(), eps);
  head_->forward(h, rows, logits, pool);
  st.length_ = pos + n;
}

}  // namespace rt3::models
