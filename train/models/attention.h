#pragma once
// Multi-head scaled dot-product attention shared by both models. Q, K, V, out projections are
// separate Linears (q_lin/k_lin/v_lin/out_lin) because each one is pruned on its own later.
#include <torch/torch.h>

namespace rt3::train::nn {

struct MultiHeadAttentionImpl : torch::nn::Module {
  MultiHeadAttentionImpl(int64_t dim, int64_t n_heads, double attention_dropout);

  // x: [B, T, D]. key_mask: [B, T] with 1 = attend, 0 = padding (undefined: no padding).
  // causal: position t attends to positions <= t only.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& key_mask, bool causal);

  int64_t dim, n_heads;
  torch::nn::Linear q_lin{nullptr}, k_lin{nullptr}, v_lin{nullptr}, out_lin{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(MultiHeadAttention);

}  // namespace rt3::train::nn
