// `rt3 prune pattern`: block-pruned run directory in, K pattern sets on shared weights out.
#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "runtime/format/safetensors.h"
#include "runtime/format/safetensors_writer.h"
#include "train/checkpoint.h"
#include "train/compute_env.h"
#include "train/prune/block_prune.h"
#include "train/prune/distill_teacher.h"
#include "train/prune/pattern.h"
#include "train/prune/pattern_schedule.h"
#include "train/prune/prune_api.h"
#include "train/run_files.h"
#include "train/tasks.h"
#include "train/trainer.h"

namespace rt3::train {
namespace fs = std::filesystem;
using nlohmann::json;

json to_json(const PrunePatternResult& r) {
  json sets = json::array();
  for (const auto& s : r.sets)
    sets.push_back({{"name", s.name}, {"pruning_number", s.pruning_number}, {"sparsity", s.sparsity}, {"valid", to_json(s.valid)}});
  return {{"out_dir", r.out_dir},         {"task", r.task},           {"source_dir", r.source_dir},
          {"pattern", to_json(r.pattern)}, {"start_step", r.start_step}, {"steps_done", r.steps_done},
          {"seconds", r.seconds},          {"sets", sets},             {"candidates", r.candidates}};
}

namespace {

std::string variant_tensor(const std::string& set, const std::string& layer, const char* what) {
  return "rt3.variant." + set + "." + layer + "." + what;
}

torch::Tensor to_u8(const torch::Tensor& t) { return t.detach().to(torch::kCPU).to(torch::kUInt8).contiguous(); }

torch::Tensor read_u8(const format::SafetensorsFile& f, const std::string& name) {
  const auto& t = f.get(name);
  if (t.dtype != format::DType::U8) throw std::runtime_error("tensor '" + name + "' is not U8");
  return torch::from_blob(const_cast<uint8_t*>(t.data), t.shape, torch::kUInt8).clone();
}

struct PatternFile {
  std::string source;
  PatternOptions pattern;
};

void write_pattern_file(const std::string& dir, const PatternFile& p) {
  json sets = json::array();
  const auto names = p.pattern.set_names();
  const auto numbers = p.pattern.pruning_numbers();
  for (size_t k = 0; k < names.size(); ++k) sets.push_back({{"name", names[k]}, {"pruning_number", numbers[k]}});
  write_file_atomic(dir + "/" + kPruneFile,
                    json{{"method", "pattern"}, {"source", p.source}, {"pattern", to_json(p.pattern)}, {"sets", sets}}.dump(2));
}

PatternFile read_pattern_file(const std::string& dir) {
  const json j = read_json_file(dir + "/" + kPruneFile);
  if (j.value("method", "") != "pattern") throw std::runtime_error("'" + dir + "' is not a pattern-pruning run");
  PatternFile pf{j.value("source", ""), apply_pattern_json(PatternOptions{}, j.at("pattern"))};
  validate(pf.pattern);
  return pf;
}

TrainOptions pattern_train_defaults(const TrainOptions& source, const PatternOptions& o) {
  TrainOptions t = source;
  if (o.steps > 0) t.steps = o.steps;  // one-shot (0): nothing is trained; keep a valid count
  t.warmup_steps = std::min<int64_t>(20, t.steps / 10);
  t.eval_every = std::max<int64_t>(1, std::min<int64_t>(100, std::max<int64_t>(t.steps, 1)));
  t.checkpoint_every = o.reassign_every * std::max<int64_t>(1, 100 / o.reassign_every);
  return t;
}

// Names of the sets a pattern directory lists (rt3 prune pattern or rt3 search writes them).
std::vector<std::string> listed_set_names(const json& j, const std::string& dir) {
  std::vector<std::string> names;
  try {
    for (const auto& s : j.at("sets")) names.push_back(s.at("name").get<std::string>());
  } catch (const json::exception& e) {
    throw std::runtime_error("'" + dir + "/" + kPruneFile + "': malformed sets list: " + e.what());
  }
  return names;
}

}  // namespace

// Every set's patterns and current tile assignment, atomically.
void save_pattern_sets(const std::string& path, const std::vector<std::string>& layers, const std::vector<PatternSet>& sets) {
  format::SafetensorsWriter w;
  for (const auto& s : sets)
    for (size_t l = 0; l < layers.size(); ++l) {
      const torch::Tensor p = to_u8(s.patterns[l]), t = to_u8(s.tile_ids[l]);
      w.add(variant_tensor(s.name, layers[l], "patterns"), format::DType::U8, p.sizes().vec(), p.data_ptr<uint8_t>(),
            size_t(p.numel()));
      w.add(variant_tensor(s.name, layers[l], "tiles"), format::DType::U8, t.sizes().vec(), t.data_ptr<uint8_t>(),
            size_t(t.numel()));
    }
  w.write(path);
}

PrunePatternResult prune_pattern(const PrunePatternRequest& req) {
  if (req.out_dir.empty()) throw std::runtime_error("--out is required");
  init_compute(req.threads);
  RunConfig cfg;
  PatternFile pf;
  // --resume of a run stopped before its first checkpoint restarts it from its recorded source
  // and options (see holds_trained_run).
  const bool from_checkpoint = req.resume && has_checkpoint(req.out_dir);
  std::string source_dir = req.checkpoint_dir;
  if (req.resume) {
    if (!req.sets.empty() || !req.config_file.empty())
      throw std::runtime_error("--resume continues the run as it was started: drop --sets/--config");
    cfg = read_run_config(req.out_dir);
    pf = read_pattern_file(req.out_dir);
    if (from_checkpoint && !fs::exists(fs::path(req.out_dir) / kVariantsFile))
      throw std::runtime_error("cannot resume '" + req.out_dir + "': it has a checkpoint but no " + kVariantsFile);
    if (!from_checkpoint) {
      source_dir = pf.source;
      if (req.on_message)
        req.on_message("'" + req.out_dir + "' has no checkpoint yet: starting it again from " + source_dir);
    }
  } else {
    cfg = check_new_derived_run(req.checkpoint_dir, req.out_dir);
    pf.source = fs::absolute(req.checkpoint_dir).lexically_normal().string();
    const json overrides = read_prune_overrides(req.config_file, "pattern");
    try {
      if (overrides.contains("pattern")) pf.pattern = apply_pattern_json(pf.pattern, overrides.at("pattern"));
      if (!req.sets.empty()) pf.pattern.sets = req.sets;
      validate(pf.pattern);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(e.what());
    }
    if (pf.pattern.distill.enabled()) pf.pattern.distill.teacher = resolve_teacher(pf.pattern.distill, req.checkpoint_dir);
    cfg.train = pattern_train_defaults(cfg.train, pf.pattern);
    if (overrides.contains("train")) cfg = apply_config_json(cfg, json{{"train", overrides.at("train")}});
    if (pf.pattern.steps > 0) cfg.train.steps = pf.pattern.steps;
    if (cfg.train.checkpoint_every % pf.pattern.reassign_every != 0)
      throw std::runtime_error("train.checkpoint_every must be a multiple of pattern.reassign_every so that a resumed run continues exactly");
    fs::create_directories(req.out_dir);
    copy_tokenizer(req.checkpoint_dir, req.out_dir);
  }
  remove_stale_temp_files(req.out_dir);

  if (req.on_message) req.on_message("preparing data for task " + task_name(cfg.task));
  auto task = make_task(cfg, req.out_dir);
  attach_teacher(*task, pf.pattern.distill);
  std::vector<std::string> layers;
  std::vector<torch::Tensor> weights;
  const PatternOptions& po = pf.pattern;
  const prune::TileSpec tile{po.tile_rows, po.tile_cols};
  const auto names = po.set_names();
  const auto numbers = po.pruning_numbers();
  const auto loss_w = po.loss_weights();
  std::vector<PatternSet> sets(names.size());
  json candidates_info = json::object();
  const std::string variants_path = req.out_dir + "/" + kVariantsFile;

  if (!from_checkpoint) load_weights(*task->module(), source_dir + "/model.safetensors");
  for (auto& [name, W] : prune::prunable_linears(*task->module())) {
    layers.push_back(name);
    weights.push_back(W);
  }
  if (from_checkpoint) {
    auto f = format::SafetensorsFile::open(variants_path);
    for (size_t k = 0; k < sets.size(); ++k)
      for (const auto& l : layers) sets[k].patterns.push_back(read_u8(f, variant_tensor(names[k], l, "patterns")).to(torch::kFloat32));
  } else {
    // Candidates from the source (block-pruned) weights; each set = the greedy best few of them.
    format::SafetensorsWriter cand;
    for (size_t l = 0; l < layers.size(); ++l) {
      const uint64_t seed = po.seed * 1000003u + l;
      json per_p = json::object();
      for (size_t k = 0; k < sets.size(); ++k) {
        const torch::Tensor c =
            prune::pattern_candidates(weights[l], tile, numbers[k], po.candidates, po.sample_tiles, seed);
        const auto chosen = prune::choose_set(weights[l], tile, c, po.patterns_per_set, po.sample_tiles, seed);
        sets[k].patterns.push_back(c.index_select(0, torch::tensor(chosen, torch::kLong)).contiguous());
        per_p[std::to_string(numbers[k])] = c.size(0);
        const torch::Tensor cu8 = to_u8(c);
        cand.add(layers[l] + ".p" + std::to_string(numbers[k]), format::DType::U8, cu8.sizes().vec(),
                 cu8.data_ptr<uint8_t>(), size_t(cu8.numel()));
      }
      candidates_info[layers[l]] = per_p;
    }
    cand.write(req.out_dir + "/candidates.safetensors");
  }
  for (size_t k = 0; k < sets.size(); ++k) {
    sets[k].name = names[k];
    sets[k].pruning_number = numbers[k];
    sets[k].loss_weight = loss_w[k];
  }
  PatternSchedule schedule(*task, po, layers, weights, std::move(sets), cfg.train.eval_max_examples);
  if (!from_checkpoint) {
    schedule.reassign();
    save_pattern_sets(variants_path, layers, schedule.sets());
    write_run_files(cfg, req.out_dir);
    write_pattern_file(req.out_dir, pf);
  }
  if (req.on_message) {
    std::string line = "pattern sets on tiles of " + std::to_string(po.tile_rows) + "x" + std::to_string(po.tile_cols) + ":";
    for (size_t k = 0; k < names.size(); ++k) line += " " + names[k];
    req.on_message(line + "; " + std::to_string(po.steps) + " joint fine-tuning steps");
  }

  PrunePatternResult r;
  if (po.steps > 0) {
    LoopResult loop = run_training(*task, cfg, req.out_dir, from_checkpoint, req.on_step, &schedule);
    r.start_step = loop.start_step;
    r.steps_done = loop.steps_done;
    r.seconds = loop.seconds;
  } else {
    save_weights(*task->module(), req.out_dir + "/model.safetensors");  // one-shot: the source weights
  }
  schedule.reassign();  // final assignment for the final weights
  save_pattern_sets(variants_path, layers, schedule.sets());

  r.out_dir = req.out_dir;
  r.task = task_name(cfg.task);
  r.source_dir = pf.source;
  r.pattern = po;
  r.candidates = candidates_info;
  for (size_t k = 0; k < schedule.sets().size(); ++k) {
    const auto& s = schedule.sets()[k];
    PatternSetResult sr;
    sr.name = s.name;
    sr.pruning_number = s.pruning_number;
    int64_t total = 0, kept = 0;
    for (const auto& m : s.masks) {
      total += m.numel();
      kept += m.count_nonzero().item<int64_t>();
    }
    sr.sparsity = total ? 1.0 - double(kept) / double(total) : 0.0;
    sr.valid = schedule.evaluate_set(k, Split::valid, cfg.train.eval_max_examples);
    r.sets.push_back(sr);
  }
  json summary = to_json(r);
  write_file_atomic(req.out_dir + "/metrics.json", summary.dump(2));
  return r;
}

std::vector<std::string> pattern_set_names(const std::string& dir) {
  if (!fs::exists(fs::path(dir) / kPruneFile)) return {};
  const json j = read_json_file(dir + "/" + kPruneFile);
  if (j.value("method", "") != "pattern") return {};
  return listed_set_names(j, dir);
}

void apply_variant(torch::nn::Module& module, const std::string& dir, const std::string& variant) {
  // The sets listed in rt3_prune.json (a pattern run's or a search's), on its tile shape.
  const json j = read_json_file(dir + "/" + kPruneFile);
  if (j.value("method", "") != "pattern") throw std::runtime_error("'" + dir + "' is not a pattern-pruning run");
  const auto names = listed_set_names(j, dir);
  if (std::find(names.begin(), names.end(), variant) == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw std::runtime_error("'" + dir + "' has no pattern set '" + variant + "' (it has " + list + ")");
  }
  const prune::TileSpec tile{j.at("pattern").at("tile_rows").get<int64_t>(), j.at("pattern").at("tile_cols").get<int64_t>()};
  auto f = format::SafetensorsFile::open(dir + "/" + kVariantsFile);
  torch::NoGradGuard ng;
  for (auto& [name, W] : prune::prunable_linears(module)) {
    const torch::Tensor p = read_u8(f, variant_tensor(variant, name, "patterns")).to(torch::kFloat32);
    const torch::Tensor t = read_u8(f, variant_tensor(variant, name, "tiles")).to(torch::kLong);
    W.mul_(prune::pattern_mask(p, t, tile, W.size(0), W.size(1), W.scalar_type()));
  }
}

}  // namespace rt3::train
