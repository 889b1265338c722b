// Tests of rt3::Engine and the model forwards (runtime/model): tiny random models are written as
// bundles, and the engine's outputs are compared with a naive reference forward written here
// with plain loops in double precision, straight from the math of train/models/*.cpp (it shares
// no code with runtime/model or runtime/kernels).
//
// Tolerance: |engine - reference| <= 1e-4 * (1 + |reference|). The engine computes in float32
// with SIMD-reordered sums; over these tiny dims (<= 32 terms per dot product, 2 layers) the
// float32 rounding error is ~1e-6 relative, so 1e-4 leaves a wide margin while still catching
// any real mistake (a wrong scale, a missing bias, an off-by-one in the causal mask or the
// positions changes outputs by 1e-2 or more with these weight scales).

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <type_traits>
#include <thread>
#include <vector>

#include "rt3/engine.h"
#include "runtime/format/bundle.h"
#include "runtime/model/transformer_lm.h"
#include "runtime/threads/thread_pool.h"
#include "runtime/tokenizer/spm_model.h"
#include "tests/common/spm_fixtures.h"
#include "tests/common/test_util.h"
#include "tests/common/variant_bundles.h"

namespace rt3 {

namespace {

namespace fs = std::filesystem;
using Weights = std::map<std::string, std::vector<float>>;
using Mat = std::vector<std::vector<double>>;  // [rows][cols]

// Each test gets its own directory, named after this suite.
struct TempDir : rt3::test_util::TempDir {
  TempDir() : rt3::test_util::TempDir("rt3_engine") {}
};

void expect_close(const std::vector<float>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_LE(std::fabs(got[i] - want[i]), 1e-4 * (1.0 + std::fabs(want[i])))
        << what << " element " << i << ": engine " << got[i] << " reference " << want[i];
}

// Linear weights ~ U(-1,1)/sqrt(in), LayerNorm gammas ~1, the rest ~ U(-0.5, 0.5) (shared with
// the variant tests).
Weights random_weights(const std::vector<format::TensorSpec>& specs, uint32_t seed) {
  return test_util::random_model_weights(specs, seed);
}

// ---- naive reference forward (double) ------------------------------------------------------------

Mat linear(const Mat& x, const std::vector<float>& W, const std::vector<float>* b, size_t out) {
  const size_t in = x.empty() ? 0 : x[0].size();
  Mat y(x.size(), std::vector<double>(out));
  for (size_t r = 0; r < x.size(); ++r)
    for (size_t o = 0; o < out; ++o) {
      double s = b ? (*b)[o] : 0.0;
      for (size_t i = 0; i < in; ++i) s += x[r][i] * W[o * in + i];
      y[r][o] = s;
    }
  return y;
}

Mat layer_norm(const Mat& x, const std::vector<float>& g, const std::vector<float>& b, double eps) {
  Mat y = x;
  for (auto& row : y) {
    double mean = 0, var = 0;
    for (double v : row) mean += v;
    mean /= row.size();
    for (double v : row) var += (v - mean) * (v - mean);
    var /= row.size();
    for (size_t i = 0; i < row.size(); ++i) row[i] = (row[i] - mean) / std::sqrt(var + eps) * g[i] + b[i];
  }
  return y;
}

void add(Mat& y, const Mat& x) {
  for (size_t r = 0; r < y.size(); ++r)
    for (size_t i = 0; i < y[r].size(); ++i) y[r][i] += x[r][i];
}

double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

// Multi-head attention over one sequence; key j visible to query i iff valid[j] and (!causal || j <= i).
Mat attention(const Weights& w, const std::string& p, const Mat& x, size_t D, size_t heads,
              const std::vector<int>& valid, bool causal) {
  const Mat q = linear(x, w.at(p + "q_lin.weight"), &w.at(p + "q_lin.bias"), D);
  const Mat k = linear(x, w.at(p + "k_lin.weight"), &w.at(p + "k_lin.bias"), D);
  const Mat v = linear(x, w.at(p + "v_lin.weight"), &w.at(p + "v_lin.bias"), D);
  const size_t T = x.size(), dh = D / heads;
  Mat ctx(T, std::vector<double>(D, 0.0));
  for (size_t h = 0; h < heads; ++h)
    for (size_t i = 0; i < T; ++i) {
      std::vector<double> s(T, 0.0);
      double mx = -1e300;
      for (size_t j = 0; j < T; ++j) {
        if (!valid[j] || (causal && j > i)) continue;
        double dot = 0;
        for (size_t d = 0; d < dh; ++d) dot += q[i][h * dh + d] * k[j][h * dh + d];
        s[j] = dot / std::sqrt(static_cast<double>(dh));
        mx = std::max(mx, s[j]);
      }
      double sum = 0;
      for (size_t j = 0; j < T; ++j) {
        s[j] = (!valid[j] || (causal && j > i)) ? 0.0 : std::exp(s[j] - mx);
        sum += s[j];
      }
      for (size_t j = 0; j < T; ++j)
        for (size_t d = 0; d < dh; ++d) ctx[i][h * dh + d] += s[j] / sum * v[j][h * dh + d];
    }
  return linear(ctx, w.at(p + "out_lin.weight"), &w.at(p + "out_lin.bias"), D);
}

// Causal LM (pre-LN): logits [T][vocab].
Mat reference_lm(const models::LmConfig& c, const Weights& w, const std::vector<int32_t>& ids) {
  const size_t D = c.d_model, T = ids.size();
  Mat x(T, std::vector<double>(D));
  for (size_t t = 0; t < T; ++t)
    for (size_t d = 0; d < D; ++d) x[t][d] = w.at("tok_emb.weight")[ids[t] * D + d] + w.at("pos_emb.weight")[t * D + d];
  const std::vector<int> valid(T, 1);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    add(x, attention(w, p + "attention.", layer_norm(x, w.at(p + "ln1.weight"), w.at(p + "ln1.bias"), c.layer_norm_eps),
                     D, c.n_heads, valid, /*causal=*/true));
    Mat h = linear(layer_norm(x, w.at(p + "ln2.weight"), w.at(p + "ln2.bias"), c.layer_norm_eps),
                   w.at(p + "ffn.lin1.weight"), &w.at(p + "ffn.lin1.bias"), c.d_ff);
    for (auto& row : h)
      for (double& v : row) v = gelu(v);
    add(x, linear(h, w.at(p + "ffn.lin2.weight"), &w.at(p + "ffn.lin2.bias"), D));
  }
  x = layer_norm(x, w.at("ln_f.weight"), w.at("ln_f.bias"), c.layer_norm_eps);
  return linear(x, c.tie_weights ? w.at("tok_emb.weight") : w.at("head.weight"), nullptr, c.vocab_size);
}

// DistilBERT classifier (post-LN, eps 1e-12): logits [num_labels] of one sequence.
std::vector<double> reference_bert(const models::DistilBertConfig& c, const Weights& w,
                                   const std::vector<int32_t>& ids, const std::vector<int>& mask) {
  const size_t D = c.dim, T = ids.size();
  const std::string e = "distilbert.embeddings.";
  Mat x(T, std::vector<double>(D));
  for (size_t t = 0; t < T; ++t)
    for (size_t d = 0; d < D; ++d)
      x[t][d] = w.at(e + "word_embeddings.weight")[ids[t] * D + d] + w.at(e + "position_embeddings.weight")[t * D + d];
  x = layer_norm(x, w.at(e + "LayerNorm.weight"), w.at(e + "LayerNorm.bias"), 1e-12);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = "distilbert.transformer.layer." + std::to_string(l) + ".";
    Mat sa = attention(w, p + "attention.", x, D, c.n_heads, mask, /*causal=*/false);
    add(sa, x);
    sa = layer_norm(sa, w.at(p + "sa_layer_norm.weight"), w.at(p + "sa_layer_norm.bias"), 1e-12);
    Mat h = linear(sa, w.at(p + "ffn.lin1.weight"), &w.at(p + "ffn.lin1.bias"), c.hidden_dim);
    for (auto& row : h)
      for (double& v : row) v = c.activation == "gelu" ? gelu(v) : std::max(0.0, v);
    Mat out = linear(h, w.at(p + "ffn.lin2.weight"), &w.at(p + "ffn.lin2.bias"), D);
    add(out, sa);
    x = layer_norm(out, w.at(p + "output_layer_norm.weight"), w.at(p + "output_layer_norm.bias"), 1e-12);
  }
  Mat pooled = linear(Mat{x[0]}, w.at("pre_classifier.weight"), &w.at("pre_classifier.bias"), D);
  for (double& v : pooled[0]) v = std::max(0.0, v);
  return linear(pooled, w.at("classifier.weight"), &w.at("classifier.bias"), c.num_labels())[0];
}

