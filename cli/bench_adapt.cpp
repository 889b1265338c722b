// `rt3 bench adapt` (cli/bench_adapt.h).
//
// One engine, one thread, pinned to one core that the load generator's busy processes share. The
// device-to-host scale comes from a calibration on the idle core: each variant's measured latency
// over its bundle latency model at the top level. The deadline on this host is the bundle's
// searched deadline times that scale (or --deadline-ms), so table mode's choices, made for the
// device, mean the same here. The emulated frequency of a phase is the top level times the CPU
// share the load leaves (CpuHogs::speed). Response time = completion - arrival (a request that
// arrives while the previous one still runs waits: that is what a user feels).
#include "cli/bench_adapt.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "cli/adapt_costs.h"
#include "cli/cpu_hogs.h"
#include "cli/cpu_throttle.h"
#include "rt3/engine.h"
#include "runtime/adapt/bundle_spec.h"
#include "runtime/format/bundle.h"

namespace rt3::cli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Requests after a phase starts before the policy counts as in steady state there.
constexpr int kSettleRequests = 10;

struct Workload {
  bool lm = false;
  int64_t n = 1;
  std::vector<int32_t> ids, mask;
};

// Every policy is told when its request arrived; only deadline mode acts on it (a request that
// waited behind a slow one runs on a variant that fits the time it has left).
void run_one(Engine& e, const Workload& w, InferenceInfo& info, Arrival arrival) {
  if (w.lm) e.lm_logits(w.ids.data(), w.n, &info, arrival);
  else e.classify_logits(w.ids.data(), w.mask.data(), 1, w.n, &info, arrival);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size()))) - (q > 0 ? 1 : 0);
  return v[std::min(i, v.size() - 1)];
}

struct Request {
  size_t phase = 0;
  double t_s = 0;
  int variant = 0;
  double latency_ms = 0, response_ms = 0;
  bool missed = false;
};

// The load that slows the engine: throttling where it can (finer grained, like a clock), else hogs.
std::string resolve_load(const std::string& load) {
  if (load != "auto" && load != "throttle" && load != "hogs")
    throw std::runtime_error("--load must be auto, throttle or hogs, got '" + load + "'");
  if (load != "auto") return load;
  return CpuThrottle::unavailable_reason().empty() ? "throttle" : "hogs";
}

double loadavg_1min() {
  std::ifstream f("/proc/loadavg");
  double v = -1;
  f >> v;
  return v;
}

json summarize(const std::vector<Request>& rs, const std::vector<LoadPhase>& phases, const adapt::PolicySpec& spec) {
  std::vector<double> resp;
  uint64_t misses = 0, switches = 0, steady = 0, steady_switches = 0;
  double acc_sum = 0;
  bool acc_known = true;
  for (size_t i = 0; i < rs.size(); ++i) {
    resp.push_back(rs[i].response_ms);
    misses += rs[i].missed;
    const auto& a = spec.accuracy[static_cast<size_t>(rs[i].variant)];
    if (a) acc_sum += *a;
    else acc_known = false;
    const bool switched = i > 0 && rs[i].variant != rs[i - 1].variant;
    switches += switched;
  }
  // Steady state: from kSettleRequests after each phase start to the phase end.
  json per_phase = json::array();
  for (size_t p = 0; p < phases.size(); ++p) {
    std::vector<const Request*> in;
    for (const auto& r : rs)
      if (r.phase == p) in.push_back(&r);
    std::vector<double> pr;
    uint64_t pm = 0, psw = 0;
    std::map<std::string, uint64_t> shares;
    for (size_t i = 0; i < in.size(); ++i) {
      pr.push_back(in[i]->response_ms);
      pm += in[i]->missed;
      ++shares[spec.variants[static_cast<size_t>(in[i]->variant)]];
      if (i > 0 && in[i]->variant != in[i - 1]->variant) {
        ++psw;
        if (static_cast<int>(i) >= kSettleRequests) ++steady_switches;
      }
      if (static_cast<int>(i) >= kSettleRequests) ++steady;
    }
    // Requests until the variant the phase ends on is reached and kept to the end.
    size_t settle = in.size();
    for (size_t i = in.size(); i-- > 0;) {
      if (in[i]->variant != in.back()->variant) break;
      settle = i;
    }
    json sh = json::object();
    for (const auto& [name, n] : shares) sh[name] = static_cast<double>(n) / static_cast<double>(in.size());
    per_phase.push_back({{"requests", in.size()},
                         {"miss_rate", in.empty() ? 0.0 : static_cast<double>(pm) / static_cast<double>(in.size())},
                         {"p99_response_ms", quantile(pr, 0.99)},
                         {"switches", psw},
                         {"variant_shares", sh},
                         {"final_variant", in.empty() ? json(nullptr) : json(spec.variants[static_cast<size_t>(in.back()->variant)])},
                         {"requests_to_settle", settle}});
  }
  const double minutes = rs.empty() ? 0.0 : (rs.back().t_s - rs.front().t_s) / 60.0;
  const double n = static_cast<double>(rs.size());
  return {{"requests", rs.size()},
          {"miss_rate", rs.empty() ? 0.0 : static_cast<double>(misses) / n},
          {"accuracy", acc_known && !rs.empty() ? json(acc_sum / n) : json(nullptr)},
          {"switches", switches},
          {"switches_per_min", minutes > 0 ? static_cast<double>(switches) / minutes : 0.0},
          {"steady_switches_per_request", steady ? static_cast<double>(steady_switches) / static_cast<double>(steady) : 0.0},
          {"p50_response_ms", quantile(resp, 0.5)},
          {"p99_response_ms", quantile(resp, 0.99)},
          {"phases", per_phase}};
}

}  // namespace

