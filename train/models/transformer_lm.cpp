#include "train/models/transformer_lm.h"

#include <stdexcept>

namespace rt3::train::nn {

FeedForwardImpl::FeedForwardImpl(int64_t dim, int64_t hidden, double p, bool gelu_) : gelu(gelu_) {
  lin1 = register_module("lin1", torch::nn::Linear(dim, hidden));
  lin2 = register_module("lin2", torch::nn::Linear(hidden, dim));
  dropout = register_module("dropout", torch::nn::Dropout(p));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = lin1(x);
  h = gelu ? torch::gelu(h) : torch::relu(h);  // exact (erf) GELU, as HF's "gelu"
  return dropout(lin2(h));
}

LmBlockImpl::LmBlockImpl(const LmConfig& c) {
  auto ln = torch::nn::LayerNormOptions({c.d_model}).eps(c.layer_norm_eps);
  ln1 = register_module("ln1", torch::nn::LayerNorm(ln));
  attention = register_module("attention", MultiHeadAttention(c.d_model, c.n_heads, c.dropout));
  ln2 = register_module("ln2", torch::nn::LayerNorm(ln));
  ffn = register_module("ffn", FeedForward(c.d_model, c.d_ff, c.dropout, /*gelu=*/true));
  dropout = register_module("dropout", torch::nn::Dropout(c.dropout));
}

torch::Tensor LmBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x + dropout(attention(ln1(x), torch::Tensor(), /*causal=*/true));
  return h + ffn(ln2(h));
}

TransformerLMImpl::TransformerLMImpl(const LmConfig& c) : config(c) {
  tok_emb = register_module("tok_emb", torch::nn::Embedding(c.vocab_size, c.d_model));
  pos_emb = register_module("pos_emb", torch::nn::Embedding(c.max_len, c.d_model));
  dropout = register_module("dropout", torch::nn::Dropout(c.dropout));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.n_layers; ++i) layers->push_back(LmBlock(c));
  ln_f = register_module("ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model}).eps(c.layer_norm_eps)));
  if (!c.tie_weights) head = register_module("head", torch::nn::Linear(torch::nn::LinearOptions(c.d_model, c.vocab_size).bias(false)));
  // GPT-style init: small normal weights keep early training stable at these sizes.
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    const std::string& n = p.key();
    if (n.size() > 6 && n.compare(n.size() - 6, 6, "weight") == 0 && p.value().dim() == 2)
      p.value().normal_(0.0, 0.02);
    else if (n.size() > 4 && n.compare(n.size() - 4, 4, "bias") == 0)
      p.value().zero_();
  }
}

torch::Tensor TransformerLMImpl::forward(const torch::Tensor& tokens) {
  const int64_t T = tokens.size(1);
  if (T > config.max_len)
    throw std::runtime_error("TransformerLM: sequence length " + std::to_string(T) + " exceeds max_len " +
                             std::to_string(config.max_len));
  torch::Tensor pos = torch::arange(T, torch::TensorOptions().dtype(torch::kLong));
  torch::Tensor x = dropout(tok_emb(tokens) + pos_emb(pos).unsqueeze(0));
  for (const auto& layer : *layers) x = layer->as<LmBlock>()->forward(x);
  x = ln_f(x);
  return config.tie_weights ? torch::matmul(x, tok_emb->weight.t()) : head(x);
}

}  // namespace rt3::train::nn
