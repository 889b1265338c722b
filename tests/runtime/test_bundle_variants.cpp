// Tests of pattern-set variants in the bundle (docs/format.md "variants", rule 17a): round trip
// through BundleWriter::add_pattern_variant and Bundle::pattern_weights, and one rejection per
// malformed case (bad files are edited with the plain SafetensorsWriter, as in test_bundle.cpp,
// because BundleWriter refuses to write them).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/format/bundle.h"
#include "tests/common/test_util.h"
#include "tests/common/variant_bundles.h"

namespace rt3::format {
namespace {

using nlohmann::json;
using K = BundleErrorKind;
using test_util::make_variant_bert;
using test_util::VariantModel;

const std::string kLayer = "distilbert.transformer.layer.0.attention.q_lin.weight";

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
    tensors.erase(std::remove_if(tensors.begin(), tensors.end(), [&](const T& t) { return t.name == name; }),
                  tensors.end());
  }
  json& variant(const std::string& name) {
    for (json& v : meta["variants"])
      if (v["name"] == name) return v;
    throw std::runtime_error("no variant " + name);
  }
  std::vector<uint8_t> bytes() const {
    SafetensorsWriter w;
    w.set_metadata("rt3", meta.dump());
    for (const T& t : tensors) w.add(t.name, t.dtype, t.shape, t.bytes);
    return w.to_bytes();
  }
};

const VariantModel& model() {
  static const VariantModel m = make_variant_bert();
  return m;
}

Parts good_parts() { return Parts::of(model().writer(model().weights, true).to_bytes()); }

