// Trace parsing (errors carry line numbers) and lookups; TraceClock as a FrequencySource.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include "dvfs/trace.h"

using rt3::dvfs::Trace;
using rt3::dvfs::TraceClock;

namespace {

const char* kTrace =
    "time_s,freq_khz,battery_percent\n"
    "0,1800000,100\n"
    "2.5,1008000,98.5\n"
    "4,600000,97\n"
    "6,1008000,95\n";

std::string error_of(const std::string& csv) {
  try {
    Trace::parse(csv, "t.csv");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

TEST(TraceBackend, LookupIsAStepFunction) {
  const Trace t = Trace::parse(kTrace);
  EXPECT_EQ(t.points().size(), 4u);
  EXPECT_EQ(t.freq_khz_at(0), 1800000u);
  EXPECT_EQ(t.freq_khz_at(2.4999), 1800000u);
  EXPECT_EQ(t.freq_khz_at(2.5), 1008000u);
  EXPECT_EQ(t.freq_khz_at(5.9), 600000u);
  EXPECT_EQ(t.freq_khz_at(6), 1008000u);
  EXPECT_EQ(t.freq_khz_at(1e9), 1008000u);  // last value holds
  EXPECT_DOUBLE_EQ(t.battery_percent_at(3), 98.5);
  EXPECT_DOUBLE_EQ(t.battery_percent_at(100), 95);
  EXPECT_DOUBLE_EQ(t.duration_s(), 6.0);
  EXPECT_EQ(t.levels_khz(), (std::vector<std::uint64_t>{600000, 1008000, 1800000}));
}

TEST(TraceBackend, BeforeFirstRowUsesFirstRow) {
  const Trace t = Trace::parse("time_s,freq_khz,battery_percent\n1,600000,50\n3,816000,49\n");
  EXPECT_EQ(t.freq_khz_at(0), 600000u);
  EXPECT_DOUBLE_EQ(t.duration_s(), 2.0);
}

TEST(TraceBackend, ToleratesWhitespaceCrlfAndBlankLines) {
  const Trace t = Trace::parse(
      "time_s,freq_khz,battery_percent\r\n 0 , 408000 , 80 \r\n\n1,816000,79\n\n");
  EXPECT_EQ(t.points().size(), 2u);
  EXPECT_EQ(t.freq_khz_at(0.5), 408000u);
}

TEST(TraceBackend, ClockIsAFrequencySource) {
  TraceClock clock(Trace::parse(kTrace), 3.0);
  rt3::dvfs::FrequencySource& src = clock;
  EXPECT_EQ(src.current_khz(), 1008000u);
  clock.set_time(4.0);
  EXPECT_EQ(src.current_khz(), 600000u);
  EXPECT_EQ(src.available_frequencies_khz().size(), 3u);
}

TEST(TraceBackend, HeaderRequired) {
  EXPECT_NE(error_of("0,1800000,100\n").find("t.csv:1: expected header"), std::string::npos);
  EXPECT_NE(error_of("").find("empty trace"), std::string::npos);
  EXPECT_NE(error_of("time_s,freq_khz,battery_percent\n").find("header but no rows"),
            std::string::npos);
}

TEST(TraceBackend, ErrorsCarryLineNumbers) {
  const std::string h = "time_s,freq_khz,battery_percent\n";
  EXPECT_NE(error_of(h + "0,1,1\n1,2\n").find("t.csv:3: expected 3 fields"), std::string::npos);
  EXPECT_NE(error_of(h + "0,1,1\nabc,2,3\n").find("t.csv:3: time_s 'abc'"), std::string::npos);
  EXPECT_NE(error_of(h + "0,fast,1\n").find("t.csv:2: freq_khz 'fast'"), std::string::npos);
  EXPECT_NE(error_of(h + "0,-5,1\n").find("t.csv:2: freq_khz"), std::string::npos);
  EXPECT_NE(error_of(h + "0,0,1\n").find("t.csv:2: freq_khz must be > 0"), std::string::npos);
  EXPECT_NE(error_of(h + "0,1,101\n").find("t.csv:2: battery_percent 101 is outside"),
            std::string::npos);
  EXPECT_NE(error_of(h + "-1,1,1\n").find("t.csv:2: time_s -1 is negative"), std::string::npos);
  EXPECT_NE(error_of(h + "nan,1,1\n").find("t.csv:2: time_s 'nan'"), std::string::npos);
}

TEST(TraceBackend, TimesMustStrictlyIncrease) {
  const std::string h = "time_s,freq_khz,battery_percent\n";
  const std::string e1 = error_of(h + "0,1,1\n1,1,1\n1,2,1\n");
  EXPECT_NE(e1.find("t.csv:4: time_s 1 is not after"), std::string::npos) << e1;
  EXPECT_NE(error_of(h + "2,1,1\n1,2,1\n").find("t.csv:3:"), std::string::npos);
}

TEST(TraceBackend, LoadFromFileAndMissingFile) {
  const auto p = std::filesystem::temp_directory_path() /
                 ("rt3_trace_" + std::to_string(::getpid()) + ".csv");
  std::ofstream(p) << kTrace;
  EXPECT_EQ(Trace::load(p.string()).levels_khz().size(), 3u);
  std::filesystem::remove(p);
  try {
    Trace::load(p.string());
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open trace " + p.string()), std::string::npos);
  }
}
