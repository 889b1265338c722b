#pragma once
// The files that make a directory an rt3 run: rt3_train.json (the RunConfig) and config.json
// (the model config: Hugging Face's layout for DistilBERT, ours for the LM). Shared by
// training, pruning and evaluation.
#include <string>

#include <nlohmann/json.hpp>

#include "train/run_config.h"

namespace rt3::train {

inline constexpr const char* kRunFile = "rt3_train.json";

nlohmann::json read_json_file(const std::string& path);  // clear error if missing or invalid
void write_run_files(const RunConfig& cfg, const std::string& dir);
// Throws "'dir' is not an rt3 run directory" (with a hint for imported HF models).
RunConfig read_run_config(const std::string& dir);
// Copies the run's tokenizer (tokenizer.model or vocab.txt) from one run directory to another.
void copy_tokenizer(const std::string& from_dir, const std::string& to_dir);

}  // namespace rt3::train
