#pragma once
// The engine's own view of the CPU clock for its cpufreq mode: <root>/cpu<N>/cpufreq/
// scaling_cur_freq of every CPU, opened once and kept open, read with one pread() per inference
// for the CPU the calling thread is on (sched_getcpu). The root is a parameter so tests point it
// at a fake sysfs tree. Cost per read: docs/adapt.md "cpufreq mode".
#include <cstdint>
#include <string>
#include <vector>

namespace rt3::adapt {

class CpufreqReader {
 public:
  // Opens every <root>/cpu<N>/cpufreq/scaling_cur_freq there is. Throws std::runtime_error naming
  // the file and the reason (missing, or no permission: the usual case for an Android app, whose
  // SELinux policy denies sysfs cpufreq) when none can be opened.
  explicit CpufreqReader(std::string root);
  ~CpufreqReader();
  CpufreqReader(const CpufreqReader&) = delete;
  CpufreqReader& operator=(const CpufreqReader&) = delete;

  // Current frequency (kHz) of the CPU the calling thread runs on (the first CPU with a file when
  // that one has none). Thread-safe. Throws std::runtime_error naming the file on a failed read
  // or a value that is not a positive number.
  std::uint64_t current_khz() const;
  const std::string& root() const { return root_; }
  int cpus() const;  // CPUs with an open file

 private:
  std::string root_;
  std::vector<int> fd_;  // by CPU number; -1 = none
  int first_ = -1;       // first CPU with a file
};

}  // namespace rt3::adapt
