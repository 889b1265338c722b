// `rt3 search`: RL (or random / greedy) search of one pattern set per DVFS level under a latency
// deadline (train/search/search_api.h), then the bundle with its level-to-set table.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "cli/flag_limits.h"
#include "cli/gnuplot_png.h"
#include "cli/local_workers.h"
#include "cli/output_paths.h"
#include "cli/progress.h"
#include "cli/run_dir.h"
#include "report/svg_plot.h"
#include "runtime/format/atomic_file.h"
#include "train/search/search_api.h"

namespace rt3::cli {
namespace fs = std::filesystem;

Runner add_search(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "search",
      "Search a pattern set for every DVFS level of a device so each level meets a latency deadline (RL controller, "
      "or random / greedy baselines at the same budget); writes the sets, their fine-tuned weights and a bundle");
  auto r = std::make_shared<train::SearchRequest>();
  auto dry = std::make_shared<bool>(false);
  cmd->add_option("--checkpoint", r->bp_dir,
                  "Starting weights: a pattern run (rt3 prune pattern; recommended, its weights tolerate sparsity) or a "
                  "block-pruned run (rt3 prune bp)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--profile", r->profile_path, "Device profile (profiles/*.json)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--latency", r->latency_path,
                  "Latency table of the BP model's bundle: rt3 export --checkpoint BP_DIR --out bp.rt3, then rt3 profile "
                  "bp.rt3 --out latency.json")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--deadline-ms", r->deadline_ms, "Latency deadline per inference on the device")
      ->required()
      ->check(positive_number());
  cmd->add_option("--out", r->out_dir, "Output directory (search state, reward curve, final/ sets, model.rt3)")->required();
  cmd->add_option("--method", r->method, "rl | random | greedy")->capture_default_str();
  cmd->add_option("--episodes", r->episodes, "Candidates sampled (the same budget for every method)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--seed", r->seed, "Seed of the controller / sampler")->capture_default_str();
  cmd->add_option("--finetune-steps", r->finetune_steps, "Joint fine-tune steps per evaluated candidate")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--finetune-batch", r->finetune_batch, "Batch size of those steps (0 = the BP run's own)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--eval-examples", r->eval_examples, "Validation examples per set per candidate")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  cmd->add_option("--final-steps", r->final_steps, "Joint fine-tune steps of the best candidate's sets")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000000));
  cmd->add_option("--cycle-scale", r->cycle_scale,
                  "Device cycles per host cycle for the same work (assumption; 1 = as fast per clock as this host)")
      ->capture_default_str()
      ->check(positive_number());
  cmd->add_option("--latency-weight", r->latency_weight, "Weight of the latency term in the reward")
      ->capture_default_str()
      ->check(non_negative_number());
  cmd->add_option("--entropy-weight", r->entropy_weight, "RL: entropy bonus")->capture_default_str()->check(non_negative_number());
  cmd->add_option("--controller-lr", r->controller_lr, "RL: controller learning rate")
      ->capture_default_str()
      ->check(positive_number());
  cmd->add_option("--credit", r->credit,
                  "RL: level = each level's decisions learn from that level's own accuracy and speed; total = from the "
                  "whole reward")
      ->capture_default_str()
      ->check(CLI::IsMember({"level", "total"}));
  cmd->add_option("--batch", r->batch, "Candidates per round: one controller update over them, evaluated in parallel "
                                       "by this process and the workers (0 = one per process)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  cmd->add_option("--workers", r->workers,
                  "Scale-out: wait for this many `rt3 search-worker` processes (on this or other machines) and "
                  "evaluate each round's candidates in parallel with them")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  auto spawn = std::make_shared<bool>(false);
  cmd->add_flag("--spawn-workers", *spawn,
                "Start the --workers processes on this machine (1 thread each unless --worker-threads); logs in "
                "<out>.workers/");
  auto worker_threads = std::make_shared<int>(1);
  cmd->add_option("--worker-threads", *worker_threads, "Threads of each spawned worker")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxThreads));
  cmd->add_option("--master-addr", r->master_addr, "Address the workers connect to (this machine's)")->capture_default_str();
  cmd->add_option("--master-port", r->master_port, "Port the workers connect to (0 with --spawn-workers: a free one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--worker-timeout", r->worker_timeout_s, "Seconds to wait for the workers to join, or for a reply")
      ->capture_default_str()
      ->check(positive_number());
  auto* separate = cmd->add_flag("--separate-heads", "RL: one softmax head per decision (default: the candidate "
                                 "decisions of every level share one head)");
  cmd->add_flag("--resume", r->resume, "Continue the search in --out after a kill");
  cmd->add_flag("--dry-run", *dry, "Print the search space and the predicted latencies, train nothing");
  cmd->add_option("--threads", g.threads, "Threads for LibTorch/BLAS")->capture_default_str()->check(CLI::Range(1, kMaxThreads));
  cmd->add_flag("--json", g.json, "Print the summary as JSON");
  return [r, dry, separate, spawn, worker_threads, &g]() {
    refuse_output_over_inputs(r->out_dir, "--out", {r->bp_dir, r->profile_path, r->latency_path});
    r->threads = g.threads;
    r->share_heads = separate->count() == 0;
    if (*dry) {
      std::printf("%s\n", train::describe_search_space(*r).dump(2).c_str());
      return 0;
    }
    if (*spawn && r->workers < 1) throw std::runtime_error("--spawn-workers needs --workers N (N >= 1)");
    if (r->workers > 0 && r->master_port == 0) {
      if (!*spawn) throw std::runtime_error("--master-port 0 only works with --spawn-workers: tell remote workers a port");
      r->master_port = free_local_port();
    }
    std::unique_ptr<LocalWorkers> workers;
    if (*spawn) {
      if (r->master_addr != "127.0.0.1" && r->master_addr != "localhost")
        throw std::runtime_error("--spawn-workers starts the workers on this machine: leave --master-addr at 127.0.0.1");
      const std::string log_dir = r->out_dir + ".workers";
      fs::create_directories(log_dir);
      workers = std::make_unique<LocalWorkers>(r->workers, r->master_port, r->bp_dir, *worker_threads, log_dir);
    }
    ProgressLine bar("search " + r->method);
    r->on_message = [&bar](const std::string& m) { bar.note(m); };
    r->on_episode = [&bar](int ep, int total, double reward, double best, double elapsed) {
      char detail[160];
      const double eta = elapsed / ep * (total - ep);
      std::snprintf(detail, sizeof detail, "reward %+.4f best %+.4f ETA %s", reward, best, format_duration(eta).c_str());
      bar.update(ep, total, elapsed, detail);
    };
    ProgressLine* final_bar = nullptr;
    std::unique_ptr<ProgressLine> final_holder;
    const auto t0 = std::chrono::steady_clock::now();
    r->on_final_step = [&](int64_t step, int64_t steps, double loss) {
      if (!final_bar) {
        bar.finish();
        final_holder = std::make_unique<ProgressLine>("final fine-tune");
        final_bar = final_holder.get();
      }
      char detail[64];
      std::snprintf(detail, sizeof detail, "loss %.4f", loss);
      final_bar->update(step, steps, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), detail);
    };
    nlohmann::json s;
    try {
      s = train::run_search(*r);
    } catch (...) {
      if (workers) workers->terminate();
      throw;
    }
    if (workers) {
      const auto ok = workers->wait();
      for (size_t w = 0; w < ok.size(); ++w)
        if (!ok[w]) std::fprintf(stderr, "warning: search worker %zu did not exit cleanly; see %s.workers/worker_%zu.log\n", w + 1, r->out_dir.c_str(), w + 1);
    }
    if (final_bar) final_bar->finish();
    else bar.finish();
    const std::string bundle = (fs::path(r->out_dir) / "model.rt3").string();
    export_run(s.at("final_dir").get<std::string>(), bundle);
    s["bundle"] = bundle;
    format::write_file_atomic((fs::path(r->out_dir) / "reward_curve.json").string(),
                      nlohmann::json{{"method", r->method}, {"seed", r->seed}, {"curve", s["reward_curve"]}}.dump(2) + "\n");
    {  // The reward curve as a picture: every sampled candidate and the best so far.
      report::LineChart c;
      c.title = r->method + " search: reward per episode";
      c.x.label = "episode";
      c.y.label = "reward";
      report::Series each{"sampled", {}, {}, false}, best{"best so far", {}, {}, true};
      for (const auto& e : s["reward_curve"]) {
        each.x.push_back(e["episode"].get<double>());
        each.y.push_back(e["reward"].get<double>());
        best.x.push_back(e["episode"].get<double>());
        best.y.push_back(e["best"].get<double>());
      }
      c.series = {each, best};
      const std::string svg = (fs::path(r->out_dir) / "reward_curve.svg").string();
      format::write_file_atomic(svg, report::line_charts_svg({c}));
      s["reward_curve_svg"] = svg;
      const std::string png = (fs::path(r->out_dir) / "reward_curve.png").string();
      std::string why;
      if (line_chart_png(c, png, &why)) s["reward_curve_png"] = png;
      else std::fprintf(stderr, "note: no reward_curve.png (%s); reward_curve.svg has the same plot\n", why.c_str());
    }
    if (g.json) {
      std::printf("%s\n", s.dump(2).c_str());
      return 0;
    }
    std::printf("%s search, %d episodes (%d trained), best reward %.4f\n", r->method.c_str(), r->episodes,
                s["evaluations"].get<int>(), s["best_reward"].get<double>());
    std::printf("%-10s %-22s %12s %12s %10s\n", "level MHz", "set", "latency ms", "dense ms", "valid acc");
    for (const auto& l : s["levels"]) {
      if (l.value("unreachable", false)) {
        std::printf("%-10.0f %-22s %12s %12s %9.2f%%  (no set meets the deadline here)\n", l["khz"].get<double>() / 1000,
                    l["set"].get<std::string>().c_str(), "-", "-", l["final_accuracy"].get<double>() * 100);
        continue;
      }
      std::printf("%-10.0f %-22s %12.3f %12.3f %9.2f%%\n", l["khz"].get<double>() / 1000, l["set"].get<std::string>().c_str(),
                  l["latency_ms"].get<double>(), l["dense_latency_ms"].get<double>(),
                  l["final_accuracy"].get<double>() * 100);
    }
    std::printf("deadline %.3f ms; bundle %s; summary %s/search.json\n", r->deadline_ms, bundle.c_str(), r->out_dir.c_str());
    return 0;
  };
}

