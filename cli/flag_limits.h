#pragma once
// Upper bounds of the counts several commands take from the command line or stdin
// (docs/limits.md "Limits"): a thread count, batch size or input line is bounded before anything
// is started or allocated for it.
#include <cstddef>

namespace rt3::cli {

inline constexpr int kMaxThreads = 256;                        // --threads, --worker-threads
inline constexpr int kMaxBatch = 4096;                         // rt3 bench model / switch --batch
inline constexpr int kMaxDecodeTokens = 100000;                // --decode-tokens, --max-new-tokens
inline constexpr size_t kMaxInputLineBytes = size_t{1} << 20;  // one stdin line of rt3 run

}  // namespace rt3::cli