// ---- fixtures: tiny models as bundles ----------------------------------------------------------------

const char* kVocab =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ncat\nsat\non\nmat\ndog\nran\n##s\na\nhello\nworld\n.\n,\nfree\nmoney\nnow\n";

models::DistilBertConfig bert_config(const std::string& activation = "gelu") {
  models::DistilBertConfig c;
  c.vocab_size = 24;
  c.dim = 16;
  c.n_layers = 2;
  c.n_heads = 2;
  c.hidden_dim = 32;
  c.max_position_embeddings = 20;
  c.activation = activation;
  c.labels = {"ham", "spam", "other"};
  return c;
}

std::string write_bert(const TempDir& dir, const models::DistilBertConfig& c, Weights& w, int64_t max_len = 12) {
  w = random_weights(format::required_tensors(c), 11);
  format::BundleWriter bw;
  bw.set_distilbert(c);
  format::TokenizerInfo t;
  t.type = format::TokenizerType::kWordPiece;
  t.lowercase = true;
  t.max_len = max_len;
  bw.set_tokenizer(t, kVocab);
  for (const auto& s : format::required_tensors(c)) bw.add_f32(s.name, s.shape, w.at(s.name));
  const std::string path = dir.file("bert_" + c.activation + ".rt3");
  bw.write(path);
  return path;
}

