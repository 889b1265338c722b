// Tests of run-time variant switching (rt3::Engine::select_variant, the C API functions):
// tiny random LM and DistilBERT bundles with three pattern variants
// (tests/common/variant_bundles.h). The reference for variant v is the same model without
// variants whose prunable weights are pattern_apply'd with v's sets, run by the dense engine
// (itself checked against a naive double-precision forward in test_engine.cpp). Pattern and
// dense kernels sum in different orders, so they agree to 1e-4 relative, not bit-exactly; two
// runs of the same variant on one engine (fixed thread count) agree bit-exactly, which the
// concurrency tests rely on.

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "rt3/engine.h"
#include "rt3/rt3.h"
#include "runtime/tokenizer/spm_model.h"
#include "tests/common/test_util.h"
#include "tests/common/variant_bundles.h"
#include "tests/common/spm_fixtures.h"

namespace rt3 {
namespace {

using test_util::VariantModel;

struct TempDir : test_util::TempDir {
  TempDir() : test_util::TempDir("rt3_engvar") {}
};

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_LE(std::fabs(got[i] - want[i]), 1e-4 * (1.0 + std::fabs(want[i])))
        << what << " element " << i << ": variant " << got[i] << " reference " << want[i];
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, static_cast<double>(std::fabs(a[i] - b[i])));
  return d;
}

const std::string& spm_bytes() {
  return test_util::spm_fixture_model("lm5");
}

VariantModel lm_model() {
  return test_util::make_variant_lm(spm_bytes(), static_cast<int64_t>(SpmModel::from_bytes(spm_bytes()).vocab_size()));
}

std::vector<int32_t> random_ids(size_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = static_cast<int32_t>(rng() % static_cast<uint32_t>(vocab));
  return v;
}

struct BertInput {
  int64_t B = 3, T = 9;
  std::vector<int32_t> ids, mask;
  explicit BertInput(int64_t vocab) : ids(random_ids(27, vocab, 5)), mask(27, 0) {
    const int64_t lens[] = {9, 5, 2};
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < lens[b]; ++t) mask[static_cast<size_t>(b * T + t)] = 1;
  }
};

// ---- classifier ----------------------------------------------------------------------------------

TEST(EngineVariants, ClassifierEachVariantMatchesMaskedReference) {
  TempDir dir;
  const VariantModel m = test_util::make_variant_bert();
  const std::string path = dir.file("v.rt3");
  m.write(path);
  auto engine = Engine::load(path, {2});
  ASSERT_EQ(engine->variants(), (std::vector<std::string>{"base", "p50", "p75", "p88"}));
  EXPECT_EQ(engine->active_variant(), 0);
  const auto& info = engine->variant_info();
  ASSERT_EQ(info.size(), 4u);
  EXPECT_EQ(info[0].kind, "base");
  EXPECT_EQ(info[0].pattern_layers, 0);
  EXPECT_EQ(info[0].sparsity, 0.0);
  EXPECT_EQ(info[1].pattern_layers, 12);
  EXPECT_EQ(info[2].pattern_layers, 4);  // FFN only
  EXPECT_EQ(info[3].pattern_layers, 12);
  for (size_t v = 1; v < 4; ++v) {
    EXPECT_EQ(info[v].kind, "pattern");
    EXPECT_GT(info[v].sparsity, 0.2);
    EXPECT_GT(info[v].packed_bytes, 0u);
  }

  const BertInput in(m.bert.vocab_size);
  std::vector<std::vector<float>> got(4);
  for (int v = 0; v < 4; ++v) {
    const std::string ref_path = dir.file("ref" + std::to_string(v) + ".rt3");
    m.write_reference(ref_path, v);
    auto ref = Engine::load(ref_path, {2});
    ASSERT_EQ(ref->variants(), std::vector<std::string>{"base"});
    const std::vector<float> want = ref->classify_logits(in.ids.data(), in.mask.data(), in.B, in.T);
    engine->select_variant(v);
    EXPECT_EQ(engine->active_variant(), v);
    int ran = -1;
    got[v] = engine->classify_logits(in.ids.data(), in.mask.data(), in.B, in.T, &ran);
    EXPECT_EQ(ran, v);
    if (v == 0) EXPECT_EQ(got[v], want) << "base must be the no-variant engine, bit-exactly";
    else expect_close(got[v], want, "variant " + engine->variants()[v]);
  }
  // Switching changes the results.
  for (int v = 1; v < 4; ++v) EXPECT_GT(max_abs_diff(got[0], got[v]), 1e-3) << v;
  // By name, and classify() reports the variant.
  engine->select_variant("p75");
  EXPECT_EQ(engine->active_variant(), 2);
  const ClassifyResult r = engine->classify("the cat sat on the mat");
  EXPECT_EQ(r.variant, 2);
  engine->select_variant("base");
  EXPECT_EQ(engine->classify("the cat sat on the mat").variant, 0);
}

