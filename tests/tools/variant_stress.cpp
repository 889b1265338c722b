// Stress test of run-time variant switching, built on its own (rt3_runtime only, no gtest) so
// that the ThreadSanitizer ctest (tests/CMakeLists.txt, variant_switch_tsan) compiles little.
// Two inference threads (classify_logits and classify(text), serialised by the engine) and one
// switcher thread (select_variant by index and by name, active_variant, the C API) share one
// engine; every inference must equal the precomputed output of the variant it reports. A second
// phase does the same while the adaptation mode, frequency and deadline change (adapt_phase).
//   variant_stress [ITERATIONS]     exit 0 when every check passed
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "rt3/engine.h"
#include "rt3/rt3.h"
#include "tests/common/test_util.h"
#include "tests/common/variant_bundles.h"

// Adaptation modes under concurrency: two inference threads check every output against the
// variant it reports, while one thread cycles the mode (manual / table / deadline) and tries
// manual selects (refused outside manual mode), and one feeds frequencies and deadlines.
long adapt_phase(const rt3::test_util::TempDir& dir, int iterations) {
  const std::string path = dir.file("adaptive.rt3");
  rt3::test_util::make_variant_bert().write_adaptive(path);
  auto engine = rt3::Engine::load(path, {2});
  const int K = static_cast<int>(engine->variants().size());
  const std::string text = "free money now, the cat sat";
  std::vector<std::vector<float>> want(static_cast<size_t>(K));
  for (int v = 0; v < K; ++v) {
    engine->select_variant(v);
    want[v] = engine->classify(text).logits;
  }
  std::atomic<bool> stop{false};
  std::atomic<long> bad{0}, changes{0};
  std::thread moder([&] {
    const rt3::AdaptMode modes[] = {rt3::AdaptMode::kTable, rt3::AdaptMode::kDeadline, rt3::AdaptMode::kManual};
    for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      engine->set_adapt_mode(modes[i % 3]);
      try {
        engine->select_variant(i % K);
      } catch (const rt3::Error&) {
        // refused outside manual mode: expected
      }
      (void)engine->adapt_stats();
      changes.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::yield();
    }
  });
  std::thread feeder([&] {
    const uint64_t khz[] = {400000, 800000, 1200000, 1800000, 2500000};
    for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      engine->set_cpu_khz(khz[i % 5]);
      engine->set_deadline_ms(i % 2 ? 1e-3 : 1e4);
      (void)engine->active_variant();
      std::this_thread::yield();
    }
  });
  auto infer = [&] {
    while (changes.load() < 10) std::this_thread::yield();
    for (int it = 0; it < iterations; ++it) {
      const rt3::ClassifyResult r = engine->classify(text);
      if (r.variant < 0 || r.variant >= K || r.logits != want[static_cast<size_t>(r.variant)] || r.info.variant != r.variant)
        bad.fetch_add(1);
      std::this_thread::yield();
    }
  };
  std::thread a(infer), b(infer);
  a.join();
  b.join();
  stop = true;
  moder.join();
  feeder.join();
  uint64_t counted = 0;
  for (const rt3::VariantStats& s : engine->adapt_stats()) counted += s.inferences;
  if (counted < static_cast<uint64_t>(2 * iterations)) bad.fetch_add(1);
  std::printf("variant_stress adapt: 2 x %d inferences, %ld mode changes, %ld bad\n", iterations, changes.load(),
              bad.load());
  return bad.load();
}

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 200;
  try {
    rt3::test_util::TempDir dir("rt3_stress");
    const std::string path = dir.file("v.rt3");
    const rt3::test_util::VariantModel m = rt3::test_util::make_variant_bert();
    m.write(path);
    auto engine = rt3::Engine::load(path, {2});
    const int K = static_cast<int>(engine->variants().size());
    const int64_t B = 2, T = 7;
    std::vector<int32_t> ids(static_cast<size_t>(B * T)), mask(ids.size(), 1);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>((i * 7 + 3) % 21);
    const std::string text = "free money now, the cat sat";
    std::vector<std::vector<float>> want(static_cast<size_t>(K)), want_text(static_cast<size_t>(K));
    for (int v = 0; v < K; ++v) {
      engine->select_variant(v);
      want[v] = engine->classify_logits(ids.data(), mask.data(), B, T);
      want_text[v] = engine->classify(text).logits;
    }

    rt3_engine* c = nullptr;
    if (rt3_engine_load(path.c_str(), 1, &c) != RT3_OK) throw std::runtime_error(rt3_last_error(nullptr));

    std::atomic<bool> stop{false};
    std::atomic<long> bad{0}, switches{0};
    std::thread switcher([&] {
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        if (i % 3 == 0) engine->select_variant(i % K);
        else engine->select_variant(engine->variants()[static_cast<size_t>(i % K)]);
        if (engine->active_variant() < 0) bad.fetch_add(1);
        rt3_engine_select_variant(c, i % K);
        switches.fetch_add(1, std::memory_order_relaxed);
      }
    });
    // Inferences start once the switcher runs (on a loaded machine it may be scheduled late).
    auto wait_for_switcher = [&] {
      while (switches.load() < 50) std::this_thread::yield();
    };
    std::thread by_text([&] {
      wait_for_switcher();
      for (int it = 0; it < iterations; ++it) {
        const rt3::ClassifyResult r = engine->classify(text);
        if (r.logits != want_text[static_cast<size_t>(r.variant)]) bad.fetch_add(1);
        std::this_thread::yield();
      }
    });
    std::thread c_api([&] {
      float probs[3];
      int label = 0;
      wait_for_switcher();
      for (int it = 0; it < iterations; ++it) {
        if (rt3_classify(c, text.c_str(), &label, probs, 3) != RT3_OK) bad.fetch_add(1);
        std::this_thread::yield();
      }
    });
    std::vector<int> seen(static_cast<size_t>(K), 0);
    wait_for_switcher();
    // At least `iterations`, and on until every variant was seen (the switcher may be starved
    // on a loaded machine: yield after each inference), at most 50x as many.
    int variants_seen = 0, done = 0;
    for (; done < 50 * iterations && (done < iterations || variants_seen < K); ++done) {
      int v = -1;
      const std::vector<float> got = engine->classify_logits(ids.data(), mask.data(), B, T, &v);
      if (seen[static_cast<size_t>(v)]++ == 0) ++variants_seen;
      if (got != want[static_cast<size_t>(v)]) bad.fetch_add(1);
      std::this_thread::yield();
    }
    by_text.join();
    c_api.join();
    stop = true;
    switcher.join();
    rt3_engine_free(c);
    std::printf("variant_stress: %d + 2 x %d inferences, %ld switches, %d of %d variants seen, %ld bad\n", done,
                iterations, switches.load(), variants_seen, K, bad.load());
    const long adapt_bad = adapt_phase(dir, iterations);
    return bad.load() == 0 && adapt_bad == 0 && variants_seen >= 2 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "variant_stress: %s\n", e.what());
    return 1;
  }
}
