#pragma once
// What the CLI needs to know about a training run directory to turn it into a bundle.
#include <string>

#include "runtime/format/bundle.h"

namespace rt3::cli {

// Tokenizer settings for a run directory: classifiers use BERT uncased WordPiece truncated to
// the sequence length they were trained with (rt3_train.json), marked text_pair when trained on
// sentence pairs; the LM its SentencePiece model.
format::TokenizerInfo tokenizer_for_run(const std::string& dir);

// How export stores the prunable Linears: auto = block-pruned when the run directory is a
// block-pruning run (rt3_prune.json with method "bp"), dense otherwise.
enum class WeightStorage { kAuto, kDense, kBlockPruned };
WeightStorage parse_weight_storage(const std::string& s);  // auto | dense | bp

// Block rows of a block-pruning run directory, or 0 when it is not one.
int64_t bp_block_rows_of_run(const std::string& dir);

// Exports the run directory to a bundle file (atomic; validated by the loader's checks).
// block_rows is used for kBlockPruned on a run that is not a block-pruning run. `adaptation`, when
// given, replaces the latency models a search run states (rt3 export --latency).
void export_run(const std::string& dir, const std::string& bundle_path, WeightStorage storage = WeightStorage::kAuto,
                int64_t block_rows = 16, const format::AdaptationInfo* adaptation = nullptr);

}  // namespace rt3::cli
