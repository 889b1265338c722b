// Device profiles: every shipped profile loads, power matches the kernel's arithmetic, the Energy
// Model's inefficient OPPs are found, and each kind of bad profile is rejected with a clear error.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "dvfs/profile.h"

using rt3::dvfs::load_profile;
using rt3::dvfs::parse_profile;
using rt3::dvfs::Profile;
using nlohmann::json;

namespace {

std::string profile_path(const std::string& name) { return std::string(RT3_SOURCE_DIR) + "/profiles/" + name; }

std::set<std::uint64_t> inefficient_mhz(const rt3::dvfs::Cluster& c) {
  std::set<std::uint64_t> out;
  for (const auto& o : c.opps)
    if (o.inefficient) out.insert(o.khz / 1000);
  return out;
}

// A small valid energy_model profile; tests break one thing at a time.
json minimal() {
  return json::parse(R"({
    "name": "t", "soc": "test", "power_model": "energy_model",
    "sources": [{"what": "everything", "where": "assumption: test"}],
    "battery": {"capacity_mah": 1000, "nominal_voltage_v": 4.0, "assumed": true, "note": "assumption: test"},
    "base_power_mw": 100, "idle_power_mw": 10,
    "clusters": [{"name": "big", "cores": 2, "core_type": "X", "capacity_dmips_mhz": 1024,
                  "dynamic_power_coefficient": 100, "static_power_mw": 20,
                  "static_power_source": "assumption: test",
                  "opps": [{"khz": 1000000, "uv": 1000000}, {"khz": 2000000, "uv": 1200000}]}]
  })");
}

