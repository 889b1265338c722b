// Tests of the RT3 bundle (runtime/format/bundle.h): round trips through BundleWriter and
// Bundle::open, and one test per kind of bad bundle the loader must reject (each asserts its own
// BundleErrorKind). Bad bundles are built with the plain SafetensorsWriter, because BundleWriter
// refuses to write them (also tested).

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rt3/version.h"
#include "runtime/format/bundle.h"
#include "runtime/tokenizer/spm_model.h"
#include "runtime/tokenizer/wordpiece.h"
#include "tests/common/spm_fixtures.h"
#include "tests/common/test_util.h"

namespace rt3::format {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using K = BundleErrorKind;

// Each test gets its own directory, named after this suite.
struct TempDir : rt3::test_util::TempDir {
  TempDir() : rt3::test_util::TempDir("rt3_bundle") {}
};

// 14 tokens = 83 bytes: not a multiple of 4, so a misplaced tokenizer tensor misaligns weights.
const char* kVocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ncat\nsat\non\nmat\ndog\n##s\nhello\n.\n";

models::DistilBertConfig tiny_bert() {
  models::DistilBertConfig c;
  c.vocab_size = 16;  // >= the 14 vocab lines
  c.dim = 8;
  c.n_layers = 2;
  c.n_heads = 2;
  c.hidden_dim = 12;
  c.max_position_embeddings = 10;
  c.labels = {"neg", "pos", "other"};
  return c;
}

models::LmConfig tiny_lm(int64_t vocab, bool tied) {
  models::LmConfig c;
  c.vocab_size = vocab;
  c.d_model = 8;
  c.n_heads = 2;
  c.n_layers = 1;
  c.d_ff = 16;
  c.max_len = 12;
  c.tie_weights = tied;
  return c;
}

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

size_t numel(const std::vector<int64_t>& s) {
  size_t n = 1;
  for (int64_t d : s) n *= static_cast<size_t>(d);
  return n;
}

std::string spm_bytes() {
  return test_util::spm_fixture_model("lm7");
}

BundleWriter bert_writer(const models::DistilBertConfig& c = tiny_bert()) {
  BundleWriter w;
  w.set_distilbert(c);
  TokenizerInfo t;
  t.type = TokenizerType::kWordPiece;
  t.lowercase = true;
  t.max_len = 8;
  w.set_tokenizer(t, kVocab);
  uint32_t seed = 1;
  for (const TensorSpec& s : required_tensors(c)) w.add_f32(s.name, s.shape, random_values(numel(s.shape), seed++));
  return w;
}

// A bundle as editable parts: metadata JSON and tensors in file order.
struct Parts {
  struct T {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  json meta;
  std::vector<T> tensors;

