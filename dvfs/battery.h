// Battery through the kernel power_supply class (Documentation/ABI/testing/sysfs-class-power):
// <root>/<supply>/{type,capacity,status,energy_now,charge_now,voltage_now,...}. The root is a
// parameter so tests run this code on a fake tree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rt3::dvfs {

class BatteryBackend {
 public:
  // Uses the supply named `name`, or the first battery in name order when empty. Throws
  // "no battery under <root>: ..." when no supply has type Battery.
  explicit BatteryBackend(std::string root = "/sys/class/power_supply", std::string name = "");

  // Names of all supplies whose `type` is Battery, sorted (a root without batteries gives {}).
  static std::vector<std::string> list(const std::string& root = "/sys/class/power_supply");

  const std::string& name() const { return name_; }
  const std::string& dir() const { return dir_; }

  int capacity_percent() const;  // `capacity`, 0..100
  // `status`: Unknown, Charging, Discharging, Not charging, Full (returned as written).
  std::string status() const;

  // Present only on some fuel gauges; units fixed by the ABI, values as the driver reports them.
  std::optional<std::uint64_t> energy_now_uwh() const;   // energy_now, uWh
  std::optional<std::uint64_t> energy_full_uwh() const;  // energy_full, uWh
  std::optional<std::uint64_t> charge_now_uah() const;   // charge_now, uAh
  std::optional<std::uint64_t> charge_full_uah() const;  // charge_full, uAh
  std::optional<std::uint64_t> voltage_now_uv() const;   // voltage_now, uV

 private:
  std::optional<std::uint64_t> optional_u64(const char* attr) const;

  std::string name_;
  std::string dir_;
};

}  // namespace rt3::dvfs
