#pragma once
// What the CLI needs to know about a training run directory to turn it into a bundle.
#include <string>

#include "runtime/format/bundle.h"

namespace rt3::cli {

// Tokenizer settings for a run directory: classifiers use BERT uncased WordPiece truncated to
// the sequence length they were trained with (rt3_train.json), the LM its SentencePiece model.
format::TokenizerInfo tokenizer_for_run(const std::string& dir);

// Exports the run directory to a bundle file (atomic; validated by the loader's checks).
void export_run(const std::string& dir, const std::string& bundle_path);

}  // namespace rt3::cli