  static Parts of(const std::vector<uint8_t>& image) {
    SafetensorsFile f = SafetensorsFile::from_bytes(image, "parts");
    Parts p;
    p.meta = json::parse(f.metadata().at("rt3"));
    for (const TensorView& t : f.tensors())
      p.tensors.push_back({t.name, t.dtype, t.shape, std::vector<uint8_t>(t.data, t.data + t.nbytes)});
    return p;
  }
  T& get(const std::string& name) {
    for (T& t : tensors)
      if (t.name == name) return t;
    throw std::runtime_error("no tensor " + name);
  }
  void erase(const std::string& name) {
    for (size_t i = 0; i < tensors.size(); ++i)
      if (tensors[i].name == name) {
        tensors.erase(tensors.begin() + static_cast<long>(i));
        return;
      }
    throw std::runtime_error("no tensor " + name);
  }
  std::vector<uint8_t> bytes(const std::string* raw_meta = nullptr) const {
    SafetensorsWriter w;
    w.set_metadata("rt3", raw_meta ? *raw_meta : meta.dump());
    for (const T& t : tensors) w.add(t.name, t.dtype, t.shape, t.bytes);
    return w.to_bytes();
  }
};

Parts good_bert_parts() { return Parts::of(bert_writer().to_bytes()); }

// Asserts that loading `image` fails with `kind` and a message naming the source and the kind.
void expect_kind(const std::vector<uint8_t>& image, K kind, const std::string& needle = "") {
  try {
    Bundle::from_bytes(image, "bad.rt3");
    FAIL() << "expected BundleError " << bundle_error_kind_name(kind);
  } catch (const BundleError& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad.rt3"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::string("[") + bundle_error_kind_name(kind) + "]"), std::string::npos) << msg;
    if (!needle.empty()) {
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
  }
}

// ---- round trips ---------------------------------------------------------------------------------

TEST(BundleRoundTrip, DistilBertThroughFile) {
  TempDir dir;
  const models::DistilBertConfig c = tiny_bert();
  BundleWriter w = bert_writer(c);
  w.add_raw("variant.half.mask", DType::U8, {4}, "\x01\x00\x01\x00", 4);
  w.add_variant({"half", 0.5, {"variant.half.mask"}});
  w.set_level_to_variant({{"1800000", "half"}});
  format::AdaptationInfo adapt;
  adapt.deadline_s = 0.05;
  adapt.cycle_scale = 1.5;
  adapt.variants["base"] = {0.004, 0.001, 1800000, 0.9};
  adapt.variants["half"] = {0.002, 0.0005, 1800000, std::nullopt};
  w.set_adaptation(adapt);
  w.set_device_profile_json(R"({"name": "test-soc", "levels": [1, 2]})");
  const std::string path = dir.file("m.rt3");
  w.write(path);

  Bundle b = Bundle::open(path);
  EXPECT_EQ(b.source(), path);
  EXPECT_EQ(b.format_version(), kBundleFormatVersion);
  EXPECT_EQ(b.rt3_version(), std::string(RT3_VERSION_STRING));
  ASSERT_EQ(b.model_type(), BundleModelType::kDistilBertClassifier);
  const models::DistilBertConfig& r = b.distilbert_config();
  EXPECT_EQ(r.dim, c.dim);
  EXPECT_EQ(r.n_layers, c.n_layers);
  EXPECT_EQ(r.hidden_dim, c.hidden_dim);
  EXPECT_EQ(r.labels, c.labels);
  EXPECT_THROW(b.lm_config(), BundleError);
  EXPECT_EQ(b.tokenizer().type, TokenizerType::kWordPiece);
  EXPECT_TRUE(b.tokenizer().lowercase);
  EXPECT_EQ(b.tokenizer().max_len, 8);
  EXPECT_EQ(b.tokenizer().tensor, kDefaultTokenizerTensor);
  EXPECT_EQ(b.tokenizer_bytes(), kVocab);
  ASSERT_TRUE(b.wordpiece());
  EXPECT_FALSE(b.sentencepiece());
  EXPECT_EQ(b.wordpiece()->vocab_size(), 14u);
  uint32_t seed = 1;
  for (const TensorSpec& s : required_tensors(c)) {
    const std::vector<float> want = random_values(numel(s.shape), seed++);
    const float* got = b.weight(s.name);
    ASSERT_EQ(std::memcmp(got, want.data(), want.size() * 4), 0) << s.name;
  }
  EXPECT_THROW(b.weight("variant.half.mask"), BundleError);  // not a weight
  ASSERT_EQ(b.variants().size(), 1u);
  EXPECT_EQ(b.variants()[0].name, "half");
  EXPECT_DOUBLE_EQ(b.variants()[0].sparsity, 0.5);
  EXPECT_EQ(b.variants()[0].tensors, std::vector<std::string>{"variant.half.mask"});
  EXPECT_EQ(b.level_to_variant().at("1800000"), "half");
  ASSERT_TRUE(b.adaptation());
  EXPECT_DOUBLE_EQ(*b.adaptation()->deadline_s, 0.05);
  EXPECT_DOUBLE_EQ(b.adaptation()->cycle_scale, 1.5);
  EXPECT_NEAR(b.adaptation()->variants.at("base").compute_s, 0.004, 1e-15);
  EXPECT_NEAR(b.adaptation()->variants.at("half").memory_s, 0.0005, 1e-15);
  EXPECT_DOUBLE_EQ(*b.adaptation()->variants.at("base").accuracy, 0.9);
  EXPECT_FALSE(b.adaptation()->variants.at("half").accuracy);
  EXPECT_EQ(json::parse(b.device_profile_json())["name"], "test-soc");
  // A metadata string any safetensors tool can show.
  const json meta = json::parse(b.metadata_json());
  EXPECT_EQ(meta["model"]["type"], "distilbert_classifier");
  EXPECT_EQ(meta["model"]["config"]["id2label"]["1"], "pos");
}

TEST(BundleRoundTrip, LmTiedAndUntiedWithSentencePiece) {
  const std::string spm = spm_bytes();
  const int64_t vocab = static_cast<int64_t>(SpmModel::from_bytes(spm).vocab_size());
  for (bool tied : {true, false}) {
    const models::LmConfig c = tiny_lm(vocab, tied);
    BundleWriter w;
    // As the exporter does from a run directory: config.json text + model.safetensors + tokenizer.
    w.set_model_json(BundleModelType::kTransformerLm, models::to_json(c).dump(2));
    SafetensorsWriter weights;
    for (const TensorSpec& s : required_tensors(c)) weights.add_f32(s.name, s.shape, random_values(numel(s.shape), 7));
    w.add_all_from(SafetensorsFile::from_bytes(weights.to_bytes(), "model.safetensors"));
    TokenizerInfo t;
    t.type = TokenizerType::kSentencePiece;
    w.set_tokenizer(t, spm);
    Bundle b = Bundle::from_bytes(w.to_bytes(), "lm.rt3");
    ASSERT_EQ(b.model_type(), BundleModelType::kTransformerLm);
    EXPECT_EQ(b.lm_config().tie_weights, tied);
    EXPECT_EQ(b.lm_config().vocab_size, vocab);
    EXPECT_EQ(b.lm_config().max_len, 12);
    ASSERT_TRUE(b.sentencepiece());
    EXPECT_EQ(b.sentencepiece()->vocab_size(), static_cast<size_t>(vocab));
    EXPECT_EQ(b.device_profile_json(), "null");
    EXPECT_TRUE(b.variants().empty());
    EXPECT_EQ(b.file().find("head.weight") != nullptr, !tied);
  }
}

// What `rt3 export` does: a run directory (config.json, model.safetensors, tokenizer file).
TEST(BundleRoundTrip, FromRunDirectory) {
  TempDir dir;
  const std::string run = dir.file("run");
  fs::create_directories(run);
  const models::DistilBertConfig c = tiny_bert();
  {
    std::ofstream(run + "/config.json") << models::to_json(c).dump(2);
    SafetensorsWriter weights;
    uint32_t seed = 1;
    for (const TensorSpec& s : required_tensors(c)) weights.add_f32(s.name, s.shape, random_values(numel(s.shape), seed++));
    weights.write(run + "/model.safetensors");
  }
  TokenizerInfo t;
  t.type = TokenizerType::kWordPiece;
  t.lowercase = true;
  t.max_len = 10;
  // No vocab.txt yet.
  try {
    BundleWriter::from_run_dir(run, t);
    FAIL();
  } catch (const BundleError& e) {
    EXPECT_EQ(e.kind(), K::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("vocab.txt"), std::string::npos) << e.what();
  }
  std::ofstream(run + "/vocab.txt") << kVocab;
  BundleWriter w = BundleWriter::from_run_dir(run, t);
  w.write(dir.file("out.rt3"));
  Bundle b = Bundle::open(dir.file("out.rt3"));
  EXPECT_EQ(b.distilbert_config().labels, c.labels);
  EXPECT_EQ(b.tokenizer().max_len, 10);
  EXPECT_EQ(b.tokenizer_bytes(), kVocab);
  EXPECT_EQ(b.weight("classifier.bias")[0], random_values(3, static_cast<uint32_t>(required_tensors(c).size()))[0]);
  // An LM run dir is recognised by config.json's model_type.
  std::ofstream(run + "/config.json") << R"({"model_type": "bert"})";
  try {
    BundleWriter::from_run_dir(run, t);
    FAIL();
  } catch (const BundleError& e) {
    EXPECT_EQ(e.kind(), K::kUnknownModelType) << e.what();
  }
}

TEST(BundleRoundTrip, RequiredTensorNamesMatchTrainingParameters) {
  const auto lm = required_tensors(tiny_lm(50, false));
  ASSERT_EQ(lm.size(), 2u + 16u + 3u);
  EXPECT_EQ(lm[0].name, "tok_emb.weight");
  EXPECT_EQ(lm[2].name, "layers.0.ln1.weight");
  EXPECT_EQ(lm[4].name, "layers.0.attention.q_lin.weight");
  EXPECT_EQ(lm.back().name, "head.weight");
  const auto bert = required_tensors(tiny_bert());
  EXPECT_EQ(bert[0].name, "distilbert.embeddings.word_embeddings.weight");
  EXPECT_EQ(bert[4].name, "distilbert.transformer.layer.0.attention.q_lin.weight");
  EXPECT_EQ(bert.back().name, "classifier.bias");
  EXPECT_EQ(bert.back().shape, std::vector<int64_t>{3});
}

// ---- the writer refuses what the loader would reject --------------------------------------------------

TEST(BundleWriterChecks, RefusesIncompleteModel) {
  BundleWriter w;
  w.set_distilbert(tiny_bert());
  TokenizerInfo t;
  t.type = TokenizerType::kWordPiece;
  w.set_tokenizer(t, kVocab);
  try {
    w.to_bytes();
    FAIL();
  } catch (const BundleError& e) {
    EXPECT_EQ(e.kind(), K::kMissingTensor) << e.what();
  }
  TempDir dir;
  EXPECT_THROW(w.write(dir.file("x.rt3")), BundleError);
  EXPECT_FALSE(fs::exists(dir.file("x.rt3")));
}

TEST(BundleWriterChecks, MisuseIsInvalidArgument) {
  BundleWriter w;
  try {
    w.to_bytes();  // no model, no tokenizer
    FAIL();
  } catch (const BundleError& e) {
    EXPECT_EQ(e.kind(), K::kInvalidArgument) << e.what();
  }
  w.add_f32("a", {2}, std::vector<float>{1, 2});
  try {
    w.add_f32("a", {2}, std::vector<float>{1, 2});
    FAIL();
  } catch (const BundleError& e) {
    EXPECT_EQ(e.kind(), K::kInvalidArgument) << e.what();
  }
  EXPECT_THROW(w.add_f32("b", {3}, std::vector<float>{1, 2}), BundleError);
  try {
    w.set_model_json(BundleModelType::kTransformerLm, R"({"d_model": 10, "n_heads": 3})");
    FAIL();
  } catch (const BundleError& e) {
    EXPECT_EQ(e.kind(), K::kInvalidConfig) << e.what();
  }
  EXPECT_THROW(w.set_tokenizer_file({}, "/nonexistent/vocab.txt"), BundleError);
}

// ---- one test per kind of bad bundle --------------------------------------------------------------

TEST(BundleReject, Container) {
  std::vector<uint8_t> image = bert_writer().to_bytes();
  image.pop_back();
  try {
    Bundle::from_bytes(image, "bad.rt3");
    FAIL();
  } catch (const BundleError& e) {
    EXPECT_EQ(e.kind(), K::kContainer) << e.what();
    EXPECT_EQ(e.container_kind(), SafetensorsErrorKind::kOffsetOutOfBounds) << e.what();
  }
  try {
    Bundle::open("/nonexistent/dir/model.rt3");
    FAIL();
  } catch (const BundleError& e) {
    EXPECT_EQ(e.kind(), K::kContainer);
    EXPECT_EQ(e.container_kind(), SafetensorsErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.rt3"), std::string::npos);
  }
}

TEST(BundleReject, NoMetadata) {
  SafetensorsWriter w;  // a plain checkpoint: tensors but no rt3 metadata
  w.add_f32("x", {1}, {1.0f});
  expect_kind(w.to_bytes(), K::kNoMetadata);
}

TEST(BundleReject, MetadataNotJson) {
  Parts p = good_bert_parts();
  const std::string bad = "{\"format_version\": 1,";
  expect_kind(p.bytes(&bad), K::kMetadataNotJson);
  const std::string arr = "[1, 2]";
  expect_kind(p.bytes(&arr), K::kMetadataNotJson);
}

TEST(BundleReject, MissingField) {
  Parts p = good_bert_parts();
  p.meta["tokenizer"].erase("max_len");
  expect_kind(p.bytes(), K::kMissingField, "max_len");
  p = good_bert_parts();
  p.meta["rt3_version"] = 3;  // wrong type counts as missing
  expect_kind(p.bytes(), K::kMissingField, "rt3_version");
  p = good_bert_parts();
  p.meta.erase("variants");
  expect_kind(p.bytes(), K::kMissingField, "variants");
}

TEST(BundleReject, UnsupportedVersion) {
  Parts p = good_bert_parts();
  p.meta["format_version"] = kBundleFormatVersion + 1;
  expect_kind(p.bytes(), K::kUnsupportedVersion, "format_version " + std::to_string(kBundleFormatVersion + 1));
  p.meta["format_version"] = 0;
  expect_kind(p.bytes(), K::kUnsupportedVersion, "format_version 0");
  p.meta["format_version"] = -1;
  expect_kind(p.bytes(), K::kUnsupportedVersion);
}

TEST(BundleReject, UnknownModelType) {
  Parts p = good_bert_parts();
  p.meta["model"]["type"] = "gpt2";
  expect_kind(p.bytes(), K::kUnknownModelType, "gpt2");
}

TEST(BundleReject, InvalidConfig) {
  Parts p = good_bert_parts();
  p.meta["model"]["config"]["n_heads"] = 3;  // 8 not divisible by 3
  expect_kind(p.bytes(), K::kInvalidConfig, "n_heads");
  p = good_bert_parts();
  p.meta["model"]["config"]["pad_token_id"] = 99;
  expect_kind(p.bytes(), K::kInvalidConfig, "pad_token_id");
}

TEST(BundleReject, MissingTensor) {
  Parts p = good_bert_parts();
  p.erase("distilbert.transformer.layer.1.ffn.lin2.bias");
  expect_kind(p.bytes(), K::kMissingTensor, "distilbert.transformer.layer.1.ffn.lin2.bias");
  p = good_bert_parts();
  p.erase(kDefaultTokenizerTensor);
  expect_kind(p.bytes(), K::kMissingTensor, "tokenizer");
}

TEST(BundleReject, WrongShape) {
  Parts p = good_bert_parts();
  Parts::T& t = p.get("distilbert.transformer.layer.0.ffn.lin1.weight");  // [12, 8]
  t.shape = {8, 12};
  expect_kind(p.bytes(), K::kWrongShape, "[8, 12]");
}

TEST(BundleReject, WrongDtype) {
  Parts p = good_bert_parts();
  Parts::T& t = p.get("classifier.bias");  // 3 x F32 -> 3 x I32, same bytes
  t.dtype = DType::I32;
  expect_kind(p.bytes(), K::kWrongDtype, "I32");
  p = good_bert_parts();
  Parts::T& tok = p.get(kDefaultTokenizerTensor);
  tok.dtype = DType::I8;
  expect_kind(p.bytes(), K::kWrongDtype, "U8");
}

TEST(BundleReject, MisalignedTensor) {
  Parts p = good_bert_parts();
  ASSERT_NE(std::strlen(kVocab) % 4, 0u);
  // Tokenizer bytes first: every F32 tensor after them starts off a 4-byte boundary.
  Parts::T tok = p.get(kDefaultTokenizerTensor);
  p.erase(kDefaultTokenizerTensor);
  p.tensors.insert(p.tensors.begin(), tok);
  expect_kind(p.bytes(), K::kMisalignedTensor);
}

TEST(BundleReject, UnexpectedTensor) {
  Parts p = good_bert_parts();
  std::vector<uint8_t> four(16, 0);
  p.tensors.insert(p.tensors.begin(), Parts::T{"distilbert.pooler.weight", DType::F32, {4}, four});
  expect_kind(p.bytes(), K::kUnexpectedTensor, "distilbert.pooler.weight");
}

TEST(BundleReject, NonFiniteWeight) {
  Parts p = good_bert_parts();
  Parts::T& t = p.get("pre_classifier.weight");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(t.bytes.data() + 4 * 5, &nan, 4);
  expect_kind(p.bytes(), K::kNonFiniteWeight, "pre_classifier.weight");
  p = good_bert_parts();
  const float inf = std::numeric_limits<float>::infinity();
  std::memcpy(p.get("distilbert.embeddings.LayerNorm.bias").bytes.data(), &inf, 4);
  expect_kind(p.bytes(), K::kNonFiniteWeight, "infinite");
}

TEST(BundleReject, UnknownTokenizerType) {
  Parts p = good_bert_parts();
  p.meta["tokenizer"]["type"] = "bpe";
  expect_kind(p.bytes(), K::kUnknownTokenizerType, "bpe");
}

TEST(BundleReject, BadTokenizer) {
  Parts p = good_bert_parts();
  p.meta["tokenizer"]["type"] = "sentencepiece";  // vocab.txt bytes are not a .model file
  expect_kind(p.bytes(), K::kBadTokenizer);
  p = good_bert_parts();
  const std::string no_cls = "[PAD]\n[UNK]\n[SEP]\nthe\n";
  p.get(kDefaultTokenizerTensor) = Parts::T{kDefaultTokenizerTensor, DType::U8, {static_cast<int64_t>(no_cls.size())},
                                            std::vector<uint8_t>(no_cls.begin(), no_cls.end())};
  expect_kind(p.bytes(), K::kBadTokenizer, "[CLS]");
}

TEST(BundleReject, TokenizerMismatch) {
  Parts p = good_bert_parts();
  p.meta["tokenizer"]["max_len"] = 11;  // the model has 10 positions
  expect_kind(p.bytes(), K::kTokenizerMismatch, "max_len");
  // A model vocab smaller than the tokenizer's: ids would index past the embedding.
  models::DistilBertConfig c = tiny_bert();
  c.vocab_size = 12;
  Parts q = Parts::of([&] {
    BundleWriter w;
    w.set_distilbert(c);
    TokenizerInfo t;
    t.type = TokenizerType::kWordPiece;
    w.set_tokenizer(t, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n");
    for (const TensorSpec& s : required_tensors(c)) w.add_f32(s.name, s.shape, random_values(numel(s.shape), 3));
    return w.to_bytes();
  }());
  const std::string vocab(kVocab);
  q.get(kDefaultTokenizerTensor) = Parts::T{kDefaultTokenizerTensor, DType::U8, {static_cast<int64_t>(vocab.size())},
                                            std::vector<uint8_t>(vocab.begin(), vocab.end())};
  expect_kind(q.bytes(), K::kTokenizerMismatch, "14 tokens");
}

// tokenizer.text_pair (a classifier trained on sentence pairs) is optional: written only when
// true, so a single-text bundle's metadata is what it was before pairs existed.
TEST(BundleTextPair, RoundTripAndAbsentByDefault) {
  EXPECT_FALSE(good_bert_parts().meta["tokenizer"].contains("text_pair"));
  EXPECT_FALSE(Bundle::from_bytes(bert_writer().to_bytes(), "single.rt3").tokenizer().text_pair);
  Parts p = good_bert_parts();
  p.meta["tokenizer"]["text_pair"] = true;
  EXPECT_TRUE(Bundle::from_bytes(p.bytes(), "pair.rt3").tokenizer().text_pair);
  BundleWriter w = bert_writer();
  TokenizerInfo t;
  t.type = TokenizerType::kWordPiece;
  t.lowercase = true;
  t.max_len = 8;
  t.text_pair = true;
  w.set_tokenizer(t, kVocab);
  const std::vector<uint8_t> written = w.to_bytes();
  EXPECT_EQ(Parts::of(written).meta["tokenizer"]["text_pair"], true);
  EXPECT_TRUE(Bundle::from_bytes(written, "pair.rt3").tokenizer().text_pair);
}

TEST(BundleTextPair, Rejected) {
  Parts p = good_bert_parts();
  p.meta["tokenizer"]["text_pair"] = "yes";
  expect_kind(p.bytes(), K::kMissingField, "text_pair");
  p = good_bert_parts();
  p.meta["tokenizer"]["text_pair"] = true;
  p.meta["tokenizer"]["max_len"] = 2;  // [CLS] [SEP] fit, [CLS] a [SEP] b [SEP] does not
  expect_kind(p.bytes(), K::kTokenizerMismatch, "pair");
  const std::string spm = spm_bytes();
  const models::LmConfig c = tiny_lm(static_cast<int64_t>(SpmModel::from_bytes(spm).vocab_size()), true);
  BundleWriter w;
  w.set_lm(c);
  TokenizerInfo t;
  t.type = TokenizerType::kSentencePiece;
  w.set_tokenizer(t, spm);
  for (const TensorSpec& s : required_tensors(c)) w.add_f32(s.name, s.shape, random_values(numel(s.shape), 5));
  Parts lm = Parts::of(w.to_bytes());
  lm.meta["tokenizer"]["text_pair"] = true;  // an LM has no pairs
  expect_kind(lm.bytes(), K::kTokenizerMismatch, "text_pair");
}

TEST(BundleReject, BadVariants) {
  Parts p = good_bert_parts();
  p.meta["level_to_variant"] = {{"1000", "nope"}};
  expect_kind(p.bytes(), K::kBadVariants, "nope");
  for (const char* key : {"0", "fast", "-5", "12.5", "9999999999999"}) {
    p = good_bert_parts();
    p.meta["level_to_variant"] = {{key, "base"}};
    expect_kind(p.bytes(), K::kBadVariants, "not a frequency");
  }
  p = good_bert_parts();
  p.meta["variants"] = json::array({{{"name", "v"}, {"sparsity", 1.5}, {"tensors", json::array()}}});
  expect_kind(p.bytes(), K::kBadVariants, "sparsity");
  p = good_bert_parts();
  p.meta["device_profile"] = "pixel";
  expect_kind(p.bytes(), K::kBadVariants, "device_profile");
}

// The optional "adaptation" field (format 2): every number finite and in range, every name a
// variant, and not in a format 1 file.
TEST(BundleReject, BadAdaptation) {
  const json good = {{"deadline_ms", 30},
                     {"cycle_scale", 1},
                     {"variants", {{"base", {{"compute_ms", 4}, {"memory_ms", 1}, {"f_ref_khz", 1800000}, {"accuracy", 0.9}}}}}};
  Parts p = good_bert_parts();
  p.meta["adaptation"] = good;
  EXPECT_NO_THROW(Bundle::from_bytes(p.bytes(), "mem"));
  p.meta["adaptation"] = nullptr;
  EXPECT_NO_THROW(Bundle::from_bytes(p.bytes(), "mem"));
  p.meta["format_version"] = 1;  // files written before format 2 still load
  p.meta.erase("adaptation");
  EXPECT_EQ(Bundle::from_bytes(p.bytes(), "mem").format_version(), 1);
  const std::vector<std::pair<json, std::string>> cases = {
      {json::array(), "must be null or an object"},
      {{{"variants", 3}}, "needs 'variants'"},
      {{{"deadline_ms", -1}, {"variants", json::object()}}, "deadline_ms"},
      {{{"variants", {{"nope", good["variants"]["base"]}}}}, "does not name a variant"},
      {{{"variants", {{"base", {{"compute_ms", 4}, {"memory_ms", 1}}}}}}, "f_ref_khz"},
      {{{"variants", {{"base", {{"compute_ms", -4}, {"memory_ms", 1}, {"f_ref_khz", 1}}}}}}, "compute_ms"},
      {{{"variants", {{"base", {{"compute_ms", 0}, {"memory_ms", 0}, {"f_ref_khz", 1}}}}}}, "latency of 0"},
      {{{"variants", {{"base", {{"compute_ms", 1}, {"memory_ms", 0}, {"f_ref_khz", 1}, {"accuracy", 1.5}}}}}}, "accuracy"},
  };
  for (const auto& [value, message] : cases) {
    p = good_bert_parts();
    p.meta["adaptation"] = value;
    expect_kind(p.bytes(), K::kBadVariants, message);
  }
  p = good_bert_parts();
  p.meta["format_version"] = 1;
  p.meta["adaptation"] = good;
  expect_kind(p.bytes(), K::kBadVariants, "format_version 2");
}

TEST(BundleReject, ErrorKindNamesAreDistinct) {
  std::set<std::string> names;
  for (int k = 0; k <= static_cast<int>(K::kInvalidArgument); ++k)
    EXPECT_TRUE(names.insert(bundle_error_kind_name(static_cast<K>(k))).second);
  EXPECT_GE(names.size(), 17u);
}

}  // namespace
}  // namespace rt3::format

// ---- block-pruned weights ------------------------------------------------------------------------

namespace rt3::format {
namespace {

// Zeroes every other group (block of 4 rows x 1 column) of every prunable weight, block-prunes.
Parts bp_bert_parts(std::vector<uint8_t>* image_out = nullptr) {
  const models::DistilBertConfig c = tiny_bert();
  BundleWriter pruned;
  pruned.set_distilbert(c);
  TokenizerInfo t;
  t.type = TokenizerType::kWordPiece;
  t.lowercase = true;
  t.max_len = 8;
  pruned.set_tokenizer(t, kVocab);
  uint32_t seed = 1;
  const auto prunable = prunable_weights(required_tensors(c));
  for (const TensorSpec& s : required_tensors(c)) {
    std::vector<float> v = random_values(numel(s.shape), seed++);
    const bool is_prunable =
        std::any_of(prunable.begin(), prunable.end(), [&](const TensorSpec& p) { return p.name == s.name; });
    if (is_prunable)
      for (int64_t r = 0; r < s.shape[0]; ++r)
        for (int64_t col = 0; col < s.shape[1]; ++col)
          if (((r / 4) + col) % 2 == 0) v[static_cast<size_t>(r * s.shape[1] + col)] = 0.0f;
    pruned.add_f32(s.name, s.shape, v);
  }
  pruned.store_block_pruned(4);
  std::vector<uint8_t> image = pruned.to_bytes();
  if (image_out) *image_out = image;
  return Parts::of(image);
}

TEST(BundleBlockPruned, PrunableWeightsAreTheSixLinearsPerLayer) {
  const auto p = prunable_weights(required_tensors(tiny_bert()));
  ASSERT_EQ(p.size(), size_t(6 * tiny_bert().n_layers));
  for (const auto& s : p) EXPECT_EQ(s.name.rfind("distilbert.transformer.layer.", 0), 0u) << s.name;
  const auto lm = prunable_weights(required_tensors(tiny_lm(50, true)));
  ASSERT_EQ(lm.size(), size_t(6 * tiny_lm(50, true).n_layers));
  EXPECT_EQ(lm[4].name, "layers.0.ffn.lin1.weight");
}

TEST(BundleBlockPruned, RoundTripKeepsExactWeights) {
  std::vector<uint8_t> image;
  Parts parts = bp_bert_parts(&image);
  EXPECT_EQ(parts.meta["bp"]["block_rows"], 4);
  Bundle b = Bundle::from_bytes(image, "bp.rt3");
  EXPECT_EQ(b.bp_block_rows(), 4);
  uint32_t seed = 1;
  size_t checked = 0;
  for (const TensorSpec& s : required_tensors(tiny_bert())) {
    std::vector<float> v = random_values(numel(s.shape), seed++);
    if (!b.is_block_pruned(s.name)) {
      EXPECT_EQ(std::vector<float>(b.weight(s.name), b.weight(s.name) + v.size()), v) << s.name;
      continue;
    }
    EXPECT_THROW(b.weight(s.name), BundleError);
    const kernels::BpWeights w = b.bp_weights(s.name);
    EXPECT_EQ(w.nonzeros(), static_cast<int64_t>(v.size() / 2)) << s.name;  // half the groups
    const std::vector<float> dense = kernels::bp_unpack(w);
    for (int64_t r = 0; r < s.shape[0]; ++r)
      for (int64_t col = 0; col < s.shape[1]; ++col) {
        const size_t i = static_cast<size_t>(r * s.shape[1] + col);
        ASSERT_EQ(dense[i], ((r / 4) + col) % 2 == 0 ? 0.0f : v[i]) << s.name;
      }
    ++checked;
  }
  EXPECT_EQ(checked, size_t(12));
}

TEST(BundleBlockPruned, InconsistentPackedFormIsRejected) {
  const std::string L = "distilbert.transformer.layer.0.ffn.lin1.weight";
  {  // a column index out of range
    Parts p = bp_bert_parts();
    auto& cols = p.get(L + kBpColsSuffix);
    const int32_t bad = 1 << 20;
    std::memcpy(cols.bytes.data(), &bad, 4);
    expect_kind(p.bytes(), K::kBadSparseWeight, L);
  }
  {  // a packed tensor missing
    Parts p = bp_bert_parts();
    p.erase(L + kBpValuesSuffix);
    expect_kind(p.bytes(), K::kMissingTensor, L);
  }
  {  // both dense and packed: the dense one is unexpected
    Parts p = bp_bert_parts();
    std::vector<uint8_t> zeros(static_cast<size_t>(tiny_bert().hidden_dim * tiny_bert().dim * 4), 0);
    p.tensors.insert(p.tensors.begin(), {L, DType::F32, {tiny_bert().hidden_dim, tiny_bert().dim}, zeros});
    expect_kind(p.bytes(), K::kUnexpectedTensor, L);
  }
  {  // bp names a weight that is not prunable
    Parts p = bp_bert_parts();
    p.meta["bp"]["layers"].push_back("pre_classifier.weight");
    expect_kind(p.bytes(), K::kBadSparseWeight, "pre_classifier.weight");
  }
  {  // block_rows that does not fit the stored block count
    Parts p = bp_bert_parts();
    p.meta["bp"]["block_rows"] = 8;
    expect_kind(p.bytes(), K::kBadSparseWeight);
  }
  {  // NaN in the stored values
    Parts p = bp_bert_parts();
    auto& vals = p.get(L + kBpValuesSuffix);
    const float nan = std::nanf("");
    std::memcpy(vals.bytes.data(), &nan, 4);
    expect_kind(p.bytes(), K::kNonFiniteWeight, L);
  }
}

}  // namespace
}  // namespace rt3::format