const std::string& spm_bytes() {
  return test_util::spm_fixture_model("lm7");
}

models::LmConfig lm_config(bool tied) {
  models::LmConfig c;
  c.vocab_size = static_cast<int64_t>(SpmModel::from_bytes(spm_bytes()).vocab_size());
  c.d_model = 16;
  c.n_heads = 2;
  c.n_layers = 2;
  c.d_ff = 32;
  c.max_len = 24;
  c.tie_weights = tied;
  return c;
}

std::string write_lm(const TempDir& dir, const models::LmConfig& c, Weights& w) {
  w = random_weights(format::required_tensors(c), c.tie_weights ? 21 : 22);
  format::BundleWriter bw;
  bw.set_lm(c);
  format::TokenizerInfo t;
  t.type = format::TokenizerType::kSentencePiece;
  bw.set_tokenizer(t, spm_bytes());
  for (const auto& s : format::required_tensors(c)) bw.add_f32(s.name, s.shape, w.at(s.name));
  const std::string path = dir.file(c.tie_weights ? "lm_tied.rt3" : "lm_untied.rt3");
  bw.write(path);
  return path;
}

std::vector<int32_t> random_ids(size_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = static_cast<int32_t>(rng() % static_cast<uint32_t>(vocab));
  return v;
}

std::vector<double> flatten(const Mat& m) {
  std::vector<double> out;
  for (const auto& r : m) out.insert(out.end(), r.begin(), r.end());
  return out;
}

// ---- classifier ----------------------------------------------------------------------------------

TEST(EngineClassifier, LogitsMatchReference) {
  TempDir dir;
  for (const std::string act : {"gelu", "relu"}) {
    const auto c = bert_config(act);
    Weights w;
    auto engine = Engine::load(write_bert(dir, c, w), {2});
    ASSERT_EQ(engine->model_type(), ModelType::kDistilBertClassifier);
    EXPECT_EQ(engine->labels(), c.labels);
    // Batch of 3 sequences of 9 positions with 9, 5 and 1 real tokens.
    const int64_t B = 3, T = 9;
    const std::vector<int32_t> ids = random_ids(B * T, c.vocab_size, 5);
    std::vector<int32_t> mask(B * T, 0);
    const int64_t lens[B] = {9, 5, 1};
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < lens[b]; ++t) mask[b * T + t] = 1;
    const std::vector<float> logits = engine->classify_logits(ids.data(), mask.data(), B, T);
    ASSERT_EQ(logits.size(), static_cast<size_t>(B * 3));
    for (int64_t b = 0; b < B; ++b) {
      std::vector<int32_t> row(ids.begin() + b * T, ids.begin() + (b + 1) * T);
      std::vector<int> m(mask.begin() + b * T, mask.begin() + (b + 1) * T);
      expect_close(std::vector<float>(logits.begin() + b * 3, logits.begin() + (b + 1) * 3),
                   reference_bert(c, w, row, m), act + " sequence " + std::to_string(b));
    }
  }
}

