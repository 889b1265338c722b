// Golden tests: the torch-free runtime engine computes the same logits as the LibTorch training
// models from the same weights, going through the real export path (run directory -> bundle).
//
// Tolerance: max |runtime - torch| <= 1e-4 * max(1, max |torch|) over all logits. Both sides
// compute in fp32 with different summation orders (blocked SIMD GEMM vs BLIS, different
// softmax/erf implementations); at these depths the accumulated difference is ~1e-6 relative,
// so 1e-4 leaves a wide margin while still catching any wrong op (a wrong mask, scale, eps or
// layer order moves logits by 1e-2 or more).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "rt3/engine.h"
#include "runtime/format/bundle.h"
#include "train/checkpoint.h"
#include "train/data/paths.h"
#include "train/data/sotu.h"
#include "train/models/distilbert.h"
#include "train/models/transformer_lm.h"
#include "train/text_encoders.h"

namespace {
namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("rt3_golden_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Makes weights less uniform than the init so every op matters (LayerNorm gains, biases).
void perturb(torch::nn::Module& m, uint64_t seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard ng;
  for (auto& p : m.parameters()) p.add_(torch::randn_like(p) * 0.05);
}

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

void expect_close(const torch::Tensor& ours, const torch::Tensor& ref, const std::string& what) {
  ASSERT_EQ(ours.sizes(), ref.sizes()) << what;
  const double diff = max_abs(ours - ref), scale = std::max(1.0, max_abs(ref));
  EXPECT_LE(diff, 1e-4 * scale) << what << ": max diff " << diff << " at logit scale " << scale;
  std::printf("  %s: max |diff| %.3g (logit scale %.3g)\n", what.c_str(), diff, scale);
}

class GoldenLm : public ::testing::TestWithParam<bool> {};

TEST_P(GoldenLm, RuntimeMatchesLibTorch) {
  const bool tied = GetParam();
  const fs::path dir = temp_dir(tied ? "lm_tied" : "lm_untied");
  auto corpus = rt3::data::load_sotu(rt3::data::data_dir());
  corpus.train.resize(6);
  rt3::train::train_lm_tokenizer(corpus.train, 300, (dir / "tokenizer.model").string());

  rt3::models::LmConfig c;
  c.vocab_size = 300;
  c.d_model = 32;
  c.n_heads = 4;
  c.n_layers = 2;
  c.d_ff = 64;
  c.max_len = 128;
  c.tie_weights = tied;
  torch::manual_seed(11);
  rt3::train::nn::TransformerLM model(c);
  perturb(*model, 12);
  model->eval();
  rt3::train::save_weights(*model, (dir / "model.safetensors").string());
  std::ofstream(dir / "config.json") << rt3::models::to_json(c).dump(2);

  const std::string bundle = (dir / "model.rt3").string();
  rt3::format::BundleWriter::from_run_dir(dir.string(), {rt3::format::TokenizerType::kSentencePiece}).write(bundle);
  auto engine = rt3::Engine::load(bundle, rt3::EngineOptions{2});

  std::mt19937 rng(7);
  for (int64_t n : {1, 7, 64, 128}) {
    std::vector<int32_t> ids(n);
    for (auto& id : ids) id = static_cast<int32_t>(rng() % c.vocab_size);
    std::vector<float> ours = engine->lm_logits(ids.data(), n);
    torch::NoGradGuard ng;
    auto t_ids = torch::from_blob(ids.data(), {1, n}, torch::kInt32).to(torch::kLong);
    auto ref = model->forward(t_ids).reshape({n, c.vocab_size});
    expect_close(torch::from_blob(ours.data(), {n, c.vocab_size}, torch::kFloat32).clone(), ref,
                 "LM n=" + std::to_string(n));
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(TiedAndUntied, GoldenLm, ::testing::Values(true, false));

TEST(GoldenDistilBert, RuntimeMatchesLibTorchWithPadding) {
  const fs::path dir = temp_dir("bert");
  // The first 200 entries of the BERT uncased vocab ([PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102).
  {
    std::ifstream in(rt3::data::data_dir() + "/bert-uncased-vocab.txt");
    ASSERT_TRUE(in) << "BERT vocab missing: run scripts/setup.sh";
    std::ofstream out(dir / "vocab.txt");
    std::string line;
    for (int i = 0; i < 200 && std::getline(in, line); ++i) out << line << "\n";
  }
  rt3::models::DistilBertConfig c;
  c.vocab_size = 200;
  c.dim = 32;
  c.n_layers = 2;
  c.n_heads = 4;
  c.hidden_dim = 64;
  c.max_position_embeddings = 128;
  c.labels = {"x", "y", "z"};
  torch::manual_seed(21);
  rt3::train::nn::DistilBert model(c);
  perturb(*model, 22);
  model->eval();
  rt3::train::save_weights(*model, (dir / "model.safetensors").string());
  std::ofstream(dir / "config.json") << rt3::models::to_json(c).dump(2);

  const std::string bundle = (dir / "model.rt3").string();
  rt3::format::TokenizerInfo tok;
  tok.type = rt3::format::TokenizerType::kWordPiece;
  tok.lowercase = true;
  rt3::format::BundleWriter::from_run_dir(dir.string(), tok).write(bundle);
  auto engine = rt3::Engine::load(bundle, rt3::EngineOptions{2});

  // One padded batch with sequences of length 1, 7, 64 and 128 ([CLS] first, random body).
  const int64_t B = 4, T = 128;
  const int64_t lens[B] = {1, 7, 64, 128};
  std::vector<int32_t> ids(B * T, 0), mask(B * T, 0);
  std::mt19937 rng(9);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < lens[b]; ++t) {
      ids[b * T + t] = t == 0 ? 101 : static_cast<int32_t>(rng() % c.vocab_size);
      mask[b * T + t] = 1;
    }
  std::vector<float> ours = engine->classify_logits(ids.data(), mask.data(), B, T);
  torch::NoGradGuard ng;
  auto t_ids = torch::from_blob(ids.data(), {B, T}, torch::kInt32).to(torch::kLong);
  auto t_mask = torch::from_blob(mask.data(), {B, T}, torch::kInt32).to(torch::kLong);
  auto ref = model->forward(t_ids, t_mask);
  expect_close(torch::from_blob(ours.data(), {B, c.num_labels()}, torch::kFloat32).clone(), ref, "DistilBERT batch");
  // Each sequence alone (no padding) gives the same logits as inside the padded batch.
  for (int64_t b = 0; b < B; ++b) {
    std::vector<float> single = engine->classify_logits(ids.data() + b * T, mask.data() + b * T, 1, lens[b]);
    auto r = ref.slice(0, b, b + 1);
    expect_close(torch::from_blob(single.data(), {1, c.num_labels()}, torch::kFloat32).clone(), r,
                 "DistilBERT len " + std::to_string(lens[b]) + " unpadded");
  }
  fs::remove_all(dir);
}

}  // namespace
