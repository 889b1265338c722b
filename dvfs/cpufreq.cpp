#include "dvfs/cpufreq.h"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "dvfs/sysfs.h"

namespace rt3::dvfs {
namespace {

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string join(const std::vector<std::uint64_t>& v) {
  std::string s;
  for (auto x : v) s += (s.empty() ? "" : " ") + std::to_string(x);
  return s;
}

}  // namespace

CpufreqBackend::CpufreqBackend(std::string root, int cpu)
    : dir_(std::move(root) + "/cpu" + std::to_string(cpu) + "/cpufreq"), cpu_(cpu) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir_, ec))
    throw std::runtime_error("no cpufreq at " + dir_ +
                             ": this kernel/VM exposes no DVFS; use a trace (--trace)");
}

FrequencyTable CpufreqBackend::frequency_table() const {
  FrequencyTable t;
  const std::string avail = file("scaling_available_frequencies");
  if (auto text = sysfs::read_optional(avail); text && !sysfs::trim(*text).empty()) {
    t.khz = sysfs::parse_u64_list(*text, avail);
    t.note = "from " + avail;
  } else {
    // Drivers without a frequency table (intel_pstate, acpi-cppc) omit the file; the limits are
    // all we can know, and the caller must be told the table is incomplete.
    const std::uint64_t lo = sysfs::parse_u64(sysfs::read_required(file("cpuinfo_min_freq")),
                                              file("cpuinfo_min_freq"));
    const std::uint64_t hi = sysfs::parse_u64(sysfs::read_required(file("cpuinfo_max_freq")),
                                              file("cpuinfo_max_freq"));
    if (lo > hi)
      throw std::runtime_error(dir_ + ": cpuinfo_min_freq " + std::to_string(lo) +
                               " > cpuinfo_max_freq " + std::to_string(hi));
    t.khz = {lo, hi};
    t.from_min_max = true;
    t.note = "no " + avail + ": only cpuinfo_min_freq/cpuinfo_max_freq; intermediate levels unknown";
  }
  if (t.khz.empty()) throw std::runtime_error(dir_ + ": no usable frequencies");
  if (std::find(t.khz.begin(), t.khz.end(), 0) != t.khz.end())
    throw std::runtime_error(dir_ + ": a frequency of 0 kHz in " + t.note);
  std::sort(t.khz.begin(), t.khz.end());
  t.khz.erase(std::unique(t.khz.begin(), t.khz.end()), t.khz.end());
  return t;
}

std::vector<std::uint64_t> CpufreqBackend::available_frequencies_khz() {
  return frequency_table().khz;
}

std::uint64_t CpufreqBackend::current_khz() {
  const std::string f = file("scaling_cur_freq");
  return sysfs::parse_u64(sysfs::read_required(f), f);
}

std::string CpufreqBackend::governor() const {
  const std::string g = sysfs::trim(sysfs::read_required(file("scaling_governor")));
  if (g.empty()) throw std::runtime_error(file("scaling_governor") + ": empty");
  return g;
}

std::vector<std::string> CpufreqBackend::available_governors() const {
  return split_words(sysfs::read_required(file("scaling_available_governors")));
}

void CpufreqBackend::set_governor(const std::string& name) {
  const auto govs = available_governors();
  if (std::find(govs.begin(), govs.end(), name) == govs.end()) {
    std::string list;
    for (const auto& g : govs) list += (list.empty() ? "" : " ") + g;
    throw std::runtime_error(file("scaling_available_governors") + ": governor '" + name +
                             "' is not available (have: " + list + ")");
  }
  sysfs::write(file("scaling_governor"), name);
}

void CpufreqBackend::set_frequency_khz(std::uint64_t khz) {
  const std::string gov = governor();
  if (gov != "userspace")
    throw std::runtime_error("cpu" + std::to_string(cpu_) + " governor is '" + gov +
                             "', scaling_setspeed is ignored: set governor to userspace first "
                             "(rt3 needs write access to " + file("scaling_governor") + ")");
  const FrequencyTable t = frequency_table();
  // With a real table the kernel would round to a neighbour; refusing keeps the runtime's idea of
  // the level exact. With only min/max known any value in range is legitimate.
  const bool ok = t.from_min_max ? (khz >= t.khz.front() && khz <= t.khz.back())
                                 : std::binary_search(t.khz.begin(), t.khz.end(), khz);
  if (!ok)
    throw std::runtime_error(file("scaling_setspeed") + ": " + std::to_string(khz) +
                             " kHz is not an available frequency (" + join(t.khz) + ")");
  sysfs::write(file("scaling_setspeed"), std::to_string(khz));
}

std::vector<int> CpufreqBackend::related_cpus() const {
  const std::string f = file("related_cpus");
  std::vector<int> out;
  for (auto v : sysfs::parse_u64_list(sysfs::read_required(f), f)) out.push_back(static_cast<int>(v));
  return out;
}

}  // namespace rt3::dvfs
