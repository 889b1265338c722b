// CpufreqBackend on a fake sysfs tree (same file names and formats as the kernel), plus one run on
// this machine's real /sys.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "dvfs/cpufreq.h"
#include "tests/common/test_util.h"

namespace fs = std::filesystem;
using rt3::dvfs::CpufreqBackend;

namespace {

using rt3::test_util::error_of;
using rt3::test_util::read_text;
using rt3::test_util::write_text;

class CpufreqTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("rt3_cpufreq_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    dir_ = root_ / "cpu0" / "cpufreq";
    // Formats as written by drivers/cpufreq/cpufreq.c (note the trailing space on the lists).
    write_text(dir_ / "scaling_available_frequencies", "408000 600000 816000 1008000 \n");
    write_text(dir_ / "scaling_cur_freq", "816000\n");
    write_text(dir_ / "scaling_governor", "schedutil\n");
    write_text(dir_ / "scaling_available_governors", "userspace powersave performance schedutil \n");
    write_text(dir_ / "scaling_setspeed", "<unsupported>\n");
    write_text(dir_ / "cpuinfo_min_freq", "408000\n");
    write_text(dir_ / "cpuinfo_max_freq", "1008000\n");
    write_text(dir_ / "related_cpus", "0 1 2 3\n");
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root_, ec);
  }
  fs::path root_, dir_;
};

}  // namespace

TEST_F(CpufreqTest, ReadsEveryAttribute) {
  CpufreqBackend b(root_.string(), 0);
  EXPECT_EQ(b.available_frequencies_khz(),
            (std::vector<std::uint64_t>{408000, 600000, 816000, 1008000}));
  EXPECT_FALSE(b.frequency_table().from_min_max);
  EXPECT_EQ(b.current_khz(), 816000u);
  EXPECT_EQ(b.governor(), "schedutil");
  EXPECT_EQ(b.available_governors(),
            (std::vector<std::string>{"userspace", "powersave", "performance", "schedutil"}));
  EXPECT_EQ(b.related_cpus(), (std::vector<int>{0, 1, 2, 3}));
}

TEST_F(CpufreqTest, UnsortedListWithoutTrailingNewlineIsSortedAndDeduplicated) {
  write_text(dir_ / "scaling_available_frequencies", "  816000\t408000 816000 600000");
  CpufreqBackend b(root_.string());
  EXPECT_EQ(b.available_frequencies_khz(), (std::vector<std::uint64_t>{408000, 600000, 816000}));
}

TEST_F(CpufreqTest, FallsBackToMinMaxAndSaysSo) {
  fs::remove(dir_ / "scaling_available_frequencies");
  CpufreqBackend b(root_.string());
  const auto t = b.frequency_table();
  EXPECT_TRUE(t.from_min_max);
  EXPECT_EQ(t.khz, (std::vector<std::uint64_t>{408000, 1008000}));
  EXPECT_NE(t.note.find("cpuinfo_min_freq"), std::string::npos);
  // An empty list (some drivers) falls back too.
  write_text(dir_ / "scaling_available_frequencies", "\n");
  EXPECT_TRUE(b.frequency_table().from_min_max);
}

TEST_F(CpufreqTest, SetFrequencyUnderUserspaceWritesSetspeed) {
  CpufreqBackend b(root_.string());
  b.set_governor("userspace");
  EXPECT_EQ(read_text(dir_ / "scaling_governor"), "userspace\n");
  EXPECT_EQ(b.governor(), "userspace");
  b.set_frequency_khz(600000);
  EXPECT_EQ(read_text(dir_ / "scaling_setspeed"), "600000\n");
}

TEST_F(CpufreqTest, SetFrequencyRejectsLevelNotInTable) {
  write_text(dir_ / "scaling_governor", "userspace\n");
  CpufreqBackend b(root_.string());
  const std::string e = error_of([&] { b.set_frequency_khz(700000); });
  EXPECT_NE(e.find("700000 kHz is not an available frequency"), std::string::npos) << e;
  EXPECT_EQ(read_text(dir_ / "scaling_setspeed"), "<unsupported>\n");
}

TEST_F(CpufreqTest, SetFrequencyNeedsUserspaceGovernor) {
  CpufreqBackend b(root_.string());
  const std::string e = error_of([&] { b.set_frequency_khz(600000); });
  EXPECT_NE(e.find("set governor to userspace first"), std::string::npos) << e;
  EXPECT_NE(e.find("scaling_governor"), std::string::npos) << e;
  EXPECT_NE(e.find("'schedutil'"), std::string::npos) << e;
  EXPECT_EQ(read_text(dir_ / "scaling_setspeed"), "<unsupported>\n");
}