TEST(EngineClassifier, PaddingInvariance) {
  TempDir dir;
  const auto c = bert_config();
  Weights w;
  auto engine = Engine::load(write_bert(dir, c, w));
  const std::vector<int32_t> ids = random_ids(6, c.vocab_size, 9);
  const std::vector<int32_t> ones(6, 1);
  const std::vector<float> plain = engine->classify_logits(ids.data(), ones.data(), 1, 6);
  for (int64_t pad : {1, 5, 14}) {
    std::vector<int32_t> pids = ids, pmask = ones;
    const std::vector<int32_t> junk = random_ids(pad, c.vocab_size, 100 + pad);  // any id under the mask
    pids.insert(pids.end(), junk.begin(), junk.end());
    pmask.insert(pmask.end(), pad, 0);
    const std::vector<float> padded = engine->classify_logits(pids.data(), pmask.data(), 1, 6 + pad);
    for (size_t i = 0; i < plain.size(); ++i)
      EXPECT_NEAR(padded[i], plain[i], 1e-5 * (1 + std::fabs(plain[i]))) << "pad " << pad;
  }
}

TEST(EngineClassifier, ClassifyTextsIsTokenizeThenForward) {
  TempDir dir;
  const auto c = bert_config();
  Weights w;
  auto engine = Engine::load(write_bert(dir, c, w));
  const std::vector<std::string> texts = {"Hello world.", "free money now now now", "The cats sat on a mat, the dog ran."};
  const std::vector<ClassifyResult> batch = engine->classify(texts);
  ASSERT_EQ(batch.size(), 3u);
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<int32_t> ids = engine->tokenize(texts[i]);
    ASSERT_EQ(ids.front(), 2);  // [CLS]
    ASSERT_EQ(ids.back(), 3);   // [SEP]
    std::vector<int> mask(ids.size(), 1);
    const std::vector<double> ref = reference_bert(c, w, ids, mask);
    expect_close(batch[i].logits, ref, texts[i]);
    const ClassifyResult single = engine->classify(texts[i]);
    for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(single.logits[k], batch[i].logits[k], 1e-5);
    double sum = 0;
    for (float p : batch[i].probabilities) sum += p;
    EXPECT_NEAR(sum, 1.0, 1e-5);
    const int best = static_cast<int>(std::max_element(ref.begin(), ref.end()) - ref.begin());
    EXPECT_EQ(batch[i].label, best);
    EXPECT_EQ(batch[i].label_name, c.labels[best]);
    EXPECT_GT(batch[i].probabilities[best], batch[i].probabilities[(best + 1) % 3]);
  }
  EXPECT_TRUE(engine->classify(std::vector<std::string>{}).empty());
}

