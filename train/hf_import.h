#pragma once
// Import of Hugging Face DistilBERT directories (model.safetensors + config.json + vocab.txt).
#include <string>
#include <vector>

#include "train/models/distilbert.h"

namespace rt3::train {

// Reads <dir>/config.json as a DistilBERT config (clear error if absent or not DistilBERT).
models::DistilBertConfig read_hf_config(const std::string& dir);

struct HfLoadReport {
  std::vector<std::string> ignored;      // checkpoint tensors with no counterpart (vocab_projector, ...)
  std::vector<std::string> initialised;  // model tensors the checkpoint lacks and that may be fresh
                                         // (the classification head of a base/MLM checkpoint)
};

// Copies the checkpoint's tensors (F32, F16 or BF16) into `model` by name. Accepts names with or
// without the "distilbert." prefix (DistilBertModel vs ...ForSequenceClassification). Throws
// naming the tensor when a required one is missing or has the wrong shape. With
// `allow_new_head`, a missing or differently-sized pre_classifier/classifier keeps its fresh
// initialisation and is listed in `initialised` (fine-tuning on a new task).
HfLoadReport load_hf_weights(nn::DistilBert& model, const std::string& safetensors_path, bool allow_new_head);

}  // namespace rt3::train
