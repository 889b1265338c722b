#pragma once
// Hugging Face DistilBertForSequenceClassification, with HF's exact module and parameter names
// (distilbert.embeddings.word_embeddings.weight, distilbert.transformer.layer.N.attention.q_lin,
// sa_layer_norm, ffn.lin1/lin2, output_layer_norm, pre_classifier, classifier), so real
// checkpoints load by name.
#include <torch/torch.h>

#include "train/models/attention.h"
#include "runtime/model/config.h"
#include "train/models/transformer_lm.h"  // FeedForward

namespace rt3::train::nn {

using models::DistilBertConfig;

struct DistilBertEmbeddingsImpl : torch::nn::Module {
  explicit DistilBertEmbeddingsImpl(const DistilBertConfig& c);
  torch::Tensor forward(const torch::Tensor& input_ids);
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(DistilBertEmbeddings);

struct DistilBertBlockImpl : torch::nn::Module {
  explicit DistilBertBlockImpl(const DistilBertConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& attention_mask);
  MultiHeadAttention attention{nullptr};
  torch::nn::LayerNorm sa_layer_norm{nullptr}, output_layer_norm{nullptr};
  FeedForward ffn{nullptr};
};
TORCH_MODULE(DistilBertBlock);

struct DistilBertTransformerImpl : torch::nn::Module {
  explicit DistilBertTransformerImpl(const DistilBertConfig& c);
  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(DistilBertTransformer);

struct DistilBertModelImpl : torch::nn::Module {
  explicit DistilBertModelImpl(const DistilBertConfig& c);
  // input_ids, attention_mask: [B, T] -> hidden states [B, T, dim]
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask);
  DistilBertEmbeddings embeddings{nullptr};
  DistilBertTransformer transformer{nullptr};
};
TORCH_MODULE(DistilBertModel);

struct DistilBertImpl : torch::nn::Module {
  explicit DistilBertImpl(const DistilBertConfig& c);
  // -> logits [B, num_labels], computed from the first ([CLS]) position.
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask);

  DistilBertConfig config;
  DistilBertModel distilbert{nullptr};
  torch::nn::Linear pre_classifier{nullptr}, classifier{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(DistilBert);

}  // namespace rt3::train::nn
