// Runtime verbs (no LibTorch needed): `rt3 export` writes a bundle from a training run,
// `rt3 inspect` describes one, `rt3 run` classifies or generates with the torch-free engine.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/checked_stdout.h"
#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "cli/flag_limits.h"
#include "cli/output_paths.h"
#include "cli/pair_input.h"
#include "cli/run_dir.h"
#include "dvfs/adaptation_models.h"
#include "rt3/engine.h"
#include "runtime/format/bundle.h"
#include "runtime/format/bundle_adaptation_json.h"
#include "runtime/model/config.h"

namespace rt3::cli {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.2f MiB", b / 1048576.0);
  else if (b >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else std::snprintf(buf, sizeof buf, "%llu B", (unsigned long long)b);
  return buf;
}

// One line of stdin (without its newline) into `line`; false at the end of input. A line longer
// than kMaxInputLineBytes is an error before it is held in memory (a file without newlines
// piped in would otherwise be read whole).
bool read_input_line(std::istream& in, std::string& line) {
  line.clear();
  std::streambuf* buf = in.rdbuf();
  for (int c = buf->sbumpc(); c != std::char_traits<char>::eof(); c = buf->sbumpc()) {
    if (c == '\n') return true;
    if (line.size() == kMaxInputLineBytes)
      throw std::runtime_error("an input line is longer than " + std::to_string(kMaxInputLineBytes) +
                               " bytes (docs/limits.md): split it");
    line.push_back(static_cast<char>(c));
  }
  return !line.empty();
}

json inspect_json(const format::Bundle& b, const std::string& path) {
  json j;
  j["path"] = path;
  j["file_bytes"] = fs::file_size(path);
  j["format_version"] = b.format_version();
  j["rt3_version"] = b.rt3_version();
  j["model_type"] = format::model_type_name(b.model_type());
  j["config"] = b.model_type() == format::BundleModelType::kTransformerLm ? models::to_json(b.lm_config())
                                                                           : models::to_json(b.distilbert_config());
  j["tokenizer"] = {{"type", b.tokenizer().type == format::TokenizerType::kWordPiece ? "wordpiece" : "sentencepiece"},
                    {"bytes", b.tokenizer_bytes().size()},
                    {"lowercase", b.tokenizer().lowercase},
                    {"max_len", b.tokenizer().max_len},
                    {"text_pair", b.tokenizer().text_pair}};
  uint64_t params = 0, weight_bytes = 0;
  json tensors = json::array();
  for (const auto& t : b.file().tensors()) {
    tensors.push_back({{"name", t.name}, {"dtype", format::dtype_name(t.dtype)}, {"shape", t.shape}, {"bytes", t.nbytes}});
    if (t.dtype == format::DType::F32) {
      params += t.numel();
      weight_bytes += t.nbytes;
    }
  }
  j["parameters"] = params;  // stored F32 values (block-pruned layers count their kept weights)
  j["weight_bytes"] = weight_bytes;
  if (b.bp_block_rows() > 0) {
    const auto specs = b.model_type() == format::BundleModelType::kTransformerLm ? format::required_tensors(b.lm_config())
                                                                               : format::required_tensors(b.distilbert_config());
    json layers = json::array();
    uint64_t dense = 0, kept = 0, bytes = 0;
    for (const auto& s : format::prunable_weights(specs)) {
      if (!b.is_block_pruned(s.name)) continue;
      const auto w = b.bp_weights(s.name);
      const uint64_t n = static_cast<uint64_t>(s.shape[0] * s.shape[1]);
      layers.push_back({{"name", s.name}, {"shape", s.shape}, {"stored", w.nonzeros()}, {"bytes", w.storage_bytes()},
                        {"weight_sparsity", 1.0 - double(w.nonzeros()) / double(n)}});
      dense += n;
      kept += static_cast<uint64_t>(w.nonzeros());
      bytes += w.storage_bytes();
    }
    j["bp"] = {{"block_rows", b.bp_block_rows()}, {"layers", layers}, {"weight_sparsity", 1.0 - double(kept) / double(dense)},
               {"bytes", bytes}, {"dense_bytes", dense * 4}};
  }
  j["tensors"] = tensors;
  json variants = json::array();
  for (const auto& v : b.variants()) {
    uint64_t bytes = 0;  // what this variant adds to the file (patterns, tile ids, ...)
    for (const auto& t : v.tensors) bytes += b.file().get(t).nbytes;
    json e = {{"name", v.name}, {"sparsity", v.sparsity}, {"tensors", v.tensors}, {"bytes", bytes}};
    if (!v.kind.empty()) e["kind"] = v.kind;
    if (v.kind == "pattern") {
      e["tile_rows"] = v.tile_rows;
      e["tile_cols"] = v.tile_cols;
      e["layers"] = v.layers.size();
    }
    variants.push_back(e);
  }
  j["variants"] = variants;
  j["level_to_variant"] = b.level_to_variant();
  j["adaptation"] = b.adaptation() ? format::adaptation_to_json(*b.adaptation()) : json(nullptr);
  j["device_profile"] = json::parse(b.device_profile_json());
  return j;
}

}  // namespace

