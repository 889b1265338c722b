// Battery simulation: workload parsing, the dense baselines against the energy model formula,
// schedutil's operating point, the battery saver with and without RT3.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "dvfs/simulate.h"
#include "tests/common/test_profiles.h"

using namespace rt3::dvfs;

namespace {

// Four efficient OPPs 500..2000 MHz (tests/common/test_profiles.h).
Profile sim_profile() { return rt3::test_util::four_level_profile(); }

// Compute-only latencies at 2 GHz (no memory bandwidth given): base = remainder + dense layer,
// p2 / p4 use the layer's pattern times. One thread.
LatencyTable sim_table(double remainder, double dense, double p2, double p4) {
  LatencyTable t;
  t.bundle = "test.rt3";
  t.model_type = "distilbert_classifier";
  t.host_khz = 2000000;
  t.remainder_s = remainder;
  LayerLatency l;
  l.name = "l";
  l.rows = l.cols = 8;
  l.dense_s = dense;
  l.pattern_s = {{2, p2}, {4, p4}};
  t.layers = {l};
  t.variants = {{"base", 0, {}, 0, 0, 0.90}, {"p2", 0.5, {{"l", 2}}, 0, 0, 0.88}, {"p4", 0.75, {{"l", 4}}, 0, 0, 0.84}};
  return t;
}

SimulationOptions opts(double period, double deadline) {
  SimulationOptions o;
  o.workload = {period, deadline, std::nullopt};
  return o;
}

}  // namespace

TEST(SimulateWorkload, ParsesUnitsAndRejectsBadSyntax) {
  Workload w = parse_workload("period=200ms,deadline=0.1s,duration=2h");
  EXPECT_DOUBLE_EQ(w.period_s, 0.2);
  EXPECT_DOUBLE_EQ(w.deadline_s, 0.1);
  EXPECT_EQ(w.duration_s, std::optional<double>(7200));
  EXPECT_DOUBLE_EQ(parse_workload("deadline=50us,period=1min").period_s, 60);
  EXPECT_FALSE(parse_workload("period=1,deadline=1").duration_s.has_value());
  for (const char* bad : {"", "period=200ms", "deadline=1ms", "period=200ms,deadline=100xs", "period=abc,deadline=1ms",
                          "period=200ms,deadline=300ms", "period=200ms,deadline=100ms,color=red", "period200ms",
                          "period=200ms,period=100ms,deadline=1ms", "period=-5ms,deadline=1ms"}) {
    try {
      parse_workload(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("expected e.g."), std::string::npos) << e.what();
    }
  }
}

TEST(Simulate, MaxDenseLifeMatchesTheEnergyModelFormula) {
  const Profile p = sim_profile();
  const LatencyTable t = sim_table(0.010, 0.030, 0.015, 0.008);  // base 40 ms at 2 GHz
  const SimulationResult r = simulate(p, t, opts(0.2, 0.1));
  const PolicyResult& a = r.policy("max_dense");
  ASSERT_TRUE(a.emptied);
  // Independently: one core busy 40 ms at 2 GHz, base charged all period.
  const Opp& top = p.usable_levels().back();
  const double life = battery_life_s(p, top, {0.2, 0.040}, {1, true});
  EXPECT_NEAR(a.time_s / life, 1.0, 1e-9);
  EXPECT_EQ(a.misses, 0u);
  EXPECT_NEAR(a.energy_per_inference_j(), (top.dynamic_power_mw() + 20 + 100) * 1e-3 * 0.040, 1e-12);
  EXPECT_NEAR(a.average_power_mw(), average_power_mw(p, top, {0.2, 0.040}, {1, true}), 1e-6);
  EXPECT_NEAR(a.energy_j, r.battery_energy_j, 1e-6 * r.battery_energy_j);
  EXPECT_NEAR(*a.accuracy, 0.90, 1e-12);
  EXPECT_NEAR(a.level_time_s.back(), a.time_s, 1e-6 * a.time_s);
}

TEST(Simulate, MinDensePicksTheLowestLevelMeetingTheDeadline) {
  // Base 40 ms at 2 GHz: 80 ms at 1 GHz (fits 90 ms), 160 ms at 500 MHz (does not).
  const SimulationResult r = simulate(sim_profile(), sim_table(0.010, 0.030, 0.015, 0.008), opts(0.2, 0.1));
  const PolicyResult& b = r.policy("min_dense");
  EXPECT_NEAR(b.level_time_s[1], b.time_s, 1e-6 * b.time_s);
  EXPECT_EQ(b.misses, 0u);
  // RT3 can run any pair (b) can, so it never lasts shorter than (a) or (b).
  EXPECT_GE(r.ratio("min_dense"), 1.0 - 1e-12);
  EXPECT_GE(r.ratio("max_dense"), 1.0 - 1e-12);
  EXPECT_EQ(r.policy("rt3").misses, 0u);
}

TEST(Simulate, SchedutilSettlesOnTheExpectedOpp) {
  // Compute-only dense latency 50 ms at 2 GHz, period 100 ms: frequency-invariant utilisation
  // u = 0.5 at every level, so next f = smallest OPP >= 1.25 x 2000 x 0.5 = 1250 MHz -> 1500 MHz.
  const SimulationResult r = simulate(sim_profile(), sim_table(0.010, 0.040, 0.02, 0.01), opts(0.1, 0.1));
  const PolicyResult& c = r.policy("schedutil_dense");
  EXPECT_GT(c.level_time_s[2] / c.time_s, 0.9999);  // 1500 MHz after the first period at 2 GHz
  EXPECT_NEAR(c.level_time_s[3], 0.1, 1e-9);         // exactly one period at fmax
  // At 1500 MHz dense takes 66.7 ms: within the 100 ms deadline.
  EXPECT_EQ(c.misses, 0u);
}

