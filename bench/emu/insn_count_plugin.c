/* A qemu-user TCG plugin that counts retired guest instructions, grouped by the symbol of the
 * function they belong to and (on aarch64) by instruction class. qemu is not a timer, but what it
 * executes it can count exactly: bench/emu/insn_count.sh uses this to compare the work of a bundle's
 * variants on NEON and SVE with the host's latency ratios (docs/emulation.md).
 *
 * Debian 12 packages qemu-user 7.2 with plugin support (-plugin) but not <qemu-plugin.h> or the
 * contrib plugins, so the few API entry points used here are declared below from the documented
 * plugin API (docs/devel/tcg-plugins.rst, "API"; plugin API version 1, QEMU 4.2 - 8.1).
 *
 *   qemu-aarch64 -plugin insn_count.so,out=FILE,group=NAME:SUB1/SUB2,group=... PROGRAM ...
 *
 * A translated block is charged to the first group whose substrings one occurs in the (mangled)
 * symbol of its first instruction, else to "other" (also for code without a symbol, e.g. shared
 * libraries, whose symbols qemu-user does not load). Counting is one inline add per (block,
 * class) on execution, not a callback, so it costs little. The counters are plain (not atomic)
 * additions: run a single-threaded guest. FILE gets one line per group:
 *   <group> <instructions> <vector> <memory> <scalar>
 * with aarch64 classes from the A64 top-level encoding (bits 28:25 = op0): vector = SIMD&FP data
 * processing (op0 = x111) and SVE non-memory (op0 = 0010, bits 31:29 < 100); memory = loads and
 * stores (op0 = x1x0) and SVE memory (op0 = 0010, bits 31:29 >= 100); scalar = everything else.
 * On other targets the three class columns are 0. */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the documented plugin API, as far as used ---------------------------------------------- */
typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct {
  const char* target_name; /* first member of qemu_info_t; the rest is not read here */
} qemu_info_prefix;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb* tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void* userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb* tb, enum qemu_plugin_op op, void* ptr,
                                              uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void* userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb* tb);
struct qemu_plugin_insn* qemu_plugin_tb_get_insn(const struct qemu_plugin_tb* tb, size_t idx);
const void* qemu_plugin_insn_data(const struct qemu_plugin_insn* insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn* insn);
const char* qemu_plugin_insn_symbol(const struct qemu_plugin_insn* insn);
__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* ---- counting ------------------------------------------------------------------------------- */
enum { kMaxGroups = 16, kMaxSubs = 8, kClasses = 4 }; /* classes: total, vector, memory, scalar */
struct group {
  char name[64];
  char subs[kMaxSubs][128];
  int n_subs;
};
static struct group groups[kMaxGroups + 1]; /* the last used one is "other" */
static int n_groups;
static uint64_t counts[kMaxGroups + 1][kClasses];
static bool aarch64;
static char out_path[4096];

static int group_of(const char* symbol) {
  if (symbol)
    for (int g = 0; g < n_groups; ++g)
      for (int s = 0; s < groups[g].n_subs; ++s)
        if (strstr(symbol, groups[g].subs[s])) return g;
  return n_groups; /* other */
}

static int a64_class(uint32_t w) { /* 1 vector, 2 memory, 3 scalar */
  const uint32_t op0 = (w >> 25) & 0xF;
  if (op0 == 0x2) return (w >> 29) >= 4 ? 2 : 1; /* SVE */
  if ((op0 & 0x7) == 0x7) return 1;              /* SIMD & FP data processing */
  if ((op0 & 0x5) == 0x4) return 2;              /* loads and stores */
  return 3;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
  (void)id;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  if (n == 0) return;
  const int g = group_of(qemu_plugin_insn_symbol(qemu_plugin_tb_get_insn(tb, 0)));
  uint64_t per_class[kClasses] = {n, 0, 0, 0};
  if (aarch64)
    for (size_t i = 0; i < n; ++i) {
      const struct qemu_plugin_insn* insn = qemu_plugin_tb_get_insn(tb, i);
      uint32_t w = 0;
      if (qemu_plugin_insn_size(insn) == 4) memcpy(&w, qemu_plugin_insn_data(insn), 4);
      ++per_class[a64_class(w)];
    }
  for (int c = 0; c < kClasses; ++c)
    if (per_class[c]) qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &counts[g][c], per_class[c]);
}

static void write_counts(qemu_plugin_id_t id, void* userdata) {
  (void)id, (void)userdata;
  FILE* f = out_path[0] ? fopen(out_path, "w") : stderr;
  if (!f) {
    fprintf(stderr, "insn_count: cannot write %s\n", out_path);
    return;
  }
  for (int g = 0; g <= n_groups; ++g)
    fprintf(f, "%s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", groups[g].name, counts[g][0], counts[g][1],
            counts[g][2], counts[g][3]);
  if (f != stderr) fclose(f);
}

/* group=NAME:SUB1/SUB2/... */
static int add_group(const char* spec) {
  const char* colon = strchr(spec, ':');
  if (!colon || colon == spec || n_groups == kMaxGroups || (size_t)(colon - spec) >= sizeof groups[0].name) return -1;
  struct group* g = &groups[n_groups];
  memcpy(g->name, spec, (size_t)(colon - spec));
  for (const char* p = colon + 1; *p;) {
    const char* end = strchr(p, '/');
    const size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == 0 || len >= sizeof g->subs[0] || g->n_subs == kMaxSubs) return -1;
    memcpy(g->subs[g->n_subs++], p, len);
    p += len + (end ? 1 : 0);
  }
  if (g->n_subs == 0) return -1;
  ++n_groups;
  return 0;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_prefix* info,
                                                               int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    if (strncmp(argv[i], "out=", 4) == 0 && strlen(argv[i] + 4) < sizeof out_path) {
      strcpy(out_path, argv[i] + 4);
    } else if (strncmp(argv[i], "group=", 6) == 0 && add_group(argv[i] + 6) == 0) {
    } else {
      fprintf(stderr, "insn_count: bad argument '%s' (expected out=FILE or group=NAME:SUB1/SUB2, at most %d groups)\n",
              argv[i], kMaxGroups);
      return -1;
    }
  }
  strcpy(groups[n_groups].name, "other");
  aarch64 = info && info->target_name && strcmp(info->target_name, "aarch64") == 0;
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, write_counts, NULL);
  return 0;
}