TEST(EngineVariants, UnknownVariantIsInvalidArgument) {
  TempDir dir;
  const VariantModel m = test_util::make_variant_bert();
  m.write(dir.file("v.rt3"));
  auto engine = Engine::load(dir.file("v.rt3"));
  engine->select_variant(2);
  for (int bad : {-1, 4, 1000}) {
    try {
      engine->select_variant(bad);
      FAIL() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Error::Code::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find(std::to_string(bad)), std::string::npos) << e.what();
    }
  }
  try {
    engine->select_variant("p99");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Error::Code::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("p99"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("p50"), std::string::npos) << e.what();  // lists the known ones
  }
  EXPECT_EQ(engine->active_variant(), 2);  // unchanged
}

TEST(EngineVariants, NoVariantBundleHasOnlyBase) {
  TempDir dir;
  const VariantModel m = test_util::make_variant_bert();
  m.write_reference(dir.file("plain.rt3"), 0);
  auto engine = Engine::load(dir.file("plain.rt3"));
  EXPECT_EQ(engine->variants(), std::vector<std::string>{"base"});
  EXPECT_NO_THROW(engine->select_variant(0));
  EXPECT_THROW(engine->select_variant(1), Error);
}

// One thread classifies in a loop, another switches continuously: every result equals the
// precomputed output of the variant it reports (bit-exactly: same engine, same threads).
TEST(EngineVariants, ClassifierConcurrentSwitchingNeverTearsAnInference) {
  TempDir dir;
  const VariantModel m = test_util::make_variant_bert();
  m.write(dir.file("v.rt3"));
  auto engine = Engine::load(dir.file("v.rt3"), {2});
  const BertInput in(m.bert.vocab_size);
  const int K = static_cast<int>(engine->variants().size());
  std::vector<std::vector<float>> want(static_cast<size_t>(K));
  for (int v = 0; v < K; ++v) {
    engine->select_variant(v);
    want[v] = engine->classify_logits(in.ids.data(), in.mask.data(), in.B, in.T);
    ASSERT_EQ(engine->classify_logits(in.ids.data(), in.mask.data(), in.B, in.T), want[v]) << "not deterministic";
  }
  std::atomic<bool> stop{false};
  std::atomic<long> switches{0};
  std::thread switcher([&] {
    for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      engine->select_variant(i % K);
      switches.fetch_add(1, std::memory_order_relaxed);
    }
  });
  std::vector<int> seen(static_cast<size_t>(K), 0);
  int mismatches = 0;
  // 400 inferences and on until every variant was seen (at most 20000): on a loaded machine the
  // switcher may be starved for a while; yielding after each inference lets it in.
  int variants_seen = 0;
  for (int it = 0; it < 20000 && (it < 400 || variants_seen < K); ++it) {
    int v = -1;
    const std::vector<float> got = engine->classify_logits(in.ids.data(), in.mask.data(), in.B, in.T, &v);
    ASSERT_GE(v, 0);
    ASSERT_LT(v, K);
    if (seen[static_cast<size_t>(v)]++ == 0) ++variants_seen;
    if (got != want[static_cast<size_t>(v)]) ++mismatches;
    std::this_thread::yield();
  }
  stop = true;
  switcher.join();
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(switches.load(), 0);
  EXPECT_GE(variants_seen, 2);
}

// ---- language model ------------------------------------------------------------------------------

TEST(EngineVariants, LmEachVariantMatchesMaskedReference) {
  TempDir dir;
  const VariantModel m = lm_model();
  m.write(dir.file("lm.rt3"));
  auto engine = Engine::load(dir.file("lm.rt3"), {2});
  ASSERT_EQ(engine->variants().size(), 4u);
  const std::vector<int32_t> ids = random_ids(11, m.lm.vocab_size, 3);
  std::vector<std::vector<float>> got(4);
  for (int v = 0; v < 4; ++v) {
    const std::string ref_path = dir.file("ref" + std::to_string(v) + ".rt3");
    m.write_reference(ref_path, v);
    auto ref = Engine::load(ref_path, {2});
    const std::vector<float> want = ref->lm_logits(ids.data(), static_cast<int64_t>(ids.size()));
    engine->select_variant(v);
    int ran = -1;
    got[v] = engine->lm_logits(ids.data(), static_cast<int64_t>(ids.size()), &ran);
    EXPECT_EQ(ran, v);
    if (v == 0) EXPECT_EQ(got[v], want);
    else expect_close(got[v], want, "LM variant " + engine->variants()[v]);
    GenerateOptions o;
    o.max_new_tokens = 5;
    o.stop_at_eos = false;
    const GenerateResult g = engine->generate("the cat", o);
    EXPECT_EQ(g.variant, v);
    EXPECT_EQ(g.token_ids.size(), 5u);
  }
  for (int v = 1; v < 4; ++v) EXPECT_GT(max_abs_diff(got[0], got[v]), 1e-3) << v;
}

