/* RT3 runtime C API: load a model bundle, classify text or generate text.
 *
 * Opaque handle with an init/free pair (rt3_engine_load / rt3_engine_free). Every function
 * returns an rt3_status; no C++ exception ever crosses this boundary. On failure the message is
 * available from rt3_last_error(engine) (for failures of calls on that engine) or
 * rt3_last_error(NULL) (the calling thread's last failure of any call, including loads, which
 * have no engine yet).
 *
 * Thread-safety: calls on one engine are serialised internally; distinct engines are
 * independent. The string returned by rt3_last_error(engine) stays valid until the next call on
 * that engine; rt3_last_error(NULL) until the calling thread's next failing call.
 */
#ifndef RT3_RT3_H
#define RT3_RT3_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rt3_engine rt3_engine;

typedef enum rt3_status {
  RT3_OK = 0,
  RT3_ERR_INVALID_ARGUMENT = 1, /* null pointer, bad option, wrong model type for the call */
  RT3_ERR_LOAD = 2,             /* bundle missing, unreadable or failing validation */
  RT3_ERR_TOO_LONG = 3,         /* input longer than the model's context */
  RT3_ERR_BUFFER_TOO_SMALL = 4, /* an output buffer cannot hold the result */
  RT3_ERR_INTERNAL = 5,         /* out of memory or an unexpected failure */
  RT3_ERR_NON_FINITE = 6        /* the model computed NaN or Inf (weights overflow fp32): no result */
} rt3_status;

typedef enum rt3_model_type {
  RT3_MODEL_TRANSFORMER_LM = 0,
  RT3_MODEL_DISTILBERT_CLASSIFIER = 1
} rt3_model_type;

/* Stable name of a status, e.g. "RT3_ERR_LOAD". */
const char* rt3_status_name(rt3_status status);

/* Loads `path` with `threads` worker threads (>= 1). On success *out_engine is the new engine;
 * on failure it is set to NULL and rt3_last_error(NULL) says why. */
rt3_status rt3_engine_load(const char* path, int threads, rt3_engine** out_engine);
/* NULL is a no-op. */
void rt3_engine_free(rt3_engine* engine);

/* Message of the last failed call on `engine` ("" if none); with NULL, the calling thread's last
 * failure. Never NULL. */
const char* rt3_last_error(const rt3_engine* engine);

/* engine must not be NULL (NULL reads as RT3_MODEL_TRANSFORMER_LM). */
rt3_model_type rt3_engine_model_type(const rt3_engine* engine);
/* Classifier: number of labels and the name of one (NULL when out of range); LM: 0 / NULL. */
int rt3_num_labels(const rt3_engine* engine);
const char* rt3_label_name(const rt3_engine* engine, int label);

/* Run-time variants (pattern sets, docs/design.md "Run time"): index 0 is "base" (the stored
 * weights), 1..count-1 the bundle's pattern variants in metadata order. Selecting is lock-free (one
 * atomic store): it never waits for a running inference, which finishes on the variant it started
 * with; every inference that starts afterwards uses the new one. A successful select leaves
 * rt3_last_error(engine) untouched (it takes no lock); a failing one sets it as usual.
 * count: 0 for a NULL engine. name: NULL when out of range; valid while the engine lives.
 * active: -1 for a NULL engine. Unknown index or name: RT3_ERR_INVALID_ARGUMENT. */
int rt3_engine_variant_count(const rt3_engine* engine);
const char* rt3_engine_variant_name(const rt3_engine* engine, int index);
rt3_status rt3_engine_select_variant(rt3_engine* engine, int index);
rt3_status rt3_engine_select_variant_by_name(rt3_engine* engine, const char* name);
int rt3_engine_active_variant(const rt3_engine* engine);

/* ---- adaptation (docs/adapt.md) -----------------------------------------------------------------
 * The engine can pick the variant of every inference itself:
 *   RT3_ADAPT_MANUAL   rt3_engine_select_variant decides (default);
 *   RT3_ADAPT_TABLE    the app reports the CPU frequency (rt3_engine_set_cpu_khz); the engine snaps it
 *                      to the bundle's DVFS levels and runs the variant rt3 search chose there;
 *   RT3_ADAPT_CPUFREQ  the same table, the engine reading cpufreq sysfs itself before each inference;
 *   RT3_ADAPT_DEADLINE closed loop on its own measured latencies against rt3_engine_set_deadline_ms:
 *                      needs no OS access (Android apps, thermal throttling, little cores, contention).
 * In a mode other than manual, rt3_engine_select_variant fails with RT3_ERR_INVALID_ARGUMENT. */