std::vector<LoadPhase> default_load_phases(double s) {
  return {{s, 0, 0.0}, {s, 1, 1.0}, {s, 2, 1.0}, {s, 1, 0.5}, {s, 0, 0.0}};
}

double phase_speed(const LoadPhase& p) { return 1.0 / (1.0 + p.hogs * p.duty); }

json bench_adapt(const AdaptBenchOptions& o) {
  if (!(o.phase_s > 0) || !std::isfinite(o.phase_s) || o.phase_s > 3600) throw std::runtime_error("--phase-s must be in (0, 3600]");
  const std::string load = resolve_load(o.load);
  pin_this_thread(o.cpu);
  EngineOptions eo;
  eo.threads = 1;  // inference on this (pinned) thread: the load shares exactly its core
  auto engine = Engine::load(o.bundle, eo);
  const adapt::PolicySpec spec = adapt::spec_from_bundle(format::Bundle::open(o.bundle), 1);
  for (const std::string& p : o.policies) {
    const AdaptMode m = p == "table" ? AdaptMode::kTable : p == "deadline" ? AdaptMode::kDeadline : AdaptMode::kManual;
    if (p != "dense" && p != "table" && p != "deadline" && p != "fastest")
      throw std::runtime_error("unknown policy '" + p + "' (dense, table, deadline, fastest)");
    const std::string missing = engine->adapt_support(m);
    if (!missing.empty()) throw std::runtime_error(o.bundle + ": " + p + " mode: " + missing);
  }

  Workload w;
  w.lm = engine->model_type() == ModelType::kTransformerLm;
  w.n = std::max<int64_t>(1, std::min<int64_t>(o.seq_len, engine->max_len()));
  std::mt19937 rng(1);
  for (int64_t i = 0; i < w.n; ++i) w.ids.push_back(static_cast<int32_t>(rng() % static_cast<uint32_t>(engine->vocab_size())));
  w.mask.assign(w.ids.size(), 1);

  // Calibration on the idle core: host latency of each variant, and host / device-model scale.
  const std::uint64_t top_khz =
      spec.levels.empty() ? 0 : spec.levels.level_khz(spec.levels.top());
  std::vector<double> host_ms(spec.variants.size());
  std::vector<double> scales;
  json calibration = json::object();
  // Variants in turn, 5 rounds of 5: a disturbance of the machine during calibration moves every
  // variant's median alike instead of one variant's (the deadline here follows their scale).
  std::vector<std::vector<double>> times(spec.variants.size());
  for (int round = 0; round < 5; ++round)
    for (size_t v = 0; v < spec.variants.size(); ++v) {
      engine->select_variant(static_cast<int>(v));
      for (int i = 0; i < 5; ++i) {
        InferenceInfo info;
        run_one(*engine, w, info, Arrival{});
        if (round > 0 || i > 0) times[v].push_back(info.latency_ms);  // the first: cold caches
      }
    }
  for (size_t v = 0; v < spec.variants.size(); ++v) {
    host_ms[v] = median(times[v]);
    json c = {{"host_ms", host_ms[v]}, {"model_ms_at_top", nullptr}};
    if (spec.latency[v]) {
      const double model_ms = (top_khz ? spec.latency[v]->at_khz(static_cast<double>(top_khz)) : spec.latency[v]->at_ref()) * 1e3;
      c["model_ms_at_top"] = model_ms;
      scales.push_back(host_ms[v] / model_ms);
    }
    calibration[spec.variants[v]] = c;
  }
  const double scale = scales.empty() ? 1.0 : median(scales);
  double deadline_ms = o.deadline_ms;
  std::string deadline_source = "--deadline-ms";
  if (!(deadline_ms > 0)) {
    if (!spec.searched_deadline_s)
      throw std::runtime_error(o.bundle + ": the bundle states no searched deadline: pass --deadline-ms");
    deadline_ms = *spec.searched_deadline_s * 1e3 * scale;
    deadline_source = "the bundle's searched deadline x host/device latency scale";
  }
  const double rate = o.rate_hz > 0 ? o.rate_hz : 1e3 / (2 * deadline_ms);
  if (!std::isfinite(rate) || rate > 1e5) throw std::runtime_error("request rate out of range: pass --rate");
  const std::vector<LoadPhase> phases = default_load_phases(o.phase_s);

  json j;
  j["bundle"] = o.bundle;
  j["deadline_ms"] = deadline_ms;
  j["deadline_source"] = deadline_source;
  j["searched_deadline_ms"] = spec.searched_deadline_s ? json(*spec.searched_deadline_s * 1e3) : json(nullptr);
  j["host_over_device_scale"] = scale;
  j["rate_hz"] = rate;
  j["seq_len"] = w.n;
  j["calibration"] = calibration;
  const std::string throttle_note = CpuThrottle::unavailable_reason();
  if (load == "throttle" && !throttle_note.empty()) throw std::runtime_error("--load throttle: " + throttle_note);
  j["load_generator"] = {
      {"kind", load},
      {"what", load == "throttle" ? "cgroup v1 CPU bandwidth limit on the engine's thread: speed x periods of >= 3 ms"
                                  : "busy processes pinned to the engine's core, busy duty x 4 ms"},
      {"cpu", o.cpu},
      {"throttle_unavailable", throttle_note.empty() ? json(nullptr) : json(throttle_note)},
      {"loadavg_1min_at_start", loadavg_1min()}};
  j["costs_ns"] = measure_adapt_costs(spec);  // on the idle core, before the load starts
  json jp = json::array();
  for (const auto& p : phases) {
    const double speed = phase_speed(p);
    jp.push_back({{"seconds", p.seconds}, {"hogs", load == "hogs" ? p.hogs : 0}, {"duty", load == "hogs" ? p.duty : 0.0},
                  {"speed", speed},
                  {"emulated_khz", top_khz ? json(static_cast<std::uint64_t>(static_cast<double>(top_khz) * speed)) : json(nullptr)}});
  }
  j["phases"] = jp;
  // One of the two loads; the other stays idle (no children, or no cgroup).
  std::unique_ptr<CpuHogs> hogs = load == "hogs" ? std::make_unique<CpuHogs>(o.cpu, 2) : nullptr;
  std::unique_ptr<CpuThrottle> throttle = load == "throttle" ? std::make_unique<CpuThrottle>() : nullptr;
  const auto apply = [&](const LoadPhase* p) {
    if (hogs) hogs->set(p ? p->hogs : 0, p ? p->duty : 0.0);
    if (throttle) throttle->set(p ? phase_speed(*p) : 1.0);
  };

  json policies = json::object();
  for (const std::string& name : o.policies) {
    engine->set_adapt_mode(AdaptMode::kManual);
    // "fastest": the variant fastest here, fixed: the fewest misses any choice of variant can get.
    engine->select_variant(name == "fastest" ? static_cast<int>(std::min_element(host_ms.begin(), host_ms.end()) - host_ms.begin()) : 0);
    engine->set_deadline_ms(deadline_ms);
    if (top_khz) engine->set_cpu_khz(top_khz);
    if (name == "table") engine->set_adapt_mode(AdaptMode::kTable);
    if (name == "deadline") engine->set_adapt_mode(AdaptMode::kDeadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the previous load drain
    std::vector<Request> rs;
    const auto t0 = Clock::now();
    for (size_t p = 0; p < phases.size(); ++p) {
      apply(&phases[p]);
      const auto khz = static_cast<std::uint64_t>(static_cast<double>(top_khz) * phase_speed(phases[p]));
      const auto start = Clock::now();
      const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(phases[p].seconds));
      for (int64_t k = 0;; ++k) {
        const auto arrival = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(static_cast<double>(k) / rate));
        if (arrival >= end) break;
        std::this_thread::sleep_until(arrival);
        if (name == "table" && khz > 0) engine->set_cpu_khz(khz);
        InferenceInfo info;
        run_one(*engine, w, info, arrival);
        const auto done = Clock::now();
        Request r;
        r.phase = p;
        r.t_s = std::chrono::duration<double>(arrival - t0).count();
        r.variant = info.variant;
        r.latency_ms = info.latency_ms;
        r.response_ms = std::chrono::duration<double, std::milli>(done - arrival).count();
        r.missed = r.response_ms > deadline_ms;
        rs.push_back(r);
      }
      if (o.progress)
        std::fprintf(stderr, "\rbench adapt: %-8s phase %zu/%zu (%zu requests)   ", name.c_str(), p + 1, phases.size(), rs.size());
    }
    apply(nullptr);
    json s = summarize(rs, phases, spec);
    json timeline = json::array();
    for (const auto& r : rs) timeline.push_back({r.t_s, spec.variants[static_cast<size_t>(r.variant)], r.response_ms, r.latency_ms});
    s["timeline"] = timeline;  // [t_s, variant, response_ms, latency_ms the engine measured] per request
    policies[name] = s;
  }
  if (o.progress) std::fprintf(stderr, "\n");
  engine->set_adapt_mode(AdaptMode::kManual);
  j["policies"] = policies;

  // The targets, evaluated (not asserted: a benchmark reports).
  json t = json::object();
  if (policies.contains("dense") && policies.contains("deadline")) {
    const double dense = policies["dense"]["miss_rate"], dl = policies["deadline"]["miss_rate"];
    t["dense_misses_at_least_20pct"] = dense >= 0.20;
    t["deadline_misses_at_most_1pct"] = dl <= 0.01;
  }
  if (policies.contains("table") && policies.contains("deadline") && policies["table"]["accuracy"].is_number() &&
      policies["deadline"]["accuracy"].is_number())
    t["deadline_accuracy_within_0_5_points_of_table"] =
        policies["deadline"]["accuracy"].get<double>() >= policies["table"]["accuracy"].get<double>() - 0.005;
  if (policies.contains("deadline"))
    t["deadline_steady_flaps_below_1_per_10_requests"] = policies["deadline"]["steady_switches_per_request"].get<double>() < 0.1;
  j["targets"] = t;
  return j;
}

