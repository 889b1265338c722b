#pragma once
// Slows this machine down the way a phone is slowed (docs/adapt.md "Proof under slowdowns"):
// busy child processes pinned to the CPU the engine runs on, each busy `duty` of every 4 ms, so the
// engine shares its core as it would with a lower clock, a throttled core or another app. The CFS
// scheduler shares a CPU equally among runnable tasks, so a task that is always runnable runs at
// speed ~ 1 / (1 + hogs x duty): that is the slowdown the emulated frequency level follows.
// Linux only (fork, sched_setaffinity). Children die with the parent (PR_SET_PDEATHSIG).
#include <sys/types.h>

#include <vector>

namespace rt3::cli {

class CpuHogs {
 public:
  // Starts max_hogs idle children pinned to `cpu`. Throws std::runtime_error when fork fails.
  CpuHogs(int cpu, int max_hogs);
  ~CpuHogs();  // stops and reaps every child
  CpuHogs(const CpuHogs&) = delete;
  CpuHogs& operator=(const CpuHogs&) = delete;

  // The first `hogs` children busy `duty` (0..1) of every period, the others idle.
  void set(int hogs, double duty);
  // Expected share of the CPU left to one always-runnable task: 1 / (1 + hogs x duty).
  double speed() const;

  struct Shared;  // the control page the children poll (cpu_hogs.cpp)

 private:
  Shared* shared_ = nullptr;
  std::vector<pid_t> children_;
  int hogs_ = 0;
  double duty_ = 0;
};

// Pins the calling thread to `cpu` (the engine runs inference on the caller with one thread).
// Throws std::runtime_error naming the CPU when the kernel refuses.
void pin_this_thread(int cpu);

}  // namespace rt3::cli
