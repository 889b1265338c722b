// Bench tool: runs N inferences of one variant of a bundle on a fixed input of SEQ_LEN tokens and
// nothing else, so that an instruction counter (bench/emu/insn_count.sh: qemu plugin) can take
// the difference of two runs, N = 1 + n and N = 1, as n inferences' worth of work (load, packing
// and the first inference's one-off allocations cancel out).
//   infer_loop BUNDLE.rt3 VARIANT N [SEQ_LEN]     SEQ_LEN default 128 (clipped to the model's)
// Classifier: one forward of [CLS] t1 .. t(SEQ_LEN-2) [SEP] (classify_logits); LM: the prefill
// forward of SEQ_LEN tokens (lm_logits). One engine thread: the counter's adds are not atomic.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "rt3/engine.h"

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr, "usage: %s BUNDLE.rt3 VARIANT N [SEQ_LEN]\n", argv[0]);
    return 2;
  }
  try {
    auto e = rt3::Engine::load(argv[1], {1});
    e->select_variant(std::string(argv[2]));
    const int n = std::atoi(argv[3]);
    const int64_t len = std::min<int64_t>(argc == 5 ? std::atoll(argv[4]) : 128, e->max_len());
    if (n < 0 || len < 2) throw std::runtime_error("N must be >= 0 and SEQ_LEN >= 2");
    // Token ids: the tokenizer's own ids of a repeated text, so they are valid for any vocab.
    std::string text;
    while (static_cast<int64_t>(e->tokenize(text).size()) < len) text += "the cat sat on the mat, free money now. ";
    std::vector<int32_t> ids = e->tokenize(text);
    ids.resize(static_cast<size_t>(len));
    float sink = 0;
    for (int i = 0; i < n; ++i) {
      if (e->model_type() == rt3::ModelType::kDistilBertClassifier) {
        const std::vector<int32_t> mask(ids.size(), 1);
        sink += e->classify_logits(ids.data(), mask.data(), 1, len)[0];
      } else {
        sink += e->lm_logits(ids.data(), len)[0];
      }
    }
    std::printf("infer_loop: %s %s x%d, %lld tokens (%g)\n", argv[1], argv[2], n, static_cast<long long>(len),
                static_cast<double>(sink));
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "infer_loop: %s\n", ex.what());
    return 1;
  }
  return 0;
}
