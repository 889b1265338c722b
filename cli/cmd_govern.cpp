// `rt3 govern BUNDLE`: serve requests (one per input line, paced at --rate) with the engine following
// the CPU by itself, in one of its adaptation modes (docs/adapt.md). A thin client: the engine
// decides the variant of every request; this command only feeds it what an app would (the
// frequency in table mode, from a replayed trace or cpufreq) and prints what the engine reports.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "cli/pair_input.h"
#include "dvfs/cpufreq.h"
#include "dvfs/trace.h"
#include "rt3/engine.h"

namespace rt3::cli {
namespace {

struct GovernArgs {
  std::string bundle, mode = "table", trace, cpufreq_root = "/sys/devices/system/cpu", input = "-";
  double deadline_ms = 0;
  double rate_hz = 10;
  int max_new_tokens = 4;
};

AdaptMode parse_mode(const std::string& s) {
  if (s == "table") return AdaptMode::kTable;
  if (s == "cpufreq") return AdaptMode::kCpufreq;
  if (s == "deadline") return AdaptMode::kDeadline;
  throw std::runtime_error("--mode must be table, cpufreq or deadline, not '" + s + "'");
}

// Runs one request (stdin line `line_number`); returns a short description of the result and what
// the engine reported. A bundle trained on sentence pairs reads first<TAB>second, as rt3 run does.
std::string run_request(Engine& engine, const std::string& text, size_t line_number, int max_new_tokens,
                        InferenceInfo& info) {
  if (engine.model_type() == ModelType::kDistilBertClassifier) {
    ClassifyResult r;
    if (engine.trained_on_pairs()) {
      const auto [first, second] = split_pair_line(text, line_number);
      r = engine.classify_pair(first, second);
    } else {
      r = engine.classify(text);
    }
    info = r.info;
    return r.label_name;
  }
  GenerateOptions go;
  go.max_new_tokens = max_new_tokens;
  GenerateResult r = engine.generate(text, go);
  info = r.info;
  return r.text;
}

nlohmann::json info_json(const Engine& e, const InferenceInfo& i) {
  auto or_null = [](double v, bool known) { return known ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"variant", e.variants()[static_cast<size_t>(i.variant)]},
          {"mode", adapt_mode_name(i.mode)},
          {"cpu_khz", or_null(static_cast<double>(i.cpu_khz), i.cpu_khz > 0)},
          {"level_khz", or_null(static_cast<double>(i.level_khz), i.level_khz > 0)},
          {"deadline_ms", or_null(i.deadline_ms, i.deadline_ms > 0)},
          {"predicted_ms", or_null(i.predicted_ms, i.predicted_ms >= 0)},
          {"slowdown", or_null(i.slowdown, i.slowdown > 0)},
          {"latency_ms", i.latency_ms},
          {"deadline_missed", i.deadline_missed},
          {"energy_mj", or_null(i.energy_mj, i.energy_mj >= 0)}};
}

}  // namespace

