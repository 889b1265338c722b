#pragma once
// Picks one SIMD target's entry of a HWY_EXPORT table directly, for the kernels' explicit
// `target` constructor argument (benchmarks and tests compare targets). Highway's own way of
// forcing a target overrides the process-wide CPU mask: meant for tests only, and not safe while
// another engine dispatches on another thread. This reads no global state.
//
// Expand it in the translation unit that did HWY_EXPORT(FUNC_NAME): the table and the mask of the
// targets compiled there are per translation unit. TARGET is one HWY_* target bit; a target not
// compiled in that unit falls back to the table's last entry (the baseline), as dispatch would.
// Include it after <hwy/highway.h> (it uses Highway's dispatch-table macros, includes nothing).

#define RT3_DISPATCH_FOR_TARGET(FUNC_NAME, TARGET)                                                    \
  (*(HWY_DISPATCH_TABLE(FUNC_NAME)[hwy::Num0BitsBelowLS1Bit_Nonzero64(static_cast<uint64_t>(          \
      (HWY_CHOSEN_TARGET_SHIFT(TARGET) | HWY_CHOSEN_TARGET_MASK_SCALAR) & HWY_CHOSEN_TARGET_MASK_TARGETS))]))
