// `rt3 demo`: the whole pipeline that has landed so far, end to end, with one summary.
// Today: dense LM on sotu, DistilBERT classifiers on spam (and wordnet with --budget full),
// then block pruning (BP) of each, every model evaluated on its test split and checked with
// the torch-free runtime. Later stages (pattern sets, search, DVFS) append here.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/demo_device.h"
#include "cli/demo_report.h"
#include "cli/flag_limits.h"
#include "cli/output_paths.h"
#include "cli/progress.h"
#include "cli/run_dir.h"
#include "cli/timing.h"
#include "dvfs/profile.h"
#include "rt3/engine.h"
#include "runtime/format/atomic_file.h"
#include "runtime/format/input_file.h"
#include "train/api.h"
#include "train/compute_env.h"
#include "train/data/paths.h"
#include "train/data/task_data.h"
#include "train/prune/prune_api.h"

namespace rt3::cli {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct Stage {
  std::string name;  // run directory under --out, and key in summary.json
  std::string task;
  json config;       // overrides for this budget (rt3 train --config, or rt3 prune bp --config)
  std::string prune_from;  // non-empty: a pruning stage that starts from this earlier stage's run
  double sparsity = 0.0;   // BP target sparsity
  bool pattern = false;    // a pattern-set stage (rt3 prune pattern) instead of BP
};

Stage train_stage(std::string name, std::string task, json config) {
  return Stage{std::move(name), std::move(task), std::move(config), "", 0.0, false};
}
Stage pattern_stage(std::string name, std::string task, json config, std::string from) {
  return Stage{std::move(name), std::move(task), std::move(config), std::move(from), 0.0, true};
}

std::vector<Stage> stages_for(const std::string& budget) {
  if (budget == "tiny") {  // seconds: proves the plumbing, not the model
    const json bp = {{"bp", {{"lasso_steps", 10}, {"finetune_steps", 10}, {"reweight_every", 5}}},
                     {"train", {{"checkpoint_every", 10}, {"eval_every", 10}}}};
    const json pat = {{"pattern", {{"sets", {0.5, 0.75}}, {"steps", 10}, {"reassign_every", 5}, {"sample_tiles", 64}}},
                      {"train", {{"checkpoint_every", 10}, {"eval_every", 10}}}};
    return {train_stage("lm", "sotu",
             {{"train", {{"steps", 30}, {"batch_size", 8}, {"seq_len", 64}, {"warmup_steps", 5}, {"eval_every", 15},
                         {"checkpoint_every", 15}, {"spm_vocab_size", 500}, {"data_limit", 20}, {"eval_max_examples", 32}}},
              {"model", {{"d_model", 64}, {"n_heads", 2}, {"n_layers", 2}, {"d_ff", 128}}}}),
            train_stage("spam", "spam",
             {{"train", {{"steps", 20}, {"batch_size", 8}, {"seq_len", 64}, {"warmup_steps", 5}, {"eval_every", 10},
                         {"checkpoint_every", 10}, {"data_limit", 200}, {"eval_max_examples", 64}}},
              {"model", {{"dim", 64}, {"n_layers", 2}, {"n_heads", 2}, {"hidden_dim", 128}}}}),
            {"lm_bp", "sotu", bp, "lm", 0.5},
            {"spam_bp", "spam", bp, "spam", 0.5},
            pattern_stage("lm_pat", "sotu", pat, "lm_bp"),
            pattern_stage("spam_pat", "spam", pat, "spam_bp")};
  }
  if (budget == "small") {
    // Sized for make demo's 25 minutes, build included (docs/demo.md "Time"): half the default
    // batches, and spam's emails cut at 64 tokens (128 by default), which halves every spam stage.
    const json bp = {{"bp", {{"lasso_steps", 30}, {"finetune_steps", 50}, {"reweight_every", 10}}},
                     {"train", {{"eval_every", 40}, {"checkpoint_every", 40}}}};
    const json pat = {{"pattern", {{"steps", 30}, {"reassign_every", 15}}}, {"train", {{"checkpoint_every", 15}, {"eval_every", 30}}}};
    return {train_stage("lm", "sotu", {{"train", {{"steps", 160}, {"batch_size", 8}, {"warmup_steps", 30}, {"eval_every", 80}, {"checkpoint_every", 40}}}}),
            train_stage("spam", "spam", {{"train", {{"steps", 150}, {"batch_size", 16}, {"seq_len", 64}, {"warmup_steps", 30}, {"eval_every", 75}, {"checkpoint_every", 50}}}}),
            {"lm_bp", "sotu", bp, "lm", 0.5},
            {"spam_bp", "spam", bp, "spam", 0.5},
            pattern_stage("lm_pat", "sotu", pat, "lm_bp"),
            pattern_stage("spam_pat", "spam", pat, "spam_bp")};
  }
  // full: the default configs (docs/training.md, docs/pruning.md), which give the numbers quoted there.
  return {train_stage("lm", "sotu", json::object()),
          train_stage("spam", "spam", json::object()),
          train_stage("wordnet", "wordnet", json::object()),
          {"lm_bp", "sotu", json::object(), "lm", 0.5},
          {"spam_bp", "spam", json::object(), "spam", 0.5}, {"wordnet_bp", "wordnet", json::object(), "wordnet", 0.5},
          pattern_stage("lm_pat", "sotu", json::object(), "lm_bp"),
          pattern_stage("spam_pat", "spam", json::object(), "spam_bp"),
          pattern_stage("wordnet_pat", "wordnet", json::object(), "wordnet_bp")};
}

// The data_limit a stage's run uses (a pruning stage inherits that of the training stage it
// descends from).
int64_t stage_data_limit(const std::vector<Stage>& stages, const Stage& st) {
  if (!st.prune_from.empty())
    for (const Stage& s : stages)
      if (s.name == st.prune_from) return stage_data_limit(stages, s);
  return st.config.contains("train") ? st.config["train"].value("data_limit", int64_t{0}) : 0;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Exports the stage's run into a bundle and checks it with the torch-free engine: classifiers
// are re-scored on the same test examples `rt3 eval` used (the accuracy must agree), the LM
// generates and is timed per token.
json runtime_check(const Stage& st, const fs::path& dir, const fs::path& bundle, int threads, int64_t data_limit) {
  export_run(dir.string(), bundle.string());
  EngineOptions eo;
  eo.threads = threads;
  auto engine = Engine::load(bundle.string(), eo);
  json r = {{"bundle", bundle.string()}, {"bundle_bytes", fs::file_size(bundle)}};
  data::ClassCorpus corpus;
  if (st.task != "sotu") {
    corpus = data::load_class_corpus(data::preset_spec(st.task));  // the examples rt3 eval reads
    if (data_limit > 0 && static_cast<int64_t>(corpus.test.size()) > data_limit) corpus.test.resize(data_limit);
  }
  // Every variant of the bundle (only "base" unless it holds pattern sets), selected in turn.
  const std::vector<std::string> variants = engine->variants();
  for (size_t v = 0; v < variants.size(); ++v) {
    engine->select_variant(static_cast<int>(v));
    json m;
    if (st.task == "sotu") {
      GenerateOptions go;
      go.max_new_tokens = 32;
      go.stop_at_eos = false;
      std::vector<double> per_token;
      std::string text;
      for (int i = 0; i < 5; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto g = engine->generate("The state of the Union", go);
        per_token.push_back(ms_since(t0) / std::max<size_t>(1, g.token_ids.size()));
        text = g.text;
      }
      m["generate_ms_per_token_median"] = median(per_token);
      m["sample_greedy"] = "The state of the Union" + text;
    } else {
      int64_t correct = 0;
      std::vector<double> ms;
      for (const auto& ex : corpus.test) {
        const auto t0 = std::chrono::steady_clock::now();
        ClassifyResult c = engine->classify(ex.text);
        ms.push_back(ms_since(t0));
        correct += c.label == ex.label;
      }
      m["test_examples"] = corpus.test.size();
      m["test_accuracy"] = corpus.test.empty() ? 0.0 : double(correct) / corpus.test.size();
      m["classify_ms_median"] = median(ms);
    }
    if (v == 0) r.update(m);  // the base model's figures at the top level, as before
    if (variants.size() > 1) r["variants"][variants[v]] = m;
  }
  engine->select_variant(0);
  return r;
}

// Stage and summary files go through the project's one atomic writer (temp file + rename, errors checked).
void write_json_atomic(const fs::path& p, const json& j) { format::write_file_atomic(p.string(), j.dump(2) + "\n"); }

}  // namespace

Runner add_demo(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("demo", "Run the RT3 pipeline end to end on the shipped data and write a summary");
  struct Opts {
    std::string out = "runs/demo";
    std::string budget = "small";
    std::string profile = RT3_PROFILES_DIR "/rk3399.json";
    bool resume = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--out", o->out, "Output directory")->capture_default_str();
  cmd->add_option("--budget", o->budget, "tiny (seconds) | small (minutes) | full (default model budgets)")
      ->capture_default_str()
      ->check(CLI::IsMember({"tiny", "small", "full"}));
  cmd->add_flag("--resume", o->resume, "Skip finished stages and resume an interrupted one");
  cmd->add_option("--profile", o->profile, "Device profile for the search and the battery simulation")
      ->capture_default_str()
      ->check(CLI::ExistingFile);
  cmd->add_option("--threads", g.threads, "Threads for LibTorch/BLAS")->capture_default_str()->check(CLI::Range(1, kMaxThreads));
  cmd->add_flag("--json", g.json, "Print summary.json on stdout");
  return [o, &g]() {
    // Every input is checked before the first stage trains for minutes (a bad profile used to
    // surface only at the search stage).
    (void)dvfs::load_profile(o->profile);
    refuse_output_over_inputs(o->out, "--out", {o->profile});
    const fs::path out(o->out);
    if (fs::exists(out / "summary.json") && !o->resume)
      throw std::runtime_error("'" + o->out + "' already holds a demo: pass --resume, or another --out");
    fs::create_directories(out);
    const auto t0 = std::chrono::steady_clock::now();
    train::init_compute(g.threads);
    auto blas = train::loaded_blas();
    json summary = {{"budget", o->budget}, {"threads", g.threads}, {"blas", blas.name}, {"stages", json::object()}};
    const auto stages = stages_for(o->budget);
    const int total = static_cast<int>(stages.size()) + kDeviceSteps;
    std::vector<std::string> skipped;  // stages whose results came from an earlier run (--resume)
    json stage_seconds = json::object();  // wall time of each stage this invocation ran
    for (size_t i = 0; i < stages.size(); ++i) {
      const Stage& st = stages[i];
      const fs::path dir = out / st.name;
      const std::string label = "[" + std::to_string(i + 1) + "/" + std::to_string(total) + "] " + st.name;
      json result;
      if (o->resume && fs::exists(dir / "stage.json")) {
        result = json::parse(format::read_input_file((dir / "stage.json").string()));
        std::fprintf(stderr, "%s: done earlier, skipped\n", label.c_str());
        skipped.push_back(st.name);
      } else {
        const auto stage_t0 = std::chrono::steady_clock::now();
        const fs::path cfg_path = out / (st.name + ".config.json");
        write_json_atomic(cfg_path, st.config);
        const bool resume = o->resume && fs::exists(dir / "checkpoint" / "state.json");
        ProgressLine bar(label);
        auto on_message = [&bar](const std::string& m) { bar.note("  " + m); };
        auto on_step = [&bar](const train::StepReport& r) {
          char detail[128];
          std::snprintf(detail, sizeof detail, "loss %.3f %.0f tok/s ETA %s", r.loss, r.tokens_per_s,
                        format_duration(r.eta_s).c_str());
          bar.update(r.step, r.steps, r.elapsed_s, detail);
        };
        json train_json;
        if (st.prune_from.empty()) {
          train::TrainRequest req;
          req.task = st.task;
          req.config_file = cfg_path.string();
          req.out_dir = dir.string();
          req.threads = g.threads;
          req.resume = resume;
          req.on_message = on_message;
          req.on_step = on_step;
          bar.note(label + ": training " + st.task + (resume ? " (resuming)" : ""));
          train_json = train::to_json(train::train(req));
        } else if (st.pattern) {
          train::PrunePatternRequest req;
          req.checkpoint_dir = (out / st.prune_from).string();
          req.out_dir = dir.string();
          req.threads = g.threads;
          req.resume = resume;
          if (!resume) {
            req.config_file = cfg_path.string();
            if (fs::exists(dir)) fs::remove_all(dir);  // killed before its first checkpoint: start over
          }
          req.on_message = on_message;
          req.on_step = on_step;
          bar.note(label + ": pattern sets from " + st.prune_from + (resume ? " (resuming)" : ""));
          train_json = train::to_json(train::prune_pattern(req));
        } else {
          train::PruneBpRequest req;
          req.checkpoint_dir = (out / st.prune_from).string();
          req.out_dir = dir.string();
          req.threads = g.threads;
          req.resume = resume;
          if (!resume) {
            req.config_file = cfg_path.string();
            req.sparsity = st.sparsity;
            if (fs::exists(dir)) fs::remove_all(dir);  // killed before its first checkpoint: start over
          }
          req.on_message = on_message;
          req.on_step = on_step;
          bar.note(label + ": block pruning " + st.prune_from + (resume ? " (resuming)" : ""));
          train_json = train::to_json(train::prune_bp(req));
        }
        bar.finish();
        train::EvalRequest ev;
        ev.dir = dir.string();
        ev.split = "test";
        ev.threads = g.threads;
        std::vector<std::string> sets = train::pattern_set_names(dir.string());
        sets.insert(sets.begin(), "");  // the stage's own weights first
        const auto scored = train::evaluate_sets(ev, sets);
        const auto& er = scored.front();
        result = {{"task", st.task}, {"train", train_json}, {"test", train::to_json(er.metrics)}};
        for (size_t k = 1; k < scored.size(); ++k) result["test_sets"][sets[k]] = train::to_json(scored[k].metrics);
        if (!st.prune_from.empty()) result["pruned_from"] = st.prune_from;
        const int64_t limit = stage_data_limit(stages, st);
        result["runtime"] = runtime_check(st, dir, out / (st.name + ".rt3"), g.threads, limit);
        std::fprintf(stderr, "%s: runtime %s\n", label.c_str(), result["runtime"].dump().c_str());
        write_json_atomic(dir / "stage.json", result);
        stage_seconds[st.name] = std::chrono::duration<double>(std::chrono::steady_clock::now() - stage_t0).count();
        std::fprintf(stderr, "%s: test %s\n", label.c_str(), train::to_json(er.metrics)["metrics"].dump().c_str());
      }
      summary["stages"][st.name] = result;
    }
    // The device half: latency tables, search (RL vs random), the RT3 bundle, switching, battery.
    DeviceDemoOptions d;
    d.out = out;
    d.budget = o->budget;
    d.threads = g.threads;
    d.resume = o->resume;
    d.profile = o->profile;
    d.first_index = static_cast<int>(stages.size()) + 1;
    d.total = total;
    d.on_message = [](const std::string& m) { std::fprintf(stderr, "%s\n", m.c_str()); };
    d.on_step_done = [&](const std::string& name, bool was_skipped, double seconds) {
      if (was_skipped) skipped.push_back(name);
      else stage_seconds[name] = seconds;
    };
    run_device_stages(d, summary);
    summary["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    summary["commit"] = RT3_GIT_COMMIT;
    // `make demo` always passes --resume: "resumed" says whether a stage was actually skipped
    // (then `seconds` covers only the stages this invocation ran).
    summary["resumed"] = !skipped.empty();
    summary["skipped_stages"] = skipped;
    summary["stage_seconds"] = stage_seconds;
    summary["claims"] = demo_claims(summary);
    summary["report"] = (out / "report.html").string();
    write_demo_report(summary, out);
    write_json_atomic(out / "summary.json", summary);
    if (g.json) std::printf("%s\n", summary.dump(2).c_str());
    else std::printf("demo finished in %s; report %s, summary %s\n", format_duration(summary["seconds"]).c_str(),
                     (out / "report.html").string().c_str(), (out / "summary.json").string().c_str());
    return 0;
  };
}

}  // namespace rt3::cli
