#include "train/models/attention.h"

#include <cmath>
#include <limits>

namespace rt3::train::nn {

MultiHeadAttentionImpl::MultiHeadAttentionImpl(int64_t dim_, int64_t n_heads_, double attention_dropout)
    : dim(dim_), n_heads(n_heads_) {
  q_lin = register_module("q_lin", torch::nn::Linear(dim, dim));
  k_lin = register_module("k_lin", torch::nn::Linear(dim, dim));
  v_lin = register_module("v_lin", torch::nn::Linear(dim, dim));
  out_lin = register_module("out_lin", torch::nn::Linear(dim, dim));
  dropout = register_module("dropout", torch::nn::Dropout(attention_dropout));
}

torch::Tensor MultiHeadAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& key_mask, bool causal) {
  const int64_t B = x.size(0), T = x.size(1), Dh = dim / n_heads;
  auto heads = [&](const torch::Tensor& t) { return t.view({B, T, n_heads, Dh}).transpose(1, 2); };
  // Scale q before the product, as HF DistilBERT does, so imported checkpoints match bit-closely.
  torch::Tensor q = heads(q_lin(x)) / std::sqrt(static_cast<double>(Dh));
  torch::Tensor k = heads(k_lin(x));
  torch::Tensor v = heads(v_lin(x));
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1));  // [B, H, T, T]
  const float lowest = std::numeric_limits<float>::lowest();
  if (key_mask.defined()) {
    torch::Tensor pad = (key_mask == 0).view({B, 1, 1, T});
    scores = scores.masked_fill(pad, lowest);
  }
  if (causal) {
    torch::Tensor future = torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool)).triu(1);
    scores = scores.masked_fill(future, lowest);
  }
  torch::Tensor weights = dropout(torch::softmax(scores, -1));
  torch::Tensor context = torch::matmul(weights, v).transpose(1, 2).contiguous().view({B, T, dim});
  return out_lin(context);
}

}  // namespace rt3::train::nn
