#pragma once
// The dense weights of a DistilBERT classifier bundle as an ONNX graph for ONNX Runtime, the
// baseline of `rt3 bench ort` (docs/bench.md). The graph does what runtime/model/distilbert.h
// does, written with the standard ops ORT's optimiser fuses (LayerNormalization, MatMul + Add,
// the Erf form of GELU, MatMul / Softmax attention): input `input_ids` int64 [1, seq] (every
// token valid, as the bench feeds it), output `logits` float [1, labels].
#include <string>

#include "cli/onnx_builder.h"
#include "cli/onnx_writer.h"

namespace rt3::cli {

// Throws std::runtime_error when the bundle is not a DistilBERT classifier.
onnx::Graph distilbert_onnx_graph(const format::Bundle& bundle, OrtPrecision precision);

}  // namespace rt3::cli
