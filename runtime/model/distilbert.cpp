#include "runtime/model/distilbert.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "runtime/format/bundle.h"
#include "runtime/kernels/ops.h"
#include "runtime/model/load_linear.h"
#include "runtime/threads/thread_pool.h"

namespace rt3::models {
namespace {

constexpr float kLayerNormEps = 1e-12f;  // HF DistilBERT's hard-coded eps

std::vector<float> copy_weight(const format::Bundle& b, const std::string& name, size_t count) {
  const float* p = b.weight(name);
  return std::vector<float>(p, p + count);
}

std::unique_ptr<kernels::DenseLinear> linear_ptr(const format::Bundle& b, const std::string& prefix, int64_t out,
                                                 int64_t in) {
  return std::make_unique<kernels::DenseLinear>(b.weight(prefix + ".weight"), b.weight(prefix + ".bias"), out, in);
}


void grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.assign(n, 0.0f);
}

}  // namespace

DistilBert::DistilBert(const format::Bundle& b) : config_(b.distilbert_config()) {
  const DistilBertConfig& c = config_;
  const size_t D = static_cast<size_t>(c.dim);
  const std::string e = "distilbert.embeddings.";
  word_emb_ = copy_weight(b, e + "word_embeddings.weight", static_cast<size_t>(c.vocab_size) * D);
  pos_emb_ = copy_weight(b, e + "position_embeddings.weight", static_cast<size_t>(c.max_position_embeddings) * D);
  emb_ln_w_ = copy_weight(b, e + "LayerNorm.weight", D);
  emb_ln_b_ = copy_weight(b, e + "LayerNorm.bias", D);
  layers_.reserve(static_cast<size_t>(c.n_layers));
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "distilbert.transformer.layer." + std::to_string(i) + ".";
    layers_.push_back(Layer{load_linear(b, p + "attention.q_lin", c.dim, c.dim), load_linear(b, p + "attention.k_lin", c.dim, c.dim),
                            load_linear(b, p + "attention.v_lin", c.dim, c.dim),
                            load_linear(b, p + "attention.out_lin", c.dim, c.dim),
                            load_linear(b, p + "ffn.lin1", c.hidden_dim, c.dim), load_linear(b, p + "ffn.lin2", c.dim, c.hidden_dim),
                            copy_weight(b, p + "sa_layer_norm.weight", D), copy_weight(b, p + "sa_layer_norm.bias", D),
                            copy_weight(b, p + "output_layer_norm.weight", D),
                            copy_weight(b, p + "output_layer_norm.bias", D)});
  }
  pre_classifier_ = linear_ptr(b, "pre_classifier", c.dim, c.dim);
  classifier_ = linear_ptr(b, "classifier", c.num_labels(), c.dim);
}

DistilBert::~DistilBert() = default;

std::vector<const kernels::Linear*> DistilBert::prunable_linears() const {
  std::vector<const kernels::Linear*> out;
  for (const Layer& L : layers_)
    for (const kernels::Linear* l : {&L.q, &L.k, &L.v, &L.out, &L.lin1, &L.lin2}) out.push_back(l);
  return out;
}

