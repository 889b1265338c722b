// Import of Hugging Face DistilBERT checkpoints. The test writes a tiny checkpoint in exactly
// HF's layout (names, dtypes, config.json, vocab.txt), imports it, and compares the logits with
// a forward pass written here directly from HF's modeling_distilbert math on the raw tensors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/format/safetensors.h"
#include "train/api.h"
#include "train/hf_import.h"

namespace {
namespace fs = std::filesystem;
using TensorMap = std::map<std::string, torch::Tensor>;

constexpr int64_t kVocab = 40, kDim = 16, kLayers = 2, kHeads = 4, kHidden = 24, kMaxPos = 20, kLabels = 3;

// Random weights under HF's DistilBertForSequenceClassification names (LayerNorm weights near 1).
TensorMap make_weights(uint64_t seed) {
  torch::manual_seed(seed);
  TensorMap w;
  auto r = [](std::vector<int64_t> shape) { return torch::randn(shape) * 0.2; };
  auto ln = [](int64_t n) { return 1.0 + torch::randn({n}) * 0.1; };
  w["distilbert.embeddings.word_embeddings.weight"] = r({kVocab, kDim});
  w["distilbert.embeddings.position_embeddings.weight"] = r({kMaxPos, kDim});
  w["distilbert.embeddings.LayerNorm.weight"] = ln(kDim);
  w["distilbert.embeddings.LayerNorm.bias"] = r({kDim});
  for (int l = 0; l < kLayers; ++l) {
    const std::string p = "distilbert.transformer.layer." + std::to_string(l) + ".";
    for (const char* lin : {"q_lin", "k_lin", "v_lin", "out_lin"}) {
      w[p + "attention." + lin + ".weight"] = r({kDim, kDim});
      w[p + "attention." + lin + ".bias"] = r({kDim});
    }
    w[p + "sa_layer_norm.weight"] = ln(kDim);
    w[p + "sa_layer_norm.bias"] = r({kDim});
    w[p + "ffn.lin1.weight"] = r({kHidden, kDim});
    w[p + "ffn.lin1.bias"] = r({kHidden});
    w[p + "ffn.lin2.weight"] = r({kDim, kHidden});
    w[p + "ffn.lin2.bias"] = r({kDim});
    w[p + "output_layer_norm.weight"] = ln(kDim);
    w[p + "output_layer_norm.bias"] = r({kDim});
  }
  w["pre_classifier.weight"] = r({kDim, kDim});
  w["pre_classifier.bias"] = r({kDim});
  w["classifier.weight"] = r({kLabels, kDim});
  w["classifier.bias"] = r({kLabels});
  return w;
}

uint16_t to_half_bits(float f) {
  torch::Tensor h = torch::tensor({f}).to(torch::kHalf);
  uint16_t bits;
  std::memcpy(&bits, h.data_ptr(), 2);
  return bits;
}

// Writes an HF model directory. F16 mimics checkpoints saved with torch_dtype=float16.
void write_hf_dir(const fs::path& dir, const TensorMap& w, bool f16, const std::vector<std::string>& drop = {},
                  const TensorMap& extra = {}) {
  fs::create_directories(dir);
  rt3::format::SafetensorsWriter out;
  auto add = [&](const std::string& name, const torch::Tensor& t0) {
    torch::Tensor t = t0.contiguous();
    if (f16) {
      std::vector<uint8_t> bytes(t.numel() * 2);
      const float* p = t.data_ptr<float>();
      for (int64_t i = 0; i < t.numel(); ++i) {
        const uint16_t b = to_half_bits(p[i]);
        std::memcpy(&bytes[2 * i], &b, 2);
      }
      out.add(name, rt3::format::DType::F16, t.sizes().vec(), bytes);
    } else {
      out.add(name, rt3::format::DType::F32, t.sizes().vec(), t.data_ptr<float>(), t.numel() * 4);
    }
  };
  for (const auto& [name, t] : w)
    if (std::find(drop.begin(), drop.end(), name) == drop.end()) add(name, t);
  for (const auto& [name, t] : extra) add(name, t);
  out.set_metadata("format", "pt");  // what transformers writes
  out.write((dir / "model.safetensors").string());
  nlohmann::json cfg = {{"architectures", {"DistilBertForSequenceClassification"}},
                        {"model_type", "distilbert"}, {"activation", "gelu"}, {"attention_dropout", 0.1},
                        {"dim", kDim}, {"dropout", 0.1}, {"hidden_dim", kHidden}, {"initializer_range", 0.02},
                        {"max_position_embeddings", kMaxPos}, {"n_heads", kHeads}, {"n_layers", kLayers},
                        {"pad_token_id", 0}, {"qa_dropout", 0.1}, {"seq_classif_dropout", 0.2},
                        {"sinusoidal_pos_embds", false}, {"tie_weights_", true}, {"vocab_size", kVocab},
                        {"id2label", {{"0", "a"}, {"1", "b"}, {"2", "c"}}},
                        {"label2id", {{"a", 0}, {"b", 1}, {"c", 2}}},
                        {"torch_dtype", f16 ? "float16" : "float32"}, {"transformers_version", "4.40.0"}};
  std::ofstream(dir / "config.json") << cfg.dump(2);
  std::ofstream vocab(dir / "vocab.txt");
  vocab << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (int i = 5; i < kVocab; ++i) vocab << "tok" << i << "\n";
}

// HF modeling_distilbert, written out with functional ops on the raw tensors.
torch::Tensor reference_logits(const TensorMap& w, const torch::Tensor& ids, const torch::Tensor& mask) {
  namespace F = torch::nn::functional;
  auto lin = [&](const torch::Tensor& x, const std::string& n) { return F::linear(x, w.at(n + ".weight"), w.at(n + ".bias")); };
  auto ln = [&](const torch::Tensor& x, const std::string& n) {
    return F::layer_norm(x, F::LayerNormFuncOptions({kDim}).weight(w.at(n + ".weight")).bias(w.at(n + ".bias")).eps(1e-12));
  };
  const int64_t B = ids.size(0), T = ids.size(1), dh = kDim / kHeads;
  auto x = w.at("distilbert.embeddings.word_embeddings.weight").index_select(0, ids.reshape(-1)).view({B, T, kDim}) +
           w.at("distilbert.embeddings.position_embeddings.weight").slice(0, 0, T).unsqueeze(0);
  x = ln(x, "distilbert.embeddings.LayerNorm");
  for (int l = 0; l < kLayers; ++l) {
    const std::string p = "distilbert.transformer.layer." + std::to_string(l) + ".";
    auto shape = [&](const torch::Tensor& t) { return t.view({B, -1, kHeads, dh}).transpose(1, 2); };
    auto q = shape(lin(x, p + "attention.q_lin")) / std::sqrt(double(dh));
    auto k = shape(lin(x, p + "attention.k_lin"));
    auto v = shape(lin(x, p + "attention.v_lin"));
    auto scores = torch::matmul(q, k.transpose(2, 3));
    auto m = (mask == 0).view({B, 1, 1, T}).expand_as(scores);
    scores = scores.masked_fill(m, std::numeric_limits<float>::lowest());
    auto ctx = torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).reshape({B, -1, kDim});
    auto sa = ln(lin(ctx, p + "attention.out_lin") + x, p + "sa_layer_norm");
    auto ff = lin(torch::gelu(lin(sa, p + "ffn.lin1")), p + "ffn.lin2");
    x = ln(ff + sa, p + "output_layer_norm");
  }
  auto pooled = torch::relu(lin(x.select(1, 0), "pre_classifier"));
  return lin(pooled, "classifier");
}