Runner add_export(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("export", "Write a model bundle (.rt3) from a training run directory");
  struct Opts {
    std::string checkpoint, out, weights = "auto", latency;
    int64_t block_rows = 16;
    double cycle_scale = 1.0, deadline_ms = 0;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--checkpoint", o->checkpoint, "Run directory (rt3 train / rt3 prune / rt3 import output)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", o->out, "Bundle file to write, e.g. model.rt3")->required();
  cmd->add_option("--weights", o->weights,
                  "Storage of the prunable Linears: auto (block-pruned for an rt3 prune bp run), dense, bp")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "dense", "bp"}));
  cmd->add_option("--block-rows", o->block_rows, "Block rows for --weights bp on a run that was not block-pruned")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, format::kMaxBpBlockRows));
  cmd->add_option("--latency", o->latency,
                  "Latency table of this model's variants (rt3 profile): store each variant's latency model and\n"
                  "accuracy in the bundle, for the engine's deadline mode and energy figures (docs/adapt.md)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--cycle-scale", o->cycle_scale, "With --latency: device cycles per host cycle (assumption)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--deadline-ms", o->deadline_ms, "With --latency: the default deadline of the engine's deadline mode")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", g.json, "Print the bundle summary as JSON");
  return [o, &g]() {
    std::vector<std::string> inputs = {o->checkpoint};
    if (!o->latency.empty()) inputs.push_back(o->latency);
    refuse_output_over_inputs(o->out, "--out", inputs);
    std::optional<format::AdaptationInfo> adaptation;
    if (!o->latency.empty()) {
      std::optional<double> deadline;
      if (o->deadline_ms > 0) deadline = o->deadline_ms * 1e-3;
      adaptation = dvfs::adaptation_from_table(dvfs::load_latency_table(o->latency), o->cycle_scale, deadline);
    } else if (o->deadline_ms > 0 || o->cycle_scale != 1.0) {
      throw std::runtime_error("--deadline-ms and --cycle-scale describe the latency models of --latency TABLE: pass it too");
    }
    export_run(o->checkpoint, o->out, parse_weight_storage(o->weights), o->block_rows,
               adaptation ? &*adaptation : nullptr);
    auto bundle = format::Bundle::open(o->out);
    json j = inspect_json(bundle, o->out);
    if (g.json) {
      j.erase("tensors");
      std::printf("%s\n", json_text(j, 2).c_str());
    } else {
      std::printf("wrote %s: %s, %llu parameters, %s\n", o->out.c_str(), j["model_type"].get<std::string>().c_str(),
                  (unsigned long long)j["parameters"].get<uint64_t>(), human_bytes(j["file_bytes"]).c_str());
    }
    return 0;
  };
}

