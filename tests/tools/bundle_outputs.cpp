// Test tool: runs every variant of a bundle on fixed inputs and prints what an app would get, one
// output per line, so that the same bundle can be run on two machines (x86 and aarch64 under qemu:
// tests/tools/portable_bundles.sh) and the two printouts compared (tests/tools/compare_outputs.cpp).
//   bundle_outputs BUNDLE.rt3
// Lines: `<variant> <input> <kind> <values...>`, kinds:
//   classifier: logits, probs (floats), label (int)
//   LM:         logits (the last prompt position's row, floats), greedy and sampled (token ids)
// Floats are printed with 9 significant digits, which round-trips every float32 exactly: equal
// text means bit-identical values.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "rt3/engine.h"

namespace {

void print_floats(const std::string& key, const char* kind, const std::vector<float>& v) {
  std::printf("%s %s", key.c_str(), kind);
  for (float x : v) std::printf(" %.9g", static_cast<double>(x));
  std::printf("\n");
}

void print_ids(const std::string& key, const char* kind, const std::vector<int32_t>& v) {
  std::printf("%s %s", key.c_str(), kind);
  for (int32_t x : v) std::printf(" %d", x);
  std::printf("\n");
}

std::string repeat(const std::string& s, int n) {
  std::string r;
  for (int i = 0; i < n; ++i) r += s;
  return r;
}

// Short, medium and one longer than any test model's context (truncated to max_len): the long
// one gives the kernels full tiles and long dot products, where summation order shows.
std::vector<std::string> classifier_inputs() {
  return {"free money now", "hello world, the cat sat on the mat.", repeat("the dog ran on a mat, free money now. ", 40)};
}

void run_classifier(rt3::Engine& e, const std::string& variant) {
  const auto texts = classifier_inputs();
  // One batched call (padding to the longest) as well as one text at a time: both paths ship.
  const auto batch = e.classify(texts);
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto one = e.classify(texts[i]);
    const std::string key = variant + " " + std::to_string(i);
    print_floats(key, "logits", one.logits);
    print_floats(key, "probs", one.probabilities);
    print_ids(key, "label", {one.label});
    print_floats(key + "b", "logits", batch[i].logits);
  }
}

void run_lm(rt3::Engine& e, const std::string& variant) {
  const std::string prompt = "the cat sat on the mat";
  const auto ids = e.tokenize(prompt);
  const auto logits = e.lm_logits(ids.data(), static_cast<int64_t>(ids.size()));
  const size_t V = static_cast<size_t>(e.vocab_size());
  print_floats(variant + " 0", "logits", std::vector<float>(logits.end() - static_cast<std::ptrdiff_t>(V), logits.end()));
  rt3::GenerateOptions g;
  g.stop_at_eos = false;  // a fixed length: an early eos would hide the rest of the comparison
  g.max_new_tokens = static_cast<int>(e.max_len()) - static_cast<int>(e.tokenize(prompt).size()) - 1;
  print_ids(variant + " 0", "greedy", e.generate(prompt, g).token_ids);
  g.greedy = false;
  g.seed = 3;
  print_ids(variant + " 0", "sampled", e.generate(prompt, g).token_ids);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s BUNDLE.rt3\n", argv[0]);
    return 2;
  }
  try {
    auto e = rt3::Engine::load(argv[1], {1});  // one thread: the same work split on every machine
    for (size_t v = 0; v < e->variants().size(); ++v) {
      e->select_variant(static_cast<int>(v));
      if (e->model_type() == rt3::ModelType::kDistilBertClassifier)
        run_classifier(*e, e->variants()[v]);
      else
        run_lm(*e, e->variants()[v]);
    }
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "bundle_outputs: %s: %s\n", argv[1], ex.what());
    return 1;
  }
  return 0;
}
