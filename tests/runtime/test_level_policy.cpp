// What the engine runs at each level (dvfs/level_policy.h): the bundle's level table, or where
// the engine's own deadline-mode loop settles, and the energy-optimal level checked against brute
// force.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "dvfs/adaptation_models.h"
#include "dvfs/level_policy.h"
#include "tests/common/test_profiles.h"

using namespace rt3;
using namespace rt3::dvfs;

namespace {

// Sets of a 2 GHz reference: compute-only latencies 40, 25 and 15 ms at 2 GHz.
std::vector<SimSet> three_sets(std::optional<double> a0 = {}, std::optional<double> a1 = {},
                               std::optional<double> a2 = {}) {
  return {{"dense", a0, {0.040, 0, 2000000}}, {"half", a1, {0.025, 0, 2000000}}, {"sparse", a2, {0.015, 0, 2000000}}};
}

const std::vector<std::uint64_t> kLevels = {500000, 1000000, 1500000, 2000000};

// Four efficient OPPs (tests/common/test_profiles.h).
Profile four_level_profile() { return rt3::test_util::four_level_profile(); }

// One layer, base measured at 88 ms (twice its 44 ms prediction), p2 not measured.
LatencyTable two_variant_table() {
  LatencyTable t;
  t.host_khz = 2000000;
  t.weight_traffic_gbs = 1;  // 1 GB/s: 4 MB of weights = 4 ms of traffic
  t.remainder_s = 0.010;
  LayerLatency l;
  l.name = "l";
  l.dense_s = 0.030;
  l.dense_bytes = 4e6;
  l.pattern_s = {{2, 0.015}};
  l.pattern_bytes = {{2, 2e6}};
  t.layers = {l};
  t.variants = {{"base", 0, {}, 0.088, 0.044, 0.9}, {"p2", 0.5, {{"l", 2}}, 0, 0.027, std::nullopt}};
  return t;
}

}  // namespace

TEST(LevelPolicy, TableModeAppliesTheBundlesLevelTableWithSnapping) {
  adapt::PolicySpec spec = spec_from_sets(three_sets());
  // The bundle was searched for levels 600 MHz (sparse) and 1.2 GHz (dense): 1 GHz snaps down to
  // 600 MHz, 500 MHz (below every bundle level) counts as the lowest.
  spec.levels = adapt::LevelTable({{600000, 2}, {1200000, 0}});
  const LevelPolicy p = engine_level_policy(spec, three_sets(), kLevels, 0.1);
  EXPECT_EQ(p.mode, AdaptMode::kTable);
  EXPECT_EQ(p.chosen, (std::vector<std::size_t>{2, 2, 0, 0}));
  EXPECT_TRUE(p.note.empty());
}

TEST(LevelPolicy, DeadlineModeSettlesOnTheMostAccurateSetWithinItsMargin) {
  // Fresh at each level, the closed loop starts on the most accurate set and moves down until the
  // measured latency fits margin x deadline (adapt::DeadlineOptions: 0.9): the rule below, by brute force.
  const double margin = adapt::DeadlineOptions{}.margin;
  for (double deadline : {0.03, 0.05, 0.1, 0.2}) {
    const auto sets = three_sets(0.92, 0.88, 0.80);
    const LevelPolicy p = engine_level_policy(spec_from_sets(sets), sets, kLevels, deadline);
    EXPECT_EQ(p.mode, AdaptMode::kDeadline);
    for (std::size_t l = 0; l < kLevels.size(); ++l) {
      std::size_t want = 2;  // the fastest when none fits
      for (std::size_t s = 0; s < 3; ++s)
        if (p.latency_s(s, l) <= margin * deadline) {
          want = s;
          break;
        }
      EXPECT_EQ(p.chosen[l], want) << "deadline " << deadline << " level " << kLevels[l];
    }
  }
}

TEST(LevelPolicy, AVariantTheTableLacksIsAClearError) {
  adapt::PolicySpec spec = spec_from_sets(three_sets());
  spec.variants[2] = "p99";
  spec.levels = adapt::LevelTable({{600000, 2}});
  try {
    engine_level_policy(spec, three_sets(), kLevels, 0.1);
    FAIL() << "accepted a variant the latency table lacks";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("variant 'p99'"), std::string::npos) << e.what();
  }
}

