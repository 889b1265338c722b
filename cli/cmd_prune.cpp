// `rt3 prune bp`: block-structured pruning of a trained run (train/prune/prune_api.h).
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/flag_limits.h"
#include "cli/output_paths.h"
#include "cli/progress.h"
#include "runtime/format/bundle.h"
#include "train/prune/prune_api.h"

namespace rt3::cli {
namespace {

void print_sparsity_table(const nlohmann::json& t) {
  std::printf("%-48s %11s %13s %9s\n", "layer", "shape", "groups kept", "sparsity");
  for (const auto& l : t.at("layers")) {
    char shape[32], kept[40];
    std::snprintf(shape, sizeof shape, "%lldx%lld", (long long)l.at("rows").get<int64_t>(),
                  (long long)l.at("cols").get<int64_t>());
    std::snprintf(kept, sizeof kept, "%lld/%lld", (long long)l.at("groups_kept").get<int64_t>(),
                  (long long)l.at("groups").get<int64_t>());
    std::printf("%-48s %11s %13s %8.1f%%\n", l.at("name").get<std::string>().c_str(), shape, kept,
                100.0 * l.at("weight_sparsity").get<double>());
  }
  std::printf("%-48s %11s %13s %8.1f%%\n", "all prunable layers", "", "", 100.0 * t.at("weight_sparsity").get<double>());
}

void on_step_line(ProgressLine& bar, const train::StepReport& r) {
  char detail[160];
  std::snprintf(detail, sizeof detail, "loss %.4f lr %.2e ETA %s", r.loss, r.lr, format_duration(r.eta_s).c_str());
  bar.update(r.step, r.steps, r.elapsed_s, detail);
}

int run_prune_pattern(train::PrunePatternRequest& req, const GlobalOptions& g) {
  ProgressLine bar("prune pattern");
  req.threads = g.threads;
  req.on_message = [&bar](const std::string& m) { bar.note(m); };
  req.on_step = [&bar](const train::StepReport& r) { on_step_line(bar, r); };
  train::PrunePatternResult res = train::prune_pattern(req);
  bar.finish();
  if (g.json) {
    std::printf("%s\n", train::to_json(res).dump(2).c_str());
    return 0;
  }
  std::printf("%-8s %8s %10s   %s\n", "set", "pruned", "sparsity", "valid");
  for (const auto& s : res.sets) {
    std::printf("%-8s %5lld/%-2lld %9.1f%%  ", s.name.c_str(), (long long)s.pruning_number, (long long)res.pattern.tile_cols,
                100.0 * s.sparsity);
    for (const auto& [k, v] : s.valid.values) std::printf(" %s %.4f", k.c_str(), v);
    std::printf("\n");
  }
  std::printf("%zu pattern sets in %s (%lld joint steps); rt3 eval %s --variant %s; rt3 export --checkpoint %s --out model.rt3\n",
              res.sets.size(), format_duration(res.seconds).c_str(), (long long)res.steps_done, res.out_dir.c_str(),
              res.sets.empty() ? "" : res.sets.front().name.c_str(), res.out_dir.c_str());
  return 0;
}

}  // namespace

Runner add_prune(CLI::App& app, GlobalOptions& g) {
  auto* prune = app.add_subcommand("prune", "Compress a trained model (bp: block-structured pruning; pattern: switchable pattern sets)");
  prune->require_subcommand(1);
  auto* cmd = prune->add_subcommand(
      "bp", "Block-structured pruning: reweighted group lasso, hard prune to --sparsity, fine-tune with fixed masks");
  auto req = std::make_shared<train::PruneBpRequest>();
  cmd->add_option("--checkpoint", req->checkpoint_dir, "Trained run directory (rt3 train --out DIR)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", req->out_dir, "Output run directory (pruned weights, masks, checkpoints, metrics)")->required();
  cmd->add_option("--sparsity", req->sparsity, "Target weight sparsity of every prunable Linear (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--block-rows", req->block_rows, "Output rows per block: a group is one input column of a block (default 16)")
      ->check(CLI::Range(int64_t{1}, format::kMaxBpBlockRows));
  cmd->add_option("--config", req->config_file,
                  "JSON file: {\"train\": {...}, \"bp\": {lasso_steps, finetune_steps, penalty_scale, reweight_every, "
                  "layer_sparsity, ...}}")
      ->check(CLI::ExistingFile);
  auto* resume = cmd->add_flag("--resume", req->resume, "Continue the run in --out from its last checkpoint");
  cmd->add_option("--threads", g.threads, "Threads for LibTorch/BLAS")->capture_default_str()->check(CLI::Range(1, kMaxThreads));
  cmd->add_flag("--json", g.json, "Print the result (with the per-layer sparsity table) as JSON on stdout");
  cmd->callback([req, resume] {
    if (req->checkpoint_dir.empty() && resume->count() == 0)
      throw CLI::ValidationError("--checkpoint", "--checkpoint is required (unless --resume)");
  });
  auto pat = std::make_shared<train::PrunePatternRequest>();
  auto pat_sets = std::make_shared<std::string>();
  auto* pcmd = prune->add_subcommand(
      "pattern", "Pattern sets: K sparsities on one shared set of weights, jointly fine-tuned (from a BP run)");
  pcmd->add_option("--checkpoint", pat->checkpoint_dir, "Block-pruned run directory (rt3 prune bp --out DIR)")
      ->check(CLI::ExistingDirectory);
  pcmd->add_option("--out", pat->out_dir, "Output run directory (shared weights, pattern sets, checkpoints)")->required();
  pcmd->add_option("--sets", *pat_sets, "Comma-separated target sparsities, one pattern set each (default 0.6,0.7,0.8,0.9)");
  pcmd->add_option("--config", pat->config_file,
                   "JSON file: {\"train\": {...}, \"pattern\": {sets, tile_rows, tile_cols, patterns_per_set, candidates, "
                   "steps, reassign_every, set_weights, ...}}")
      ->check(CLI::ExistingFile);
  auto* presume = pcmd->add_flag("--resume", pat->resume, "Continue the run in --out from its last checkpoint");
  pcmd->add_option("--threads", g.threads, "Threads for LibTorch/BLAS")->capture_default_str()->check(CLI::Range(1, kMaxThreads));
  pcmd->add_flag("--json", g.json, "Print the result as JSON on stdout");
  pcmd->callback([pat, presume, pat_sets] {
    if (pat->checkpoint_dir.empty() && presume->count() == 0)
      throw CLI::ValidationError("--checkpoint", "--checkpoint is required (unless --resume)");
    if (!pat_sets->empty()) {
      try {
        pat->sets = train::parse_sparsity_list(*pat_sets);
      } catch (const std::invalid_argument& e) {
        throw CLI::ValidationError("--sets", e.what());
      }
    }
  });

  return [req, pat, pcmd, &g]() {
    if (pcmd->parsed()) {
      refuse_output_over_inputs(pat->out_dir, "--out", {pat->checkpoint_dir, pat->config_file});
      return run_prune_pattern(*pat, g);
    }
    refuse_output_over_inputs(req->out_dir, "--out", {req->checkpoint_dir, req->config_file});
    ProgressLine bar("prune bp");
    req->threads = g.threads;
    req->on_message = [&bar](const std::string& m) { bar.note(m); };
    req->on_step = [&bar](const train::StepReport& r) {
      char detail[160];
      std::snprintf(detail, sizeof detail, "loss %.4f lr %.2e ETA %s", r.loss, r.lr, format_duration(r.eta_s).c_str());
      bar.update(r.step, r.steps, r.elapsed_s, detail);
      if (r.evaluated) {
        std::string line = "step " + std::to_string(r.step) + " valid:";
        char buf[64];
        for (const auto& [k, v] : r.eval.values) {
          std::snprintf(buf, sizeof buf, " %s %.4f", k.c_str(), v);
          line += buf;
        }
        bar.note(line);
      }
    };
    train::PruneBpResult res = train::prune_bp(*req);
    bar.finish();
    if (g.json) {
      std::printf("%s\n", train::to_json(res).dump(2).c_str());
      return 0;
    }
    print_sparsity_table(res.sparsity_table);
    std::printf("pruned %s to %.1f%% in %s (%lld steps, from %lld)\nvalid:", res.task.c_str(),
                100.0 * res.sparsity_table.at("weight_sparsity").get<double>(), format_duration(res.seconds).c_str(),
                (long long)res.steps_done, (long long)res.start_step);
    for (const auto& [k, v] : res.valid.values) std::printf(" %s %.4f", k.c_str(), v);
    std::printf("\nsaved to %s (rt3 eval %s; rt3 export %s --out model.rt3)\n", res.out_dir.c_str(), res.out_dir.c_str(),
                res.out_dir.c_str());
    return 0;
  };
}

}  // namespace rt3::cli