// Pairs: [CLS] a [SEP] b [SEP] (ids written out here, not taken from the tokenizer under test),
// longest-first truncation to the bundle's max_len, then the forward the reference computes.
TEST(EngineClassifier, ClassifyPairIsTokenizePairThenForward) {
  TempDir dir;
  const auto c = bert_config();
  Weights w;
  auto engine = Engine::load(write_bert(dir, c, w, /*max_len=*/12));
  EXPECT_FALSE(engine->trained_on_pairs());  // written without tokenizer.text_pair
  // [CLS]=2 [SEP]=3 the=5 cat=6 sat=7 on=8 mat=9 dog=10 ran=11 a=13.
  const std::vector<int32_t> short_pair = {2, 5, 6, 7, 3, 13, 10, 11, 3};
  EXPECT_EQ(engine->tokenize_pair("The cat sat", "a dog ran"), short_pair);
  // 9 + 3 tokens in a budget of 12 - 3 = 9: the short second text fits in half and stays whole,
  // the first keeps the other 6.
  const std::vector<int32_t> cut_pair = {2, 5, 6, 7, 8, 5, 9, 3, 13, 10, 11, 3};
  EXPECT_EQ(engine->tokenize_pair("the cat sat on the mat the cat sat", "a dog ran"), cut_pair);

  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"The cat sat", "a dog ran"}, {"the cat sat on the mat the cat sat", "a dog ran"}};
  const std::vector<ClassifyResult> batch = engine->classify_pairs(pairs);
  ASSERT_EQ(batch.size(), 2u);
  const std::vector<int32_t>* ids[2] = {&short_pair, &cut_pair};
  for (size_t i = 0; i < 2; ++i) {
    const std::vector<double> ref = reference_bert(c, w, *ids[i], std::vector<int>(ids[i]->size(), 1));
    expect_close(batch[i].logits, ref, "pair " + std::to_string(i));
    const ClassifyResult single = engine->classify_pair(pairs[i].first, pairs[i].second);
    for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(single.logits[k], batch[i].logits[k], 1e-5);
  }
  EXPECT_TRUE(engine->classify_pairs({}).empty());
}

TEST(EngineClassifier, TooLongInput) {
  TempDir dir;
  const auto c = bert_config();
  Weights w;
  auto engine = Engine::load(write_bert(dir, c, w, /*max_len=*/12));
  EXPECT_EQ(engine->max_len(), 12);
  // Raw forward beyond the model's 20 positions: a clear error, not a crash.
  const std::vector<int32_t> ids(21, 5), mask(21, 1);
  try {
    engine->classify_logits(ids.data(), mask.data(), 1, 21);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Error::Code::kTooLong);
    EXPECT_NE(std::string(e.what()).find("max_position_embeddings"), std::string::npos) << e.what();
  }
  // Text is truncated to the tokenizer's max_len, as in training.
  std::string long_text;
  for (int i = 0; i < 50; ++i) long_text += "the cat ";
  EXPECT_EQ(engine->tokenize(long_text).size(), 12u);
  EXPECT_NO_THROW(engine->classify(long_text));
  // Bad ids and wrong-model calls.
  const std::vector<int32_t> bad = {2, 999, 3}, m3(3, 1);
  try {
    engine->classify_logits(bad.data(), m3.data(), 1, 3);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Error::Code::kInvalidArgument) << e.what();
  }
  try {
    engine->generate("hello");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Error::Code::kInvalidArgument) << e.what();
  }
}

