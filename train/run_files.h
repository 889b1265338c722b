#pragma once
// The files that make a directory an rt3 run: rt3_train.json (the RunConfig) and config.json
// (the model config: Hugging Face's layout for DistilBERT, ours for the LM). Shared by
// training, pruning and evaluation.
#include <string>

#include <nlohmann/json.hpp>

#include "train/run_config.h"

namespace rt3::train {

inline constexpr const char* kRunFile = "rt3_train.json";
// Written by `rt3 train --init`: the Hugging Face directory the run started from.
inline constexpr const char* kInitFile = "rt3_init.json";

nlohmann::json read_json_file(const std::string& path);  // clear error if missing or invalid
void write_run_files(const RunConfig& cfg, const std::string& dir);
// Throws "'dir' is not an rt3 run directory" (with a hint for imported HF models).
RunConfig read_run_config(const std::string& dir);
// Checks that a new run derived from source_dir (a pruning run) may start in out_dir: the source
// is a finished run, out_dir holds no run and differs from it. Returns the source's RunConfig.
RunConfig check_new_derived_run(const std::string& source_dir, const std::string& out_dir);
// Reads a pruning --config file: a JSON object with only "train" and `section` (e.g. "bp").
nlohmann::json read_prune_overrides(const std::string& path, const std::string& section);

// A run directory holds trained state when it has a checkpoint or finished weights. One that
// has only the run files was stopped (killed, or failed) before its first checkpoint: nothing
// trained would be lost by starting it again, so a fresh run may start there and --resume
// restarts it from step 0 with its recorded config.
bool holds_trained_run(const std::string& dir);
// Removes what an interrupted write left in a run directory: checkpoint.tmp/ (a checkpoint that
// was never swapped in) and "<file>.tmp.<pid>" files of write_file_atomic. Called before a run
// starts or resumes; nothing else reads them.
void remove_stale_temp_files(const std::string& dir);

// Copies the run's tokenizer (tokenizer.model or vocab.txt) from one run directory to another.
void copy_tokenizer(const std::string& from_dir, const std::string& to_dir);

}  // namespace rt3::train
