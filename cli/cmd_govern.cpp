// `rt3 govern BUNDLE`: the live RT3 loop. For every input line (one request, paced at --rate), it
// reads the CPU's current frequency level (real cpufreq, or a replayed trace advanced by wall
// time), asks the governor which variant meets the deadline there, switches the engine when the
// answer changes and runs the request. Governor: docs/dvfs.md "Governor".
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "dvfs/cpufreq.h"
#include "dvfs/governor.h"
#include "dvfs/latency_table.h"
#include "dvfs/profile.h"
#include "dvfs/trace.h"
#include "rt3/engine.h"

namespace rt3::cli {
namespace {

struct GovernArgs {
  std::string bundle, latency, profile, trace, input = "-";
  double deadline_ms = 0;
  double rate_hz = 10;
  double cycle_scale = 1.0, margin = 0.9, hysteresis = 0.05;
  int max_new_tokens = 4;
};

// Every latency-table variant must be a variant of the loaded bundle, or the governor would pick
// a name the engine cannot select.
void check_variants(const Engine& engine, const std::vector<dvfs::GovernorSet>& sets, const std::string& table_path) {
  const auto& names = engine.variants();
  for (const auto& s : sets)
    if (std::find(names.begin(), names.end(), s.name) == names.end()) {
      std::string have;
      for (const auto& n : names) have += (have.empty() ? "" : ", ") + n;
      throw std::runtime_error(table_path + ": variant '" + s.name + "' is not in the bundle (its variants: " + have +
                               "); make the latency table from this bundle with rt3 profile");
    }
}

// Runs one request on the engine's active variant; returns a short description of the result.
std::string run_request(Engine& engine, const std::string& text, int max_new_tokens) {
  if (engine.model_type() == ModelType::kDistilBertClassifier) return engine.classify(text).label_name;
  GenerateOptions go;
  go.max_new_tokens = max_new_tokens;
  return engine.generate(text, go).text;
}

}  // namespace

Runner add_govern(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "govern",
      "Serve requests while following the CPU frequency: switch variants so each request meets the deadline.\n"
      "The device latency scaling (--cycle-scale, latency table split) applies only to the governor's prediction;\n"
      "the latency logged per request is measured on this host.");
  auto a = std::make_shared<GovernArgs>();
  cmd->add_option("bundle", a->bundle, "Bundle file (.rt3) with pattern variants")->required()->check(CLI::ExistingFile);
  cmd->add_option("--deadline-ms", a->deadline_ms, "Deadline per request (ms)")->required()->check(CLI::PositiveNumber);
  cmd->add_option("--latency", a->latency, "Latency table of this bundle (rt3 profile)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--profile", a->profile, "Device profile: its usable levels (default: the frequency source's levels)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--trace", a->trace, "Replay this frequency trace (CSV time_s,freq_khz,battery_percent) instead of cpufreq")
      ->check(CLI::ExistingFile);
  cmd->add_option("--input", a->input, "Requests, one per line (- = stdin)")->capture_default_str();
  cmd->add_option("--rate", a->rate_hz, "Requests per second")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--cycle-scale", a->cycle_scale, "Device cycles per host cycle (governor prediction only)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--margin", a->margin, "Predicted latency must be <= margin x deadline")->capture_default_str()->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--hysteresis", a->hysteresis, "Band (fraction of the deadline) before moving to a more accurate set")
      ->capture_default_str()->check(CLI::Range(0.0, 0.99));
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "LM bundles: tokens generated per request")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--threads", g.threads, "Engine threads")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_flag("--json", g.json, "One JSON object per request, then a summary object");
  return [a, &g]() {
    // Cheap checks first: a missing cpufreq or a bad table should not wait for the model to load.
    std::unique_ptr<dvfs::FrequencySource> source;
    dvfs::TraceClock* clock = nullptr;
    if (!a->trace.empty()) {
      auto c = std::make_unique<dvfs::TraceClock>(dvfs::Trace::load(a->trace));
      clock = c.get();
      source = std::move(c);
    } else {
      source = std::make_unique<dvfs::CpufreqBackend>();
    }
    const dvfs::LatencyTable table = dvfs::load_latency_table(a->latency);
    std::vector<std::uint64_t> levels;
    if (!a->profile.empty())
      for (const auto& o : dvfs::load_profile(a->profile).usable_levels()) levels.push_back(o.khz);
    else
      levels = source->available_frequencies_khz();
    dvfs::GovernorOptions go;
    go.deadline_s = a->deadline_ms * 1e-3;
    go.cycle_scale = a->cycle_scale;
    go.margin = a->margin;
    go.hysteresis = a->hysteresis;
    if (a->hysteresis >= a->margin) throw std::runtime_error("--hysteresis must be smaller than --margin");
    dvfs::Governor governor(levels, dvfs::sets_from_table(table), go);

    std::ifstream file;
    if (a->input != "-") {
      file.open(a->input);
      if (!file) throw std::runtime_error(a->input + ": cannot open the input file");
    }
    std::istream& in = a->input == "-" ? std::cin : file;

    EngineOptions eo;
    eo.threads = g.threads;
    auto engine = Engine::load(a->bundle, eo);
    check_variants(*engine, governor.sets(), a->latency);

    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const double trace_t0 = clock ? clock->trace().points().front().time_s : 0;
    std::uint64_t requests = 0, misses = 0, switches = 0;
    std::optional<std::size_t> active;
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(static_cast<double>(requests) / a->rate_hz)));
      const double t = std::chrono::duration<double>(Clock::now() - start).count();
      if (clock) clock->set_time(trace_t0 + t);
      const std::uint64_t khz = source->current_khz();
      const std::size_t set = governor.on_level(khz);
      const std::string& name = governor.sets()[set].name;
      if (active != set) {
        engine->select_variant(name);
        if (active) ++switches;
        active = set;
      }
      const auto t0 = Clock::now();
      const std::string result = run_request(*engine, line, a->max_new_tokens);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      const bool met = ms <= a->deadline_ms;
      const double predicted_ms = governor.latency_s(set, static_cast<double>(governor.snap(khz))) * 1e3;
      ++requests;
      if (!met) ++misses;
      if (g.json) {
        nlohmann::json j = {{"t_s", t}, {"freq_khz", khz}, {"level_khz", governor.snap(khz)}, {"set", name},
                            {"predicted_ms", predicted_ms}, {"latency_ms", ms}, {"deadline_met", met}, {"result", result}};
        std::printf("%s\n", j.dump().c_str());
      } else {
        std::printf("%8.3f s  %8.1f MHz  set %-10s predicted %8.2f ms  measured %8.2f ms  %s\n", t,
                    static_cast<double>(khz) / 1000, name.c_str(), predicted_ms, ms, met ? "met" : "MISSED");
      }
      std::fflush(stdout);
    }
    if (g.json) {
      nlohmann::json s = {{"summary", {{"requests", requests}, {"misses", misses}, {"switches", switches},
                                       {"deadline_ms", a->deadline_ms}, {"source", clock ? "trace" : "cpufreq"}}}};
      std::printf("%s\n", s.dump().c_str());
    } else {
      std::printf("%llu requests, %llu missed the %.1f ms deadline (host latency), %llu variant switches\n",
                  static_cast<unsigned long long>(requests), static_cast<unsigned long long>(misses), a->deadline_ms,
                  static_cast<unsigned long long>(switches));
    }
    return 0;
  };
}

}  // namespace rt3::cli