void DistilBert::forward(const int32_t* ids, const int32_t* mask, int64_t batch, int64_t seq_len, float* logits,
                         DistilBertScratch& s, ThreadPool* pool, int variant) const {
  const DistilBertConfig& c = config_;
  if (batch < 1 || seq_len < 1)
    throw std::invalid_argument("DistilBert: batch " + std::to_string(batch) + " x seq_len " + std::to_string(seq_len));
  if (seq_len > c.max_position_embeddings)
    throw std::length_error("DistilBert: sequence length " + std::to_string(seq_len) +
                            " exceeds max_position_embeddings " + std::to_string(c.max_position_embeddings));
  const int64_t R = batch * seq_len, D = c.dim, F = c.hidden_dim, H = c.n_heads;
  for (int64_t r = 0; r < R; ++r)
    if (ids[r] < 0 || ids[r] >= c.vocab_size)
      throw std::out_of_range("DistilBert: token id " + std::to_string(ids[r]) + " outside the vocab [0, " +
                              std::to_string(c.vocab_size) + ")");

  // Scratch grows to the largest batch seen, then is reused.
  const int threads = pool ? pool->size() : 1;
  if (s.rows < R || s.seq < seq_len || s.threads < threads) {
    const int64_t rows = std::max(s.rows, R), seq = std::max(s.seq, seq_len);
    const size_t rd = static_cast<size_t>(rows * D);
    grow(s.x, rd);
    grow(s.q, rd);
    grow(s.k, rd);
    grow(s.v, rd);
    grow(s.ctx, rd);
    grow(s.tmp, rd);
    grow(s.ff, static_cast<size_t>(rows * F));
    grow(s.attn_scratch, static_cast<size_t>(kernels::attention_scratch_floats(seq, seq, std::max(threads, s.threads))));
    if (s.valid.size() < static_cast<size_t>(rows)) s.valid.assign(static_cast<size_t>(rows), 0);
    size_t lin = 0;
    for (const Layer& L : layers_)
      for (const kernels::Linear* l : {&L.q, &L.k, &L.v, &L.out, &L.lin1, &L.lin2})
        lin = std::max(lin, l->scratch_floats(rows));
    s.linear_scratch = format::AlignedBuffer(lin * sizeof(float));
    s.rows = rows;
    s.seq = seq;
    s.threads = std::max(threads, s.threads);
  }
  if (static_cast<int64_t>(s.pooled.size()) < batch * D) s.pooled.assign(static_cast<size_t>(batch * D), 0.0f);
  if (static_cast<int64_t>(s.pre.size()) < batch * D) s.pre.assign(static_cast<size_t>(batch * D), 0.0f);

  float* x = s.x.data();
  for (int64_t r = 0; r < R; ++r) {
    const float* we = word_emb_.data() + static_cast<size_t>(ids[r]) * D;
    const float* pe = pos_emb_.data() + static_cast<size_t>(r % seq_len) * D;
    for (int64_t d = 0; d < D; ++d) x[r * D + d] = we[d] + pe[d];
    s.valid[static_cast<size_t>(r)] = mask[r] != 0 ? 1 : 0;
  }
  kernels::layer_norm(x, R, D, emb_ln_w_.data(), emb_ln_b_.data(), kLayerNormEps);

  float* ls = reinterpret_cast<float*>(s.linear_scratch.data());
  for (const Layer& L : layers_) {
    x = s.x.data();
    float* tmp = s.tmp.data();
    L.q.forward(x, R, s.q.data(), pool, ls, variant);
    L.k.forward(x, R, s.k.data(), pool, ls, variant);
    L.v.forward(x, R, s.v.data(), pool, ls, variant);
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t off = b * seq_len * D;
      kernels::attention(s.q.data() + off, s.k.data() + off, s.v.data() + off, D, seq_len, seq_len, H, D / H,
                         s.valid.data() + b * seq_len, -1, s.ctx.data() + off, s.attn_scratch.data(), pool);
    }
    // sa = sa_layer_norm(out_lin(ctx) + x)
    L.out.forward(s.ctx.data(), R, tmp, pool, ls, variant);
    kernels::add_inplace(tmp, x, R * D);
    kernels::layer_norm(tmp, R, D, L.sa_ln_w.data(), L.sa_ln_b.data(), kLayerNormEps);
    std::swap(s.x, s.tmp);
    x = s.x.data();
    tmp = s.tmp.data();
    // x = output_layer_norm(lin2(act(lin1(sa))) + sa)
    L.lin1.forward(x, R, s.ff.data(), pool, ls, variant);
    if (c.activation == "gelu") kernels::gelu(s.ff.data(), R * F);
    else kernels::relu(s.ff.data(), R * F);
    L.lin2.forward(s.ff.data(), R, tmp, pool, ls, variant);
    kernels::add_inplace(tmp, x, R * D);
    kernels::layer_norm(tmp, R, D, L.out_ln_w.data(), L.out_ln_b.data(), kLayerNormEps);
    std::swap(s.x, s.tmp);
  }
  x = s.x.data();
  for (int64_t b = 0; b < batch; ++b)
    std::copy(x + b * seq_len * D, x + b * seq_len * D + D, s.pooled.data() + b * D);  // [CLS] row
  pre_classifier_->forward(s.pooled.data(), batch, s.pre.data(), pool);
  kernels::relu(s.pre.data(), batch * D);
  classifier_->forward(s.pre.data(), batch, logits, pool);
}

}  // namespace rt3::models