// Calls on one engine from several threads are serialised: same results as one at a time.
TEST(EngineClassifier, ConcurrentCallsOnOneEngine) {
  TempDir dir;
  const auto c = bert_config();
  Weights w;
  auto engine = Engine::load(write_bert(dir, c, w), {2});
  const std::vector<std::string> texts = {"hello world", "free money now", "the cat sat on the mat .", "dog"};
  std::vector<ClassifyResult> want;
  for (const auto& t : texts) want.push_back(engine->classify(t));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int th = 0; th < 3; ++th)
    threads.emplace_back([&, th] {
      for (int i = 0; i < 30; ++i) {
        const size_t k = static_cast<size_t>(th + i) % texts.size();
        const ClassifyResult r = i % 2 ? engine->classify(texts[k]) : engine->classify(std::vector<std::string>{texts[k], "x"})[0];
        for (size_t j = 0; j < r.logits.size(); ++j)
          if (std::fabs(r.logits[j] - want[k].logits[j]) > 1e-5f) ++mismatches;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(EngineLoad, FailureIsAnErrorWithTheReason) {
  try {
    Engine::load("/nonexistent/model.rt3");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Error::Code::kLoad);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.rt3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Engine::load("/nonexistent/model.rt3", {0}), Error);
}

// ---- language model ----------------------------------------------------------------------------------

TEST(EngineLm, FullForwardMatchesReference) {
  TempDir dir;
  for (bool tied : {true, false}) {
    const auto c = lm_config(tied);
    Weights w;
    auto engine = Engine::load(write_lm(dir, c, w), {2});
    ASSERT_EQ(engine->model_type(), ModelType::kTransformerLm);
    for (size_t n : {size_t{1}, size_t{7}, static_cast<size_t>(c.max_len)}) {
      const std::vector<int32_t> ids = random_ids(n, c.vocab_size, static_cast<uint32_t>(n));
      expect_close(engine->lm_logits(ids.data(), static_cast<int64_t>(n)), flatten(reference_lm(c, w, ids)),
                   std::string(tied ? "tied" : "untied") + " n=" + std::to_string(n));
    }
  }
}

TEST(EngineLm, KvCacheDecodeEqualsFullForward) {
  TempDir dir;
  const auto c = lm_config(true);
  Weights w;
  const std::string path = write_lm(dir, c, w);
  auto engine = Engine::load(path);
  const format::Bundle bundle = format::Bundle::open(path);
  const models::TransformerLm model(bundle);
  ThreadPool pool(2);
  models::LmState state = model.new_state(pool.size());
  const std::vector<int32_t> ids = random_ids(static_cast<size_t>(c.max_len), c.vocab_size, 77);
  const int64_t V = c.vocab_size, prompt = 5;
  std::vector<float> step(static_cast<size_t>(V));
  model.forward(state, ids.data(), prompt, step.data(), /*all_logits=*/false, &pool);  // prefill
  for (int64_t t = prompt; t <= c.max_len; ++t) {
    // After t tokens the last-row logits must equal the full forward's row t-1.
    const std::vector<float> full = engine->lm_logits(ids.data(), t);
    for (int64_t v = 0; v < V; ++v)
      ASSERT_NEAR(step[v], full[(t - 1) * V + v], 1e-5 * (1 + std::fabs(full[(t - 1) * V + v])))
          << "step " << t << " token " << v;
    EXPECT_EQ(state.length(), t);
    if (t < c.max_len) model.forward(state, &ids[t], 1, step.data(), false, &pool);
  }
  // The cache is full: one more token is a clear error and leaves the state as it was.
  EXPECT_THROW(model.forward(state, &ids[0], 1, step.data(), false, &pool), std::length_error);
  EXPECT_EQ(state.length(), c.max_len);
}

TEST(EngineLm, GreedyIsDeterministicAndFollowsTheLogits) {
  TempDir dir;
  const auto c = lm_config(false);
  Weights w;
  auto engine = Engine::load(write_lm(dir, c, w));
  GenerateOptions o;
  o.max_new_tokens = 10;
  o.stop_at_eos = false;
  const GenerateResult a = engine->generate("the cat", o);
  const GenerateResult b = engine->generate("the cat", o);
  EXPECT_EQ(a.token_ids, b.token_ids);
  EXPECT_EQ(a.text, b.text);
  ASSERT_EQ(a.token_ids.size(), 10u);
  // Context = [eos] + tokens of the prompt.
  SpmModel spm = SpmModel::from_bytes(spm_bytes());
  std::vector<int32_t> expect_ctx = {spm.eos_id()};
  for (int32_t id : spm.encode("the cat")) expect_ctx.push_back(id);
  EXPECT_EQ(a.prompt_ids, expect_ctx);
  // Each generated token is the argmax of the reference forward over everything before it.
  std::vector<int32_t> seq = a.prompt_ids;
  for (int32_t tok : a.token_ids) {
    const Mat ref = reference_lm(c, w, seq);
    const auto& last = ref.back();
    EXPECT_EQ(tok, static_cast<int32_t>(std::max_element(last.begin(), last.end()) - last.begin()));
    seq.push_back(tok);
  }
  EXPECT_EQ(a.text, spm.decode(a.token_ids));
}

TEST(EngineLm, TopKSamplingIsSeeded) {
  TempDir dir;
  const auto c = lm_config(true);
  Weights w;
  auto engine = Engine::load(write_lm(dir, c, w), {2});
  GenerateOptions o;
  o.max_new_tokens = 16;
  o.greedy = false;
  o.top_k = 0;  // whole vocab
  o.temperature = 2.0f;
  o.stop_at_eos = false;
  o.seed = 42;
  const GenerateResult a = engine->generate("hello", o);
  const GenerateResult b = engine->generate("hello", o);
  EXPECT_EQ(a.token_ids, b.token_ids);
  EXPECT_EQ(a.text, b.text);
  int differing = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    o.seed = seed;
    if (engine->generate("hello", o).token_ids != a.token_ids) ++differing;
  }
  EXPECT_GE(differing, 3);
  // top_k = 1 is greedy whatever the seed and temperature.
  o.top_k = 1;
  o.seed = 7;
  GenerateOptions g;
  g.max_new_tokens = 16;
  g.stop_at_eos = false;
  EXPECT_EQ(engine->generate("hello", o).token_ids, engine->generate("hello", g).token_ids);
  // Invalid temperature.
  o.temperature = 0.0f;
  EXPECT_THROW(engine->generate("hello", o), Error);
}

TEST(EngineLm, StopsAtEos) {
  TempDir dir;
  auto c = lm_config(true);
  Weights w;
  const std::string path = write_lm(dir, c, w);
  auto engine = Engine::load(path);
  const int32_t eos = SpmModel::from_bytes(spm_bytes()).eos_id();
  ASSERT_GE(eos, 0);
  // Sample at a high temperature until some run hits eos; the result must end right there.
  GenerateOptions o;
  o.max_new_tokens = 20;
  o.greedy = false;
  o.top_k = 0;
  o.temperature = 5.0f;
  bool seen = false;
  for (uint64_t seed = 1; seed < 200 && !seen; ++seed) {
    o.seed = seed;
    const GenerateResult r = engine->generate("a", o);
    const auto it = std::find(r.token_ids.begin(), r.token_ids.end(), eos);
    if (it != r.token_ids.end()) {
      seen = true;
      EXPECT_TRUE(r.stopped_at_eos);
      EXPECT_EQ(it + 1, r.token_ids.end());
    } else {
      EXPECT_FALSE(r.stopped_at_eos);
      EXPECT_EQ(r.token_ids.size(), 20u);
    }
  }
  EXPECT_TRUE(seen);
}

TEST(EngineLm, TooLongIsAClearError) {
  TempDir dir;
  const auto c = lm_config(true);
  Weights w;
  auto engine = Engine::load(write_lm(dir, c, w));
  EXPECT_EQ(engine->max_len(), c.max_len);
  const std::vector<int32_t> ids = random_ids(static_cast<size_t>(c.max_len + 1), c.vocab_size, 3);
  try {
    engine->lm_logits(ids.data(), c.max_len + 1);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Error::Code::kTooLong);
    EXPECT_NE(std::string(e.what()).find("max_len"), std::string::npos) << e.what();
  }
  GenerateOptions o;
  o.max_new_tokens = static_cast<int>(c.max_len);  // + [eos] + prompt > max_len
  try {
    engine->generate("the cat", o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Error::Code::kTooLong);
    EXPECT_NE(std::string(e.what()).find("max_len"), std::string::npos) << e.what();
  }
  // The engine still works after the errors.
  o.max_new_tokens = 3;
  EXPECT_NO_THROW(engine->generate("the cat", o));
  const std::vector<int32_t> bad = {0, static_cast<int32_t>(c.vocab_size)};
  try {
    engine->lm_logits(bad.data(), 2);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Error::Code::kInvalidArgument) << e.what();
  }
  EXPECT_THROW(engine->classify("hello"), Error);
}

