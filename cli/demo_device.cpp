#include "cli/demo_device.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>

#include "cli/bench_switch.h"
#include "cli/profile_bundle.h"
#include "cli/progress.h"
#include "cli/run_dir.h"
#include "cli/bench_adapt.h"
#include "cli/simulate_run.h"
#include "dvfs/energy_model.h"
#include "dvfs/latency_table.h"
#include "dvfs/profile.h"
#include "report/svg_plot.h"
#include "runtime/format/atomic_file.h"
#include "runtime/format/input_file.h"
#include "train/api.h"
#include "train/prune/prune_api.h"
#include "train/search/search_api.h"

namespace rt3::cli {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// How much work each budget spends on the device half.
struct Budget {
  int reps;               // profile repetitions
  int episodes;           // search candidates, per method
  int64_t finetune_steps; // per candidate
  int64_t eval_examples;  // per set and candidate
  int64_t final_steps;    // joint fine-tune of the best candidate
  int64_t batch;          // batch of the search's fine-tunes
  double switch_seconds;  // switch benchmark
  double adapt_phase_s;   // each load phase of rt3 bench adapt
};

Budget budget_of(const std::string& b) {
  if (b == "tiny") return {3, 3, 1, 16, 2, 4, 0.3, 0.3};
  if (b == "small") return {5, 6, 2, 64, 8, 8, 3.0, 2.0};  // fits make demo's 25 minutes (docs/demo.md "Time")
  return {9, 40, 8, 256, 100, 8, 10.0, 5.0};
}

json read_json(const fs::path& p) {
  const std::string text = format::read_input_file(p.string());
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // also out_of_range: a number like 1e999 overflows
    throw std::runtime_error(p.string() + " is not valid JSON: " + e.what());
  }
}

// Runs `fn` as a resumable step: its result is <dir>/stage.json.
json step(const DeviceDemoOptions& o, int index, const std::string& name, const std::function<json(const fs::path&)>& fn) {
  const fs::path dir = o.out / name;
  const std::string label = "[" + std::to_string(o.first_index + index) + "/" + std::to_string(o.total) + "] " + name;
  if (o.resume && fs::exists(dir / "stage.json")) {
    if (o.on_message) o.on_message(label + ": done earlier, skipped");
    if (o.on_step_done) o.on_step_done(name, true, 0.0);
    return read_json(dir / "stage.json");
  }
  const auto t0 = std::chrono::steady_clock::now();
  fs::create_directories(dir);
  if (o.on_message) o.on_message(label + ": running");
  json r = fn(dir);
  format::write_file_atomic((dir / "stage.json").string(), r.dump(2) + "\n");
  if (o.on_step_done) o.on_step_done(name, false, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return r;
}

double accuracy_of(const json& metrics) { return metrics.at("metrics").at("accuracy").get<double>(); }

// Per usable level of the profile, the predicted device latency (ms) of every variant of a table.
json latency_per_level(const dvfs::Profile& profile, const dvfs::LatencyTable& t) {
  json out = json::object();
  for (const auto& v : t.variants) {
    json per = json::object();
    const dvfs::LatencyModel m = t.measured_model(v.name);  // as the simulation scales it
    for (const auto& lv : profile.usable_levels())
      per[std::to_string(lv.khz)] = m.at_khz(static_cast<double>(lv.khz)) * 1e3;
    out[v.name] = per;
  }
  return out;
}

std::string reward_curve_svg(const json& rl, const json& random) {
  report::LineChart c;
  c.title = "Search reward per episode (best so far)";
  c.x.label = "episode";
  c.y.label = "reward";
  for (const auto& [name, s] : {std::pair<std::string, const json*>{"RL (LSTM controller)", &rl}, {"random search", &random}}) {
    report::Series best{name, {}, {}, true};
    for (const auto& e : s->at("reward_curve")) {
      best.x.push_back(e["episode"].get<double>());
      best.y.push_back(e["best"].get<double>());
    }
    c.series.push_back(best);
  }
  return report::line_charts_svg({c});
}

}  // namespace

