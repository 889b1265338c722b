/* A tiny app that uses the installed runtime the way a phone app would, through the C API only:
 * loads a classifier bundle with variants, classifies, switches to every variant and classifies
 * again, and classifies a sentence pair. Built against an installed tree by tests/consumer/run.sh
 * (CMake and pkg-config).
 *   rt3_consumer VARIANTS.rt3 PLAIN.rt3
 * PLAIN.rt3 is the same model without variants (tests/tools/make_variant_bundle --plain): the
 * base variant must give its probabilities. Exit status 0 only if every check passed. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <rt3/rt3.h>

#define MAX_LABELS 16

static int failures = 0;
static void check(int ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

/* Classifies `text`; returns the label (-1 on failure) and fills probs[0..n). */
static int classify(rt3_engine* e, const char* text, float* probs, int n) {
  int label = -1;
  rt3_status s = rt3_classify(e, text, &label, probs, (size_t)n);
  if (s != RT3_OK) {
    fprintf(stderr, "rt3_classify: %s: %s\n", rt3_status_name(s), rt3_last_error(e));
    return -1;
  }
  float sum = 0;
  for (int i = 0; i < n; ++i) sum += probs[i];
  check(fabsf(sum - 1.0f) < 1e-4f, "probabilities sum to 1");
  check(label >= 0 && label < n, "label in range");
  return label;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s VARIANTS.rt3 PLAIN.rt3\n", argv[0]);
    return 2;
  }
  const char* text = "free money, hello world";
  rt3_engine* e = NULL;
  rt3_engine* plain = NULL;
  if (rt3_engine_load(argv[1], 2, &e) != RT3_OK || rt3_engine_load(argv[2], 1, &plain) != RT3_OK) {
    fprintf(stderr, "load failed: %s\n", rt3_last_error(NULL));
    return 1;
  }
  check(rt3_engine_model_type(e) == RT3_MODEL_DISTILBERT_CLASSIFIER, "a classifier");
  const int n = rt3_num_labels(e);
  check(n > 1 && n <= MAX_LABELS && n == rt3_num_labels(plain), "label count");
  if (failures) return 1;

  float ref[MAX_LABELS], probs[MAX_LABELS];
  classify(plain, text, ref, n);
  const int variants = rt3_engine_variant_count(e);
  check(variants > 1, "the bundle has variants");
  for (int v = 0; v < variants; ++v) {
    check(rt3_engine_select_variant(e, v) == RT3_OK, "select variant");
    check(rt3_engine_active_variant(e) == v, "variant is active");
    const int label = classify(e, text, probs, n);
    printf("variant %d (%s): label %s, p =", v, rt3_engine_variant_name(e, v), rt3_label_name(e, label));
    for (int i = 0; i < n; ++i) printf(" %.5f", probs[i]);
    printf("\n");
    if (v == 0) /* base variant = the plain bundle's weights, same kernels, 2 threads vs 1 */
      for (int i = 0; i < n; ++i) check(fabsf(probs[i] - ref[i]) < 1e-5f, "base variant matches the plain bundle");
  }
  check(rt3_engine_select_variant(e, variants) == RT3_ERR_INVALID_ARGUMENT, "out-of-range variant is refused");
  /* Sentence pairs through the installed library: probabilities, and a NULL second text refused. */
  int pair_label = -1;
  check(rt3_classify_pair(plain, "free money", "hello world", &pair_label, probs, (size_t)n) == RT3_OK, "classify a pair");
  float pair_sum = 0;
  for (int i = 0; i < n; ++i) pair_sum += probs[i];
  check(pair_label >= 0 && pair_label < n && fabsf(pair_sum - 1.0f) < 1e-4f, "pair label and probabilities");
  check(rt3_classify_pair(plain, "free money", NULL, &pair_label, NULL, 0) == RT3_ERR_INVALID_ARGUMENT,
        "a NULL second text is refused");
  rt3_engine_free(e);
  rt3_engine_free(plain);
  printf("rt3_consumer: %s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}
