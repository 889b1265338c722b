#pragma once
// Checkpoints of a training run: <dir>/checkpoint/{model.safetensors, optimizer.pt, rng.pt,
// state.json}.
// Written into checkpoint.tmp/ and swapped in by renames, so a kill at any moment leaves either
// the previous checkpoint or the new one, never a torn mix. The trainer alone writes them.
#include <torch/torch.h>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/format/atomic_file.h"

namespace rt3::train {

// Module weights as safetensors (F32, parameter names as tensor names: for DistilBERT exactly
// Hugging Face's), written atomically. Any safetensors tool can read them.
void save_weights(torch::nn::Module& module, const std::string& path);
// Loads weights saved by save_weights: every parameter must be present with its shape, and no
// extra tensor may be there. A clear error names the file and the tensor.
void load_weights(torch::nn::Module& module, const std::string& path);

struct CheckpointState {
  int64_t step = 0;      // optimizer steps completed
  nlohmann::json extra;  // history, elapsed time, ...
};

void save_checkpoint(const std::string& run_dir, torch::nn::Module& module, torch::optim::Optimizer& opt,
                     const CheckpointState& state);
// Restores module, optimizer and the global torch RNG. Returns nullopt when the run has no checkpoint.
std::optional<CheckpointState> load_checkpoint(const std::string& run_dir, torch::nn::Module& module,
                                               torch::optim::Optimizer& opt);
bool has_checkpoint(const std::string& run_dir);

// Writes text to path atomically (the project's one small-file writer).
using format::write_file_atomic;

}  // namespace rt3::train