Runner add_inspect(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("inspect", "Describe a model bundle: model, sizes, tensors, variants");
  struct Opts {
    std::string path;
    bool tensors = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("bundle", o->path, "Bundle file (.rt3)")->required()->check(CLI::ExistingFile);
  cmd->add_flag("--tensors", o->tensors, "List every tensor");
  cmd->add_flag("--json", g.json, "Print JSON");
  return [o, &g]() {
    auto bundle = format::Bundle::open(o->path);
    json j = inspect_json(bundle, o->path);
    if (g.json) {
      if (!o->tensors) j.erase("tensors");
      std::printf("%s\n", json_text(j, 2).c_str());
      return 0;
    }
    std::printf("%s\n  format v%d, written by rt3 %s, %s\n", o->path.c_str(), j["format_version"].get<int>(),
                j["rt3_version"].get<std::string>().c_str(), human_bytes(j["file_bytes"]).c_str());
    std::printf("  model      %s\n", j["model_type"].get<std::string>().c_str());
    for (auto it = j["config"].begin(); it != j["config"].end(); ++it)
      if (it.key() != "id2label" && it.key() != "label2id" && it.key() != "architectures")
        std::printf("    %-26s %s\n", it.key().c_str(), it.value().dump().c_str());
    std::printf("  tokenizer  %s (%s)%s\n", j["tokenizer"]["type"].get<std::string>().c_str(),
                human_bytes(j["tokenizer"]["bytes"]).c_str(),
                j["tokenizer"]["text_pair"].get<bool>() ? ", sentence pairs ([CLS] a [SEP] b [SEP])" : "");
    std::printf("  weights    %llu parameters, %s fp32 in %zu tensors\n", (unsigned long long)j["parameters"].get<uint64_t>(),
                human_bytes(j["weight_bytes"]).c_str(), j["tensors"].size());
    if (j.contains("bp"))
      std::printf("  pruning    block-pruned (blocks of %lld rows): %zu Linears at %.1f%% sparsity, %s instead of %s dense\n",
                  (long long)j["bp"]["block_rows"].get<int64_t>(), j["bp"]["layers"].size(),
                  100.0 * j["bp"]["weight_sparsity"].get<double>(), human_bytes(j["bp"]["bytes"]).c_str(),
                  human_bytes(j["bp"]["dense_bytes"]).c_str());
    std::printf("  variants   %zu%s\n", j["variants"].size(), j["variants"].empty() ? " (dense only)" : "");
    for (const auto& v : j["variants"])
      std::printf("    %-12s sparsity %.3f  %s%s\n", v["name"].get<std::string>().c_str(), v["sparsity"].get<double>(),
                  human_bytes(v["bytes"]).c_str(),
                  v.contains("tile_rows") ? (" (" + std::to_string(v["layers"].get<size_t>()) + " layers, tiles " +
                                             std::to_string(v["tile_rows"].get<int64_t>()) + "x" +
                                             std::to_string(v["tile_cols"].get<int64_t>()) + ")").c_str()
                                          : "");
    if (o->tensors)
      for (const auto& t : j["tensors"])
        std::printf("    %-60s %-4s %-16s %s\n", t["name"].get<std::string>().c_str(), t["dtype"].get<std::string>().c_str(),
                    t["shape"].dump().c_str(), human_bytes(t["bytes"]).c_str());
    return 0;
  };
}

Runner add_run(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("run", "Classify or generate with a bundle (torch-free runtime); reads stdin lines without --text");
  struct Opts {
    std::string path, text, text_pair;
    bool pairs = false;
    int max_new_tokens = 32;
    uint64_t seed = 0;
    int top_k = 40;
    float temperature = 1.0f;
    bool sample = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("bundle", o->path, "Bundle file (.rt3)")->required()->check(CLI::ExistingFile);
  auto* text_opt = cmd->add_option("--text", o->text, "Input text (otherwise one input per stdin line)");
  auto* pair_opt = cmd->add_option("--text-pair", o->text_pair, "Classifier: second text of a sentence pair (with --text)")
                       ->needs(text_opt);
  cmd->add_flag("--pairs", o->pairs,
                "Classifier: stdin lines are sentence pairs, first<TAB>second (automatic for a bundle trained on pairs)");
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "LM: tokens to generate")->capture_default_str()->check(CLI::Range(1, kMaxDecodeTokens));
  cmd->add_flag("--sample", o->sample, "LM: top-k sampling instead of greedy decoding");
  cmd->add_option("--top-k", o->top_k, "LM sampling: keep the k most likely tokens")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--temperature", o->temperature, "LM sampling temperature")->capture_default_str()->check(positive_number());
  cmd->add_option("--seed", o->seed, "LM sampling seed")->capture_default_str();
  cmd->add_option("--threads", g.threads, "Engine threads")->capture_default_str()->check(CLI::Range(1, kMaxThreads));
  cmd->add_flag("--json", g.json, "One JSON object per input");
  return [o, text_opt, pair_opt, &g]() {
    EngineOptions eo;
    eo.threads = g.threads;
    auto engine = Engine::load(o->path, eo);
    const bool classifier = engine->model_type() == ModelType::kDistilBertClassifier;
    const bool pairs = pair_opt->count() > 0 || o->pairs || (classifier && engine->trained_on_pairs());
    if (pairs && !classifier)
      throw std::runtime_error(std::string(pair_opt->count() > 0 ? "--text-pair" : "--pairs") +
                               " needs a classifier bundle; '" + o->path + "' holds a language model");
    if (pairs && text_opt->count() > 0 && pair_opt->count() == 0)
      throw std::runtime_error((o->pairs ? std::string("--pairs") : "'" + o->path + "' was trained on sentence pairs") +
                               ": give the second text with --text-pair (or pairs on stdin, first<TAB>second)");
    // pair: nullptr for a single text.
    auto handle = [&](const std::string& text, const std::string* pair) {
      const auto t0 = std::chrono::steady_clock::now();
      json j = {{"input", text}};
      if (pair) j["input_pair"] = *pair;
      if (classifier) {
        ClassifyResult r = pair ? engine->classify_pair(text, *pair) : engine->classify(text);
        j["label"] = r.label_name;
        j["label_id"] = r.label;
        json probs = json::object();
        for (size_t i = 0; i < r.probabilities.size(); ++i) probs[engine->labels()[i]] = r.probabilities[i];
        j["probabilities"] = probs;
      } else {
        GenerateOptions go;
        go.max_new_tokens = o->max_new_tokens;
        go.greedy = !o->sample;
        go.top_k = o->top_k;
        go.temperature = o->temperature;
        go.seed = o->seed;
        GenerateResult r = engine->generate(text, go);
        j["generated"] = r.text;
        j["tokens"] = r.token_ids.size();
        j["stopped_at_eos"] = r.stopped_at_eos;
      }
      j["ms"] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (g.json) {
        std::printf("%s\n", json_text(j).c_str());
      } else if (j.contains("label")) {
        std::string probs;
        for (auto it = j["probabilities"].begin(); it != j["probabilities"].end(); ++it) {
          char buf[64];
          std::snprintf(buf, sizeof buf, "%s%s=%.4f", probs.empty() ? "" : " ", it.key().c_str(), it.value().get<double>());
          probs += buf;
        }
        std::printf("%s\t%s\n", j["label"].get<std::string>().c_str(), probs.c_str());
      } else {
        std::printf("%s%s\n", text.c_str(), j["generated"].get<std::string>().c_str());
      }
      flush_stdout();  // stop at the first line that cannot be written
    };
    if (text_opt->count() > 0) {  // --text '' is an (empty) input, not "read stdin"
      handle(o->text, pairs ? &o->text_pair : nullptr);
    } else {
      std::string line;
      for (size_t line_number = 1; read_input_line(std::cin, line); ++line_number) {
        if (!pairs) {
          handle(line, nullptr);
          continue;
        }
        const auto [first, second] = split_pair_line(line, line_number);
        handle(first, &second);
      }
    }
    return 0;
  };
}

}  // namespace rt3::cli