struct Inputs {
  torch::Tensor ids = torch::tensor({{2, 7, 9, 11, 13, 3, 0, 0}, {2, 20, 31, 3, 0, 0, 0, 0}}, torch::kLong);
  torch::Tensor mask = torch::tensor({{1, 1, 1, 1, 1, 1, 0, 0}, {1, 1, 1, 1, 0, 0, 0, 0}}, torch::kLong);
};

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("rt3_hf_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

TEST(HfImport, F32CheckpointGivesSameLogitsAsReferenceMath) {
  const fs::path dir = temp_dir("f32");
  TensorMap w = make_weights(1);
  write_hf_dir(dir, w, /*f16=*/false, {}, {{"vocab_projector.bias", torch::zeros({kVocab})}});
  auto cfg = rt3::train::read_hf_config(dir.string());
  EXPECT_EQ(cfg.labels, (std::vector<std::string>{"a", "b", "c"}));
  rt3::train::nn::DistilBert model(cfg);
  auto rep = rt3::train::load_hf_weights(model, (dir / "model.safetensors").string(), false);
  EXPECT_EQ(rep.ignored, std::vector<std::string>{"vocab_projector.bias"});
  EXPECT_TRUE(rep.initialised.empty());
  model->eval();
  torch::NoGradGuard ng;
  Inputs in;
  auto ours = model->forward(in.ids, in.mask), ref = reference_logits(w, in.ids, in.mask);
  // Same fp32 ops in a different grouping: agreement to ~1e-6 relative; 1e-5 leaves margin.
  EXPECT_TRUE(torch::allclose(ours, ref, 1e-5, 1e-5)) << ours << ref;
  fs::remove_all(dir);
}

TEST(HfImport, F16CheckpointIsConvertedExactly) {
  const fs::path dir = temp_dir("f16");
  TensorMap w = make_weights(2);
  write_hf_dir(dir, w, /*f16=*/true);
  TensorMap rounded;
  for (const auto& [n, t] : w) rounded[n] = t.to(torch::kHalf).to(torch::kFloat);
  rt3::train::nn::DistilBert model(rt3::train::read_hf_config(dir.string()));
  rt3::train::load_hf_weights(model, (dir / "model.safetensors").string(), false);
  for (const auto& p : model->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), rounded.at(p.key()))) << p.key();
  model->eval();
  torch::NoGradGuard ng;
  Inputs in;
  EXPECT_TRUE(torch::allclose(model->forward(in.ids, in.mask), reference_logits(rounded, in.ids, in.mask), 1e-5, 1e-5));
  fs::remove_all(dir);
}

