// Model structure and behaviour: HF parameter names, padding invariance, causality, schedule.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <string>

#include "train/models/distilbert.h"
#include "train/models/transformer_lm.h"
#include "train/trainer.h"

namespace {

using rt3::models::DistilBertConfig;
using rt3::models::LmConfig;

DistilBertConfig tiny_bert() {
  DistilBertConfig c;
  c.vocab_size = 50;
  c.dim = 16;
  c.n_layers = 2;
  c.n_heads = 2;
  c.hidden_dim = 32;
  c.max_position_embeddings = 24;
  c.labels = {"neg", "pos", "other"};
  return c;
}

TEST(DistilBertModel, HasExactlyHuggingFaceParameterNamesAndShapes) {
  rt3::train::nn::DistilBert m(tiny_bert());
  std::map<std::string, std::vector<int64_t>> got;
  for (const auto& p : m->named_parameters()) got[p.key()] = p.value().sizes().vec();
  // The names and shapes of transformers' DistilBertForSequenceClassification.state_dict().
  std::map<std::string, std::vector<int64_t>> want = {
      {"distilbert.embeddings.word_embeddings.weight", {50, 16}},
      {"distilbert.embeddings.position_embeddings.weight", {24, 16}},
      {"distilbert.embeddings.LayerNorm.weight", {16}},
      {"distilbert.embeddings.LayerNorm.bias", {16}},
      {"pre_classifier.weight", {16, 16}},
      {"pre_classifier.bias", {16}},
      {"classifier.weight", {3, 16}},
      {"classifier.bias", {3}},
  };
  for (int l = 0; l < 2; ++l) {
    const std::string p = "distilbert.transformer.layer." + std::to_string(l) + ".";
    for (const char* lin : {"attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin"}) {
      want[p + lin + ".weight"] = {16, 16};
      want[p + lin + ".bias"] = {16};
    }
    want[p + "sa_layer_norm.weight"] = {16};
    want[p + "sa_layer_norm.bias"] = {16};
    want[p + "ffn.lin1.weight"] = {32, 16};
    want[p + "ffn.lin1.bias"] = {32};
    want[p + "ffn.lin2.weight"] = {16, 32};
    want[p + "ffn.lin2.bias"] = {16};
    want[p + "output_layer_norm.weight"] = {16};
    want[p + "output_layer_norm.bias"] = {16};
  }
  EXPECT_EQ(got, want);
}

TEST(DistilBertModel, PaddingDoesNotChangeLogits) {
  torch::manual_seed(3);
  rt3::train::nn::DistilBert m(tiny_bert());
  m->eval();
  torch::NoGradGuard ng;
  auto ids = torch::tensor({{2, 7, 9, 11, 3}}, torch::kLong);
  auto mask = torch::ones({1, 5}, torch::kLong);
  auto padded = torch::cat({ids, torch::zeros({1, 4}, torch::kLong)}, 1);
  auto pmask = torch::cat({mask, torch::zeros({1, 4}, torch::kLong)}, 1);
  auto a = m->forward(ids, mask), b = m->forward(padded, pmask);
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-6)) << a << b;
  // Without the mask the padding is attended to, and the logits move: the mask is really used.
  auto c = m->forward(padded, torch::ones({1, 9}, torch::kLong));
  EXPECT_FALSE(torch::allclose(a, c, 1e-5, 1e-6));
}

TEST(DistilBertModel, RejectsTooLongInput) {
  rt3::train::nn::DistilBert m(tiny_bert());
  auto ids = torch::zeros({1, 25}, torch::kLong);
  EXPECT_THROW(m->forward(ids, torch::ones({1, 25}, torch::kLong)), std::runtime_error);
}

LmConfig tiny_lm(bool tie) {
  LmConfig c;
  c.vocab_size = 40;
  c.d_model = 16;
  c.n_heads = 2;
  c.n_layers = 2;
  c.d_ff = 32;
  c.max_len = 12;
  c.tie_weights = tie;
  return c;
}

TEST(TransformerLMModel, IsCausal) {
  torch::manual_seed(5);
  rt3::train::nn::TransformerLM m(tiny_lm(true));
  m->eval();
  torch::NoGradGuard ng;
  auto a = torch::tensor({{1, 5, 7, 9, 2, 4}}, torch::kLong);
  auto b = a.clone();
  b[0][4] = 33;  // change a future token
  auto la = m->forward(a), lb = m->forward(b);
  EXPECT_TRUE(torch::allclose(la.slice(1, 0, 4), lb.slice(1, 0, 4), 1e-6, 1e-6));
  EXPECT_FALSE(torch::allclose(la.slice(1, 4), lb.slice(1, 4), 1e-6, 1e-6));
}

TEST(TransformerLMModel, TiedOutputSharesEmbedding) {
  rt3::train::nn::TransformerLM tied(tiny_lm(true)), untied(tiny_lm(false));
  int64_t nt = 0, nu = 0;
  for (const auto& p : tied->parameters()) nt += p.numel();
  for (const auto& p : untied->parameters()) nu += p.numel();
  EXPECT_EQ(nu - nt, 40 * 16);  // the separate head's weight
  auto logits = tied->forward(torch::tensor({{1, 2, 3}}, torch::kLong));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{1, 3, 40}));
}

TEST(TransformerLMModel, LinearNamesMatchDistilBertScheme) {
  rt3::train::nn::TransformerLM m(tiny_lm(true));
  std::set<std::string> names;
  for (const auto& p : m->named_parameters()) names.insert(p.key());
  for (const char* n : {"layers.0.attention.q_lin.weight", "layers.1.attention.out_lin.bias", "layers.0.ffn.lin1.weight",
                        "layers.1.ffn.lin2.weight", "tok_emb.weight", "pos_emb.weight", "ln_f.weight"})
    EXPECT_TRUE(names.count(n)) << n;
}

TEST(LearningRate, WarmupThenCosineToFloor) {
  rt3::train::TrainOptions o;
  o.lr = 1e-3;
  o.warmup_steps = 10;
  o.steps = 110;
  o.min_lr_ratio = 0.1;
  EXPECT_NEAR(rt3::train::learning_rate(o, 0), 1e-4, 1e-12);
  EXPECT_NEAR(rt3::train::learning_rate(o, 9), 1e-3, 1e-12);
  EXPECT_NEAR(rt3::train::learning_rate(o, 60), 0.55e-3, 1e-9);  // half-way down the cosine
  EXPECT_NEAR(rt3::train::learning_rate(o, 110), 1e-4, 1e-12);
  for (int64_t s = 10; s < 110; ++s) EXPECT_LE(rt3::train::learning_rate(o, s + 1), rt3::train::learning_rate(o, s) + 1e-15);
}

}  // namespace
