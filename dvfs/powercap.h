// Intel RAPL energy counters through the powercap class (Documentation/power/powercap/powercap.rst):
// <root>/intel-rapl:<n>[:<m>]/{name,energy_uj,max_energy_range_uj}. The root is a parameter so
// tests run this code on a fake tree. energy_uj is root-only since Linux 5.10 (CVE-2020-8694).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rt3::dvfs {

struct RaplZone {
  std::string id;    // directory name, e.g. "intel-rapl:0" or "intel-rapl:0:1"
  std::string path;  // <root>/<id>
  std::string name;  // e.g. "package-0", "core", "dram"
  std::uint64_t max_energy_range_uj = 0;  // the counter wraps within this range
};

class RaplBackend {
 public:
  // Throws "no RAPL under <root>: ..." when there is no intel-rapl* zone.
  explicit RaplBackend(std::string root = "/sys/class/powercap");

  const std::vector<RaplZone>& zones() const { return zones_; }  // sorted by id
  const RaplZone& zone(const std::string& id_or_name) const;

  // Throws "...needs root or read permission on <file>..." when the counter is root-only.
  std::uint64_t energy_uj(const RaplZone& z) const;

  // Energy between two readings a then b of a counter that wraps within `range`:
  // (b - a + range) % range, computed without overflow. Assumes at most one wrap between them.
  static std::uint64_t delta_uj(std::uint64_t a, std::uint64_t b, std::uint64_t range);

 private:
  std::string root_;
  std::vector<RaplZone> zones_;
};

}  // namespace rt3::dvfs
