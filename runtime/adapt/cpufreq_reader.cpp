#include "runtime/adapt/cpufreq_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace rt3::adapt {
namespace {

constexpr int kMaxCpus = 4096;

std::string cur_freq_path(const std::string& root, int cpu) {
  return root + "/cpu" + std::to_string(cpu) + "/cpufreq/scaling_cur_freq";
}

// "cpu17" -> 17; anything else (cpufreq, cpuidle, cpu01x) -> -1.
int cpu_number(const char* name) {
  if (std::strncmp(name, "cpu", 3) != 0 || name[3] == '\0') return -1;
  int n = 0;
  for (const char* p = name + 3; *p; ++p) {
    if (*p < '0' || *p > '9' || n >= kMaxCpus) return -1;
    n = n * 10 + (*p - '0');
  }
  return n < kMaxCpus ? n : -1;
}

std::string why(int err) {
  if (err == EACCES || err == EPERM)
    return std::string(std::strerror(err)) +
           " (no read permission; Android apps are usually denied cpufreq by SELinux: use table mode fed with "
           "set_cpu_khz, or deadline mode, which needs no OS access)";
  if (err == ENOENT) return std::string(std::strerror(err)) + " (no cpufreq here: the kernel or VM exposes none)";
  return std::strerror(err);
}

}  // namespace

CpufreqReader::CpufreqReader(std::string root) : root_(std::move(root)) {
  DIR* dir = opendir(root_.c_str());
  if (!dir) throw std::runtime_error("cpufreq: cannot list " + root_ + ": " + why(errno));
  std::vector<int> cpus;
  while (const dirent* e = readdir(dir)) {
    const int n = cpu_number(e->d_name);
    if (n >= 0) cpus.push_back(n);
  }
  closedir(dir);
  int first_err = ENOENT;
  std::string first_path = cur_freq_path(root_, 0);
  bool have_err = false;
  for (int cpu : cpus) {
    const std::string path = cur_freq_path(root_, cpu);
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      if (!have_err) first_err = errno, first_path = path, have_err = true;
      continue;
    }
    if (static_cast<int>(fd_.size()) <= cpu) fd_.resize(static_cast<size_t>(cpu) + 1, -1);
    fd_[static_cast<size_t>(cpu)] = fd;
    if (first_ < 0 || cpu < first_) first_ = cpu;
  }
  if (first_ < 0) throw std::runtime_error("cpufreq: cannot open " + first_path + ": " + why(first_err));
  read_at_ns_ = std::make_unique<std::atomic<std::int64_t>[]>(fd_.size());
  last_khz_ = std::make_unique<std::atomic<std::uint64_t>[]>(fd_.size());
  for (size_t i = 0; i < fd_.size(); ++i) {
    read_at_ns_[i].store(0);
    last_khz_[i].store(0);
  }
}

CpufreqReader::~CpufreqReader() {
  for (int fd : fd_)
    if (fd >= 0) close(fd);
}

int CpufreqReader::cpus() const {
  int n = 0;
  for (int fd : fd_) n += fd >= 0;
  return n;
}

int CpufreqReader::cpu_now() const {
  const int cpu = sched_getcpu();
  return cpu < 0 || cpu >= static_cast<int>(fd_.size()) || fd_[static_cast<size_t>(cpu)] < 0 ? first_ : cpu;
}

std::uint64_t CpufreqReader::read_cpu(int cpu) const {
  char buf[32];
  const ssize_t n = pread(fd_[static_cast<size_t>(cpu)], buf, sizeof buf - 1, 0);
  if (n < 0) throw std::runtime_error("cpufreq: reading " + cur_freq_path(root_, cpu) + ": " + why(errno));
  std::uint64_t khz = 0;
  ssize_t i = 0;
  for (; i < n && buf[i] >= '0' && buf[i] <= '9' && khz < (1ull << 40); ++i) khz = khz * 10 + static_cast<unsigned>(buf[i] - '0');
  if (i == 0 || khz == 0 || khz >= (1ull << 40))
    throw std::runtime_error("cpufreq: " + cur_freq_path(root_, cpu) + " does not hold a frequency in kHz");
  return khz;
}

std::uint64_t CpufreqReader::read_khz() const { return read_cpu(cpu_now()); }

std::uint64_t CpufreqReader::current_khz() const {
  const int cpu = cpu_now();
  const auto c = static_cast<size_t>(cpu);
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  const std::int64_t at = read_at_ns_[c].load(std::memory_order_acquire);
  if (at != 0 && now - at < kRefreshNs) return last_khz_[c].load(std::memory_order_relaxed);
  const std::uint64_t khz = read_cpu(cpu);
  last_khz_[c].store(khz, std::memory_order_relaxed);
  read_at_ns_[c].store(now, std::memory_order_release);
  return khz;
}

}  // namespace rt3::adapt
