#pragma once
// The engine's own view of the CPU clock for its cpufreq mode: <root>/cpu<N>/cpufreq/
// scaling_cur_freq of every CPU, opened once and kept open, read with one pread() for the CPU the
// calling thread is on (sched_getcpu). A CPU's file is read again only when its last reading is
// older than kRefreshNs: a cpufreq governor changes the clock at most every rate_limit_us (0.5-20
// ms on phones), so a fresher reading tells nothing new, and one pread costs ~2 us in a VM. The
// root is a parameter so tests point it at a fake sysfs tree. Costs: docs/adapt.md "Costs".
#include <atomic>
#include <cstdint>
#include <memory>
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
  // The same without the cache: always one pread.
  std::uint64_t read_khz() const;
  static constexpr std::int64_t kRefreshNs = 500000;
  const std::string& root() const { return root_; }
  int cpus() const;  // CPUs with an open file

 private:
  std::string root_;
  std::vector<int> fd_;  // by CPU number; -1 = none
  int first_ = -1;       // first CPU with a file
  // Per CPU: the last reading and when it was taken (steady clock ns; 0 = never). Races between
  // threads are benign: both read the file and store equal values.
  std::unique_ptr<std::atomic<std::int64_t>[]> read_at_ns_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> last_khz_;
  int cpu_now() const;
  std::uint64_t read_cpu(int cpu) const;
};

}  // namespace rt3::adapt
