#include "train/run_files.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "runtime/format/input_file.h"
#include "train/checkpoint.h"

namespace rt3::train {
namespace fs = std::filesystem;
using nlohmann::json;

json read_json_file(const std::string& path) {
  const std::string text = format::read_input_file(path);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // also out_of_range: a number like 1e999 overflows
    throw std::runtime_error("'" + path + "' is not valid JSON: " + e.what());
  }
}

void write_run_files(const RunConfig& cfg, const std::string& dir) {
  write_file_atomic(dir + "/" + kRunFile, to_json(cfg).dump(2));
  const json model = is_lm(cfg.task) ? models::to_json(cfg.lm) : models::to_json(cfg.distilbert);
  write_file_atomic(dir + "/config.json", model.dump(2));
}

RunConfig read_run_config(const std::string& dir) {
  const fs::path p = fs::path(dir) / kRunFile;
  if (!fs::exists(p)) {
    std::string hint = fs::exists(fs::path(dir) / "config.json") ? "; for an imported Hugging Face model pass --task" : "";
    throw std::runtime_error("'" + dir + "' is not an rt3 run directory (no " + kRunFile + ")" + hint);
  }
  return run_config_from_json(read_json_file(p.string()));
}

bool holds_trained_run(const std::string& dir) {
  return has_checkpoint(dir) || fs::exists(fs::path(dir) / "model.safetensors");
}

void remove_stale_temp_files(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(fs::path(dir) / "checkpoint.tmp", ec);
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file(ec) && name.find(".tmp.") != std::string::npos) fs::remove(e.path(), ec);
  }
}

RunConfig check_new_derived_run(const std::string& source_dir, const std::string& out_dir) {
  if (source_dir.empty()) throw std::runtime_error("--checkpoint is required (the run directory to start from)");
  if (holds_trained_run(out_dir))
    throw std::runtime_error("'" + out_dir + "' already holds a run: use --resume to continue it, or another --out");
  std::error_code ec;
  if (fs::equivalent(source_dir, out_dir, ec)) throw std::runtime_error("--out must differ from --checkpoint");
  RunConfig cfg = read_run_config(source_dir);
  if (!fs::exists(fs::path(source_dir) / "model.safetensors"))
    throw std::runtime_error("'" + source_dir + "' has no finished weights (model.safetensors): finish that run first");
  return cfg;
}

json read_prune_overrides(const std::string& path, const std::string& section) {
  if (path.empty()) return json::object();
  json j = read_json_file(path);
  if (!j.is_object()) throw std::runtime_error("'" + path + "' must hold a JSON object");
  for (const auto& [k, v] : j.items())
    if (k != "train" && k != section)
      throw std::runtime_error("'" + path + "': unknown key '" + k + "' (this config has \"train\" and \"" + section + "\")");
  return j;
}

void copy_tokenizer(const std::string& from_dir, const std::string& to_dir) {
  bool copied = false;
  for (const char* name : {"tokenizer.model", "vocab.txt"}) {
    const fs::path src = fs::path(from_dir) / name;
    if (!fs::exists(src)) continue;
    format::copy_file_atomic(src.string(), (fs::path(to_dir) / name).string());
    copied = true;
  }
  if (!copied) throw std::runtime_error("'" + from_dir + "' has no tokenizer (tokenizer.model or vocab.txt)");
}

}  // namespace rt3::train
