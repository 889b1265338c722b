#pragma once
// Inference forward of DistilBertForSequenceClassification (train/models/distilbert.cpp and HF
// define the math): x = LayerNorm(word_emb[ids] + pos_emb[pos]); per block (post-LN)
// x = sa_layer_norm(attn(x, mask) + x); x = output_layer_norm(ffn(x) + x), ffn = lin2(act(lin1));
// logits = classifier(relu(pre_classifier(x[CLS]))). LayerNorm eps 1e-12; masked keys get the
// lowest float before the softmax.
//
// Weights are copied out of the bundle at construction (every Linear packed once); the model is
// immutable afterwards. Scratch lives in a DistilBertScratch owned by the caller (the engine):
// it grows to the largest batch seen and is then reused, never freed per call.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/format/aligned_buffer.h"
#include "runtime/kernels/dense_linear.h"
#include "runtime/kernels/linear.h"
#include "runtime/model/config.h"

namespace rt3 {
class ThreadPool;
namespace format {
class Bundle;
}

namespace models {

class DistilBert;

class DistilBertScratch {
 private:
  friend class DistilBert;
  int64_t rows = 0, seq = 0;  // capacity: batch * seq_len rows, sequences of up to seq tokens
  int threads = 0;
  std::vector<float> x, q, k, v, ctx, tmp, ff, pooled, pre, attn_scratch;
  std::vector<uint8_t> valid;
  format::AlignedBuffer linear_scratch;  // for sparse Linears (Linear::scratch_floats)
};

class DistilBert {
 public:
  explicit DistilBert(const format::Bundle& bundle);
  ~DistilBert();

  const DistilBertConfig& config() const { return config_; }

  // ids, mask: [batch, seq_len] row-major (mask 1 = token, 0 = padding). logits: [batch,
  // num_labels]. Throws std::length_error when seq_len exceeds max_position_embeddings and
  // std::out_of_range for an id outside [0, vocab_size). Rows of a sequence are independent of
  // its padding: appending padded positions does not change its logits.
  // variant: the pattern-set variant every prunable Linear runs (0 = the stored weights; see
  // kernels::Linear), fixed for the whole call.
  void forward(const int32_t* ids, const int32_t* mask, int64_t batch, int64_t seq_len, float* logits,
               DistilBertScratch& scratch, ThreadPool* pool, int variant = 0) const;
  // The prunable Linears (the six of every layer), for reports (bytes, kernel names).
  std::vector<const kernels::Linear*> prunable_linears() const;

 private:
  struct Layer {
    kernels::Linear q, k, v, out, lin1, lin2;
    std::vector<float> sa_ln_w, sa_ln_b, out_ln_w, out_ln_b;
  };
  DistilBertConfig config_;
  std::vector<float> word_emb_, pos_emb_, emb_ln_w_, emb_ln_b_;
  std::vector<Layer> layers_;
  std::unique_ptr<kernels::DenseLinear> pre_classifier_, classifier_;
};

}  // namespace models
}  // namespace rt3
