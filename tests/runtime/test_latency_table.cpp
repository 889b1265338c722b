// Latency table: prediction arithmetic, compute/memory split, JSON round trip and validation.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dvfs/latency_table.h"

using namespace rt3::dvfs;

namespace {

// Two layers; host 2 GHz, in-model weight traffic 10 GB/s. Layer a: dense 4 ms alone with 40 MB
// of weights (+4 ms of traffic), p=8: 1 ms with 5 MB (+0.5 ms). Layer b: dense 2 ms with 1 MB
// (+0.1 ms), p=8: 0.5 ms with 0.1 MB (+0.01 ms). Remainder 3 ms (compute).
LatencyTable two_layers() {
  LatencyTable t;
  t.bundle = "x.rt3";
  t.model_type = "distilbert_classifier";
  t.tokens = 128;
  t.tile_rows = t.tile_cols = 16;
  t.host_khz = 2e6;
  t.host_khz_source = "test";
  t.memory_bandwidth_gbs = 12;
  t.remainder_s = 0.003;
  t.weight_traffic_gbs = 10;
  t.layers.push_back({"a", 64, 64, 0.004, 40e6, {{8, 0.001}, {12, 0.0006}}, {{8, 5e6}, {12, 3e6}}});
  t.layers.push_back({"b", 64, 32, 0.002, 1e6, {{8, 0.0005}}, {{8, 0.1e6}}});
  VariantLatency base;
  base.name = "base";
  base.measured_s = 0.009;
  base.predicted_s = t.predict_s({});
  VariantLatency v;
  v.name = "p50";
  v.sparsity = 0.5;
  v.pruning_numbers = {{"a", 8}, {"b", 8}};
  v.measured_s = 0.0046;
  v.predicted_s = t.predict_s(v.pruning_numbers);
  v.accuracy = 0.81;
  t.variants = {base, v};
  return t;
}

}  // namespace

TEST(LatencyTable, PredictSumsRemainderLayersAndWeightTraffic) {
  LatencyTable t = two_layers();
  t.weight_traffic_gbs = 0;  // isolated times only
  EXPECT_NEAR(t.predict_s({}), 0.003 + 0.004 + 0.002, 1e-15);
  EXPECT_NEAR(t.predict_s({{"a", 8}}), 0.003 + 0.001 + 0.002, 1e-15);
  EXPECT_NEAR(t.predict_s({{"a", 12}, {"b", 8}}), 0.003 + 0.0006 + 0.0005, 1e-15);
  EXPECT_NEAR(t.predict_s({{"a", 0}}), t.predict_s({}), 1e-15);  // 0 = dense
  EXPECT_THROW(t.predict_s({{"b", 12}}), std::runtime_error);     // not measured
  EXPECT_THROW(t.predict_s({{"c", 8}}), std::runtime_error);      // no such layer
  EXPECT_EQ(t.pruning_numbers(), std::vector<int>{8});            // 12 is missing for b
  // With weight traffic: every layer adds its bytes / 10 GB/s (a dense: 40 MB -> 4 ms).
  t.weight_traffic_gbs = 10;
  EXPECT_NEAR(t.predict_s({}), 0.009 + 0.004 + 0.0001, 1e-12);
  EXPECT_NEAR(t.predict_s({{"a", 8}, {"b", 8}}), 0.0045 + 0.0005 + 0.00001, 1e-12);
}

TEST(LatencyTable, WeightTrafficIsTheFrequencyIndependentPart) {
  LatencyTable t = two_layers();
  LatencyModel dense = t.predict_model({});
  EXPECT_NEAR(dense.memory_s, 0.004 + 0.0001, 1e-12);
  EXPECT_NEAR(dense.compute_s, 0.003 + 0.004 + 0.002, 1e-12);
  EXPECT_DOUBLE_EQ(dense.f_ref_khz, 2e6);
  LatencyModel sparse = t.variant_model("p50");
  EXPECT_NEAR(sparse.memory_s, 0.0005 + 0.00001, 1e-12);
  EXPECT_NEAR(sparse.compute_s, 0.003 + 0.0015, 1e-12);
  // Halving the frequency doubles only the compute part.
  EXPECT_NEAR(latency_s(dense, 1e6), 2 * dense.compute_s + dense.memory_s, 1e-12);
}

// When the model runs faster than its parts measured apart, the profile scales the compute part
// (remainder and isolated kernel times; no traffic term), which stays the frequency-scaled part.
TEST(LatencyTable, ComputeTimeScaleShrinksTheComputePart) {
  LatencyTable t = two_layers();
  t.weight_traffic_gbs = 0;
  t.compute_time_scale = 0.5;
  EXPECT_NEAR(t.predict_s({}), 0.5 * (0.003 + 0.004 + 0.002), 1e-15);
  const LatencyModel m = t.predict_model({{"a", 8}, {"b", 8}});
  EXPECT_NEAR(m.compute_s, 0.5 * (0.003 + 0.0015), 1e-15);
  EXPECT_EQ(m.memory_s, 0.0);
  LatencyTable u = parse_latency_table(to_json(t), "rt.json");
  EXPECT_EQ(u.compute_time_scale, 0.5);
  // Tables written before the field existed read as 1.
  nlohmann::json old = to_json(two_layers());
  old.erase("compute_time_scale");
  EXPECT_EQ(parse_latency_table(old, "rt.json").compute_time_scale, 1.0);
  old["compute_time_scale"] = 1.5;
  EXPECT_THROW(parse_latency_table(old, "rt.json"), std::runtime_error);
}

TEST(LatencyTable, JsonRoundTrip) {
  LatencyTable t = two_layers();
  LatencyTable u = parse_latency_table(to_json(t), "rt.json");
  EXPECT_EQ(u.layers.size(), 2u);
  EXPECT_EQ(u.layers[0].pattern_s.at(12), 0.0006);
  EXPECT_EQ(u.variant("p50").pruning_numbers.at("b"), 8);
  ASSERT_TRUE(u.variant("p50").accuracy.has_value());
  EXPECT_EQ(*u.variant("p50").accuracy, 0.81);
  EXPECT_FALSE(u.variant("base").accuracy.has_value());
  EXPECT_EQ(to_json(u), to_json(t));
  EXPECT_THROW(u.variant("nope"), std::runtime_error);
}

TEST(LatencyTable, RejectsMalformedWithPath) {
  const nlohmann::json good = to_json(two_layers());
  auto expect_error = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& needle) {
    nlohmann::json j = good;
    edit(j);
    try {
      parse_latency_table(j, "rt.json");
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error([](auto& j) { j["kind"] = "profile"; }, "$.kind");
  expect_error([](auto& j) { j["host"]["khz"] = 0; }, "$.host.khz");
  expect_error([](auto& j) { j["layers"][0]["pattern_s"]["x"] = 1; }, "$.layers[0].pattern_s.x");
  expect_error([](auto& j) { j["layers"][1]["dense_s"] = -1; }, "$.layers[1].dense_s");
  expect_error([](auto& j) { j["layers"][1]["name"] = "a"; }, "duplicate layer");
  expect_error([](auto& j) { j["variants"][1]["pruning_numbers"]["b"] = 12; }, "$.variants[1].pruning_numbers.b");
  expect_error([](auto& j) { j["variants"][1]["pruning_numbers"]["zz"] = 8; }, "not a layer");
  expect_error([](auto& j) { j["variants"][1]["accuracy"] = 83.0; }, "fraction");
  expect_error([](auto& j) { j["variants"].erase(0); }, "base");
  expect_error([](auto& j) { j.erase("remainder_s"); }, "$.remainder_s");
}
