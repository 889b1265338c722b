#include "dvfs/powercap.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "dvfs/sysfs.h"

namespace rt3::dvfs {

RaplBackend::RaplBackend(std::string root) : root_(std::move(root)) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string id = it->path().filename().string();
    // "intel-rapl" itself is the control type (no counter); zones are "intel-rapl:<n>[:<m>]"
    // (and "intel-rapl-mmio:<n>" on newer CPUs). Every zone has a name file.
    if (id.rfind("intel-rapl", 0) != 0) continue;
    const std::string dir = it->path().string();
    const auto name = sysfs::read_optional(dir + "/name");
    if (!name) continue;
    RaplZone z;
    z.id = id;
    z.path = dir;
    z.name = sysfs::trim(*name);
    const std::string range_file = dir + "/max_energy_range_uj";
    z.max_energy_range_uj = sysfs::parse_u64(sysfs::read_required(range_file), range_file);
    if (z.max_energy_range_uj == 0) throw std::runtime_error(range_file + ": range is 0");
    zones_.push_back(std::move(z));
  }
  if (zones_.empty())
    throw std::runtime_error("no RAPL under " + root_ +
                             ": no intel-rapl* powercap zone (not an Intel/AMD host, a VM, or the "
                             "intel_rapl module is not loaded); energy must come from a profile");
  std::sort(zones_.begin(), zones_.end(),
            [](const RaplZone& x, const RaplZone& y) { return x.id < y.id; });
}

const RaplZone& RaplBackend::zone(const std::string& id_or_name) const {
  for (const auto& z : zones_)
    if (z.id == id_or_name || z.name == id_or_name) return z;
  throw std::runtime_error("no RAPL zone '" + id_or_name + "' under " + root_);
}

std::uint64_t RaplBackend::energy_uj(const RaplZone& z) const {
  const std::string f = z.path + "/energy_uj";
  try {
    const std::uint64_t v = sysfs::parse_u64(sysfs::read_required(f), f);
    if (v > z.max_energy_range_uj)
      throw std::runtime_error(f + ": " + std::to_string(v) + " exceeds max_energy_range_uj " +
                               std::to_string(z.max_energy_range_uj));
    return v;
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    if (msg.find("needs root") != std::string::npos)
      throw std::runtime_error(msg + " (energy_uj is root-only since Linux 5.10; run as root or "
                                     "chmod it)");
    throw;
  }
}

std::uint64_t RaplBackend::delta_uj(std::uint64_t a, std::uint64_t b, std::uint64_t range) {
  if (range == 0) throw std::runtime_error("RAPL delta: max_energy_range_uj is 0");
  if (a > range || b > range)
    throw std::runtime_error("RAPL delta: reading " + std::to_string(std::max(a, b)) +
                             " is outside the range " + std::to_string(range));
  // (b - a + range) % range, split so nothing overflows for ranges near 2^64.
  return b >= a ? (b - a) % range : range - (a - b);
}

}  // namespace rt3::dvfs