TEST_F(CpufreqTest, SetGovernorRejectsUnknownName) {
  CpufreqBackend b(root_.string());
  const std::string e = error_of([&] { b.set_governor("ondemand"); });
  EXPECT_NE(e.find("'ondemand' is not available"), std::string::npos) << e;
}

TEST_F(CpufreqTest, WriteErrorNamesTheFile) {
  write_text(dir_ / "scaling_governor", "userspace\n");
  const fs::path setspeed = dir_ / "scaling_setspeed";
  CpufreqBackend b(root_.string());
  if (::geteuid() == 0) {
    // Root ignores mode bits, so chmod 0444 would not stop the write. Make the attribute a
    // directory instead: open(O_WRONLY) fails (EISDIR) and the message must still name the file.
    fs::remove(setspeed);
    fs::create_directory(setspeed);
    const std::string e = error_of([&] { b.set_frequency_khz(600000); });
    EXPECT_NE(e.find("cannot write " + setspeed.string()), std::string::npos) << e;
  } else {
    fs::permissions(setspeed, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    const std::string e = error_of([&] { b.set_frequency_khz(600000); });
    EXPECT_NE(e.find("needs root or write permission on " + setspeed.string()), std::string::npos)
        << e;
  }
}

TEST_F(CpufreqTest, MissingFolderIsAClearError) {
  const std::string e = error_of([&] { CpufreqBackend b(root_.string(), 7); });
  EXPECT_NE(e.find("no cpufreq at " + (root_ / "cpu7" / "cpufreq").string()), std::string::npos)
      << e;
  EXPECT_NE(e.find("use a trace (--trace)"), std::string::npos) << e;
}

TEST_F(CpufreqTest, MissingAttributeNamesTheFile) {
  fs::remove(dir_ / "scaling_cur_freq");
  CpufreqBackend b(root_.string());
  const std::string e = error_of([&] { b.current_khz(); });
  EXPECT_NE(e.find((dir_ / "scaling_cur_freq").string()), std::string::npos) << e;
}

TEST_F(CpufreqTest, MalformedContentIsAnError) {
  write_text(dir_ / "scaling_cur_freq", "fast\n");
  write_text(dir_ / "scaling_available_frequencies", "408000 6OO000\n");
  write_text(dir_ / "related_cpus", "0 x\n");
  CpufreqBackend b(root_.string());
  EXPECT_NE(error_of([&] { b.current_khz(); }).find("'fast' is not an unsigned integer"),
            std::string::npos);
  EXPECT_NE(error_of([&] { b.available_frequencies_khz(); }).find("scaling_available_frequencies"),
            std::string::npos);
  EXPECT_NE(error_of([&] { b.related_cpus(); }).find("related_cpus"), std::string::npos);
  write_text(dir_ / "scaling_cur_freq", "\n");
  EXPECT_NE(error_of([&] { b.current_khz(); }).find("empty"), std::string::npos);
}

TEST_F(CpufreqTest, UsableThroughFrequencySource) {
  CpufreqBackend b(root_.string());
  rt3::dvfs::FrequencySource& src = b;
  EXPECT_EQ(src.current_khz(), 816000u);
  EXPECT_EQ(src.available_frequencies_khz().size(), 4u);
}

// The real sysfs of whatever machine runs the tests: either it reads, or it says there is no DVFS.
TEST(CpufreqRealSysfs, ReadsOrSaysNoCpufreq) {
  try {
    CpufreqBackend b;
    const auto t = b.frequency_table();
    ASSERT_FALSE(t.khz.empty());
    EXPECT_GT(t.khz.front(), 0u);
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    // Present-but-unreadable attributes are legitimate too (containers); anything else is a bug.
    const bool ok = msg.find("no cpufreq at /sys/devices/system/cpu/cpu0/cpufreq") != std::string::npos ||
                    msg.find("/sys/devices/system/cpu/cpu0/cpufreq/") != std::string::npos;
    EXPECT_TRUE(ok) << msg;
  }
}

TEST_F(CpufreqTest, ZeroFrequencyAndInvertedLimitsAreErrors) {
  CpufreqBackend b(root_.string());
  write_text(dir_ / "scaling_available_frequencies", "0 408000\n");
  EXPECT_NE(error_of([&] { b.available_frequencies_khz(); }).find("a frequency of 0 kHz"),
            std::string::npos);
  fs::remove(dir_ / "scaling_available_frequencies");
  write_text(dir_ / "cpuinfo_min_freq", "2000000\n");
  EXPECT_NE(error_of([&] { b.available_frequencies_khz(); }).find("> cpuinfo_max_freq"),
            std::string::npos);
}
