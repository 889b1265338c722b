// The runtime's side of hostile input (docs/limits.md): non-regular files are refused without
// blocking, text inputs are bounded, a config cannot declare more layers than the file holds or
// values outside their bounds, and an inference whose arithmetic overflows is an error in the
// C++ and the C API, never NaN probabilities with a success status.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "rt3/engine.h"
#include "rt3/rt3.h"
#include "runtime/format/bundle.h"
#include "runtime/format/input_file.h"
#include "runtime/model/config.h"
#include "tests/common/test_util.h"
#include "tests/common/variant_bundles.h"

namespace {

using rt3::format::BundleError;
using rt3::format::BundleErrorKind;

struct TempDir : rt3::test_util::TempDir {
  TempDir() : rt3::test_util::TempDir("rt3_hostile") {}
};

TEST(HostileInput, FifoIsRefusedWithoutBlocking) {
  TempDir d;
  const std::string fifo = d.file("f.rt3");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(rt3::format::read_input_file(fifo), rt3::format::InputFileError);
  try {
    rt3::format::Bundle::open(fifo);
    FAIL() << "a FIFO loaded as a bundle";
  } catch (const BundleError& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
  rt3_engine* engine = nullptr;
  EXPECT_EQ(rt3_engine_load(fifo.c_str(), 1, &engine), RT3_ERR_LOAD);
  EXPECT_EQ(engine, nullptr);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(HostileInput, DirectoryAndOversizedTextAreRefused) {
  TempDir d;
  EXPECT_THROW(rt3::format::read_input_file(d.path().string()), rt3::format::InputFileError);
  rt3::test_util::write_text(d.path() / "big.json", std::string(1000, ' '));
  EXPECT_THROW(rt3::format::read_input_file(d.file("big.json"), 999), rt3::format::InputFileError);
  EXPECT_EQ(rt3::format::read_input_file(d.file("big.json"), 1000).size(), 1000u);
}

// The tiny classifier's metadata with `patch` merged in, around the same tensors.
std::vector<uint8_t> patched_bundle(const nlohmann::json& patch) {
  const auto m = rt3::test_util::make_variant_bert();
  const auto file = rt3::format::SafetensorsFile::from_bytes(m.writer(m.weights, true).to_bytes(), "base");
  nlohmann::json meta = nlohmann::json::parse(file.metadata().at(rt3::format::kBundleMetadataKey));
  meta.merge_patch(patch);
  rt3::format::SafetensorsWriter w;
  w.set_metadata(rt3::format::kBundleMetadataKey, meta.dump());
  for (const auto& t : file.tensors()) w.add(t.name, t.dtype, t.shape, t.data, t.nbytes);
  return w.to_bytes();
}

TEST(HostileInput, ConfigCannotClaimMoreLayersThanTheFileHolds) {
  for (int64_t n : {int64_t{1000}, int64_t{1000000}, int64_t{10000000}}) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      rt3::format::Bundle::from_bytes(patched_bundle({{"model", {{"config", {{"n_layers", n}}}}}}), "layers");
      FAIL() << "n_layers " << n << " loaded";
    } catch (const BundleError& e) {
      // Above the config bound: an invalid config; below it, more layers than the file holds.
      EXPECT_EQ(e.kind(), n > rt3::models::kMaxConfigLayers ? BundleErrorKind::kInvalidConfig : BundleErrorKind::kMissingTensor)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("n_layers"), std::string::npos) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2)) << "n_layers " << n;
  }
}

TEST(HostileInput, ConfigValuesAreBounded) {
  using rt3::models::distilbert_config_from_json;
  using rt3::models::lm_config_from_json;
  EXPECT_THROW(lm_config_from_json({{"layer_norm_eps", -1.0}}), std::runtime_error);
  EXPECT_THROW(lm_config_from_json({{"layer_norm_eps", 0.0}}), std::runtime_error);
  EXPECT_THROW(lm_config_from_json({{"layer_norm_eps", std::numeric_limits<double>::infinity()}}), std::runtime_error);
  EXPECT_THROW(lm_config_from_json({{"dropout", std::nan("")}}), std::runtime_error);
  EXPECT_THROW(lm_config_from_json({{"n_layers", rt3::models::kMaxConfigLayers + 1}}), std::runtime_error);
  EXPECT_THROW(lm_config_from_json({{"vocab_size", int64_t{1} << 40}}), std::runtime_error);
  EXPECT_THROW(distilbert_config_from_json({{"num_labels", 100000000}}), std::runtime_error);
  EXPECT_THROW(distilbert_config_from_json({{"dim", 1e300}}), std::runtime_error);  // not cast to int64
  EXPECT_THROW(lm_config_from_json({{"n_layers", 2.5}}), std::runtime_error);
  EXPECT_NO_THROW(lm_config_from_json({{"layer_norm_eps", 1e-6}}));
}

TEST(HostileInput, OverflowingWeightsGiveAnErrorNotNaN) {
  TempDir d;
  auto m = rt3::test_util::make_variant_bert();
  // Finite (the loader accepts them) but so large that the head's sums overflow fp32.
  for (auto& [name, w] : m.weights)
    if (name == "pre_classifier.weight")
      for (float& x : w) x = x < 0 ? -3.0e38f : 3.0e38f;
  const std::string path = d.file("huge.rt3");
  m.write_reference(path, 0);

  rt3::EngineOptions o;
  auto engine = rt3::Engine::load(path, o);
  try {
    engine->classify("hello world");
    FAIL() << "classify answered on overflowing weights";
  } catch (const rt3::Error& e) {
    EXPECT_EQ(e.code(), rt3::Error::Code::kNonFinite) << e.what();
  }

  rt3_engine* c = nullptr;
  ASSERT_EQ(rt3_engine_load(path.c_str(), 1, &c), RT3_OK);
  int label = -1;
  float probs[8];
  EXPECT_EQ(rt3_classify(c, "hello world", &label, probs, 8), RT3_ERR_NON_FINITE);
  EXPECT_STREQ(rt3_status_name(RT3_ERR_NON_FINITE), "RT3_ERR_NON_FINITE");
  rt3_engine_free(c);
}

}  // namespace