Runner add_govern(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "govern",
      "Serve requests while the engine follows the CPU by itself (docs/adapt.md):\n"
      "  table    - this command feeds the engine the frequency (from --trace, else cpufreq) and the\n"
      "             engine applies the bundle's level table (what rt3 search decided);\n"
      "  cpufreq  - the engine reads cpufreq itself before each request;\n"
      "  deadline - the engine measures every request and keeps it within --deadline-ms (no OS access).\n"
      "Latencies are measured on this host; predictions and energy are for the bundle's device.");
  auto a = std::make_shared<GovernArgs>();
  cmd->add_option("bundle", a->bundle, "Bundle file (.rt3) with pattern variants")->required()->check(CLI::ExistingFile);
  cmd->add_option("--mode", a->mode, "table | cpufreq | deadline")->capture_default_str()
      ->check(CLI::IsMember({"table", "cpufreq", "deadline"}));
  cmd->add_option("--deadline-ms", a->deadline_ms,
                  "Deadline per request (ms). Deadline mode follows it (default: the deadline the bundle was\n"
                  "searched for); every mode counts misses against it (table/cpufreq: only when given).")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--trace", a->trace,
                  "Replay this frequency trace (CSV time_s,freq_khz,battery_percent), advanced by wall time: the\n"
                  "frequency fed to the engine in table mode, and the level its energy figures use in deadline mode")
      ->check(CLI::ExistingFile);
  cmd->add_option("--cpufreq-root", a->cpufreq_root, "cpufreq tree the engine reads in cpufreq mode")->capture_default_str();
  cmd->add_option("--input", a->input, "Requests, one per line (- = stdin)")->capture_default_str();
  cmd->add_option("--rate", a->rate_hz, "Requests per second")->capture_default_str()->check(CLI::Range(1e-3, 1e6));
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "LM bundles: tokens generated per request")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--threads", g.threads, "Engine threads")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_flag("--json", g.json, "One JSON object per request, then a summary object");
  return [a, &g]() {
    if (!std::isfinite(a->rate_hz) || !(a->rate_hz > 0)) throw std::runtime_error("--rate must be a finite number > 0");
    const AdaptMode mode = parse_mode(a->mode);
    // Cheap checks first: a bad trace or input should not wait for the model to load.
    std::unique_ptr<dvfs::FrequencySource> source;
    dvfs::TraceClock* clock = nullptr;
    if (!a->trace.empty()) {
      auto c = std::make_unique<dvfs::TraceClock>(dvfs::Trace::load(a->trace));
      clock = c.get();
      source = std::move(c);
    } else if (mode == AdaptMode::kTable) {
      source = std::make_unique<dvfs::CpufreqBackend>();
    }
    std::ifstream file;
    if (a->input != "-") {
      file.open(a->input);
      if (!file) throw std::runtime_error(a->input + ": cannot open the input file");
    }
    std::istream& in = a->input == "-" ? std::cin : file;

    EngineOptions eo;
    eo.threads = g.threads;
    eo.cpufreq_root = a->cpufreq_root;
    auto engine = Engine::load(a->bundle, eo);
    if (a->deadline_ms > 0) engine->set_deadline_ms(a->deadline_ms);
    if (source) engine->set_cpu_khz(source->current_khz());
    engine->set_adapt_mode(mode);  // says what the bundle lacks for this mode

    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const double trace_t0 = clock ? clock->trace().points().front().time_s : 0;
    std::uint64_t requests = 0, switches = 0;
    int previous = -1;
    std::string line;
    size_t line_number = 0;
    while (std::getline(in, line)) {
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(static_cast<double>(requests) / a->rate_hz)));
      const double t = std::chrono::duration<double>(Clock::now() - start).count();
      if (clock) clock->set_time(trace_t0 + t);
      if (source) engine->set_cpu_khz(source->current_khz());
      InferenceInfo info;
      const std::string result = run_request(*engine, line, line_number, a->max_new_tokens, info);
      ++requests;
      if (previous >= 0 && info.variant != previous) ++switches;
      previous = info.variant;
      if (g.json) {
        nlohmann::json j = info_json(*engine, info);
        j["t_s"] = t;
        j["result"] = result;
        std::printf("%s\n", j.dump().c_str());
      } else {
        std::printf("%8.3f s  %-8s %8.1f MHz  %-14s predicted %8.2f ms  measured %8.2f ms  %s\n", t,
                    adapt_mode_name(info.mode), static_cast<double>(info.level_khz ? info.level_khz : info.cpu_khz) / 1000,
                    engine->variants()[static_cast<size_t>(info.variant)].c_str(), info.predicted_ms, info.latency_ms,
                    info.deadline_ms > 0 ? (info.deadline_missed ? "MISSED" : "met") : "");
      }
      std::fflush(stdout);
    }
    const std::vector<VariantStats> stats = engine->adapt_stats();
    std::uint64_t misses = 0;
    nlohmann::json per = nlohmann::json::object();
    for (size_t v = 0; v < stats.size(); ++v) {
      misses += stats[v].misses;
      if (stats[v].inferences == 0) continue;
      per[engine->variants()[v]] = {{"inferences", stats[v].inferences},
                                    {"seconds", stats[v].seconds},
                                    {"misses", stats[v].misses},
                                    {"energy_mj", stats[v].energy_inferences ? nlohmann::json(stats[v].energy_mj) : nlohmann::json(nullptr)}};
    }
    const double deadline = engine->deadline_ms();
    if (g.json) {
      nlohmann::json s = {{"summary", {{"mode", a->mode}, {"requests", requests}, {"misses", misses}, {"switches", switches},
                                       {"deadline_ms", deadline > 0 ? nlohmann::json(deadline) : nlohmann::json(nullptr)},
                                       {"frequency_source", clock ? "trace" : source ? "cpufreq (this command)" : mode == AdaptMode::kCpufreq ? "cpufreq (engine)" : "none"},
                                       {"variants", per}}}};
      std::printf("%s\n", s.dump().c_str());
    } else {
      std::printf("%llu requests in %s mode, %llu missed the %.1f ms deadline (host latency), %llu variant switches\n",
                  static_cast<unsigned long long>(requests), a->mode.c_str(), static_cast<unsigned long long>(misses), deadline,
                  static_cast<unsigned long long>(switches));
    }
    return 0;
  };
}

}  // namespace rt3::cli
