// RaplBackend on a fake /sys/class/powercap tree, and the wrap-around arithmetic.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include "dvfs/powercap.h"
#include "tests/common/test_util.h"

namespace fs = std::filesystem;
using rt3::dvfs::RaplBackend;

namespace {

using rt3::test_util::error_of;
using rt3::test_util::read_text;
using rt3::test_util::write_text;

class PowercapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("rt3_powercap_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    write_text(root_ / "intel-rapl" / "enabled", "1\n");  // control type: not a zone
    zone("intel-rapl:0", "package-0", "123456789\n", "262143328850\n");
    zone("intel-rapl:0:0", "core", "5000\n", "262143328850\n");
    zone("intel-rapl:0:1", "dram", "42\n", "65532610987\n");
  }
  void TearDown() override { fs::remove_all(root_); }
  void zone(const std::string& id, const std::string& name, const std::string& energy,
            const std::string& range) {
    write_text(root_ / id / "name", name + "\n");
    write_text(root_ / id / "energy_uj", energy);
    write_text(root_ / id / "max_energy_range_uj", range);
  }
  fs::path root_;
};

}  // namespace

TEST_F(PowercapTest, ListsZonesAndReadsEnergy) {
  RaplBackend r(root_.string());
  ASSERT_EQ(r.zones().size(), 3u);
  EXPECT_EQ(r.zones()[0].id, "intel-rapl:0");
  EXPECT_EQ(r.zones()[0].name, "package-0");
  EXPECT_EQ(r.zones()[0].max_energy_range_uj, 262143328850u);
  EXPECT_EQ(r.zones()[2].name, "dram");
  EXPECT_EQ(r.energy_uj(r.zone("package-0")), 123456789u);
  EXPECT_EQ(r.energy_uj(r.zone("intel-rapl:0:0")), 5000u);
  EXPECT_NE(error_of([&] { r.zone("uncore"); }).find("no RAPL zone 'uncore'"), std::string::npos);
}

TEST_F(PowercapTest, DeltaHandlesWrapAround) {
  EXPECT_EQ(RaplBackend::delta_uj(100, 350, 1000), 250u);
  EXPECT_EQ(RaplBackend::delta_uj(900, 100, 1000), 200u);  // wrapped once
  EXPECT_EQ(RaplBackend::delta_uj(500, 500, 1000), 0u);
  const std::uint64_t big = UINT64_MAX - 10;  // no overflow near 2^64
  EXPECT_EQ(RaplBackend::delta_uj(big - 5, 3, big), 8u);
  EXPECT_NE(error_of([] { RaplBackend::delta_uj(1, 2, 0); }).find("max_energy_range_uj is 0"),
            std::string::npos);
  EXPECT_NE(error_of([] { RaplBackend::delta_uj(1, 2000, 1000); }).find("outside the range"),
            std::string::npos);
}

TEST_F(PowercapTest, TwoReadsAcrossAWrap) {
  RaplBackend r(root_.string());
  const auto& pkg = r.zone("package-0");
  write_text(root_ / "intel-rapl:0" / "energy_uj", "262143000000\n");
  const auto a = r.energy_uj(pkg);
  write_text(root_ / "intel-rapl:0" / "energy_uj", "671150\n");
  const auto b = r.energy_uj(pkg);
  EXPECT_EQ(RaplBackend::delta_uj(a, b, pkg.max_energy_range_uj), 1000000u);
}

TEST_F(PowercapTest, AbsentIsAClearError) {
  fs::remove_all(root_);
  fs::create_directories(root_);
  const std::string e = error_of([&] { RaplBackend r(root_.string()); });
  EXPECT_NE(e.find("no RAPL under " + root_.string()), std::string::npos) << e;
  const std::string e2 = error_of([&] { RaplBackend r((root_ / "nope").string()); });
  EXPECT_NE(e2.find("no RAPL under"), std::string::npos) << e2;
}

TEST_F(PowercapTest, UnreadableEnergyNamesTheFile) {
  RaplBackend r(root_.string());
  const fs::path f = root_ / "intel-rapl:0" / "energy_uj";
  std::string e;
  if (::geteuid() == 0) {
    // Root reads mode-0400 files anyway; a directory in its place makes read() fail (EISDIR).
    fs::remove(f);
    fs::create_directory(f);
    e = error_of([&] { r.energy_uj(r.zone("package-0")); });
    EXPECT_NE(e.find("cannot read " + f.string()), std::string::npos) << e;
  } else {
    fs::permissions(f, fs::perms::none);
    e = error_of([&] { r.energy_uj(r.zone("package-0")); });
    EXPECT_NE(e.find("needs root or read permission on " + f.string()), std::string::npos) << e;
    EXPECT_NE(e.find("root-only"), std::string::npos) << e;
  }
}

TEST_F(PowercapTest, MalformedContent) {
  write_text(root_ / "intel-rapl:0:1" / "energy_uj", "12 34\n");
  RaplBackend r(root_.string());
  EXPECT_NE(error_of([&] { r.energy_uj(r.zone("dram")); }).find("not an unsigned integer"),
            std::string::npos);
  write_text(root_ / "intel-rapl:0:1" / "energy_uj", "99999999999999\n");
  EXPECT_NE(error_of([&] { r.energy_uj(r.zone("dram")); }).find("exceeds max_energy_range_uj"),
            std::string::npos);
  write_text(root_ / "intel-rapl:0:1" / "max_energy_range_uj", "0\n");
  EXPECT_NE(error_of([&] { RaplBackend r2(root_.string()); }).find("range is 0"), std::string::npos);
}

// This machine's real powercap: either zones list, or the error says there is no RAPL.
TEST(PowercapRealSysfs, ListsOrSaysNoRapl) {
  try {
    RaplBackend r;
    EXPECT_FALSE(r.zones().empty());
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(msg.find("no RAPL under /sys/class/powercap") != std::string::npos ||
                msg.find("/sys/class/powercap/") != std::string::npos)
        << msg;
  }
}
