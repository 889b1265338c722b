// The RT3 governor: deadline-meeting choice per level, hysteresis, and the energy-optimal mode
// checked against brute force.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "dvfs/governor.h"

using namespace rt3::dvfs;

namespace {

// Sets of a 2 GHz reference: compute-only latencies 40, 25 and 15 ms at 2 GHz.
std::vector<GovernorSet> three_sets(std::optional<double> a0 = {}, std::optional<double> a1 = {},
                                    std::optional<double> a2 = {}) {
  return {{"dense", a0, {0.040, 0, 2000000}}, {"half", a1, {0.025, 0, 2000000}}, {"sparse", a2, {0.015, 0, 2000000}}};
}

const std::vector<std::uint64_t> kLevels = {500000, 1000000, 1500000, 2000000};

GovernorOptions deadline(double s, double hysteresis = 0.05) {
  GovernorOptions o;
  o.deadline_s = s;
  o.hysteresis = hysteresis;
  return o;
}

// Four efficient OPPs (voltage rises with frequency), 2 cores, static 20 mW, idle 10 mW, base 100 mW.
Profile four_level_profile() {
  return parse_profile(nlohmann::json::parse(R"({
    "name": "g", "soc": "test", "power_model": "energy_model",
    "sources": [{"what": "everything", "where": "assumption: test"}],
    "battery": {"capacity_mah": 1000, "nominal_voltage_v": 4.0, "assumed": true, "note": "assumption: test"},
    "base_power_mw": 100, "idle_power_mw": 10,
    "clusters": [{"name": "big", "cores": 2, "core_type": "X", "capacity_dmips_mhz": 1024,
                  "dynamic_power_coefficient": 100, "static_power_mw": 20,
                  "static_power_source": "assumption: test",
                  "opps": [{"khz": 500000, "uv": 800000}, {"khz": 1000000, "uv": 900000},
                           {"khz": 1500000, "uv": 1000000}, {"khz": 2000000, "uv": 1100000}]}]
  })"), "g.json");
}

}  // namespace

TEST(Governor, ChosenSetMeetsDeadlineAndIsMostAccurate) {
  Governor g(kLevels, three_sets(), deadline(0.1));
  const auto table = g.table();
  ASSERT_EQ(table.size(), kLevels.size());
  for (const auto& row : table) {
    ASSERT_FALSE(row.miss) << row.khz;
    EXPECT_LE(row.latency_s[row.chosen], 0.9 * 0.1) << row.khz;
    for (std::size_t s = 0; s < row.chosen; ++s) EXPECT_GT(row.latency_s[s], 0.9 * 0.1) << "a denser set fits at " << row.khz;
  }
  EXPECT_EQ(table[0].chosen, 2u);  // 500 MHz: dense 160 ms, half 100 ms, sparse 60 ms
  EXPECT_EQ(table[1].chosen, 0u);  // 1 GHz: dense 80 ms <= 90 ms
  EXPECT_NEAR(table[0].latency_s[1], 0.100, 1e-12);
}

TEST(Governor, NoSetFitsPicksTheFastestAndFlagsMiss) {
  Governor g(kLevels, three_sets(), deadline(0.01));
  for (const auto& row : g.table()) {
    EXPECT_TRUE(row.miss);
    EXPECT_EQ(row.chosen, 2u);
  }
}

TEST(Governor, AccuracyOrdersTheSetsWhenKnown) {
  // "half" is the most accurate here: it wins wherever it fits, even over the dense set.
  Governor g(kLevels, three_sets(0.80, 0.90, 0.70), deadline(0.1));
  EXPECT_EQ(g.preference(), (std::vector<std::size_t>{1, 0, 2}));
  EXPECT_EQ(g.choose(2000000).chosen, 1u);
  // One unknown accuracy: back to the given order (least sparse first).
  Governor h(kLevels, three_sets(0.80, std::nullopt, 0.70), deadline(0.1));
  EXPECT_EQ(h.preference(), (std::vector<std::size_t>{0, 1, 2}));
}

TEST(Governor, SnapsUnknownFrequencies) {
  Governor g(kLevels, three_sets(), deadline(0.1));
  EXPECT_EQ(g.snap(1200000), 1000000u);
  EXPECT_EQ(g.snap(1000000), 1000000u);
  EXPECT_EQ(g.snap(100), 500000u);
  EXPECT_EQ(g.snap(9000000), 2000000u);
}

TEST(Governor, CycleScaleStretchesOnlyTheComputePart) {
  GovernorOptions o = deadline(0.1);
  o.cycle_scale = 2.0;
  Governor g(kLevels, {{"m", {}, {0.010, 0.005, 2000000}}}, o);
  EXPECT_NEAR(g.latency_s(0, 1000000), 0.010 * 2 * 2 + 0.005, 1e-15);
}

TEST(Governor, HysteresisPreventsFlappingOnAlternatingLevels) {
  // Dense: 44 ms of compute at 2 GHz. At 1 GHz it takes 88 ms: inside margin x deadline (90 ms)
  // but within the 5 ms band; at 900 MHz it takes 97.8 ms and must leave.
  std::vector<GovernorSet> sets = {{"dense", {}, {0.044, 0, 2000000}}, {"sparse", {}, {0.020, 0, 2000000}}};
  const std::vector<std::uint64_t> levels = {900000, 1000000, 2000000};
  auto count_switches = [&](double hysteresis) {
    Governor g(levels, sets, deadline(0.1, hysteresis));
    int switches = 0;
    std::size_t last = g.on_level(2000000);
    for (int i = 0; i < 40; ++i) {
      const std::uint64_t khz = i % 2 ? 1000000 : 900000;
      const std::size_t s = g.on_level(khz);
      EXPECT_LE(g.latency_s(s, static_cast<double>(khz)), 0.09) << "deadline broken at " << khz;
      switches += s != last;
      last = s;
    }
    return switches;
  };
  EXPECT_EQ(count_switches(0.0), 40);  // without the band it flaps on every change
  EXPECT_EQ(count_switches(0.05), 1);  // with it: one switch down, then it stays
}