std::string format_adapt_bench(const json& j) {
  std::ostringstream s;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s: deadline %.2f ms on this host (%s), %.1f requests/s, %lld tokens\n",
                j["bundle"].get<std::string>().c_str(), j["deadline_ms"].get<double>(), j["deadline_source"].get<std::string>().c_str(),
                j["rate_hz"].get<double>(), j["seq_len"].get<long long>());
  const json& lg = j["load_generator"];
  s << buf << "load: " << lg["kind"].get<std::string>() << " (" << lg["what"].get<std::string>() << ")";
  if (lg["throttle_unavailable"].is_string()) s << "; no throttling: " << lg["throttle_unavailable"].get<std::string>();
  s << "\nphases:";
  for (const auto& p : j["phases"]) {
    if (p["hogs"].get<int>() > 0)
      std::snprintf(buf, sizeof buf, " [%gs %d hog(s) x %.0f%% -> speed %.2f]", p["seconds"].get<double>(), p["hogs"].get<int>(),
                    p["duty"].get<double>() * 100, p["speed"].get<double>());
    else
      std::snprintf(buf, sizeof buf, " [%gs speed %.2f]", p["seconds"].get<double>(), p["speed"].get<double>());
    s << buf;
  }
  s << "\n\n";
  std::snprintf(buf, sizeof buf, "  %-9s %9s %9s %10s %9s %9s %12s\n", "policy", "requests", "miss %", "accuracy", "p50 ms",
                "p99 ms", "switch/min");
  s << buf;
  for (const auto& [name, p] : j["policies"].items()) {
    char acc[32] = "n/a";
    if (p["accuracy"].is_number()) std::snprintf(acc, sizeof acc, "%.4f", p["accuracy"].get<double>());
    std::snprintf(buf, sizeof buf, "  %-9s %9llu %9.2f %10s %9.2f %9.2f %12.1f\n", name.c_str(),
                  p["requests"].get<unsigned long long>(), p["miss_rate"].get<double>() * 100, acc,
                  p["p50_response_ms"].get<double>(), p["p99_response_ms"].get<double>(), p["switches_per_min"].get<double>());
    s << buf;
  }
  s << "\nper phase (miss %, final variant, requests to settle):\n";
  for (const auto& [name, p] : j["policies"].items()) {
    s << "  " << name << ":";
    for (const auto& ph : p["phases"]) {
      std::snprintf(buf, sizeof buf, "  %.1f%% %s %llu", ph["miss_rate"].get<double>() * 100,
                    ph["final_variant"].is_string() ? ph["final_variant"].get<std::string>().c_str() : "-",
                    ph["requests_to_settle"].get<unsigned long long>());
      s << buf;
    }
    s << "\n";
  }
  s << "\ncost per call (ns, median):";
  for (const auto& [k, v] : j["costs_ns"].items()) {
    if (v.is_number()) std::snprintf(buf, sizeof buf, " %s %.0f;", k.c_str(), v.get<double>());
    else std::snprintf(buf, sizeof buf, " %s: %s;", k.c_str(), v.get<std::string>().c_str());
    s << buf;
  }
  s << "\ntargets:";
  for (const auto& [k, v] : j["targets"].items()) s << " " << k << "=" << (v.get<bool>() ? "met" : "NOT met");
  s << "\n";
  return s.str();
}

}  // namespace rt3::cli
