#include "cli/cpu_throttle.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace rt3::cli {
namespace {

constexpr long kMinQuotaUs = 1000;  // the kernel refuses less
constexpr long kMinPeriodUs = 3000;

// The cgroup v1 mount whose options include the cpu controller ("" when none).
std::string cpu_v1_mount() {
  std::ifstream f("/proc/self/mounts");
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string dev, dir, type, opts;
    in >> dev >> dir >> type >> opts;
    if (type != "cgroup") continue;
    std::istringstream o(opts);
    for (std::string opt; std::getline(o, opt, ',');)
      if (opt == "cpu") return dir;
  }
  return "";
}

// This process's cgroup in the v1 hierarchy that has the cpu controller ("/" for the root).
std::string own_cpu_cgroup() {
  std::ifstream f("/proc/self/cgroup");
  std::string line;
  while (std::getline(f, line)) {  // "ID:controllers:path"
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::istringstream c(line.substr(a + 1, b - a - 1));
    for (std::string ctl; std::getline(c, ctl, ',');)
      if (ctl == "cpu") return line.substr(b + 1);
  }
  return "/";
}

void write_file(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  f << value << std::flush;
  if (!f) throw std::runtime_error("cpu throttle: cannot write '" + value + "' to " + path + ": " + std::strerror(errno));
}

}  // namespace

std::string CpuThrottle::unavailable_reason() {
  const std::string mount = cpu_v1_mount();
  if (mount.empty()) return "no cgroup v1 cpu controller is mounted (cgroup v2 cpu.max is not implemented)";
  const std::string parent = mount + own_cpu_cgroup();
  if (access(parent.c_str(), W_OK) != 0)
    return "cannot create a cgroup in " + parent + ": " + std::strerror(errno) + " (run as root)";
  return "";
}

CpuThrottle::CpuThrottle() {
  if (const std::string why = unavailable_reason(); !why.empty()) throw std::runtime_error("cpu throttle: " + why);
  parent_ = cpu_v1_mount() + own_cpu_cgroup();
  if (parent_.back() == '/') parent_.pop_back();
  tid_ = static_cast<long>(syscall(SYS_gettid));
  dir_ = parent_ + "/rt3-bench-" + std::to_string(getpid()) + "-" + std::to_string(tid_);
  if (mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST)
    throw std::runtime_error("cpu throttle: cannot create " + dir_ + ": " + std::strerror(errno));
  try {
    write_file(dir_ + "/tasks", std::to_string(tid_));
  } catch (...) {
    rmdir(dir_.c_str());
    throw;
  }
}

CpuThrottle::~CpuThrottle() {
  try {
    write_file(dir_ + "/cpu.cfs_quota_us", "-1");
    write_file(parent_ + "/tasks", std::to_string(tid_));
  } catch (...) {
    // The directory cannot be removed while the thread is in it; nothing more to do.
  }
  rmdir(dir_.c_str());
}

void CpuThrottle::set(double speed) {
  if (!(speed > 0) || speed > 1) throw std::runtime_error("cpu throttle: speed must be in (0, 1]");
  if (speed >= 1) {
    write_file(dir_ + "/cpu.cfs_quota_us", "-1");
    return;
  }
  const long period = std::max(kMinPeriodUs, static_cast<long>(std::ceil(static_cast<double>(kMinQuotaUs) / speed)));
  const long quota = std::max(kMinQuotaUs, static_cast<long>(std::lround(speed * static_cast<double>(period))));
  write_file(dir_ + "/cpu.cfs_quota_us", "-1");  // a period below the current quota would be refused
  write_file(dir_ + "/cpu.cfs_period_us", std::to_string(period));
  write_file(dir_ + "/cpu.cfs_quota_us", std::to_string(quota));
}

}  // namespace rt3::cli