TEST(Governor, DowngradeIsImmediateUpgradeNeedsRoom) {
  Governor g(kLevels, three_sets(), deadline(0.1));
  EXPECT_EQ(g.on_level(2000000), 0u);
  EXPECT_EQ(g.on_level(500000), 2u);   // dense would miss: straight to the set that fits
  EXPECT_EQ(g.on_level(2000000), 0u);  // dense takes 40 ms, far below 85 ms: back up at once
  EXPECT_EQ(g.on_level(1000000), 0u);  // 80 ms: still fits, no change
  EXPECT_EQ(g.current(), std::optional<std::size_t>(0));
}

TEST(Governor, RejectsBadInput) {
  EXPECT_THROW(Governor({}, three_sets(), deadline(0.1)), std::runtime_error);
  EXPECT_THROW(Governor(kLevels, {}, deadline(0.1)), std::runtime_error);
  EXPECT_THROW(Governor(kLevels, three_sets(), deadline(0)), std::runtime_error);
  GovernorOptions o = deadline(0.1);
  o.hysteresis = 0.95;
  EXPECT_THROW(Governor(kLevels, three_sets(), o), std::runtime_error);
}

TEST(Governor, ChooseFrequencyIsMinimalByBruteForce) {
  const Profile p = four_level_profile();
  const auto levels = p.usable_levels();
  ASSERT_EQ(levels.size(), 4u);
  std::vector<std::uint64_t> khz;
  for (const auto& l : levels) khz.push_back(l.khz);
  for (double period : {0.1, 0.5, 2.0})
    for (std::optional<double> floor : {std::optional<double>{}, std::optional<double>{0.85}}) {
      Governor g(khz, three_sets(0.92, 0.88, 0.80), deadline(0.1));
      ChooseOptions co;
      co.period_s = period;
      co.min_accuracy = floor;
      co.energy.include_base = true;
      const auto best = choose_frequency(p, levels, g, co);
      ASSERT_TRUE(best.has_value());
      double brute = std::numeric_limits<double>::infinity();
      for (const auto& l : levels)
        for (std::size_t s = 0; s < 3; ++s) {
          const double lat = g.sets()[s].latency.compute_s * 2000000.0 / static_cast<double>(l.khz);
          if (lat > 0.09 || (floor && *g.sets()[s].accuracy < *floor)) continue;
          // Energy written out: (P_dyn + static + base) x latency + (idle + base) x (period - latency).
          const double active_mw = l.dynamic_power_mw() + 20 + 100;
          brute = std::min(brute, active_mw * 1e-3 * lat + (10 + 100) * 1e-3 * (period - lat));
        }
      EXPECT_NEAR(best->energy_j, brute, 1e-12) << period;
      EXPECT_LE(best->latency_s, 0.09);
      if (floor) {
        EXPECT_GE(*g.sets()[best->set].accuracy, *floor);
      }
    }
}

TEST(Governor, ChooseFrequencyTiesGoToTheMoreAccurateSet) {
  const Profile p = four_level_profile();
  const auto levels = p.usable_levels();
  std::vector<std::uint64_t> khz;
  for (const auto& l : levels) khz.push_back(l.khz);
  // Same latency everywhere, different accuracy: the energy ties exactly.
  Governor g(khz, {{"a", 0.70, {0.02, 0, 2000000}}, {"b", 0.90, {0.02, 0, 2000000}}}, deadline(0.1));
  ChooseOptions co;
  co.period_s = 0.2;
  const auto best = choose_frequency(p, levels, g, co);
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(g.sets()[best->set].name, "b");
}

TEST(Governor, ChooseFrequencyNeedsAccuraciesForAFloorAndRespectsTheCap) {
  const Profile p = four_level_profile();
  const auto levels = p.usable_levels();
  std::vector<std::uint64_t> khz;
  for (const auto& l : levels) khz.push_back(l.khz);
  Governor g(khz, three_sets(), deadline(0.1));
  ChooseOptions co;
  co.period_s = 0.2;
  co.min_accuracy = 0.5;
  EXPECT_THROW(choose_frequency(p, levels, g, co), std::runtime_error);
  co.min_accuracy.reset();
  co.max_khz = 500000;
  const auto best = choose_frequency(p, levels, g, co);
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->level, 0u);
  EXPECT_EQ(g.sets()[best->set].name, "sparse");  // the only set that fits at 500 MHz
  co.max_khz = 100;                               // below every level
  EXPECT_FALSE(choose_frequency(p, levels, g, co).has_value());
}

TEST(Governor, SetsFromTableRescaleToTheMeasuredLatency) {
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
  const auto sets = sets_from_table(t);
  ASSERT_EQ(sets.size(), 2u);
  // base: predicted compute 40 ms + memory 4 ms, scaled x2 to the measured 88 ms.
  EXPECT_NEAR(sets[0].latency.compute_s, 0.080, 1e-12);
  EXPECT_NEAR(sets[0].latency.memory_s, 0.008, 1e-12);
  EXPECT_EQ(sets[0].accuracy, std::optional<double>(0.9));
  // p2 was not measured: the prediction as is (25 ms compute + 2 ms memory).
  EXPECT_NEAR(sets[1].latency.compute_s, 0.025, 1e-12);
  EXPECT_NEAR(sets[1].latency.memory_s, 0.002, 1e-12);
}
