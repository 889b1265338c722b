#pragma once
// Inference forward of the causal Transformer LM (train/models/transformer_lm.cpp defines the
// math): x = tok_emb[ids] + pos_emb[pos]; per block x += attn(ln1(x)) (causal), x += ffn(ln2(x))
// with ffn = lin2(gelu(lin1(.))); ln_f; logits = x tok_emb^T (tied) or head(x).
//
// Weights are copied out of the bundle at construction (every Linear packed once into a
// DenseLinear), so the bundle can be dropped afterwards. The model is immutable after
// construction; all mutable state (KV cache, scratch) lives in an LmState, one per decoding
// session. Tokens are appended to a state: forward(state, ids, n) runs positions
// state.length() .. state.length() + n - 1 against the cached keys/values of the earlier ones,
// so a full forward is forward() on a fresh state, prefill is forward(prompt), and decoding is
// forward(one token) per step (m = 1).
#include <cstdint>
#include <memory>
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

class TransformerLm;

// KV cache + scratch for one sequence of at most capacity() = max_len tokens. Allocated once
// (sized for `threads` attention workers); forward() never allocates.
class LmState {
 public:
  int64_t length() const { return length_; }  // tokens already in the cache
  int64_t capacity() const { return capacity_; }
  void reset() { length_ = 0; }

 private:
  friend class TransformerLm;
  int64_t length_ = 0, capacity_ = 0;
  std::vector<float> k_cache, v_cache;  // [n_layers][capacity][d_model]
  std::vector<float> x, h, q, ctx, ff, attn_scratch;
  format::AlignedBuffer linear_scratch;  // for sparse Linears (Linear::scratch_floats)
};

class TransformerLm {
 public:
  // The bundle must hold a transformer_lm (it has been validated: shapes are trusted).
  explicit TransformerLm(const format::Bundle& bundle);
  ~TransformerLm();

  const LmConfig& config() const { return config_; }
  // A state whose scratch fits attention with `threads` workers.
  LmState new_state(int threads) const;

  // Appends ids[0..n) to `state` and writes logits: all n rows ([n, vocab]) when all_logits,
  // else only the last row ([vocab]). Throws std::length_error when length() + n exceeds the
  // capacity (max_len) and std::out_of_range for an id outside [0, vocab_size); the state is
  // unchanged when it throws. n must be >= 1. variant: the pattern-set variant every prunable
  // Linear runs (0 = the stored weights; see kernels::Linear), fixed for the whole call.
  void forward(LmState& state, const int32_t* ids, int64_t n, float* logits, bool all_logits,
               ThreadPool* pool, int variant = 0) const;
  // The prunable Linears (the six of every layer), for reports (bytes, kernel names).
  std::vector<const kernels::Linear*> prunable_linears() const;

 private:
  struct Layer {
    std::vector<float> ln1_w, ln1_b, ln2_w, ln2_b;
    kernels::Linear q, k, v, out, lin1, lin2;
  };
  LmConfig config_;
  std::vector<float> tok_emb_, pos_emb_, ln_f_w_, ln_f_b_;
  std::vector<Layer> layers_;
  std::unique_ptr<kernels::DenseLinear> head_;  // tok_emb (tied) or head.weight, no bias
};

}  // namespace models
}  // namespace rt3
