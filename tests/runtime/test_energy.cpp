// Energy model formulas on hand-computed examples.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dvfs/energy_model.h"
#include "tests/common/test_profiles.h"

using namespace rt3::dvfs;

namespace {

// One cluster of 2 cores, coefficient 100 uW/MHz/V^2; OPPs 1000 MHz @ 1.0 V and 2000 MHz @ 1.2 V:
//   1000 MHz: 100 x 1000 x 1000 x 1000 / 1e6 = 100,000 uW = 100 mW per core
//   2000 MHz: 100 x 1200 x 1200 x 2000 / 1e6 = 288,000 uW = 288 mW per core
// static 20 mW per cluster, idle 10 mW, base 100 mW, battery 1000 mAh at 4.0 V (tests/common/test_profiles.h).
Profile test_profile() { return rt3::test_util::one_cluster_profile({{1000000, 1000000}, {2000000, 1200000}}); }

}  // namespace

TEST(Energy, PerOppPower) {
  Profile p = test_profile();
  const auto& o = p.inference().opps;
  EXPECT_EQ(o[0].dynamic_power_uw, 100000u);
  EXPECT_EQ(o[1].dynamic_power_uw, 288000u);
  EXPECT_DOUBLE_EQ(o[1].core_power_mw, 288 + 10);        // + half the cluster's static power
  EXPECT_DOUBLE_EQ(o[1].cluster_power_mw, 2 * 288 + 20);  // both cores + static
}

TEST(Energy, InferenceEnergy) {
  Profile p = test_profile();
  const Opp& hi = p.inference().opps[1];
  // One core at 2000 MHz for 50 ms: (288 + 20) mW x 0.05 s = 15.4 mJ.
  EXPECT_NEAR(inference_energy_j(p, hi, 0.05), 0.0154, 1e-12);
  // Two cores + base: (2 x 288 + 20 + 100) mW x 0.05 s = 34.8 mJ.
  EXPECT_NEAR(inference_energy_j(p, hi, 0.05, {2, true}), 0.0348, 1e-12);
  EXPECT_THROW(inference_energy_j(p, hi, 0.05, {3, false}), std::runtime_error);
}

TEST(Energy, IdleEnergy) {
  Profile p = test_profile();
  EXPECT_NEAR(idle_energy_j(p, 2.0), 0.020, 1e-12);        // 10 mW x 2 s
  EXPECT_NEAR(idle_energy_j(p, 2.0, true), 0.220, 1e-12);  // (10 + 100) mW x 2 s
  EXPECT_THROW(idle_energy_j(p, -1.0), std::runtime_error);
}

TEST(Energy, LatencyScaling) {
  // 100 ms at 2000 MHz, 80 % compute-bound: 80 ms scales, 20 ms does not.
  LatencyModel m = split_latency(0.100, 2000000, 0.8);
  EXPECT_NEAR(m.compute_s, 0.080, 1e-15);
  EXPECT_NEAR(m.memory_s, 0.020, 1e-15);
  EXPECT_NEAR(latency_s(m, 2000000), 0.100, 1e-15);
  EXPECT_NEAR(latency_s(m, 1000000), 0.080 * 2 + 0.020, 1e-15);  // 180 ms at half frequency
  EXPECT_NEAR(latency_s(split_latency(0.1, 2000000, 1.0), 500000), 0.4, 1e-15);
  EXPECT_THROW(split_latency(0.1, 2000000, 1.5), std::runtime_error);
}

TEST(Energy, BatteryEnergy) {
  Battery b{1000, 4.0, true, ""};
  EXPECT_DOUBLE_EQ(battery_energy_j(b), 14400.0);  // 1000 mAh x 4 V x 3.6 J/mWh
  EXPECT_DOUBLE_EQ(battery_energy_j(Battery{2915, 3.85, false, ""}), 2915 * 3.85 * 3.6);
}

TEST(Energy, PeriodicBatteryLife) {
  Profile p = test_profile();
  const Opp& lo = p.inference().opps[0];
  // One inference per second taking 200 ms at 1000 MHz on one core:
  //   active (100 + 20) mW x 0.2 s = 24 mJ; idle 10 mW x 0.8 s = 8 mJ -> 32 mJ per 1 s = 32 mW.
  PeriodicWorkload w{1.0, 0.2};
  EXPECT_NEAR(average_power_mw(p, lo, w), 32.0, 1e-9);
  // 14400 J / 0.032 W = 450,000 s = 125 h.
  EXPECT_NEAR(battery_life_s(p, lo, w), 450000.0, 1e-6);
  // With base power 100 mW all the time: 32 + 100 = 132 mW -> 14400 / 0.132 s.
  EXPECT_NEAR(battery_life_s(p, lo, w, {1, true}), 14400.0 / 0.132, 1e-6);
  // A latency beyond the period is a missed deadline, not a battery life.
  EXPECT_THROW(average_power_mw(p, lo, PeriodicWorkload{0.1, 0.2}), std::runtime_error);
}

TEST(Energy, RaceToIdleVsSlowOnRk3399) {
  // Sanity on a real profile: at the same work, a fully compute-bound inference costs less energy
  // at an efficient OPP than at the inefficient one below it (the point of the inefficient flag).
  Profile p = load_profile(std::string(RT3_SOURCE_DIR) + "/profiles/rk3399.json");
  const auto& opps = p.inference().opps;
  ASSERT_TRUE(opps[0].inefficient);
  LatencyModel m = split_latency(0.1, static_cast<double>(opps[2].khz), 1.0);
  double e408 = inference_energy_j(p, opps[0], latency_s(m, opps[0].khz));
  double e816 = inference_energy_j(p, opps[2], latency_s(m, opps[2].khz));
  EXPECT_GT(e408, e816);
}
