// Test tool: writes a tiny random bundle with three pattern variants (tests/common/variant_bundles.h)
// for the CLI tests of `rt3 bench switch` (tests/cli/bench_switch.sh).
//   make_variant_bundle OUT.rt3                      tiny DistilBERT classifier with 3 variants
//   make_variant_bundle OUT.rt3 --lm TOKENIZER.model tiny Transformer LM with that SentencePiece model
//   make_variant_bundle OUT.rt3 --lm-fixture         the same with the "lm7" test tokenizer
//                                                    (tests/common/spm_fixtures.h)
//   make_variant_bundle OUT.rt3 --plain              the classifier without variants
//   make_variant_bundle OUT.rt3 --adaptive           the classifier with a level table, latency models and
//                                                    a device profile (AdaptationFixture; rt3 govern tests)
//   make_variant_bundle OUT.rt3 --adaptive-medium [LATENCY.json]
//                                                    the same level table on a medium uniform classifier (a
//                                                    few ms per inference); with a latency table of it (rt3
//                                                    profile --accuracy ...) its latency models are the
//                                                    measured ones and the deadline 1.5 x base at the top
//                                                    level (rt3 bench adapt tests)
//   make_variant_bundle OUT.rt3 --adaptive-large [LATENCY.json]
//                                                    the same, 384 / 1536 wide (~10 ms per inference, like
//                                                    the demo's classifier; docs/adapt.md "Results")
//   make_variant_bundle OUT.rt3 --uniform            a small classifier, 3 variants of one tile shape
//                                                    and one pruning number each (rt3 profile tests)
//   make_variant_bundle OUT.rt3 --base-shape         DistilBERT-base's shape, random weights, sets
//                                                    p63 / p81 / p88 (rt3 bench ort; docs/bench.md)
#include <cstdio>
#include <exception>
#include <fstream>
#include <iterator>
#include <string>

#include "dvfs/adaptation_models.h"
#include "runtime/tokenizer/spm_model.h"
#include "tests/common/spm_fixtures.h"
#include "tests/common/variant_bundles.h"

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') {  // the output path comes first: never write a file named "--help"
    std::fprintf(stderr, "usage: %s OUT.rt3 [--plain | --uniform | --base-shape | --lm-fixture | --adaptive | --adaptive-medium | --adaptive-large | --lm TOKENIZER.model]\n", argv[0]);
    return 2;
  }
  try {
    const std::string out = argv[1];
    const std::string mode = argc > 2 ? argv[2] : "";
    if (mode == "--lm") {
      if (argc < 4) throw std::runtime_error("--lm needs a tokenizer .model path");
      std::ifstream in(argv[3], std::ios::binary);
      if (!in) throw std::runtime_error(std::string("cannot read ") + argv[3]);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const auto vocab = static_cast<int64_t>(rt3::SpmModel::from_bytes(bytes).vocab_size());
      rt3::test_util::make_variant_lm(bytes, vocab).write(out);
    } else if (mode == "--lm-fixture") {
      const std::string& bytes = rt3::test_util::spm_fixture_model("lm7");
      rt3::test_util::make_variant_lm(bytes, static_cast<int64_t>(rt3::SpmModel::from_bytes(bytes).vocab_size())).write(out);
    } else if (mode == "--base-shape") {
      rt3::test_util::make_base_shape_bert().write(out);
    } else if (mode == "--uniform") {
      rt3::test_util::make_uniform_variant_bert().write(out);
    } else if (mode == "--adaptive-medium" || mode == "--adaptive-large") {
      const bool large = mode == "--adaptive-large";
      const auto m = rt3::test_util::make_uniform_variant_bert(31, large ? 384 : 192, large ? 1536 : 768);
      if (argc < 4) {
        m.write_adaptive(out);
      } else {
        rt3::format::AdaptationInfo a = rt3::dvfs::adaptation_from_table(rt3::dvfs::load_latency_table(argv[3]), 1.0, {});
        a.deadline_s = 1.5 * a.variants.at("base").compute_s * a.variants.at("base").f_ref_khz / 1800000.0 +
                       1.5 * a.variants.at("base").memory_s;
        m.write_adaptive(out, a);
      }
    } else if (mode == "--adaptive") {
      rt3::test_util::make_variant_bert().write_adaptive(out);
    } else if (mode == "--plain") {
      rt3::test_util::make_variant_bert().write_reference(out, 0);
    } else if (mode.empty()) {
      rt3::test_util::make_variant_bert().write(out);
    } else {
      throw std::runtime_error("unknown option " + mode);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_variant_bundle: %s\n", e.what());
    return 1;
  }
  return 0;
}
