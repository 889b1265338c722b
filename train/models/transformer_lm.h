#pragma once
// Causal Transformer language model (pre-LayerNorm, learned positions, optional tied output).
// Parameter names mirror DistilBERT's (attention.q_lin, ffn.lin1, ...) so pruning code treats
// both model types alike. The torch modules live in rt3::train::nn, apart from the runtime's
// torch-free models in rt3::models: both have a DistilBert, and one name for two classes linked
// into one binary is a one-definition-rule violation.
#include <torch/torch.h>

#include "train/models/attention.h"
#include "runtime/model/config.h"

namespace rt3::train::nn {

using models::LmConfig;

struct FeedForwardImpl : torch::nn::Module {
  FeedForwardImpl(int64_t dim, int64_t hidden, double dropout, bool gelu);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear lin1{nullptr}, lin2{nullptr};
  torch::nn::Dropout dropout{nullptr};
  bool gelu;
};
TORCH_MODULE(FeedForward);

struct LmBlockImpl : torch::nn::Module {
  explicit LmBlockImpl(const LmConfig& c);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  MultiHeadAttention attention{nullptr};
  FeedForward ffn{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(LmBlock);

struct TransformerLMImpl : torch::nn::Module {
  explicit TransformerLMImpl(const LmConfig& c);
  // tokens: [B, T] int64 -> logits [B, T, vocab]
  torch::Tensor forward(const torch::Tensor& tokens);

  LmConfig config;
  torch::nn::Embedding tok_emb{nullptr}, pos_emb{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm ln_f{nullptr};
  torch::nn::Linear head{nullptr};  // only when !tie_weights
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(TransformerLM);

}  // namespace rt3::train::nn