Runner add_search_worker(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "search-worker",
      "Evaluate candidates for an `rt3 search --workers N` running elsewhere (docs/search.md \"Scale-out\"); returns "
      "when that search releases it");
  auto r = std::make_shared<train::SearchWorkerRequest>();
  auto master = std::make_shared<std::string>();
  cmd->add_option("--master", *master, "HOST:PORT of the search (its --master-addr and --master-port)")->required();
  cmd->add_option("--rank", r->rank, "This worker's number, 1 .. N")->required()->check(CLI::Range(1, 1024));
  cmd->add_option("--world-size", r->world_size, "N + 1 (the search and its N workers)")
      ->required()
      ->check(CLI::Range(2, 1025));
  cmd->add_option("--checkpoint", r->bp_dir, "This machine's copy of the search's --checkpoint")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--timeout", r->timeout_s, "Seconds to wait to join, or for the next request")
      ->capture_default_str()
      ->check(positive_number());
  cmd->add_option("--threads", g.threads, "Threads for LibTorch/BLAS")->capture_default_str()->check(CLI::Range(1, kMaxThreads));
  return [r, master, &g]() {
    const auto colon = master->rfind(':');
    const std::string port = colon == std::string::npos ? "" : master->substr(colon + 1);
    if (colon == 0 || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535)
      throw std::runtime_error("--master must be HOST:PORT with a port 1-65535 (got '" + *master + "')");
    r->master_addr = master->substr(0, colon);
    r->master_port = std::stoi(port);
    r->threads = g.threads;
    r->on_message = [](const std::string& m) { std::fprintf(stderr, "%s\n", m.c_str()); };
    train::run_search_worker(*r);
    return 0;
  };
}

}  // namespace rt3::cli
