// Linux cpufreq backend: reads and sets one CPU's frequency through
// <root>/cpu<N>/cpufreq/ (Documentation/admin-guide/pm/cpufreq.rst). The root is a parameter so
// tests run this exact code on a fake sysfs tree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dvfs/frequency_source.h"

namespace rt3::dvfs {

struct FrequencyTable {
  std::vector<std::uint64_t> khz;  // ascending, distinct
  // True when the driver has no scaling_available_frequencies (e.g. intel_pstate, CPPC) and the
  // table is only {cpuinfo_min_freq, cpuinfo_max_freq}: the hardware may support more levels.
  bool from_min_max = false;
  std::string note;  // human-readable origin of the table
};

class CpufreqBackend : public FrequencySource {
 public:
  // Throws "no cpufreq at <path>: ..." if <root>/cpu<cpu>/cpufreq does not exist.
  explicit CpufreqBackend(std::string root = "/sys/devices/system/cpu", int cpu = 0);

  const std::string& dir() const { return dir_; }  // <root>/cpu<N>/cpufreq

  FrequencyTable frequency_table() const;
  std::vector<std::uint64_t> available_frequencies_khz() override;  // frequency_table().khz
  std::uint64_t current_khz() override;                             // scaling_cur_freq

  std::string governor() const;                        // scaling_governor
  std::vector<std::string> available_governors() const;  // scaling_available_governors
  void set_governor(const std::string& name);

  // Writes scaling_setspeed; only the `userspace` governor honours it, so any other governor is
  // an error rather than a silent no-op.
  void set_frequency_khz(std::uint64_t khz);

  std::vector<int> related_cpus() const;  // CPUs sharing this frequency domain

 private:
  std::string file(const char* name) const { return dir_ + "/" + name; }

  std::string dir_;
  int cpu_;
};

}  // namespace rt3::dvfs
