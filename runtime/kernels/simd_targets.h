#pragma once
// The Highway targets RT3's kernels are compiled for; each kernel source includes this before
// <hwy/foreach_target.h>. Everything Highway 1.0.3 attains is built (x86: AVX3, AVX2, SSE4, SSSE3,
// SCALAR; aarch64: NEON, SVE, SVE2) except:
// - SVE_256 and SVE2_128, Highway's fixed-width variants of SVE (256-bit) and SVE2 (128-bit). In
//   1.0.3, hwy::SupportedTargets() re-detects the CPU on every call and first stores the choice
//   without those two (hwy/targets.cc: "No need to Update() again afterwards"), so on such a CPU a
//   call to it (dense_linear_targets(), a kernel's explicit-target constructor, or any other
//   Highway user in the process) switches later HWY_DYNAMIC_DISPATCH calls from SVE2_128 to SVE2:
//   which code runs would depend on history (seen under qemu at 128 bits). Without them every
//   SVE CPU runs the scalable SVE2 (or SVE) code, whose kernels work at any vector length.
// - RVV: never built or run here, and its MaxLanes (2048 floats) would make the stack tiles huge.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SVE_256 | HWY_SVE2_128 | HWY_RVV)
#endif
