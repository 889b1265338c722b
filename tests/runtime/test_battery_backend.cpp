// BatteryBackend on a fake /sys/class/power_supply tree.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include "dvfs/battery.h"
#include "tests/common/test_util.h"

namespace fs = std::filesystem;
using rt3::dvfs::BatteryBackend;

namespace {

using rt3::test_util::error_of;
using rt3::test_util::read_text;
using rt3::test_util::write_text;

class BatteryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("rt3_battery_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    write_text(root_ / "AC" / "type", "Mains\n");
    write_text(root_ / "AC" / "online", "1\n");
    write_text(root_ / "BAT0" / "type", "Battery\n");
    write_text(root_ / "BAT0" / "capacity", "87\n");
    write_text(root_ / "BAT0" / "status", "Discharging\n");
    write_text(root_ / "BAT0" / "energy_now", "41230000\n");
    write_text(root_ / "BAT0" / "energy_full", "50000000\n");
    write_text(root_ / "BAT0" / "voltage_now", "12100000\n");
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

}  // namespace

TEST_F(BatteryTest, FindsBatteryAndReadsIt) {
  EXPECT_EQ(BatteryBackend::list(root_.string()), (std::vector<std::string>{"BAT0"}));
  BatteryBackend b(root_.string());
  EXPECT_EQ(b.name(), "BAT0");
  EXPECT_EQ(b.capacity_percent(), 87);
  EXPECT_EQ(b.status(), "Discharging");
  EXPECT_EQ(b.energy_now_uwh(), 41230000u);
  EXPECT_EQ(b.energy_full_uwh(), 50000000u);
  EXPECT_EQ(b.voltage_now_uv(), 12100000u);
  EXPECT_FALSE(b.charge_now_uah().has_value());  // energy-reporting gauge: no charge_* files
  EXPECT_FALSE(b.charge_full_uah().has_value());
}

TEST_F(BatteryTest, ChargeReportingGaugeAndStatusWithSpace) {
  write_text(root_ / "battery" / "type", "Battery\n");
  write_text(root_ / "battery" / "capacity", "100");
  write_text(root_ / "battery" / "status", "Not charging\n");
  write_text(root_ / "battery" / "charge_now", "2900000\n");
  write_text(root_ / "battery" / "charge_full", "3000000\n");
  EXPECT_EQ(BatteryBackend::list(root_.string()), (std::vector<std::string>{"BAT0", "battery"}));
  BatteryBackend b(root_.string(), "battery");
  EXPECT_EQ(b.capacity_percent(), 100);
  EXPECT_EQ(b.status(), "Not charging");
  EXPECT_EQ(b.charge_now_uah(), 2900000u);
  EXPECT_EQ(b.charge_full_uah(), 3000000u);
  EXPECT_FALSE(b.energy_now_uwh().has_value());
  EXPECT_FALSE(b.voltage_now_uv().has_value());
}

TEST_F(BatteryTest, StatusChangesAreSeen) {
  BatteryBackend b(root_.string());
  write_text(root_ / "BAT0" / "status", "Charging\n");
  EXPECT_EQ(b.status(), "Charging");
  write_text(root_ / "BAT0" / "status", "Full\n");
  EXPECT_EQ(b.status(), "Full");
}

TEST_F(BatteryTest, NoBatteryIsAClearError) {
  fs::remove_all(root_ / "BAT0");
  const std::string e = error_of([&] { BatteryBackend b(root_.string()); });
  EXPECT_NE(e.find("no battery under " + root_.string()), std::string::npos) << e;
  const std::string e2 = error_of([&] { BatteryBackend b((root_ / "absent").string()); });
  EXPECT_NE(e2.find("no battery under"), std::string::npos) << e2;
}

TEST_F(BatteryTest, UnknownNameListsTheBatteries) {
  const std::string e = error_of([&] { BatteryBackend b(root_.string(), "AC"); });
  EXPECT_NE(e.find("no battery named 'AC'"), std::string::npos) << e;
  EXPECT_NE(e.find("have: BAT0"), std::string::npos) << e;
}

TEST_F(BatteryTest, MalformedAndMissingValues) {
  BatteryBackend b(root_.string());
  write_text(root_ / "BAT0" / "capacity", "101\n");
  EXPECT_NE(error_of([&] { b.capacity_percent(); }).find("above 100"), std::string::npos);
  write_text(root_ / "BAT0" / "capacity", "-3\n");
  EXPECT_NE(error_of([&] { b.capacity_percent(); }).find("not an unsigned integer"),
            std::string::npos);
  write_text(root_ / "BAT0" / "energy_now", "lots\n");
  EXPECT_NE(error_of([&] { b.energy_now_uwh(); }).find("energy_now"), std::string::npos);
  fs::remove(root_ / "BAT0" / "capacity");
  EXPECT_NE(error_of([&] { b.capacity_percent(); }).find((root_ / "BAT0" / "capacity").string()),
            std::string::npos);
}

// This machine's real power_supply: either a battery reads, or the error says there is none.
TEST(BatteryRealSysfs, ReadsOrSaysNoBattery) {
  try {
    BatteryBackend b;
    const int c = b.capacity_percent();
    EXPECT_GE(c, 0);
    EXPECT_LE(c, 100);
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(msg.find("no battery under /sys/class/power_supply") != std::string::npos ||
                msg.find("/sys/class/power_supply/") != std::string::npos)
        << msg;
  }
}
