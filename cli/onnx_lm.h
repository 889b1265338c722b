#pragma once
// The dense weights of a causal Transformer LM bundle as an ONNX graph for ONNX Runtime (`rt3
// bench ort`, docs/bench.md): what runtime/model/transformer_lm.h does for a full forward (pre-LN
// blocks, causal attention, ln_f, the tied or separate head), input `input_ids` int64 [1, seq],
// output `logits` float [1, seq, vocab] (every row, as Engine::lm_logits returns them).
#include "cli/onnx_builder.h"
#include "cli/onnx_writer.h"

namespace rt3::cli {

onnx::Graph lm_onnx_graph(const format::Bundle& bundle, OrtPrecision precision);

}  // namespace rt3::cli