TEST(EngineLm, ThreadCountDoesNotChangeResults) {
  TempDir dir;
  const auto c = lm_config(true);
  Weights w;
  const std::string path = write_lm(dir, c, w);
  auto one = Engine::load(path, {1});
  auto two = Engine::load(path, {2});
  const std::vector<int32_t> ids = random_ids(13, c.vocab_size, 8);
  const auto a = one->lm_logits(ids.data(), 13);
  const auto b = two->lm_logits(ids.data(), 13);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5 * (1 + std::fabs(a[i])));
}

}  // namespace
}  // namespace rt3

// ---- block-pruned bundles ------------------------------------------------------------------------

namespace rt3 {
namespace {

// Zeroes a random ~60% of the groups (block_rows rows x 1 column) of every prunable weight.
void prune_groups(Weights& w, const std::vector<format::TensorSpec>& specs, int64_t block_rows, uint32_t seed) {
  std::mt19937 rng(seed);
  for (const auto& s : format::prunable_weights(specs)) {
    auto& v = w.at(s.name);
    for (int64_t b = 0; b * block_rows < s.shape[0]; ++b)
      for (int64_t c = 0; c < s.shape[1]; ++c)
        if (rng() % 10 < 6)
          for (int64_t r = b * block_rows; r < std::min(s.shape[0], (b + 1) * block_rows); ++r)
            v[static_cast<size_t>(r * s.shape[1] + c)] = 0.0f;
  }
}

template <typename Config>
std::string write_pruned(const TempDir& dir, const Config& c, const Weights& w, const format::TokenizerInfo& t,
                         const std::string& tok_bytes, bool block_pruned, const std::string& name) {
  format::BundleWriter bw;
  if constexpr (std::is_same_v<Config, models::LmConfig>) bw.set_lm(c);
  else bw.set_distilbert(c);
  bw.set_tokenizer(t, tok_bytes);
  for (const auto& s : format::required_tensors(c)) bw.add_f32(s.name, s.shape, w.at(s.name));
  // Stored with blocks of 3 rows although pruned in blocks of 4: ragged last blocks, and kept
  // groups that contain zeros, must work too.
  if (block_pruned) bw.store_block_pruned(3);
  const std::string path = dir.file(name);
  bw.write(path);
  return path;
}

TEST(EngineBlockPruned, LmMatchesReferenceAndDenseStorage) {
  TempDir dir;
  const auto c = lm_config(true);
  Weights w = random_weights(format::required_tensors(c), 31);
  prune_groups(w, format::required_tensors(c), 4, 7);
  format::TokenizerInfo t;
  t.type = format::TokenizerType::kSentencePiece;
  auto bp = Engine::load(write_pruned(dir, c, w, t, spm_bytes(), true, "lm_bp.rt3"), {2});
  auto dense = Engine::load(write_pruned(dir, c, w, t, spm_bytes(), false, "lm_dense.rt3"), {1});
  for (size_t n : {size_t{1}, size_t{5}, static_cast<size_t>(c.max_len)}) {
    const std::vector<int32_t> ids = random_ids(n, c.vocab_size, static_cast<uint32_t>(n) + 100);
    const std::vector<float> got = bp->lm_logits(ids.data(), static_cast<int64_t>(n));
    expect_close(got, flatten(reference_lm(c, w, ids)), "bp lm n=" + std::to_string(n));
    const std::vector<float> d = dense->lm_logits(ids.data(), static_cast<int64_t>(n));
    std::vector<double> dd(d.begin(), d.end());
    expect_close(got, dd, "bp vs dense storage n=" + std::to_string(n));
  }
}

TEST(EngineBlockPruned, ClassifierMatchesReference) {
  TempDir dir;
  const auto c = bert_config("gelu");
  Weights w = random_weights(format::required_tensors(c), 41);
  prune_groups(w, format::required_tensors(c), 4, 9);
  format::TokenizerInfo t;
  t.type = format::TokenizerType::kWordPiece;
  t.lowercase = true;
  t.max_len = 12;
  auto engine = Engine::load(write_pruned(dir, c, w, t, kVocab, true, "bert_bp.rt3"), {2});
  const int64_t B = 2, T = 7;
  const std::vector<int32_t> ids = random_ids(B * T, c.vocab_size, 3);
  std::vector<int32_t> mask(B * T, 1);
  for (int64_t i = 4; i < T; ++i) mask[T + i] = 0;
  const std::vector<float> logits = engine->classify_logits(ids.data(), mask.data(), B, T);
  for (int64_t b = 0; b < B; ++b) {
    std::vector<int32_t> row(ids.begin() + b * T, ids.begin() + (b + 1) * T);
    std::vector<int> m(mask.begin() + b * T, mask.begin() + (b + 1) * T);
    expect_close(std::vector<float>(logits.begin() + b * 3, logits.begin() + (b + 1) * 3), reference_bert(c, w, row, m),
                 "bp classifier sequence " + std::to_string(b));
  }
}

}  // namespace
}  // namespace rt3