typedef enum rt3_adapt_mode {
  RT3_ADAPT_MANUAL = 0,
  RT3_ADAPT_TABLE = 1,
  RT3_ADAPT_CPUFREQ = 2,
  RT3_ADAPT_DEADLINE = 3
} rt3_adapt_mode;

/* "manual", "table", "cpufreq", "deadline"; "unknown" otherwise. */
const char* rt3_adapt_mode_name(rt3_adapt_mode mode);

typedef struct rt3_engine_options {
  int threads;              /* >= 1 */
  const char* cpufreq_root; /* NULL: /sys/devices/system/cpu (tests point it at a fake tree) */
} rt3_engine_options;
/* threads 1, cpufreq_root NULL. */
rt3_engine_options rt3_engine_default_options(void);
rt3_status rt3_engine_load_ex(const char* path, const rt3_engine_options* options, rt3_engine** out_engine);

/* Waits for a running inference, then switches mode. RT3_ERR_INVALID_ARGUMENT (message says why)
 * when the bundle cannot serve the mode (no level table; no latency models), cpufreq files cannot
 * be opened (names the file and the permission), or deadline mode has no deadline. */
rt3_status rt3_engine_set_adapt_mode(rt3_engine* engine, rt3_adapt_mode mode);
rt3_adapt_mode rt3_engine_adapt_mode(const rt3_engine* engine); /* MANUAL for NULL */
/* Lock-free, any thread. khz > 0; ms finite and > 0. */
rt3_status rt3_engine_set_cpu_khz(rt3_engine* engine, uint64_t khz);
rt3_status rt3_engine_set_deadline_ms(rt3_engine* engine, double ms);

/* What ran and why, for one inference. Negative predicted_ms / energy_mj: unknown. */
typedef struct rt3_inference_info {
  int variant;
  rt3_adapt_mode mode;
  uint64_t cpu_khz;     /* the frequency that decided (0: none) */
  uint64_t level_khz;   /* the bundle level it snapped to (0: none) */
  double deadline_ms;   /* 0: none */
  double predicted_ms;  /* the policy's prediction for this variant */
  double slowdown;      /* deadline mode: measured / modelled latency that decided (0: none yet) */
  double latency_ms;    /* measured */
  int deadline_missed;
  double energy_mj;     /* predicted CPU energy at level_khz (needs the bundle's device profile) */
  double waited_ms;     /* from the request's arrival to the inference's start (0: no arrival given);
                           deadline_missed counts it: waited_ms + latency_ms > deadline_ms */
} rt3_inference_info;

typedef struct rt3_variant_stats {
  uint64_t inferences;
  double seconds;
  uint64_t misses;
  double energy_mj;
  uint64_t energy_inferences; /* inferences whose energy was known */
} rt3_variant_stats;
/* Totals for variant `index` since load or the last reset. */
rt3_status rt3_engine_variant_stats(const rt3_engine* engine, int index, rt3_variant_stats* out);
rt3_status rt3_engine_reset_stats(rt3_engine* engine);

/* Classifies UTF-8 `text`. *out_label receives the argmax label. `probs` (may be NULL when
 * probs_capacity is 0) receives the softmax over the labels; if probs_capacity is smaller than
 * rt3_num_labels() nothing is written and RT3_ERR_BUFFER_TOO_SMALL is returned. */
rt3_status rt3_classify(rt3_engine* engine, const char* text, int* out_label, float* probs, size_t probs_capacity);
/* Same; *info (may be NULL) receives what ran and why. */
rt3_status rt3_classify_ex(rt3_engine* engine, const char* text, int* out_label, float* probs, size_t probs_capacity,
                           rt3_inference_info* info);

