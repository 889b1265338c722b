#include "cli/adapt_costs.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <vector>

#include "runtime/adapt/cpufreq_reader.h"

namespace rt3::cli {
namespace {

double median_ns_per_call(int iterations, const std::function<void(int)>& call) {
  std::vector<double> reps;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) call(i);
    reps.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / iterations);
  }
  std::sort(reps.begin(), reps.end());
  return reps[reps.size() / 2];
}

}  // namespace

nlohmann::json measure_adapt_costs(const adapt::PolicySpec& spec, int n) {
  namespace fs = std::filesystem;
  nlohmann::json j = nlohmann::json::object();
  const int variants = static_cast<int>(spec.variants.size());
  {
    adapt::Adapter a(spec, "");
    j["select_variant_manual"] = median_ns_per_call(n, [&](int i) { a.select(i % variants); });
    j["decide_manual"] = median_ns_per_call(n, [&](int) { (void)a.decide(); });
  }
  if (!spec.levels.empty()) {
    adapt::Adapter a(spec, "");
    a.set_mode(AdaptMode::kTable);
    const std::uint64_t top = spec.levels.level_khz(spec.levels.top());
    j["decide_table"] = median_ns_per_call(n, [&](int i) {
      a.set_cpu_khz(top - static_cast<std::uint64_t>(i % 4) * (top / 8));
      (void)a.decide();
    });
  }
  {
    adapt::Adapter a(spec, "");
    if (a.support(AdaptMode::kDeadline).empty()) {
      a.set_deadline_s(spec.searched_deadline_s.value_or(0.01));
      a.set_mode(AdaptMode::kDeadline);
      j["decide_observe_deadline"] = median_ns_per_call(n, [&](int i) {
        InferenceInfo info = a.decide();
        a.observe(info, 0.004 + 0.001 * (i % 7));
      });
    }
  }
  // A fake cpufreq tree: one file per CPU, as sysfs lays them out.
  char tmpl[] = "/tmp/rt3-cpufreq-XXXXXX";
  if (const char* dir = mkdtemp(tmpl)) {
    const long cpus = std::max(1L, sysconf(_SC_NPROCESSORS_CONF));
    for (long c = 0; c < cpus; ++c) {
      const fs::path d = fs::path(dir) / ("cpu" + std::to_string(c)) / "cpufreq";
      fs::create_directories(d);
      std::ofstream(d / "scaling_cur_freq") << 1800000 << "\n";
    }
    {
      adapt::CpufreqReader r(dir);
      j["cpufreq_pread_fake_tree"] = median_ns_per_call(n / 4, [&](int) { (void)r.read_khz(); });
      // What an inference pays: the reading is refreshed every CpufreqReader::kRefreshNs.
      j["cpufreq_cached_read"] = median_ns_per_call(n, [&](int) { (void)r.current_khz(); });
    }
    {
      const adapt::PolicySpec& table_spec = spec;
      if (!table_spec.levels.empty()) {
        adapt::Adapter a(table_spec, dir);
        a.set_mode(AdaptMode::kCpufreq);
        j["decide_cpufreq"] = median_ns_per_call(n, [&](int) { (void)a.decide(); });
      }
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  if (fs::exists("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")) {
    try {
      adapt::CpufreqReader r("/sys/devices/system/cpu");
      j["cpufreq_pread_sysfs"] = median_ns_per_call(n / 20, [&](int) { (void)r.read_khz(); });
    } catch (const std::exception& e) {
      j["cpufreq_pread_sysfs"] = e.what();
    }
  } else {
    j["cpufreq_pread_sysfs"] = "this machine has no cpufreq in sysfs";
  }
  return j;
}

}  // namespace rt3::cli