void expect_kind(const std::vector<uint8_t>& image, K kind, const std::string& needle) {
  try {
    Bundle::from_bytes(image, "bad.rt3");
    FAIL() << "expected BundleError " << bundle_error_kind_name(kind) << " mentioning " << needle;
  } catch (const BundleError& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad.rt3"), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

TEST(BundleVariants, RoundTrip) {
  test_util::TempDir dir("rt3_bvar");
  const VariantModel& m = model();
  const std::string path = dir.file("v.rt3");
  m.write(path);
  const Bundle b = Bundle::open(path);
  const auto pv = b.pattern_variants();
  ASSERT_EQ(pv.size(), m.recipes.size());
  for (size_t i = 0; i < pv.size(); ++i) {
    const BundleVariant& v = *pv[i];
    EXPECT_EQ(v.name, m.recipes[i].name);
    EXPECT_TRUE(v.is_pattern());
    EXPECT_EQ(v.tile_rows, m.recipes[i].tile_rows);
    EXPECT_EQ(v.tile_cols, m.recipes[i].tile_cols);
    EXPECT_EQ(v.tensors.size(), 2 * v.layers.size());
    ASSERT_EQ(v.layers.size(), m.sets[i].size());
    EXPECT_EQ(b.pattern_variant_layers(v.name), v.layers);
    int64_t kept = 0, total = 0;
    for (const auto& [layer, want] : m.sets[i]) {
      const kernels::PatternWeights got = b.pattern_weights(v.name, layer);
      EXPECT_EQ(got.out_features, want.out_features);
      EXPECT_EQ(got.in_features, want.in_features);
      EXPECT_EQ(got.n_patterns, want.n_patterns);
      EXPECT_EQ(got.patterns, want.patterns);
      EXPECT_EQ(got.tile_pattern, want.tile_pattern);
      kept += want.kept_weights();
      total += want.out_features * want.in_features;
    }
    EXPECT_DOUBLE_EQ(v.sparsity, 1.0 - static_cast<double>(kept) / static_cast<double>(total));
    EXPECT_GT(v.sparsity, 0.2);
  }
  // The second recipe prunes only the FFN Linears.
  for (const std::string& l : pv[1]->layers) EXPECT_NE(l.find(".ffn."), std::string::npos) << l;
  // Unknown names.
  EXPECT_THROW(b.pattern_weights("nope", kLayer), BundleError);
  EXPECT_THROW(b.pattern_weights("p75", kLayer), BundleError);  // p75 does not prune attention
  EXPECT_THROW(b.pattern_variant_layers("nope"), BundleError);
  // The metadata carries the schema fields.
  const json meta = json::parse(b.metadata_json());
  const json& v0 = meta["variants"][0];
  EXPECT_EQ(v0["kind"], "pattern");
  EXPECT_EQ(v0["tile_rows"], 8);
  EXPECT_EQ(v0["tile_cols"], 4);
  EXPECT_EQ(v0["layers"].size(), 12u);
}

TEST(BundleVariants, GenericVariantsStayAsBefore) {
  const VariantModel& m = model();
  BundleWriter w = m.writer(m.weights, true);
  const std::vector<uint8_t> mask = {1, 0, 1};
  w.add_raw("rt3.generic.mask", DType::U8, {3}, mask.data(), mask.size());
  w.add_variant({"generic", 0.5, {"rt3.generic.mask"}});
  const Bundle b = Bundle::from_bytes(w.to_bytes(), "g.rt3");
  EXPECT_EQ(b.variants().size(), 4u);
  EXPECT_EQ(b.pattern_variants().size(), 3u);
  EXPECT_FALSE(b.variants().back().is_pattern());
  EXPECT_THROW(b.pattern_variant_layers("generic"), BundleError);
}

TEST(BundleVariants, WriterMisuse) {
  const VariantModel& m = model();
  BundleWriter w = m.writer(m.weights, false);
  auto expect_invalid = [](const std::function<void()>& f, const std::string& needle) {
    try {
      f();
      FAIL() << "expected kInvalidArgument: " << needle;
    } catch (const BundleError& e) {
      EXPECT_EQ(e.kind(), K::kInvalidArgument) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_invalid([&] { w.add_pattern_variant("x", 8, 4, {}); }, "no layers");
  expect_invalid([&] { w.add_pattern_variant("x", 16, 4, {{kLayer, m.sets[0].at(kLayer)}}); }, "tiles");
  test_util::PatternSet bad = {{kLayer, m.sets[0].at(kLayer)}};
  bad[kLayer].patterns[0] = 7;
  expect_invalid([&] { w.add_pattern_variant("x", 8, 4, bad); }, "0 or 1");
}

TEST(BundleVariants, WriterRunsTheLoaderChecks) {
  const VariantModel& m = model();
  {  // shapes that do not fit the model's weight
    BundleWriter w = m.writer(m.weights, false);
    kernels::PatternWeights p = test_util::random_pattern_weights(16, 40, 8, 4, 3, 0.5, 1);
    w.add_pattern_variant("x", 8, 4, {{kLayer, p}});
    try {
      w.to_bytes();
      FAIL();
    } catch (const BundleError& e) {
      EXPECT_EQ(e.kind(), K::kBadVariants) << e.what();
    }
  }
  {  // a pattern variant on a block-pruned layer
    BundleWriter w = m.writer(m.weights, false);
    w.store_block_pruned(4);
    w.add_pattern_variant("x", 8, 4, {{kLayer, m.sets[0].at(kLayer)}});
    try {
      w.to_bytes();
      FAIL();
    } catch (const BundleError& e) {
      EXPECT_EQ(e.kind(), K::kBadVariants) << e.what();
      EXPECT_NE(std::string(e.what()).find("block-pruned"), std::string::npos) << e.what();
    }
  }
}

TEST(BundleVariantsReject, MalformedMetadata) {
  Parts p = good_parts();
  p.variant("p50")["kind"] = "magic";
  expect_kind(p.bytes(), K::kBadVariants, "kind");

  p = good_parts();
  p.variant("p50").erase("tile_rows");
  expect_kind(p.bytes(), K::kBadVariants, "tile_rows");

  p = good_parts();
  p.variant("p50")["tile_cols"] = 0;
  expect_kind(p.bytes(), K::kBadVariants, "tile_cols");

  p = good_parts();
  p.variant("p50")["layers"] = json::array();
  expect_kind(p.bytes(), K::kBadVariants, "layers");

  p = good_parts();
  p.variant("p50")["layers"].push_back(kLayer);
  expect_kind(p.bytes(), K::kBadVariants, "twice");

  p = good_parts();
  p.variant("p50")["name"] = "base";
  expect_kind(p.bytes(), K::kBadVariants, "reserved");
}

TEST(BundleVariantsReject, LayerNotPrunable) {
  Parts p = good_parts();
  p.variant("p50")["layers"].push_back("pre_classifier.weight");
  expect_kind(p.bytes(), K::kBadVariants, "pre_classifier.weight");
}

TEST(BundleVariantsReject, MissingOrUnlistedTensors) {
  const std::string pt = pattern_patterns_tensor("p50", kLayer), tt = pattern_tiles_tensor("p50", kLayer);
  Parts p = good_parts();
  p.erase(pt);  // still listed: rule 17
  expect_kind(p.bytes(), K::kMissingTensor, pt);

  p = good_parts();
  p.erase(tt);  // neither listed nor present
  json& tensors = p.variant("p50")["tensors"];
  tensors.erase(std::find(tensors.begin(), tensors.end(), json(tt)));
  expect_kind(p.bytes(), K::kBadVariants, tt);
}

TEST(BundleVariantsReject, WrongDtypeOrShape) {
  const std::string pt = pattern_patterns_tensor("p50", kLayer), tt = pattern_tiles_tensor("p50", kLayer);
  Parts p = good_parts();
  p.get(pt).dtype = DType::I8;
  expect_kind(p.bytes(), K::kBadVariants, "expected U8");

  p = good_parts();
  {  // [4, 4] -> [8, 2]: tile_cols mismatch
    auto& t = p.get(pt);
    t.shape = {t.shape[0] * 2, t.shape[1] / 2};
  }
  expect_kind(p.bytes(), K::kBadVariants, "patterns tensor has shape");

  p = good_parts();
  {  // 256 patterns: more than a tile id can name
    auto& t = p.get(pt);
    t.shape = {256, 4};
    t.bytes.assign(256 * 4, 1);
  }
  expect_kind(p.bytes(), K::kBadVariants, "1..255");

  p = good_parts();
  {  // tiles [2, 4] -> [4, 2]
    auto& t = p.get(tt);
    std::swap(t.shape[0], t.shape[1]);
  }
  expect_kind(p.bytes(), K::kBadVariants, "tiles tensor has shape");
}

TEST(BundleVariantsReject, InvalidPatternData) {
  const std::string pt = pattern_patterns_tensor("p50", kLayer), tt = pattern_tiles_tensor("p50", kLayer);
  Parts p = good_parts();
  p.get(pt).bytes[1] = 2;
  expect_kind(p.bytes(), K::kBadVariants, "0 or 1");

  p = good_parts();
  p.get(tt).bytes[0] = 200;  // >= n_patterns (4)
  expect_kind(p.bytes(), K::kBadVariants, "n_patterns");
}

TEST(BundleVariantsReject, SparsityMustMatchThePatterns) {
  Parts p = good_parts();
  const double actual = p.variant("p50")["sparsity"].get<double>();
  p.variant("p50")["sparsity"] = actual + 0.015;  // within tolerance
  EXPECT_NO_THROW(Bundle::from_bytes(p.bytes(), "ok.rt3"));
  p.variant("p50")["sparsity"] = actual > 0.5 ? actual - 0.05 : actual + 0.05;
  expect_kind(p.bytes(), K::kBadVariants, "sparsity");
}

}  // namespace
}  // namespace rt3::format