// Runs parse_profile and returns the error message ("" when it did not throw).
std::string error_of(const json& j) {
  try {
    parse_profile(j, "bad.json");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Profile, EveryShippedProfileLoads) {
  for (const char* name : {"rk3399.json", "exynos5422.json", "kirin960.json", "pixel3_sdm845.json", "host.json"}) {
    SCOPED_TRACE(name);
    Profile p = load_profile(profile_path(name));
    EXPECT_FALSE(p.clusters.empty());
    EXPECT_FALSE(p.usable_levels().empty());
    EXPECT_FALSE(p.sources.empty());
    // The top OPP can never be inefficient: nothing is above it.
    EXPECT_FALSE(p.inference().opps.back().inefficient);
  }
}

TEST(Profile, KernelPowerWorkedExampleRk3399A72) {
  // profiles/rk3399.json: 436 x 1.2^2 x 1800 = 1,130,112 uW.
  EXPECT_EQ(rt3::dvfs::kernel_dynamic_power_uw(436, 1200000, 1800000), 1130112u);
  Profile p = load_profile(profile_path("rk3399.json"));
  const auto& big = p.inference();
  EXPECT_EQ(big.core_type, "Cortex-A72");
  EXPECT_EQ(big.opps.back().khz, 1800000u);
  EXPECT_EQ(big.opps.back().dynamic_power_uw, 1130112u);
  // Cluster total = 2 cores x dynamic + static.
  EXPECT_DOUBLE_EQ(big.opps.back().cluster_power_mw, 2 * 1130.112 + big.static_power_mw);
}

TEST(Profile, KernelPowerTruncatesLikeTheKernel) {
  // mV and MHz are truncated to integers before multiplying: 1.2375 V -> 1237 mV, 903.5 MHz -> 903.
  EXPECT_EQ(rt3::dvfs::kernel_dynamic_power_uw(310, 1237500, 1800000), 310ull * 1237 * 1237 * 1800 / 1000000);
  EXPECT_EQ(rt3::dvfs::kernel_dynamic_power_uw(1000, 1000000, 903500), 903000u);
}

TEST(Profile, Exynos5422A15DominatedOppsAreInefficient) {
  Profile p = load_profile(profile_path("exynos5422.json"));
  const auto& a15 = p.inference();
  ASSERT_EQ(a15.core_type, "Cortex-A15");
  // By hand from the profile's OPP table: with P = c V^2 f, energy per cycle P/f = c V^2, so an
  // OPP is dominated when some higher OPP has a voltage <= its own:
  //  200..700 (0.9 V) <- 800 (0.9 V); 900..1100 (1.0 V) <- 1200 (1.0 V);
  //  1300, 1400 (1.1 V) <- 1500 (1.1 V); 1600, 1700 (1.25 V) <- 1800 (1.2375 V).
  // Every tie is exact in the kernel's integer arithmetic here (c mV^2 MHz divisible by 1e6).
  std::set<std::uint64_t> expected{200, 300, 400, 500, 600, 700, 900, 1000, 1100, 1300, 1400, 1600, 1700};
  EXPECT_EQ(inefficient_mhz(a15), expected);
  std::vector<std::uint64_t> usable;
  for (const auto& o : p.usable_levels()) usable.push_back(o.khz / 1000);
  EXPECT_EQ(usable, (std::vector<std::uint64_t>{800, 1200, 1500, 1800, 1900, 2000}));

  // A7: 200 (0.9) <- 300; 400..600 (1.0) <- 700; 800, 900 (1.1) <- 1000; 1100, 1200 (1.25) <- 1300.
  EXPECT_EQ(inefficient_mhz(p.cluster("cluster0")),
            (std::set<std::uint64_t>{200, 400, 500, 600, 800, 900, 1100, 1200}));
}

TEST(Profile, Rk3399EqualVoltageTiesFollowKernelTruncation) {
  // A72 408/600/816 MHz all run at 825 mV, so in exact arithmetic they tie. The kernel's integer
  // power truncation breaks the tie: by hand, 436*825*825 = 296,752,500;
  //   408: 296752500*408/1e6 = 121075 uW, cost 1800000*121075/408000 = 534154
  //   600: 296752500*600/1e6 = 178051 uW, cost 1800000*178051/600000 = 534153
  //   816: 296752500*816/1e6 = 242150 uW, cost 1800000*242150/816000 = 534154
  // so 408 (534154 >= 534153) is inefficient and 600 (534153 < 534154) is not.
  Profile p = load_profile(profile_path("rk3399.json"));
  EXPECT_EQ(inefficient_mhz(p.inference()), (std::set<std::uint64_t>{408}));
  EXPECT_EQ(p.inference().opps[1].cost, 534153u);
  EXPECT_EQ(p.inference().opps[2].cost, 534154u);
}

TEST(Profile, PowerProfileIsMilliampsTimesNominalVolts) {
  Profile p = load_profile(profile_path("pixel3_sdm845.json"));
  EXPECT_EQ(p.power_model, rt3::dvfs::PowerModel::PowerProfile);
  EXPECT_DOUBLE_EQ(p.battery.capacity_mah, 2915);
  const auto& big = p.inference();
  ASSERT_EQ(big.opps.back().khz, 2649600u);
  const double v = p.battery.nominal_voltage_v;
  // 253.77 mA x 3.85 V = 977.0145 mW -> 977015 uW.
  EXPECT_DOUBLE_EQ(*big.opps.back().ma, 253.77);
  EXPECT_EQ(big.opps.back().dynamic_power_uw, 977015u);
  EXPECT_NEAR(big.opps.front().dynamic_power_mw(), 28.88 * v, 1e-3);
  EXPECT_NEAR(big.static_power_mw, 5.29 * v, 1e-9);
  // By hand: mA per GHz is increasing along the table except 2092.8 MHz (143.54 / 2.0928 = 68.59)
  // vs 2169.6 MHz (147.54 / 2.1696 = 68.00): 2092.8 is dominated.
  EXPECT_EQ(inefficient_mhz(big), (std::set<std::uint64_t>{2092}));
}

TEST(Profile, DefaultInferenceClusterIsHighestCapacity) {
  json j = minimal();
  json little = j["clusters"][0];
  little["name"] = "little";
  little["capacity_dmips_mhz"] = 400;
  j["clusters"].insert(j["clusters"].begin(), little);
  EXPECT_EQ(parse_profile(j, "t.json").inference_cluster, "big");
  j["inference_cluster"] = "little";
  EXPECT_EQ(parse_profile(j, "t.json").inference_cluster, "little");
  j["inference_cluster"] = "nope";
  EXPECT_NE(error_of(j).find("$.inference_cluster"), std::string::npos);
}

TEST(Profile, MinimalIsValid) { EXPECT_EQ(error_of(minimal()), ""); }

TEST(Profile, RejectsMissingField) {
  json j = minimal();
  j["clusters"][0].erase("cores");
  std::string e = error_of(j);
  EXPECT_NE(e.find("bad.json"), std::string::npos) << e;
  EXPECT_NE(e.find("$.clusters[0].cores: missing required field"), std::string::npos) << e;
  j = minimal();
  j.erase("battery");
  EXPECT_NE(error_of(j).find("$.battery: missing"), std::string::npos);
}

TEST(Profile, RejectsBadType) {
  json j = minimal();
  j["clusters"][0]["opps"][0]["khz"] = "1000000";
  EXPECT_NE(error_of(j).find("$.clusters[0].opps[0].khz: expected an integer"), std::string::npos) << error_of(j);
  j = minimal();
  j["battery"]["assumed"] = "yes";
  EXPECT_NE(error_of(j).find("$.battery.assumed: expected true or false"), std::string::npos);
  j = minimal();
  j["name"] = 3;
  EXPECT_NE(error_of(j).find("$.name: expected a string"), std::string::npos);
}

TEST(Profile, RejectsNonIncreasingOpps) {
  json j = minimal();
  j["clusters"][0]["opps"][1]["khz"] = 1000000;  // equal
  EXPECT_NE(error_of(j).find("$.clusters[0].opps[1].khz: frequencies must be strictly increasing"), std::string::npos)
      << error_of(j);
  j["clusters"][0]["opps"][1]["khz"] = 900000;  // decreasing
  EXPECT_NE(error_of(j).find("strictly increasing"), std::string::npos);
}

TEST(Profile, RejectsMissingVoltageForEnergyModel) {
  json j = minimal();
  j["clusters"][0]["opps"][1].erase("uv");
  EXPECT_NE(error_of(j).find("$.clusters[0].opps[1].uv: missing voltage"), std::string::npos) << error_of(j);
  j = minimal();
  j["clusters"][0]["dynamic_power_coefficient"] = nullptr;
  EXPECT_NE(error_of(j).find("dynamic_power_coefficient: null"), std::string::npos);
}

TEST(Profile, RejectsMissingCurrentForPowerProfile) {
  json j = minimal();
  j["power_model"] = "power_profile";
  EXPECT_NE(error_of(j).find("$.clusters[0].opps[0].ma: missing current"), std::string::npos) << error_of(j);
}

TEST(Profile, RejectsEmptySources) {
  json j = minimal();
  j["sources"] = json::array();
  EXPECT_NE(error_of(j).find("$.sources: must not be empty"), std::string::npos);
  j = minimal();
  j["sources"][0]["where"] = "";
  EXPECT_NE(error_of(j).find("$.sources[0].where: must not be empty"), std::string::npos);
}

TEST(Profile, RejectsEmptyClusterOrOpps) {
  json j = minimal();
  j["clusters"][0]["opps"] = json::array();
  EXPECT_NE(error_of(j).find("$.clusters[0].opps: must not be empty"), std::string::npos);
  j = minimal();
  j["clusters"] = json::array();
  EXPECT_NE(error_of(j).find("$.clusters: must not be empty"), std::string::npos);
}

TEST(Profile, RejectsUnknownPowerModel) {
  json j = minimal();
  j["power_model"] = "magic";
  EXPECT_NE(error_of(j).find("$.power_model: unknown power_model \"magic\""), std::string::npos) << error_of(j);
}

TEST(Profile, RejectsNegativeValues) {
  json j = minimal();
  j["clusters"][0]["static_power_mw"] = -1;
  EXPECT_NE(error_of(j).find("$.clusters[0].static_power_mw: must be >= 0"), std::string::npos) << error_of(j);
  j = minimal();
  j["battery"]["capacity_mah"] = -3000;
  EXPECT_NE(error_of(j).find("$.battery.capacity_mah: must be > 0"), std::string::npos);
  j = minimal();
  j["clusters"][0]["opps"][0]["uv"] = -5;
  EXPECT_NE(error_of(j).find("$.clusters[0].opps[0].uv: must be > 0"), std::string::npos);
  j = minimal();
  j["clusters"][0]["cores"] = 0;
  EXPECT_NE(error_of(j).find("$.clusters[0].cores: must be > 0"), std::string::npos);
}

TEST(Profile, LoadNamesTheFile) {
  try {
    load_profile("/nonexistent/x.json");
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.json"), std::string::npos);
  }
}

TEST(Profile, StrictlyRisingVoltagesHaveNoInefficientOpps) {
  // Kirin 960: every A73 and A53 step raises the voltage by 100 mV, so cost (~V^2) strictly rises.
  Profile p = load_profile(profile_path("kirin960.json"));
  for (const auto& c : p.clusters) EXPECT_TRUE(inefficient_mhz(c).empty()) << c.name;
  EXPECT_EQ(p.usable_levels().size(), 5u);
  EXPECT_EQ(p.inference().core_type, "Cortex-A73");
}

TEST(Profile, MainsPoweredBoardsStateAnAssumedBattery) {
  for (const char* name : {"rk3399.json", "exynos5422.json", "kirin960.json", "host.json"}) {
    Profile p = load_profile(profile_path(name));
    EXPECT_TRUE(p.battery.assumed) << name;
    EXPECT_NE(p.battery.note.find("assumption"), std::string::npos) << name;
  }
  EXPECT_FALSE(load_profile(profile_path("pixel3_sdm845.json")).battery.assumed);
}