/* The engine's clock in nanoseconds (monotonic; CLOCK_MONOTONIC on Linux and Android). Read it
 * when a request arrives and pass it to rt3_classify_at / rt3_generate_at: deadline mode then
 * counts the time the request waited before its inference started (in the app's queue, or for the
 * engine behind another call), runs a late request on a variant that fits the time it has left,
 * and counts a miss on the response time (docs/adapt.md "Requests that waited"). */
uint64_t rt3_clock_ns(void);
/* rt3_classify_ex for a request that arrived at arrival_ns (from rt3_clock_ns; 0: now). */
rt3_status rt3_classify_at(rt3_engine* engine, const char* text, uint64_t arrival_ns, int* out_label, float* probs,
                           size_t probs_capacity, rt3_inference_info* info);

/* Classifies the sentence pair (`text`, `text_pair`), both UTF-8, e.g. premise and hypothesis. The
 * model sees [CLS] text [SEP] text_pair [SEP], cut to the bundle's max_len as Hugging Face does
 * with truncation="longest_first" (tokens go from the end of the longer text first); DistilBERT
 * has no token type ids, so none are used. Outputs and buffer rules as rt3_classify. Errors:
 * RT3_ERR_INVALID_ARGUMENT for a NULL engine, text or text_pair, or an LM engine. Any classifier
 * accepts pairs (as in Hugging Face); rt3_engine_trained_on_pairs says whether it learned them. */
rt3_status rt3_classify_pair(rt3_engine* engine, const char* text, const char* text_pair, int* out_label, float* probs,
                             size_t probs_capacity);
/* Same; *info (may be NULL) receives what ran and why. */
rt3_status rt3_classify_pair_ex(rt3_engine* engine, const char* text, const char* text_pair, int* out_label,
                                float* probs, size_t probs_capacity, rt3_inference_info* info);
/* 1 when the bundle's classifier was trained on sentence pairs (rt3 train --text-pair-column), so
 * its inputs should go through rt3_classify_pair; 0 otherwise and for NULL. */
int rt3_engine_trained_on_pairs(const rt3_engine* engine);

typedef struct rt3_generate_options {
  int max_new_tokens; /* >= 0 */
  int greedy;         /* non-zero: argmax; zero: top-k sampling */
  int top_k;          /* <= 0: whole vocabulary */
  float temperature;  /* > 0 (sampling only) */
  uint64_t seed;      /* sampling seed */
  int stop_at_eos;    /* non-zero: stop at the end-of-sequence token */
} rt3_generate_options;

/* Defaults: 32 tokens, greedy, top_k 40, temperature 1, seed 0, stop at eos. */
rt3_generate_options rt3_generate_default_options(void);

/* Generates a continuation of UTF-8 `prompt` into out_buf (NUL-terminated UTF-8 text of the
 * generated tokens only). seed == 0: greedy; otherwise top-k (40) sampling at temperature 1
 * with that seed. If out_capacity cannot hold the text and its NUL, out_buf gets "" (when
 * out_capacity > 0) and RT3_ERR_BUFFER_TOO_SMALL is returned; the message says the size needed. */
rt3_status rt3_generate(rt3_engine* engine, const char* prompt, int max_new_tokens, uint64_t seed, char* out_buf,
                        size_t out_capacity);
/* Same with explicit options. *out_needed (may be NULL) receives the bytes the text needs
 * including the NUL, also when the buffer is too small. */
rt3_status rt3_generate_ex(rt3_engine* engine, const char* prompt, const rt3_generate_options* options,
                           char* out_buf, size_t out_capacity, size_t* out_needed);
/* Same; *info (may be NULL) receives what ran and why (the whole generation is one inference). */
rt3_status rt3_generate_ex2(rt3_engine* engine, const char* prompt, const rt3_generate_options* options,
                            char* out_buf, size_t out_capacity, size_t* out_needed, rt3_inference_info* info);
/* rt3_generate_ex2 for a request that arrived at arrival_ns (from rt3_clock_ns; 0: now). */
rt3_status rt3_generate_at(rt3_engine* engine, const char* prompt, const rt3_generate_options* options,
                           uint64_t arrival_ns, char* out_buf, size_t out_capacity, size_t* out_needed,
                           rt3_inference_info* info);

#ifdef __cplusplus
}
#endif

#endif /* RT3_RT3_H */
