#include "train/models/distilbert.h"

#include <stdexcept>

namespace rt3::train::nn {
namespace {
constexpr double kLayerNormEps = 1e-12;  // HF DistilBERT's hard-coded eps
}

DistilBertEmbeddingsImpl::DistilBertEmbeddingsImpl(const DistilBertConfig& c) {
  word_embeddings = register_module(
      "word_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab_size, c.dim).padding_idx(c.pad_token_id)));
  position_embeddings = register_module("position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.dim));
  LayerNorm = register_module("LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.dim}).eps(kLayerNormEps)));
  dropout = register_module("dropout", torch::nn::Dropout(c.dropout));
}

torch::Tensor DistilBertEmbeddingsImpl::forward(const torch::Tensor& input_ids) {
  const int64_t T = input_ids.size(1);
  if (T > position_embeddings->weight.size(0))
    throw std::runtime_error("DistilBert: sequence length " + std::to_string(T) + " exceeds max_position_embeddings " +
                             std::to_string(position_embeddings->weight.size(0)));
  torch::Tensor pos = torch::arange(T, torch::TensorOptions().dtype(torch::kLong));
  return dropout(LayerNorm(word_embeddings(input_ids) + position_embeddings(pos).unsqueeze(0)));
}

DistilBertBlockImpl::DistilBertBlockImpl(const DistilBertConfig& c) {
  attention = register_module("attention", MultiHeadAttention(c.dim, c.n_heads, c.attention_dropout));
  sa_layer_norm = register_module("sa_layer_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.dim}).eps(kLayerNormEps)));
  ffn = register_module("ffn", FeedForward(c.dim, c.hidden_dim, c.dropout, c.activation == "gelu"));
  output_layer_norm =
      register_module("output_layer_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.dim}).eps(kLayerNormEps)));
}

// Post-LayerNorm residual blocks, exactly as HF's TransformerBlock.
torch::Tensor DistilBertBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& attention_mask) {
  torch::Tensor sa = sa_layer_norm(attention(x, attention_mask, /*causal=*/false) + x);
  return output_layer_norm(ffn(sa) + sa);
}

DistilBertTransformerImpl::DistilBertTransformerImpl(const DistilBertConfig& c) {
  layer = register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.n_layers; ++i) layer->push_back(DistilBertBlock(c));
}

DistilBertModelImpl::DistilBertModelImpl(const DistilBertConfig& c) {
  embeddings = register_module("embeddings", DistilBertEmbeddings(c));
  transformer = register_module("transformer", DistilBertTransformer(c));
}

torch::Tensor DistilBertModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) {
  torch::Tensor x = embeddings(input_ids);
  for (const auto& block : *transformer->layer) x = block->as<DistilBertBlock>()->forward(x, attention_mask);
  return x;
}

DistilBertImpl::DistilBertImpl(const DistilBertConfig& c) : config(c) {
  if (c.num_labels() < 1) throw std::runtime_error("DistilBert: config has no labels");
  distilbert = register_module("distilbert", DistilBertModel(c));
  pre_classifier = register_module("pre_classifier", torch::nn::Linear(c.dim, c.dim));
  classifier = register_module("classifier", torch::nn::Linear(c.dim, c.num_labels()));
  dropout = register_module("dropout", torch::nn::Dropout(c.seq_classif_dropout));
  // HF's _init_weights: normal(0, 0.02) for Linear and Embedding, zero bias, LayerNorm = (1, 0).
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    const std::string& n = p.key();
    const bool is_ln = n.find("LayerNorm") != std::string::npos || n.find("layer_norm") != std::string::npos;
    if (is_ln) continue;  // torch already initialises LayerNorm to (1, 0)
    if (p.value().dim() == 2) p.value().normal_(0.0, 0.02);
    else p.value().zero_();
  }
  distilbert->embeddings->word_embeddings->weight[c.pad_token_id].zero_();
}

torch::Tensor DistilBertImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) {
  torch::Tensor hidden = distilbert(input_ids, attention_mask);
  torch::Tensor pooled = torch::relu(pre_classifier(hidden.select(1, 0)));
  return classifier(dropout(pooled));
}

}  // namespace rt3::train::nn