TEST(Simulate, SchedutilIgnoresTheDeadline) {
  // Same utilisation, but a 60 ms deadline: schedutil still settles at 1500 MHz (66.7 ms) and misses.
  const SimulationResult r = simulate(sim_profile(), sim_table(0.010, 0.040, 0.02, 0.01), opts(0.1, 0.06));
  const PolicyResult& c = r.policy("schedutil_dense");
  EXPECT_GT(c.miss_rate(), 0.999);
  EXPECT_EQ(r.policy("rt3").misses, 0u);
}

TEST(Simulate, BatterySaverDenseMissesWhereRt3DoesNot) {
  // Period 200 ms, deadline 100 ms. Below 20 % the cap is 500 MHz: dense takes 160 ms (misses),
  // p4 takes 4 x 18 ms = 72 ms (fits). Between 20 and 50 % the cap is 1500 MHz: dense fits.
  const SimulationResult r = simulate(sim_profile(), sim_table(0.010, 0.030, 0.015, 0.008), opts(0.2, 0.1));
  const PolicyResult& dense = r.policy("saver_dense");
  const PolicyResult& rt3 = r.policy("saver_rt3");
  EXPECT_GT(dense.misses, 0u);
  EXPECT_NEAR(dense.miss_rate(), 0.2, 0.02);  // about the last 20 % of the charge
  EXPECT_EQ(rt3.misses, 0u);
  EXPECT_GT(rt3.set_time_s[2], 0.0);  // it switched to the sparse set under the low cap
  EXPECT_GT(rt3.set_time_s[0], 0.0);  // and ran dense while the cap allowed it
  ASSERT_TRUE(rt3.accuracy.has_value());
  EXPECT_LT(*rt3.accuracy, 0.90);
  EXPECT_GT(*rt3.accuracy, 0.84);
  // The samples follow the cap schedule: 2 GHz, then 1500 MHz, then 500 MHz.
  std::vector<std::uint64_t> seen;
  for (const auto& s : rt3.samples)
    if (seen.empty() || seen.back() != s.khz) seen.push_back(s.khz);
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{2000000, 1500000, 500000}));
}

TEST(Simulate, LatencyLongerThanThePeriodDropsRequests) {
  // Base 40 ms at 2 GHz x 4 at 500 MHz = 160 ms > a 100 ms period: two requests per cycle, both
  // missed, one served.
  SimulationOptions o = opts(0.1, 0.1);
  const SimulationResult r = simulate(sim_profile(), sim_table(0.010, 0.030, 0.015, 0.008), o);
  const PolicyResult& d = r.policy("saver_dense");
  // Below 20 %: every request misses, half are dropped.
  EXPECT_GT(d.misses, 0u);
  EXPECT_GT(d.requests, d.served);
  EXPECT_EQ(d.requests - d.served, d.misses / 2 + (d.misses % 2));  // dropped = half of the low-cap misses
}

TEST(Simulate, DurationCapStopsEarlyAndProjects) {
  SimulationOptions o = opts(0.2, 0.1);
  const LatencyTable t = sim_table(0.010, 0.030, 0.015, 0.008);
  const SimulationResult full = simulate(sim_profile(), t, o);
  o.workload.duration_s = 3600;
  const SimulationResult capped = simulate(sim_profile(), t, o);
  const PolicyResult& a = capped.policy("max_dense");
  EXPECT_FALSE(a.emptied);
  EXPECT_NEAR(a.time_s, 3600, 0.2);
  EXPECT_NEAR(a.projected_life_s / full.policy("max_dense").time_s, 1.0, 1e-9);
}

TEST(Simulate, MinAccuracyFloorIsRespected) {
  SimulationOptions o = opts(0.2, 0.1);
  o.min_accuracy = 0.87;
  const SimulationResult r = simulate(sim_profile(), sim_table(0.010, 0.030, 0.015, 0.008), o);
  EXPECT_GE(*r.policy("rt3").accuracy, 0.87);
}

TEST(Simulate, SensitivityCoversTheGridAndRt3NeverLoses) {
  const auto cells = sensitivity(sim_profile(), sim_table(0.010, 0.030, 0.015, 0.008), opts(0.2, 0.1),
                                 {0.05, 0.1, 0.2, 0.5, 1.0}, {0, 100, 300, 500, 1000});
  ASSERT_EQ(cells.size(), 25u);
  for (const auto& c : cells) {
    EXPECT_GE(c.rt3_over_max, 1.0 - 1e-12) << c.period_s << " " << c.base_power_mw;
    EXPECT_GE(c.rt3_over_min, 1.0 - 1e-12) << c.period_s << " " << c.base_power_mw;
  }
  // A larger base power dilutes what the CPU saves.
  EXPECT_GT(cells[10].rt3_over_max, cells[14].rt3_over_max);
}

TEST(Simulate, RejectsADeadlineLongerThanThePeriod) {
  EXPECT_THROW(simulate(sim_profile(), sim_table(0.01, 0.03, 0.015, 0.008), opts(0.1, 0.2)), std::runtime_error);
}
