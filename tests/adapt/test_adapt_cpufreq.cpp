// The engine's cpufreq reader on a fake sysfs tree (the same code reads the real one).
#include <gtest/gtest.h>

#include <sched.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "runtime/adapt/cpufreq_reader.h"
#include "tests/common/test_util.h"

namespace rt3::adapt {
namespace {

std::string fake_tree(const test_util::TempDir& dir, int cpus, const std::string& khz) {
  for (int c = 0; c < cpus; ++c)
    test_util::write_text(dir.path() / ("cpu" + std::to_string(c)) / "cpufreq" / "scaling_cur_freq", khz + "\n");
  test_util::write_text(dir.path() / "cpufreq" / "policy0" / "x", "");  // not a CPU directory
  test_util::write_text(dir.path() / "cpuidle" / "x", "");              // nor this
  return dir.path().string();
}

TEST(CpufreqReader, SeesANewFrequencyWithinTheRefreshInterval) {
  test_util::TempDir dir("rt3_cpufreq");
  const std::string root = fake_tree(dir, 4, "1800000");
  const CpufreqReader r(root);
  EXPECT_EQ(r.cpus(), 4);
  EXPECT_EQ(r.current_khz(), 1800000u);
  // The file stays open: a new value (the kernel changing it) is seen by the next uncached read,
  // and by current_khz() once its last reading is older than kRefreshNs.
  for (int c = 0; c < 4; ++c)
    test_util::write_text(dir.path() / ("cpu" + std::to_string(c)) / "cpufreq" / "scaling_cur_freq", "600000\n");
  EXPECT_EQ(r.read_khz(), 600000u);
  std::this_thread::sleep_for(std::chrono::nanoseconds(2 * CpufreqReader::kRefreshNs));
  EXPECT_EQ(r.current_khz(), 600000u);
}

TEST(CpufreqReader, ReadsTheCpuTheCallerRunsOn) {
  test_util::TempDir dir("rt3_cpufreq");
  const std::string root = fake_tree(dir, 2, "1000");
  test_util::write_text(dir.path() / "cpu1" / "cpufreq" / "scaling_cur_freq", "2000\n");
  const CpufreqReader r(root);
  cpu_set_t set;
  for (int cpu : {0, 1}) {
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) GTEST_SKIP() << "cannot pin to CPU " << cpu;
    EXPECT_EQ(r.current_khz(), cpu == 0 ? 1000u : 2000u);  // each CPU has its own cache entry
  }
  CPU_ZERO(&set);
  for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &set);
  sched_setaffinity(0, sizeof set, &set);
}

TEST(CpufreqReader, ErrorsNameTheFile) {
  test_util::TempDir dir("rt3_cpufreq");
  test_util::write_text(dir.path() / "cpu0" / "online", "1\n");  // a CPU without cpufreq
  const std::string msg = test_util::error_of([&] { CpufreqReader r(dir.path().string()); });
  EXPECT_NE(msg.find((dir.path() / "cpu0" / "cpufreq" / "scaling_cur_freq").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("No such file"), std::string::npos) << msg;
  const std::string missing = test_util::error_of([&] { CpufreqReader r(dir.file("nope")); });
  EXPECT_NE(missing.find("nope"), std::string::npos) << missing;

  test_util::TempDir bad("rt3_cpufreq");
  fake_tree(bad, 1, "fast");
  const CpufreqReader r(bad.path().string());
  const std::string garbage = test_util::error_of([&] { (void)r.current_khz(); });
  EXPECT_NE(garbage.find("does not hold a frequency"), std::string::npos) << garbage;
}

}  // namespace
}  // namespace rt3::adapt