// Generation under continuous switching: the whole generation (prefill + every decode step)
// runs on the variant it reports, so its tokens and its logits equal that variant's.
TEST(EngineVariants, LmConcurrentSwitchingNeverTearsAGeneration) {
  TempDir dir;
  const VariantModel m = lm_model();
  m.write(dir.file("lm.rt3"));
  auto engine = Engine::load(dir.file("lm.rt3"), {2});
  const int K = static_cast<int>(engine->variants().size());
  GenerateOptions o;
  o.max_new_tokens = 12;
  o.stop_at_eos = false;
  o.greedy = false;  // sampling makes every token depend on every logit: a torn run would show
  o.seed = 7;
  const std::vector<int32_t> ids = random_ids(8, m.lm.vocab_size, 4);
  std::vector<std::vector<int32_t>> want_tokens(static_cast<size_t>(K));
  std::vector<std::vector<float>> want_logits(static_cast<size_t>(K));
  for (int v = 0; v < K; ++v) {
    engine->select_variant(v);
    want_tokens[v] = engine->generate("the cat sat", o).token_ids;
    want_logits[v] = engine->lm_logits(ids.data(), static_cast<int64_t>(ids.size()));
  }
  std::atomic<bool> stop{false};
  std::thread switcher([&] {
    for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) engine->select_variant((i * 7) % K);
  });
  int mismatches = 0;
  std::vector<int> seen(static_cast<size_t>(K), 0);
  int variants_seen = 0;
  for (int it = 0; it < 10000 && (it < 150 || variants_seen < K); ++it) {
    const GenerateResult g = engine->generate("the cat sat", o);
    if (seen[static_cast<size_t>(g.variant)]++ == 0) ++variants_seen;
    std::this_thread::yield();
    if (g.token_ids != want_tokens[static_cast<size_t>(g.variant)]) ++mismatches;
    int v = -1;
    const std::vector<float> l = engine->lm_logits(ids.data(), static_cast<int64_t>(ids.size()), &v);
    if (l != want_logits[static_cast<size_t>(v)]) ++mismatches;
  }
  stop = true;
  switcher.join();
  EXPECT_EQ(mismatches, 0);
  EXPECT_GE(variants_seen, 2);
}

// ---- C API -----------------------------------------------------------------------------------------

TEST(EngineVariantsCApi, ListSelectAndErrors) {
  TempDir dir;
  const VariantModel m = test_util::make_variant_bert();
  m.write(dir.file("v.rt3"));
  rt3_engine* e = nullptr;
  ASSERT_EQ(rt3_engine_load(dir.file("v.rt3").c_str(), 1, &e), RT3_OK);
  EXPECT_EQ(rt3_engine_variant_count(e), 4);
  EXPECT_STREQ(rt3_engine_variant_name(e, 0), "base");
  EXPECT_STREQ(rt3_engine_variant_name(e, 3), "p88");
  EXPECT_EQ(rt3_engine_variant_name(e, 4), nullptr);
  EXPECT_EQ(rt3_engine_variant_name(e, -1), nullptr);
  EXPECT_EQ(rt3_engine_active_variant(e), 0);

  EXPECT_EQ(rt3_engine_select_variant(e, 2), RT3_OK);
  EXPECT_EQ(rt3_engine_active_variant(e), 2);
  EXPECT_EQ(rt3_engine_select_variant_by_name(e, "p88"), RT3_OK);
  EXPECT_EQ(rt3_engine_active_variant(e), 3);

  EXPECT_EQ(rt3_engine_select_variant(e, 9), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(rt3_last_error(e)).find("9"), std::string::npos) << rt3_last_error(e);
  EXPECT_EQ(rt3_engine_select_variant_by_name(e, "nope"), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(rt3_last_error(e)).find("nope"), std::string::npos) << rt3_last_error(e);
  EXPECT_EQ(rt3_engine_select_variant_by_name(e, nullptr), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(rt3_engine_active_variant(e), 3);  // failures change nothing

  // The C classify runs on the selected variant: same probabilities as the C++ engine's.
  auto cpp = Engine::load(dir.file("v.rt3"));
  for (int v = 0; v < 4; ++v) {
    ASSERT_EQ(rt3_engine_select_variant(e, v), RT3_OK);
    cpp->select_variant(v);
    float probs[3];
    int label = -1;
    ASSERT_EQ(rt3_classify(e, "free money now", &label, probs, 3), RT3_OK);
    const ClassifyResult r = cpp->classify("free money now");
    EXPECT_EQ(r.variant, v);
    EXPECT_EQ(label, r.label);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(probs[i], r.probabilities[i]) << v;
  }
  rt3_engine_free(e);

  EXPECT_EQ(rt3_engine_variant_count(nullptr), 0);
  EXPECT_EQ(rt3_engine_variant_name(nullptr, 0), nullptr);
  EXPECT_EQ(rt3_engine_active_variant(nullptr), -1);
  EXPECT_EQ(rt3_engine_select_variant(nullptr, 0), RT3_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(rt3_engine_select_variant_by_name(nullptr, "base"), RT3_ERR_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace rt3
