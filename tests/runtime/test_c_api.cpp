// Tests of the C API (include/rt3/rt3.h): status codes and messages for failures, classify and
// generate through the C functions (checked against the C++ Engine), small buffers.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "rt3/engine.h"
#include "rt3/rt3.h"
#include "runtime/format/bundle.h"
#include "runtime/tokenizer/spm_model.h"
#include "tests/common/spm_fixtures.h"
#include "tests/common/test_util.h"


namespace {

namespace fs = std::filesystem;

// Each test gets its own directory, named after this suite.
struct TempDir : rt3::test_util::TempDir {
  TempDir() : rt3::test_util::TempDir("rt3_capi") {}
};

void add_random(rt3::format::BundleWriter& w, const std::vector<rt3::format::TensorSpec>& specs) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  for (const auto& s : specs) {
    size_t n = 1;
    for (int64_t d : s.shape) n *= static_cast<size_t>(d);
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    w.add_f32(s.name, s.shape, v);
  }
}

std::string write_classifier(const TempDir& dir, bool text_pair = false) {
  rt3::models::DistilBertConfig c;
  c.vocab_size = 12;
  c.dim = 8;
  c.n_layers = 1;
  c.n_heads = 2;
  c.hidden_dim = 16;
  c.max_position_embeddings = 16;
  c.labels = {"ham", "spam", "eggs", "other"};
  rt3::format::BundleWriter w;
  w.set_distilbert(c);
  rt3::format::TokenizerInfo t;
  t.type = rt3::format::TokenizerType::kWordPiece;
  t.lowercase = true;
  t.max_len = 16;
  t.text_pair = text_pair;
  w.set_tokenizer(t, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nfree\nmoney\nhello\nworld\n");
  add_random(w, rt3::format::required_tensors(c));
  const std::string path = dir.file(text_pair ? "pair.rt3" : "cls.rt3");
  w.write(path);
  return path;
}

std::string write_lm(const TempDir& dir) {
  const std::string spm = rt3::test_util::spm_fixture_model("capi");
  rt3::models::LmConfig c;
  c.vocab_size = static_cast<int64_t>(rt3::SpmModel::from_bytes(spm).vocab_size());
  c.d_model = 8;
  c.n_heads = 2;
  c.n_layers = 1;
  c.d_ff = 16;
  c.max_len = 32;
  rt3::format::BundleWriter w;
  w.set_lm(c);
  rt3::format::TokenizerInfo t;
  t.type = rt3::format::TokenizerType::kSentencePiece;
  w.set_tokenizer(t, spm);
  add_random(w, rt3::format::required_tensors(c));
  const std::string path = dir.file("lm.rt3");
  w.write(path);
  return path;
}

TEST(CApi, LoadFailureGivesStatusAndMessage) {
  rt3_engine* e = reinterpret_cast<rt3_engine*>(0x1);
  EXPECT_EQ(rt3_engine_load("/nonexistent/x.rt3", 1, &e), RT3_ERR_LOAD);
  EXPECT_EQ(e, nullptr);
  EXPECT_NE(std::string(rt3_last_error(nullptr)).find("/nonexistent/x.rt3"), std::string::npos)
      << rt3_last_error(nullptr);
  EXPECT_STREQ(rt3_status_name(RT3_ERR_LOAD), "RT3_ERR_LOAD");

  // A file that is not a bundle.
  TempDir dir;
  const std::string junk = dir.file("junk.rt3");
  FILE* f = std::fopen(junk.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("not a bundle at all", f);
  std::fclose(f);
  EXPECT_EQ(rt3_engine_load(junk.c_str(), 1, &e), RT3_ERR_LOAD);
  EXPECT_NE(std::string(rt3_last_error(nullptr)).find("junk.rt3"), std::string::npos);

  EXPECT_EQ(rt3_engine_load(nullptr, 1, &e), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(rt3_engine_load(junk.c_str(), 1, nullptr), RT3_ERR_INVALID_ARGUMENT);
  const std::string good = write_classifier(dir);
  EXPECT_EQ(rt3_engine_load(good.c_str(), 0, &e), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(rt3_last_error(nullptr)).find("threads"), std::string::npos);
  rt3_engine_free(nullptr);  // no-op
}

TEST(CApi, Classify) {
  TempDir dir;
  const std::string path = write_classifier(dir);
  rt3_engine* e = nullptr;
  ASSERT_EQ(rt3_engine_load(path.c_str(), 2, &e), RT3_OK) << rt3_last_error(nullptr);
  EXPECT_EQ(rt3_engine_model_type(e), RT3_MODEL_DISTILBERT_CLASSIFIER);
  ASSERT_EQ(rt3_num_labels(e), 4);
  EXPECT_STREQ(rt3_label_name(e, 1), "spam");
  EXPECT_EQ(rt3_label_name(e, 4), nullptr);

  int label = -1;
  float probs[4] = {0, 0, 0, 0};
  ASSERT_EQ(rt3_classify(e, "Free money, hello world!", &label, probs, 4), RT3_OK) << rt3_last_error(e);
  EXPECT_STREQ(rt3_last_error(e), "");
  auto cpp = rt3::Engine::load(path);
  const rt3::ClassifyResult want = cpp->classify("Free money, hello world!");
  EXPECT_EQ(label, want.label);
  float sum = 0;
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(probs[i], want.probabilities[i], 1e-6);
    sum += probs[i];
  }
  EXPECT_NEAR(sum, 1.0f, 1e-5);

  // Label only.
  label = -1;
  EXPECT_EQ(rt3_classify(e, "hello", &label, nullptr, 0), RT3_OK);
  EXPECT_GE(label, 0);
  // Buffer too small: nothing written, clear message.
  float small[3] = {-1, -1, -1};
  EXPECT_EQ(rt3_classify(e, "hello", &label, small, 3), RT3_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(small[0], -1.0f);
  EXPECT_NE(std::string(rt3_last_error(e)).find("probs_capacity"), std::string::npos) << rt3_last_error(e);
  EXPECT_EQ(rt3_classify(e, nullptr, &label, probs, 4), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(rt3_classify(e, "hello", &label, nullptr, 4), RT3_ERR_INVALID_ARGUMENT);
  // Wrong model type for the call.
  char buf[64];
  EXPECT_EQ(rt3_generate(e, "hello", 4, 0, buf, sizeof buf), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(rt3_last_error(e)).find("transformer_lm"), std::string::npos) << rt3_last_error(e);
  rt3_engine_free(e);
}

TEST(CApi, ClassifyPair) {
  TempDir dir;
  const std::string path = write_classifier(dir, /*text_pair=*/true);
  rt3_engine* e = nullptr;
  ASSERT_EQ(rt3_engine_load(path.c_str(), 1, &e), RT3_OK) << rt3_last_error(nullptr);
  EXPECT_EQ(rt3_engine_trained_on_pairs(e), 1);
  EXPECT_EQ(rt3_engine_trained_on_pairs(nullptr), 0);

  int label = -1;
  float probs[4] = {0, 0, 0, 0};
  rt3_inference_info info;
  ASSERT_EQ(rt3_classify_pair_ex(e, "Free money", "hello world", &label, probs, 4, &info), RT3_OK) << rt3_last_error(e);
  EXPECT_EQ(info.variant, 0);
  // The same as the forward of [CLS] free money [SEP] hello world [SEP], written out by hand.
  auto cpp = rt3::Engine::load(path);
  const std::vector<int32_t> ids = {2, 5, 6, 3, 7, 8, 3}, mask(7, 1);
  const std::vector<float> logits = cpp->classify_logits(ids.data(), mask.data(), 1, 7);
  const int want = static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  EXPECT_EQ(label, want);
  const rt3::ClassifyResult r = cpp->classify_pair("Free money", "hello world");
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(r.logits[i], logits[i], 1e-6);
    EXPECT_NEAR(probs[i], r.probabilities[i], 1e-6);
  }
  // Without the [SEP] between them the model sees other ids: the pair is not two texts glued.
  float glued[4];
  ASSERT_EQ(rt3_classify(e, "Free money hello world", &label, glued, 4), RT3_OK);
  float diff = 0;
  for (int i = 0; i < 4; ++i) diff += std::fabs(glued[i] - probs[i]);
  EXPECT_GT(diff, 1e-6f);

  label = -1;
  EXPECT_EQ(rt3_classify_pair(e, "hello", "", &label, nullptr, 0), RT3_OK);  // an empty second text is a pair
  EXPECT_GE(label, 0);
  EXPECT_EQ(rt3_classify_pair(e, "hello", nullptr, &label, probs, 4), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(rt3_last_error(e)).find("text_pair is NULL"), std::string::npos) << rt3_last_error(e);
  EXPECT_EQ(rt3_classify_pair(e, nullptr, "hello", &label, probs, 4), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(rt3_last_error(e)).find("rt3_classify_pair: text is NULL"), std::string::npos);
  EXPECT_EQ(rt3_classify_pair(nullptr, "a", "b", &label, probs, 4), RT3_ERR_INVALID_ARGUMENT);
  float small[3] = {-1, -1, -1};
  EXPECT_EQ(rt3_classify_pair(e, "a", "b", &label, small, 3), RT3_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(small[0], -1.0f);
  rt3_engine_free(e);

  // A single-text classifier accepts pairs too (as Hugging Face's models do) but says it did not
  // learn them; an LM refuses them.
  const std::string single = write_classifier(dir);
  ASSERT_EQ(rt3_engine_load(single.c_str(), 1, &e), RT3_OK);
  EXPECT_EQ(rt3_engine_trained_on_pairs(e), 0);
  EXPECT_EQ(rt3_classify_pair(e, "free", "money", &label, nullptr, 0), RT3_OK);
  rt3_engine_free(e);
  const std::string lm = write_lm(dir);
  ASSERT_EQ(rt3_engine_load(lm.c_str(), 1, &e), RT3_OK);
  EXPECT_EQ(rt3_classify_pair(e, "a", "b", &label, nullptr, 0), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(rt3_last_error(e)).find("distilbert_classifier"), std::string::npos) << rt3_last_error(e);
  EXPECT_EQ(rt3_engine_trained_on_pairs(e), 0);
  rt3_engine_free(e);
}

TEST(CApi, Generate) {
  TempDir dir;
  const std::string path = write_lm(dir);
  rt3_engine* e = nullptr;
  ASSERT_EQ(rt3_engine_load(path.c_str(), 1, &e), RT3_OK) << rt3_last_error(nullptr);
  EXPECT_EQ(rt3_engine_model_type(e), RT3_MODEL_TRANSFORMER_LM);
  EXPECT_EQ(rt3_num_labels(e), 0);

  auto cpp = rt3::Engine::load(path);
  rt3::GenerateOptions go;
  go.max_new_tokens = 8;
  const std::string greedy = cpp->generate("the cat", go).text;
  char buf[512];
  ASSERT_EQ(rt3_generate(e, "the cat", 8, /*seed=*/0, buf, sizeof buf), RT3_OK) << rt3_last_error(e);
  EXPECT_EQ(std::string(buf), greedy);

  // Seeded sampling: reproducible.
  char a[512], b[512];
  ASSERT_EQ(rt3_generate(e, "the cat", 8, 1234, a, sizeof a), RT3_OK);
  ASSERT_EQ(rt3_generate(e, "the cat", 8, 1234, b, sizeof b), RT3_OK);
  EXPECT_STREQ(a, b);

  // Buffer too small: "" written, status, the size needed reported.
  rt3_generate_options o = rt3_generate_default_options();
  o.max_new_tokens = 8;
  o.stop_at_eos = 0;
  size_t needed = 0;
  ASSERT_EQ(rt3_generate_ex(e, "the cat", &o, buf, sizeof buf, &needed), RT3_OK);
  const std::string full = buf;
  ASSERT_EQ(needed, full.size() + 1);
  ASSERT_GT(full.size(), 0u);
  char tiny[2] = {'x', 'x'};
  size_t needed2 = 0;
  EXPECT_EQ(rt3_generate_ex(e, "the cat", &o, tiny, 1, &needed2), RT3_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(tiny[0], '\0');
  EXPECT_EQ(needed2, needed);
  EXPECT_NE(std::string(rt3_last_error(e)).find(std::to_string(needed)), std::string::npos) << rt3_last_error(e);
  std::vector<char> exact(needed);
  EXPECT_EQ(rt3_generate_ex(e, "the cat", &o, exact.data(), exact.size(), nullptr), RT3_OK);
  EXPECT_EQ(std::string(exact.data()), full);

  // Too long and bad arguments.
  EXPECT_EQ(rt3_generate(e, "the cat", 1000, 0, buf, sizeof buf), RT3_ERR_TOO_LONG);
  EXPECT_NE(std::string(rt3_last_error(e)).find("max_len"), std::string::npos);
  EXPECT_EQ(rt3_generate(e, "the cat", -1, 0, buf, sizeof buf), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(rt3_generate(e, nullptr, 4, 0, buf, sizeof buf), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(rt3_generate(nullptr, "x", 4, 0, buf, sizeof buf), RT3_ERR_INVALID_ARGUMENT);
  int label = 0;
  EXPECT_EQ(rt3_classify(e, "x", &label, nullptr, 0), RT3_ERR_INVALID_ARGUMENT);
  // A success clears the engine's last error.
  EXPECT_EQ(rt3_generate(e, "the", 2, 0, buf, sizeof buf), RT3_OK);
  EXPECT_STREQ(rt3_last_error(e), "");
  rt3_engine_free(e);
}

}  // namespace
