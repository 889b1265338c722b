#include "cli/cpu_hogs.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

namespace rt3::cli {

// Lives in a MAP_SHARED page: the parent writes, the children poll.
struct CpuHogs::Shared {
  std::atomic<int> active{0};
  std::atomic<int> duty_permille{0};
  std::atomic<int> quit{0};
};

namespace {

constexpr auto kPeriod = std::chrono::microseconds(4000);

[[noreturn]] void hog_main(CpuHogs::Shared* s, int index, int cpu, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(0);  // the parent died before prctl took effect
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
  using Clock = std::chrono::steady_clock;
  while (!s->quit.load(std::memory_order_relaxed)) {
    const int duty = index < s->active.load(std::memory_order_relaxed) ? s->duty_permille.load(std::memory_order_relaxed) : 0;
    if (duty <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    const auto start = Clock::now();
    const auto busy_until = start + kPeriod * duty / 1000;
    volatile unsigned spin = 0;
    while (Clock::now() < busy_until) spin = spin + 1;
    if (duty < 1000) std::this_thread::sleep_until(start + kPeriod);
  }
  _exit(0);
}

}  // namespace

CpuHogs::CpuHogs(int cpu, int max_hogs) {
  void* p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::runtime_error(std::string("load generator: mmap failed: ") + std::strerror(errno));
  shared_ = new (p) Shared();
  const pid_t parent = getpid();
  for (int i = 0; i < max_hogs; ++i) {
    const pid_t pid = fork();
    if (pid < 0) {
      const int err = errno;
      this->~CpuHogs();
      throw std::runtime_error(std::string("load generator: fork failed: ") + std::strerror(err));
    }
    if (pid == 0) hog_main(shared_, i, cpu, parent);
    children_.push_back(pid);
  }
}

CpuHogs::~CpuHogs() {
  if (shared_) shared_->quit.store(1);
  for (pid_t pid : children_) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  children_.clear();
  if (shared_) munmap(shared_, sizeof(Shared));
  shared_ = nullptr;
}

void CpuHogs::set(int hogs, double duty) {
  hogs_ = std::clamp(hogs, 0, static_cast<int>(children_.size()));
  duty_ = std::clamp(duty, 0.0, 1.0);
  shared_->duty_permille.store(static_cast<int>(duty_ * 1000 + 0.5));
  shared_->active.store(hogs_);
}

double CpuHogs::speed() const { return 1.0 / (1.0 + hogs_ * duty_); }

void pin_this_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0)
    throw std::runtime_error("cannot pin to CPU " + std::to_string(cpu) + ": " + std::strerror(errno));
}

}  // namespace rt3::cli
