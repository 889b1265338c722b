#include "dvfs/battery.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "dvfs/sysfs.h"

namespace rt3::dvfs {

std::vector<std::string> BatteryBackend::list(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  // Entries under /sys/class/power_supply are symlinks to the device; directory_iterator follows.
  for (std::filesystem::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const auto type = sysfs::read_optional((it->path() / "type").string());
    // AC adapters ("Mains"), USB ports and peripheral batteries of other types are skipped.
    if (type && sysfs::trim(*type) == "Battery") out.push_back(it->path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

BatteryBackend::BatteryBackend(std::string root, std::string name) {
  const auto names = list(root);
  if (names.empty())
    throw std::runtime_error("no battery under " + root +
                             ": no power_supply has type Battery (mains-powered machine or VM); "
                             "use a trace (--trace) or a profile's battery");
  if (name.empty()) {
    name_ = names.front();
  } else if (std::find(names.begin(), names.end(), name) != names.end()) {
    name_ = name;
  } else {
    std::string have;
    for (const auto& n : names) have += (have.empty() ? "" : " ") + n;
    throw std::runtime_error("no battery named '" + name + "' under " + root + " (have: " + have + ")");
  }
  dir_ = root + "/" + name_;
}

int BatteryBackend::capacity_percent() const {
  const std::string f = dir_ + "/capacity";
  const std::uint64_t v = sysfs::parse_u64(sysfs::read_required(f), f);
  if (v > 100) throw std::runtime_error(f + ": capacity " + std::to_string(v) + " is above 100");
  return static_cast<int>(v);
}

std::string BatteryBackend::status() const {
  const std::string f = dir_ + "/status";
  const std::string s = sysfs::trim(sysfs::read_required(f));
  if (s.empty()) throw std::runtime_error(f + ": empty");
  return s;
}

std::optional<std::uint64_t> BatteryBackend::optional_u64(const char* attr) const {
  const std::string f = dir_ + "/" + attr;
  const auto text = sysfs::read_optional(f);
  if (!text) return std::nullopt;
  return sysfs::parse_u64(*text, f);
}

std::optional<std::uint64_t> BatteryBackend::energy_now_uwh() const { return optional_u64("energy_now"); }
std::optional<std::uint64_t> BatteryBackend::energy_full_uwh() const { return optional_u64("energy_full"); }
std::optional<std::uint64_t> BatteryBackend::charge_now_uah() const { return optional_u64("charge_now"); }
std::optional<std::uint64_t> BatteryBackend::charge_full_uah() const { return optional_u64("charge_full"); }
std::optional<std::uint64_t> BatteryBackend::voltage_now_uv() const { return optional_u64("voltage_now"); }

}  // namespace rt3::dvfs