TEST(HfImport, BaseModelNamesWithoutPrefixAndNoHead) {
  // A DistilBertModel checkpoint: no "distilbert." prefix, no classification head.
  const fs::path dir = temp_dir("base");
  TensorMap w = make_weights(3), base;
  for (const auto& [n, t] : w)
    if (n.rfind("distilbert.", 0) == 0) base[n.substr(11)] = t;
  write_hf_dir(dir, base, false);
  rt3::train::nn::DistilBert model(rt3::train::read_hf_config(dir.string()));
  EXPECT_THROW(rt3::train::load_hf_weights(model, (dir / "model.safetensors").string(), false), std::runtime_error);
  auto rep = rt3::train::load_hf_weights(model, (dir / "model.safetensors").string(), true);
  EXPECT_EQ(rep.initialised.size(), 4u);  // pre_classifier, classifier: weight + bias
  EXPECT_TRUE(torch::equal(model->distilbert->embeddings->word_embeddings->weight,
                           w.at("distilbert.embeddings.word_embeddings.weight")));
  fs::remove_all(dir);
}

TEST(HfImport, MissingOrMisShapedTensorIsAClearError) {
  const fs::path dir = temp_dir("bad");
  TensorMap w = make_weights(4);
  write_hf_dir(dir, w, false, {"distilbert.transformer.layer.1.ffn.lin2.weight"});
  rt3::train::nn::DistilBert model(rt3::train::read_hf_config(dir.string()));
  try {
    rt3::train::load_hf_weights(model, (dir / "model.safetensors").string(), true);
    FAIL() << "accepted a checkpoint with a missing tensor";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("lacks tensor 'distilbert.transformer.layer.1.ffn.lin2.weight'"), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
  w["distilbert.transformer.layer.0.attention.q_lin.weight"] = torch::zeros({kDim, kDim + 1});
  write_hf_dir(dir, w, false);
  try {
    rt3::train::load_hf_weights(model, (dir / "model.safetensors").string(), true);
    FAIL() << "accepted a mis-shaped tensor";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("has shape [16x17], the config implies [16x16]"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(HfImport, NonDistilBertConfigIsRejected) {
  const fs::path dir = temp_dir("bert");
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << R"({"model_type": "bert", "hidden_size": 16})";
  EXPECT_THROW(rt3::train::read_hf_config(dir.string()), std::runtime_error);
  fs::remove_all(dir);
}

TEST(HfImport, ImportedDirectoryRoundTripsThroughApi) {
  const fs::path dir = temp_dir("api"), out = temp_dir("api_out");
  TensorMap w = make_weights(5);
  write_hf_dir(dir, w, false);
  rt3::train::ImportRequest req;
  req.hf_dir = dir.string();
  req.out_dir = out.string();
  auto r = rt3::train::import_hf(req);
  EXPECT_GT(r.parameters, 0);
  // The output is itself an HF directory: importing it again gives the same weights.
  rt3::train::nn::DistilBert model(rt3::train::read_hf_config(out.string()));
  auto rep = rt3::train::load_hf_weights(model, (out / "model.safetensors").string(), false);
  EXPECT_TRUE(rep.ignored.empty());
  for (const auto& p : model->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), w.at(p.key()))) << p.key();
  EXPECT_TRUE(fs::exists(out / "vocab.txt"));
  fs::remove_all(dir);
  fs::remove_all(out);
}

TEST(HfImport, FineTuneFromImportedCheckpoint) {
  // rt3 train --task spam --init HF_DIR: the encoder starts from the checkpoint, the head is new
  // (spam has 2 labels, the checkpoint 3), and training runs.
  const fs::path dir = temp_dir("init"), out = temp_dir("init_out");
  TensorMap w = make_weights(6);
  write_hf_dir(dir, w, false);
  const fs::path cfg = temp_dir("init_cfg.json");
  std::ofstream(cfg) << R"({"train": {"steps": 2, "batch_size": 4, "eval_every": 2, "eval_max_examples": 8,
                                      "checkpoint_every": 2, "data_limit": 16, "warmup_steps": 1}})";
  rt3::train::TrainRequest req;
  req.task = "spam";
  req.out_dir = out.string();
  req.init_dir = dir.string();
  req.config_file = cfg.string();
  req.threads = 1;
  std::vector<std::string> messages;
  req.on_message = [&](const std::string& m) { messages.push_back(m); };
  auto r = rt3::train::train(req);
  EXPECT_EQ(r.steps_done, 2);
  bool head_note = false;
  for (const auto& m : messages) head_note |= m.find("new classification head") != std::string::npos;
  EXPECT_TRUE(head_note);
  // The trained run is an HF directory with spam's labels and the checkpoint's architecture.
  auto trained = rt3::train::read_hf_config(out.string());
  EXPECT_EQ(trained.labels, (std::vector<std::string>{"ham", "spam"}));
  EXPECT_EQ(trained.dim, kDim);
  EXPECT_EQ(trained.max_position_embeddings, kMaxPos);
  fs::remove_all(dir);
  fs::remove_all(out);
  fs::remove(cfg);
}

}  // namespace
