// The read side shared by the real cpufreq backend and the trace replay, so the runtime can follow
// either a real CPU or a recorded frequency trace without knowing which.
#pragma once

#include <cstdint>
#include <vector>

namespace rt3::dvfs {

class FrequencySource {
 public:
  virtual ~FrequencySource() = default;
  virtual std::uint64_t current_khz() = 0;
  virtual std::vector<std::uint64_t> available_frequencies_khz() = 0;  // ascending, distinct
};

}  // namespace rt3::dvfs