TEST(LevelPolicy, ChooseFrequencyIsMinimalByBruteForce) {
  const Profile p = four_level_profile();
  const auto levels = p.usable_levels();
  ASSERT_EQ(levels.size(), 4u);
  for (double period : {0.1, 0.5, 2.0})
    for (std::optional<double> floor : {std::optional<double>{}, std::optional<double>{0.85}}) {
      const auto sets = three_sets(0.92, 0.88, 0.80);
      const LevelPolicy g = engine_level_policy(spec_from_sets(sets), sets, kLevels, 0.1);
      ChooseOptions co;
      co.period_s = period;
      co.margin = 0.9;
      co.min_accuracy = floor;
      co.energy.include_base = true;
      const auto best = choose_frequency(p, levels, g, co);
      ASSERT_TRUE(best.has_value());
      double brute = std::numeric_limits<double>::infinity();
      for (std::size_t l = 0; l < levels.size(); ++l) {
        const SimSet& s = g.sets[g.chosen[l]];
        const double lat = s.latency.compute_s * 2000000.0 / static_cast<double>(levels[l].khz);
        if (lat > 0.09 || (floor && *s.accuracy < *floor)) continue;
        // Energy written out: (P_dyn + static + base) x latency + (idle + base) x (period - latency).
        const double active_mw = levels[l].dynamic_power_mw() + 20 + 100;
        brute = std::min(brute, active_mw * 1e-3 * lat + (10 + 100) * 1e-3 * (period - lat));
      }
      EXPECT_NEAR(best->energy_j, brute, 1e-12) << period;
      EXPECT_LE(best->latency_s, 0.09);
      if (floor) {
        EXPECT_GE(*g.sets[g.chosen[best->level]].accuracy, *floor);
      }
    }
}

TEST(LevelPolicy, ChooseFrequencyNeedsAccuraciesForAFloorAndRespectsTheCap) {
  const Profile p = four_level_profile();
  const auto levels = p.usable_levels();
  const LevelPolicy g = engine_level_policy(spec_from_sets(three_sets()), three_sets(), kLevels, 0.1);
  ChooseOptions co;
  co.period_s = 0.2;
  co.min_accuracy = 0.5;
  EXPECT_THROW(choose_frequency(p, levels, g, co), std::runtime_error);
  co.min_accuracy.reset();
  co.max_khz = 500000;
  const auto best = choose_frequency(p, levels, g, co);
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->level, 0u);
  EXPECT_EQ(g.sets[g.chosen[best->level]].name, "sparse");  // the only set that fits at 500 MHz
  co.max_khz = 100;                                          // below every level
  EXPECT_FALSE(choose_frequency(p, levels, g, co).has_value());
}

TEST(LevelPolicy, SetsFromTableRescaleToTheMeasuredLatencyAndStretchCompute) {
  const LatencyTable t = two_variant_table();
  const auto sets = sets_from_table(t, 1.5);
  ASSERT_EQ(sets.size(), 2u);
  // base: predicted compute 40 ms + memory 4 ms, scaled x2 to the measured 88 ms; compute x1.5.
  EXPECT_NEAR(sets[0].latency.compute_s, 0.080 * 1.5, 1e-12);
  EXPECT_NEAR(sets[0].latency.memory_s, 0.008, 1e-12);
  EXPECT_EQ(sets[0].accuracy, std::optional<double>(0.9));
  // p2 was not measured: the prediction as is (25 ms compute + 2 ms memory).
  EXPECT_NEAR(sets[1].latency.compute_s, 0.025 * 1.5, 1e-12);
  EXPECT_NEAR(sets[1].latency.memory_s, 0.002, 1e-12);
  EXPECT_THROW(sets_from_table(t, 0.0), std::invalid_argument);
}

TEST(AdaptationModels, FromTableAreTheMeasuredModelsWithComputeStretched) {
  const LatencyTable t = two_variant_table();
  const format::AdaptationInfo a = adaptation_from_table(t, 2.0, 0.05);
  EXPECT_EQ(a.deadline_s, std::optional<double>(0.05));
  EXPECT_EQ(a.cycle_scale, 2.0);
  ASSERT_EQ(a.variants.size(), 2u);
  const auto& base = a.variants.at("base");
  EXPECT_NEAR(base.compute_s, 0.080 * 2, 1e-12);  // measured split (see above), compute x cycle scale
  EXPECT_NEAR(base.memory_s, 0.008, 1e-12);
  EXPECT_EQ(base.f_ref_khz, 2000000);
  EXPECT_EQ(base.accuracy, std::optional<double>(0.9));
  EXPECT_FALSE(a.variants.at("p2").accuracy.has_value());
  EXPECT_THROW(device_model({0.01, 0, 1}, 0.0, {}), std::invalid_argument);
}
