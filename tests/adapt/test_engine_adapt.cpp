// The engine's adaptation modes end to end on a tiny DistilBERT bundle with three pattern
// variants, a level table, latency models and a device profile (tests/common/variant_bundles.h
// AdaptationFixture), through the C++ and the C API.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "rt3/engine.h"
#include "rt3/rt3.h"
#include "runtime/adapt/cpufreq_reader.h"
#include "tests/common/test_util.h"
#include "tests/common/variant_bundles.h"

namespace rt3 {
namespace {

struct Fixture : ::testing::Test {
  test_util::TempDir dir{"rt3_adapt"};
  std::string adaptive = dir.file("adaptive.rt3"), plain = dir.file("plain.rt3");
  void SetUp() override {
    const test_util::VariantModel m = test_util::make_variant_bert();
    m.write_adaptive(adaptive);
    m.write(plain);
  }
  int index(const Engine& e, const std::string& name) {
    const auto& v = e.variants();
    return static_cast<int>(std::find(v.begin(), v.end(), name) - v.begin());
  }
};

TEST_F(Fixture, TableModeRunsWhatTheBundleSays) {
  auto e = Engine::load(adaptive);
  EXPECT_EQ(e->adapt_mode(), AdaptMode::kManual);
  EXPECT_EQ(e->adapt_support(AdaptMode::kTable), "");
  e->set_adapt_mode(AdaptMode::kTable);
  // Before any frequency: the highest level.
  ClassifyResult r = e->classify("free money");
  EXPECT_EQ(e->variants()[r.variant], "base");
  EXPECT_EQ(r.info.level_khz, 1800000u);
  EXPECT_EQ(r.info.cpu_khz, 0u);
  const struct {
    uint64_t khz, level;
    const char* variant;
  } cases[] = {{1200000, 1200000, "p50"}, {1000000, 800000, "p75"}, {300000, 400000, "p88"}, {2500000, 1800000, "base"}};
  for (const auto& c : cases) {
    e->set_cpu_khz(c.khz);
    r = e->classify("free money");
    EXPECT_EQ(e->variants()[r.variant], c.variant) << c.khz;
    EXPECT_EQ(r.variant, r.info.variant);
    EXPECT_EQ(r.info.mode, AdaptMode::kTable);
    EXPECT_EQ(r.info.cpu_khz, c.khz);
    EXPECT_EQ(r.info.level_khz, c.level);
    EXPECT_EQ(e->active_variant(), r.variant);
    EXPECT_GT(r.info.latency_ms, 0);
  }
  // p75 at 800 MHz: 1.8 ms x 1.8/0.8 + 0.5 ms; energy = (1 core x 400 x 0.9^2 x 800 uW + 50 mW) x it.
  e->set_cpu_khz(800000);
  r = e->classify("free money");
  const double predicted = 1.8 * 1.8 / 0.8 + 0.5;
  EXPECT_NEAR(r.info.predicted_ms, predicted, 1e-9);
  EXPECT_TRUE(e->has_energy_model()) << e->energy_support();
  EXPECT_EQ(e->energy_support(), "");
  EXPECT_NEAR(r.info.energy_mj, (400 * 900.0 * 900.0 * 800 / 1e6 / 1e3 + 50) * predicted * 1e-3, 1e-9);
  // The policy owns the choice: a manual select is refused until the app goes back to manual.
  const std::string msg = test_util::error_of([&] { e->select_variant(0); });
  EXPECT_NE(msg.find("table mode"), std::string::npos) << msg;
  e->set_adapt_mode(AdaptMode::kManual);
  e->select_variant("p50");
  EXPECT_EQ(e->classify("x").variant, index(*e, "p50"));
}

TEST_F(Fixture, CountersTotalPerVariant) {
  auto e = Engine::load(adaptive);
  e->set_deadline_ms(1e6);
  e->set_adapt_mode(AdaptMode::kTable);
  e->set_cpu_khz(400000);
  for (int i = 0; i < 3; ++i) e->classify("a");
  e->set_cpu_khz(1800000);
  e->classify("b");
  std::vector<VariantStats> s = e->adapt_stats();
  ASSERT_EQ(s.size(), e->variants().size());
  EXPECT_EQ(s[index(*e, "p88")].inferences, 3u);
  EXPECT_EQ(s[index(*e, "base")].inferences, 1u);
  EXPECT_EQ(s[index(*e, "p50")].inferences, 0u);
  EXPECT_GT(s[index(*e, "p88")].seconds, 0);
  EXPECT_EQ(s[index(*e, "p88")].misses, 0u);
  EXPECT_EQ(s[index(*e, "p88")].energy_inferences, 3u);
  EXPECT_GT(s[index(*e, "p88")].energy_mj, 0);
  e->set_deadline_ms(1e-6);  // every inference now misses
  e->classify("c");
  EXPECT_EQ(e->adapt_stats()[index(*e, "base")].misses, 1u);
  e->reset_adapt_stats();
  for (const VariantStats& v : e->adapt_stats()) EXPECT_EQ(v.inferences, 0u);
}

TEST_F(Fixture, CpufreqModeReadsTheFakeTree) {
  test_util::TempDir sys("rt3_sysfs");
  auto set_all = [&](const char* khz) {
    for (int c = 0; c < 4; ++c)
      test_util::write_text(sys.path() / ("cpu" + std::to_string(c)) / "cpufreq" / "scaling_cur_freq", khz);
  };
  set_all("1200000\n");
  EngineOptions o;
  o.cpufreq_root = sys.path().string();
  auto e = Engine::load(adaptive, o);
  e->set_adapt_mode(AdaptMode::kCpufreq);
  ClassifyResult r = e->classify("free money");
  EXPECT_EQ(e->variants()[r.variant], "p50");
  EXPECT_EQ(r.info.cpu_khz, 1200000u);
  set_all("400000\n");
  std::this_thread::sleep_for(std::chrono::nanoseconds(2 * adapt::CpufreqReader::kRefreshNs));  // the reader's cache
  r = e->classify("free money");
  EXPECT_EQ(e->variants()[r.variant], "p88");
  EXPECT_EQ(r.info.mode, AdaptMode::kCpufreq);

  EngineOptions missing;
  missing.cpufreq_root = sys.file("no-such-dir");
  auto m = Engine::load(adaptive, missing);
  const std::string msg = test_util::error_of([&] { m->set_adapt_mode(AdaptMode::kCpufreq); });
  EXPECT_NE(msg.find("no-such-dir"), std::string::npos) << msg;
  EXPECT_EQ(m->adapt_mode(), AdaptMode::kManual);  // a failed switch changes nothing
}

TEST_F(Fixture, DeadlineModeFollowsItsOwnLatencies) {
  auto e = Engine::load(adaptive);
  e->set_adapt_mode(AdaptMode::kDeadline);  // the bundle's 10 ms
  EXPECT_DOUBLE_EQ(e->deadline_ms(), 10.0);
  // A generous deadline: the most accurate variant throughout.
  e->set_deadline_ms(1e5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(e->classify("free money").variant, index(*e, "base"));
  // A deadline no variant can meet: after one measurement the fastest one.
  e->set_deadline_ms(1e-4);
  e->classify("free money");
  ClassifyResult r = e->classify("free money");
  EXPECT_EQ(r.variant, index(*e, "p88"));
  EXPECT_EQ(r.info.mode, AdaptMode::kDeadline);
  EXPECT_GT(r.info.slowdown, 0);
  EXPECT_GT(r.info.predicted_ms, 0);
  EXPECT_TRUE(r.info.deadline_missed);
  EXPECT_LT(r.info.energy_mj, 0);  // no level known in deadline mode without set_cpu_khz
  e->set_cpu_khz(800000);
  EXPECT_GT(e->classify("free money").info.energy_mj, 0);
}

TEST_F(Fixture, DeadlineModeCountsTheTimeARequestWaited) {
  auto e = Engine::load(adaptive);
  e->set_deadline_ms(1000);
  e->set_adapt_mode(AdaptMode::kDeadline);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(e->classify("free money").variant, index(*e, "base"));
  // A request that arrived 2 s ago has no time left: the fastest variant, and a miss although the
  // inference itself took far less than the deadline.
  ClassifyResult late = e->classify("free money", std::chrono::steady_clock::now() - std::chrono::seconds(2));
  EXPECT_EQ(late.variant, index(*e, "p88"));
  EXPECT_GE(late.info.waited_ms, 2000);
  EXPECT_LT(late.info.latency_ms, 1000);
  EXPECT_TRUE(late.info.deadline_missed);
  // The next request that did not wait runs on base again, and its wait is 0.
  ClassifyResult next = e->classify("free money");
  EXPECT_EQ(next.variant, index(*e, "base"));
  EXPECT_EQ(next.info.waited_ms, 0);
  EXPECT_FALSE(next.info.deadline_missed);
  EXPECT_EQ(e->adapt_stats()[static_cast<size_t>(index(*e, "p88"))].misses, 1u);
  // An arrival in the future counts as now.
  EXPECT_EQ(e->classify("free money", std::chrono::steady_clock::now() + std::chrono::seconds(5)).info.waited_ms, 0);
  // The C API: rt3_clock_ns() is the same clock.
  rt3_engine* c = nullptr;
  ASSERT_EQ(rt3_engine_load(adaptive.c_str(), 1, &c), RT3_OK) << rt3_last_error(nullptr);
  ASSERT_EQ(rt3_engine_set_deadline_ms(c, 1000), RT3_OK);
  ASSERT_EQ(rt3_engine_set_adapt_mode(c, RT3_ADAPT_DEADLINE), RT3_OK);
  rt3_inference_info info;
  int label = -1;
  ASSERT_EQ(rt3_classify_at(c, "free money", 0, &label, nullptr, 0, &info), RT3_OK) << rt3_last_error(c);
  EXPECT_EQ(info.waited_ms, 0);
  ASSERT_EQ(rt3_classify_at(c, "free money", rt3_clock_ns() - 2000000000ull, &label, nullptr, 0, &info), RT3_OK);
  EXPECT_STREQ(rt3_engine_variant_name(c, info.variant), "p88");
  EXPECT_GE(info.waited_ms, 2000);
  EXPECT_EQ(info.deadline_missed, 1);
  rt3_engine_free(c);
}

TEST_F(Fixture, ModesTheBundleCannotServeSayWhatIsMissing) {
  auto e = Engine::load(plain);
  EXPECT_NE(e->adapt_support(AdaptMode::kTable).find("level table"), std::string::npos);
  EXPECT_NE(e->adapt_support(AdaptMode::kDeadline).find("latency models"), std::string::npos);
  std::string msg = test_util::error_of([&] { e->set_adapt_mode(AdaptMode::kTable); });
  EXPECT_NE(msg.find("level table"), std::string::npos) << msg;
  msg = test_util::error_of([&] { e->set_adapt_mode(AdaptMode::kDeadline); });
  EXPECT_NE(msg.find("latency models"), std::string::npos) << msg;
  EXPECT_FALSE(e->has_energy_model());
  EXPECT_NE(e->energy_support().find("no device profile"), std::string::npos) << e->energy_support();
  EXPECT_LT(e->classify("x").info.energy_mj, 0);
  // Bad values.
  EXPECT_THROW(e->set_cpu_khz(0), Error);
  for (double bad : {0.0, -1.0, std::nan(""), static_cast<double>(INFINITY)}) EXPECT_THROW(e->set_deadline_ms(bad), Error) << bad;
}

TEST_F(Fixture, CApi) {
  rt3_engine_options o = rt3_engine_default_options();
  rt3_engine* e = nullptr;
  ASSERT_EQ(rt3_engine_load_ex(adaptive.c_str(), &o, &e), RT3_OK) << rt3_last_error(nullptr);
  EXPECT_EQ(rt3_engine_set_adapt_mode(e, RT3_ADAPT_TABLE), RT3_OK);
  EXPECT_EQ(rt3_engine_adapt_mode(e), RT3_ADAPT_TABLE);
  EXPECT_STREQ(rt3_adapt_mode_name(RT3_ADAPT_DEADLINE), "deadline");
  EXPECT_EQ(rt3_engine_set_cpu_khz(e, 0), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(rt3_engine_set_cpu_khz(e, 1200000), RT3_OK);
  int label = -1;
  float probs[3];
  rt3_inference_info info;
  ASSERT_EQ(rt3_classify_ex(e, "free money", &label, probs, 3, &info), RT3_OK) << rt3_last_error(e);
  EXPECT_STREQ(rt3_engine_variant_name(e, info.variant), "p50");
  EXPECT_EQ(info.mode, RT3_ADAPT_TABLE);
  EXPECT_EQ(info.level_khz, 1200000u);
  EXPECT_GT(info.energy_mj, 0);
  EXPECT_EQ(rt3_engine_select_variant(e, 0), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(rt3_last_error(e)).find("table mode"), std::string::npos);
  rt3_variant_stats s;
  ASSERT_EQ(rt3_engine_variant_stats(e, info.variant, &s), RT3_OK);
  EXPECT_EQ(s.inferences, 1u);
  EXPECT_EQ(rt3_engine_variant_stats(e, 99, &s), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(rt3_engine_set_deadline_ms(e, -2), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(rt3_engine_set_adapt_mode(e, static_cast<rt3_adapt_mode>(9)), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(rt3_engine_set_adapt_mode(e, RT3_ADAPT_MANUAL), RT3_OK);
  EXPECT_EQ(rt3_engine_select_variant(e, 0), RT3_OK);
  EXPECT_EQ(rt3_engine_reset_stats(e), RT3_OK);
  rt3_engine_free(e);
}

}  // namespace
}  // namespace rt3