void run_device_stages(const DeviceDemoOptions& o, json& summary) {
  const Budget b = budget_of(o.budget);
  const dvfs::Profile profile = dvfs::load_profile(o.profile);
  const json& stages = summary.at("stages");
  const fs::path bp_dir = o.out / o.bp_stage;
  json device = {{"profile", profile.name}, {"profile_file", o.profile}, {"task", o.task}};

  // 1. Latency tables: the BP model on dense storage (what the search predicts from) and the
  //    fixed-sparsity pattern bundle of the pattern stage.
  const json lat = step(o, 0, "latency", [&](const fs::path& dir) {
    const std::string dense_bundle = (dir / "bp_dense.rt3").string();
    export_run(bp_dir.string(), dense_bundle, WeightStorage::kDense);
    ProfileOptions po;
    po.bundle = dense_bundle;
    po.threads = 1;
    po.reps = b.reps;
    const dvfs::LatencyTable bp = profile_bundle(po, nullptr);
    format::write_file_atomic((dir / "bp.latency.json").string(), dvfs::to_json(bp).dump(2));
    ProfileOptions pp = po;
    pp.bundle = (o.out / (o.pattern_stage + ".rt3")).string();
    pp.pruning_numbers = {};
    const json& pat_stage = stages.at(o.pattern_stage);
    pp.accuracy["base"] = accuracy_of(pat_stage.at("test"));
    for (auto it = pat_stage.at("test_sets").begin(); it != pat_stage.at("test_sets").end(); ++it)
      pp.accuracy[it.key()] = accuracy_of(it.value());
    const dvfs::LatencyTable pat = profile_bundle(pp, nullptr);
    format::write_file_atomic((dir / "pattern.latency.json").string(), dvfs::to_json(pat).dump(2));
    // The deadline: what the dense model needs at the middle usable level, so the upper levels can
    // run dense and the lower ones need sparsity. The period leaves the CPU mostly idle between
    // requests at the top level, as an interactive app would.
    // Also at least what an 81 %-sparse set needs at the lowest level, so every level can be
    // served by a set that keeps its accuracy (sparser sets need longer joint training).
    const auto levels = profile.usable_levels();
    const double mid = dvfs::latency_s(bp.predict_model({}), static_cast<double>(levels[levels.size() / 2].khz));
    std::map<std::string, int> p81;
    const int p = static_cast<int>(std::lround(0.8125 * static_cast<double>(bp.tile_cols)));
    for (const auto& l : bp.layers)
      if (l.pattern_s.count(p)) p81[l.name] = p;
    const double low = p81.size() == bp.layers.size()
                           ? dvfs::latency_s(bp.predict_model(p81), static_cast<double>(levels.front().khz))
                           : 0.0;
    const double deadline_ms = std::ceil(std::max(mid, low) * 1e3 * 10) / 10;
    return json{{"bp_table", (dir / "bp.latency.json").string()},
                {"pattern_table", (dir / "pattern.latency.json").string()},
                {"host_khz", bp.host_khz},
                {"tokens", bp.tokens},
                {"bp_dense_ms_host", bp.variants.front().measured_s * 1e3},
                {"pattern_variants", to_json(pat)["variants"]},
                {"pattern_latency_per_level_ms", latency_per_level(profile, pat)},
                {"deadline_ms", deadline_ms},
                {"period_ms", std::ceil(deadline_ms * 5)}};
  });
  device["latency"] = lat;
  const double deadline_ms = lat.at("deadline_ms").get<double>();

  // 2. The search, RL and random at the same budget.
  auto search = [&](const std::string& method, int index) {
    return step(o, index, "search_" + method, [&](const fs::path& dir) {
      train::SearchRequest r;
      // The search starts from the pattern stage's jointly trained shared weights (they already
      // tolerate 62-88 % sparsity), so a 2-step fine-tune can rank candidates; from the BP
      // weights every set above ~80 % collapsed to the majority class and the search could not
      // tell p13 from p15 (docs/search.md).
      r.bp_dir = (o.out / o.pattern_stage).string();
      r.profile_path = o.profile;
      r.latency_path = lat.at("bp_table").get<std::string>();
      r.out_dir = (dir / "run").string();
      r.deadline_ms = deadline_ms;
      r.method = method;
      r.episodes = b.episodes;
      r.finetune_steps = b.finetune_steps;
      r.finetune_batch = b.batch;
      r.eval_examples = b.eval_examples;
      r.final_steps = b.final_steps;
      r.threads = o.threads;
      r.resume = fs::exists(dir / "run" / "search_state.json");
      r.on_message = [&](const std::string& m) {
        if (o.on_message) o.on_message("  " + m);
      };
      ProgressLine bar("  search " + method);
      r.on_episode = [&bar](int ep, int total, double reward, double best, double elapsed) {
        char detail[96];
        std::snprintf(detail, sizeof detail, "reward %+.4f best %+.4f", reward, best);
        bar.update(ep, total, elapsed, detail);
      };
      json s = train::run_search(r);
      bar.finish();
      const std::string bundle = (dir / "model.rt3").string();
      export_run(s.at("final_dir").get<std::string>(), bundle);
      s["bundle"] = bundle;
      s["bundle_bytes"] = fs::file_size(bundle);
      return s;
    });
  };
  const json rl = search("rl", 1);
  const json random = search("random", 2);
  device["search"] = {{"deadline_ms", deadline_ms},
                      {"episodes", b.episodes},
                      {"rl", {{"best_reward", rl["best_reward"]}, {"evaluations", rl["evaluations"]},
                              {"best_action", rl["best_action"]}, {"reward_curve", rl["reward_curve"]},
                              {"space", rl["space"]}, {"seconds", rl["seconds"]}}},
                      {"random", {{"best_reward", random["best_reward"]}, {"evaluations", random["evaluations"]},
                                  {"best_action", random["best_action"]}, {"reward_curve", random["reward_curve"]},
                                  {"seconds", random["seconds"]}}}};

  // 3. The RT3 bundle (the RL search's): test accuracy of every set, its latency table with
  //    them, and switching under load.
  const json bundle = step(o, 3, "rt3_bundle", [&](const fs::path& dir) {
    const std::string final_dir = rl.at("final_dir").get<std::string>();
    train::EvalRequest ev;
    ev.dir = final_dir;
    ev.split = "test";
    ev.threads = o.threads;
    ProfileOptions po;
    po.bundle = rl.at("bundle").get<std::string>();
    po.threads = 1;
    po.reps = b.reps;
    json sets = json::object();
    std::vector<std::string> names = train::pattern_set_names(final_dir);
    names.insert(names.begin(), "");  // the shared weights ("base") first
    const auto scored = train::evaluate_sets(ev, names);
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string name = names[i].empty() ? "base" : names[i];
      po.accuracy[name] = scored[i].metrics.values.at("accuracy");
      sets[name] = po.accuracy[name];
    }
    const dvfs::LatencyTable t = profile_bundle(po, nullptr);
    format::write_file_atomic((dir / "rt3.latency.json").string(), dvfs::to_json(t).dump(2));
    json sw;
    if (t.variants.size() > 1) {
      SwitchBenchOptions so;
      so.bundle = po.bundle;
      so.seconds = b.switch_seconds;
      sw = bench_switch(so);
      sw.erase("inferences_per_variant");
    }
    return json{{"bundle", po.bundle},
                {"bundle_bytes", rl["bundle_bytes"]},
                {"table", (dir / "rt3.latency.json").string()},
                {"test_accuracy", sets},
                {"variants", to_json(t)["variants"]},
                {"latency_per_level_ms", latency_per_level(profile, t)},
                {"levels", rl["levels"]},
                {"switch", sw}};
  });
  device["rt3_bundle"] = bundle;

  // 4. Battery simulation of the RT3 bundle on the device, with plots.
  const json battery = step(o, 4, "battery", [&](const fs::path& dir) {
    SimulateArgs a;
    a.profile = o.profile;
    // RT3 may only run sets within 1.5 points of the dense model's test accuracy (the bound the
    // published DistilBERT claim uses), so its battery life is not bought with accuracy.
    a.min_accuracy = std::max(0.0, bundle.at("test_accuracy").at("base").get<double>() - 0.015);
    const double period = lat.at("period_ms").get<double>();
    a.workload = "period=" + std::to_string(period) + "ms,deadline=" + std::to_string(deadline_ms) + "ms";
    a.plots = (dir / "plots").string();
    const dvfs::LatencyTable t = dvfs::load_latency_table(bundle.at("table").get<std::string>());
    a.bundle = bundle.at("bundle").get<std::string>();  // RT3 = what this bundle's engine runs
    SimulationRun run = run_simulation(a, profile, t);
    const std::string curve = (dir / "plots" / "search_reward.svg").string();
    format::write_file_atomic(curve, reward_curve_svg(rl, random));
    run.json["plots"].push_back(curve);
    return run.json;
  });
  device["battery"] = battery;

  // 5. The engine following real slowdowns on this machine (rt3 bench adapt, docs/adapt.md).
  const json adapt = step(o, 5, "adapt", [&](const fs::path&) {
    AdaptBenchOptions a;
    a.bundle = bundle.at("bundle").get<std::string>();
    a.phase_s = b.adapt_phase_s;
    a.seq_len = lat.at("tokens").get<int64_t>();
    a.progress = false;
    json r = bench_adapt(a);
    for (auto& [name, p] : r["policies"].items()) p.erase("timeline");  // kept out of summary.json
    return r;
  });
  device["adapt"] = adapt;
  summary["device"] = device;
}

}  // namespace rt3::cli
