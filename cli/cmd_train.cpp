// `rt3 train` and `rt3 eval`: the training CLI over train/api.h.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "cli/flag_limits.h"
#include "cli/output_paths.h"
#include "cli/progress.h"
#include "train/api.h"

namespace rt3::cli {
namespace {

std::string metrics_line(const train::Metrics& m) {
  std::string s;
  char buf[64];
  for (const auto& [k, v] : m.values) {
    std::snprintf(buf, sizeof buf, "%s%s %.4f", s.empty() ? "" : "  ", k.c_str(), v);
    s += buf;
  }
  return s;
}

}  // namespace

Runner add_train(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("train", "Train a dense model: an LM or a DistilBERT classifier, on your own data (--task lm | "
                                           "classify) or a shipped corpus (sotu, spam, wordnet)");
  auto req = std::make_shared<train::TrainRequest>();
  cmd->add_option("--task", req->task, "classify | lm (your data) | sotu | spam | wordnet (shipped corpora)")
      ->check(CLI::IsMember({"classify", "lm", "sotu", "spam", "wordnet"}));
  // Existence is checked by the data readers, whose errors name the file (and line).
  cmd->add_option("--data", req->data,
                  "classify: a folder with train.csv|tsv|jsonl|json [+ valid|validation.*, test.*] or one such file; "
                  "lm: a folder of .txt documents or one text file (blank lines separate documents)");
  cmd->add_option("--train", req->train_file, "Training file (instead of --data); valid/test not given are carved from it");
  cmd->add_option("--valid", req->valid_file, "Validation file (with --train)");
  cmd->add_option("--test", req->test_file, "Test file (with --train)");
  cmd->add_option("--text-column", req->text_column, "classify: column (or JSON key) of the text")->capture_default_str();
  cmd->add_option("--text-pair-column", req->text_pair_column, "classify: column of the second text of a pair");
  cmd->add_option("--label-column", req->label_column, "classify: column of the label (strings or integers)")->capture_default_str();
  cmd->add_option("--tokenizer", req->tokenizer, "lm: use this SentencePiece model instead of training one on the train split")
      ->check(CLI::ExistingFile);
  cmd->add_option("--config", req->config_file, "JSON file with {\"train\": {...}, \"model\": {...}} overrides")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", req->out_dir, "Run directory (weights, tokenizer, checkpoints, metrics)")->required();
  auto* resume = cmd->add_flag("--resume", req->resume, "Continue the run in --out from its last checkpoint");
  cmd->add_option("--init", req->init_dir, "Start from a Hugging Face DistilBERT directory (fine-tuning)");
  cmd->add_option("--steps", req->steps, "Override train.steps")->check(positive_number());
  cmd->add_option("--threads", g.threads, "Threads for LibTorch/BLAS")->capture_default_str()->check(CLI::Range(1, kMaxThreads));
  cmd->add_flag("--json", g.json, "Print the result as JSON on stdout");
  cmd->callback([cmd, resume, req] {
    if (req->task.empty() && resume->count() == 0)
      throw CLI::ValidationError("--task", "--task is required (unless --resume)");
  });
  return [req, &g]() {
    refuse_output_over_inputs(req->out_dir, "--out", {req->init_dir, req->config_file, req->data, req->train_file,
                                                       req->valid_file, req->test_file, req->tokenizer});
    ProgressLine bar("train");
    req->threads = g.threads;
    req->on_message = [&bar](const std::string& m) { bar.note(m); };
    req->on_step = [&bar](const train::StepReport& r) {
      char detail[160];
      std::snprintf(detail, sizeof detail, "loss %.4f lr %.2e %.0f tok/s ETA %s", r.loss, r.lr, r.tokens_per_s,
                    format_duration(r.eta_s).c_str());
      bar.update(r.step, r.steps, r.elapsed_s, detail);
      if (r.evaluated) bar.note("step " + std::to_string(r.step) + " valid: " + metrics_line(r.eval));
    };
    train::TrainResult res = train::train(*req);
    bar.finish();
    if (g.json) {
      std::printf("%s\n", train::to_json(res).dump(2).c_str());
    } else {
      std::printf("trained %s: %lld steps (from %lld) in %s, %.0f tok/s, %lld parameters\n", res.task.c_str(),
                  (long long)res.steps_done, (long long)res.start_step, format_duration(res.seconds).c_str(),
                  res.tokens_per_s, (long long)res.parameters);
      std::printf("final train loss %.6f\nvalid: %s\nsaved to %s\n", res.final_train_loss, metrics_line(res.valid).c_str(),
                  res.out_dir.c_str());
    }
    return 0;
  };
}

Runner add_eval(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("eval", "Evaluate a trained run: perplexity/accuracy (LM) or accuracy/macro-F1");
  auto req = std::make_shared<train::EvalRequest>();
  cmd->add_option("dir", req->dir, "Run directory written by rt3 train")->required();
  cmd->add_option("--task", req->task, "Task for an imported Hugging Face model directory (spam | wordnet)");
  cmd->add_option("--split", req->split, "train | valid | test")->capture_default_str()->check(CLI::IsMember({"train", "valid", "test"}));
  cmd->add_option("--variant", req->variant, "Pattern run (rt3 prune pattern): evaluate this pattern set, e.g. p81");
  cmd->add_option("--max-examples", req->max_examples, "Evaluate only the first N windows/examples (0 = all)")
      ->check(non_negative_number());
  cmd->add_option("--threads", g.threads, "Threads for LibTorch/BLAS")->capture_default_str()->check(CLI::Range(1, kMaxThreads));
  cmd->add_flag("--json", g.json, "Print JSON");
  return [req, &g]() {
    req->threads = g.threads;
    train::EvalResult r = train::evaluate(*req);
    if (g.json) {
      std::printf("%s\n", train::to_json(r).dump(2).c_str());
    } else {
      std::printf("%s on %s split (%lld examples, %lld tokens, %.1fs)\n%s\n", r.task.c_str(), r.split.c_str(),
                  (long long)r.metrics.examples, (long long)r.metrics.tokens, r.seconds, metrics_line(r.metrics).c_str());
    }
    return 0;
  };
}

Runner add_import(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("import", "Import a Hugging Face DistilBERT directory (model.safetensors, config.json, vocab.txt)");
  auto req = std::make_shared<train::ImportRequest>();
  cmd->add_option("hf_dir", req->hf_dir, "Hugging Face model directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", req->out_dir, "Output directory")->required();
  cmd->add_flag("--json", g.json, "Print JSON");
  return [req, &g]() {
    refuse_output_over_inputs(req->out_dir, "--out", {req->hf_dir});
    req->on_message = [](const std::string& m) { std::fprintf(stderr, "%s\n", m.c_str()); };
    train::ImportResult r = train::import_hf(*req);
    if (g.json) std::printf("%s\n", train::to_json(r).dump(2).c_str());
    else std::printf("imported %lld parameters into %s (%zu checkpoint tensors ignored)\n", (long long)r.parameters,
                     r.out_dir.c_str(), r.ignored.size());
    return 0;
  };
}

}  // namespace rt3::cli
