#pragma once
// Slows the calling thread the way a lower clock does (docs/adapt.md "Proof under slowdowns"):
// CPU bandwidth control of the cgroup v1 cpu controller. The thread moves into its own cgroup
// whose quota lets it run `speed` of every short period (>= 1 ms of run time, the kernel's
// minimum quota, in periods of at least 3 ms), so an inference of several ms is stretched by
// about 1 / speed with at most one period's stall of jitter: much finer grained than sharing the
// core with busy processes, whose cuts are whole scheduler time slices. Needs write access to the
// cpu controller (root, or a delegated hierarchy); cgroup v2's cpu.max is not implemented because
// no machine here mounts the cpu controller on v2 to test it on.
#include <string>

namespace rt3::cli {

class CpuThrottle {
 public:
  // Moves the calling thread into a new cgroup under the cpu controller's mount. Throws
  // std::runtime_error saying what is missing (no v1 cpu controller, no permission).
  CpuThrottle();
  ~CpuThrottle();  // the thread back into its cgroup, the new one removed
  CpuThrottle(const CpuThrottle&) = delete;
  CpuThrottle& operator=(const CpuThrottle&) = delete;

  // Share of each period the thread may run, in (0, 1]; 1 lifts the limit. Throws
  // std::runtime_error when the kernel refuses the quota.
  void set(double speed);
  const std::string& path() const { return dir_; }

  // Empty when this process can throttle a thread here, else why not (for a clear message).
  static std::string unavailable_reason();

 private:
  std::string parent_;  // the cgroup the thread came from (its tasks file takes it back)
  std::string dir_;
  long tid_ = 0;
};

}  // namespace rt3::cli
